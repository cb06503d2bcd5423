import { execFile, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Edge } from '../../src/samples/sample.ts';
import { SimulatorControl } from '../../src/simulator/control-client.ts';
import { eventually } from '../helpers/exporter.ts';
import { freePort } from '../helpers/free-port.ts';

// Headless Chromium (Debian `chromium`, installed by setup.sh) drives the demo (`--demo`) with basic auth on:
// the status page must list the demo's degraded calls with badges the simulator's own samples justify, and
// a call page must show sparklines and the poll log. Screenshots go to test/e2e/.work/ (git-ignored).

const ROOT = new URL('../..', import.meta.url).pathname;
const WORK = join(ROOT, 'test/e2e/.work');
const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const USER = 'oncall';
const PASSWORD = 'e2e-status-pass';

let child: ChildProcessWithoutNullStreams | undefined;
let output = '';
let base = '';
let control: SimulatorControl;
const profiles: string[] = [];


/** Runs headless Chromium once; `mode` dumps the DOM after load or writes a screenshot. */
function chromium(url: string, mode: { dumpDom: true } | { screenshot: string }): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'tie-chromium-'));
  profiles.push(profile);
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    '--window-size=1400,1100',
    ...('dumpDom' in mode ? ['--dump-dom'] : [`--screenshot=${mode.screenshot}`, '--hide-scrollbars']),
    url,
  ];
  return new Promise((done, fail) => {
    execFile(CHROMIUM, args, { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout) => (err ? fail(new Error(`chromium: ${err.message}`)) : done(stdout)));
  });
}

const authed = (path: string): string => base.replace('http://', `http://${USER}:${PASSWORD}@`) + path;
const auth = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };

// The documented thresholds, written out independently of src/quality: which issue a raw simulator record shows.
function badIssues(record: Record<string, unknown>): Set<string> {
  const edge = record['edge'] as string;
  const data = record[edge] as { interval?: Record<string, unknown>; cumulative?: { jitter?: { avg?: number; max?: number } } };
  const interval = data.interval ?? {};
  const value = (k: string): number | undefined => {
    const v = interval[k];
    return typeof v === 'number' ? v : typeof v === 'object' && v !== null ? ((v as { value?: number }).value ?? undefined) : undefined;
  };
  const out = new Set<string>();
  const loss = value('packets_loss_percentage');
  if (edge === 'sdk_edge') {
    if ((value('rtt') ?? 0) > 400) out.add('high_rtt');
    if ((value('mos') ?? 5) < 3.5) out.add('low_mos');
    if ((value('jitter') ?? 0) > 30) out.add('high_jitter');
    if ((loss ?? 0) > 1) out.add('high_packet_loss');
  } else {
    const j = data.cumulative?.jitter;
    if ((j?.avg ?? 0) > 5 && (j?.max ?? 0) > 30) out.add('high_jitter');
    if ((loss ?? 0) > 5) out.add('high_packet_loss');
  }
  return out;
}

beforeAll(async () => {
  mkdirSync(WORK, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'tie-e2e-status-'));
  const web = join(dir, 'web.yaml');
  writeFileSync(web, stringify({ basic_auth_users: { [USER]: bcrypt.hashSync(PASSWORD, 4) } }));
  const port = await freePort();
  child = spawn(process.execPath, ['src/main.ts', '--demo', `--web.listen-address=127.0.0.1:${port}`, `--web.config.file=${web}`], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '' },
  });
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const simUrl = await eventually(() => /Simulator: (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 30_000, 'the demo banner');
  base = `http://127.0.0.1:${port}`;
  control = new SimulatorControl(simUrl);
  // More degraded calls with some history, so an episode is under way somewhere while the test watches.
  for (const type of ['carrier', 'sip', 'client', 'trunking_originating'] as const) {
    for (let i = 0; i < 3; i++) await control.createCall({ type, age_seconds: 150 + i * 40, duration_seconds: 900, degraded: true });
  }
});

afterAll(async () => {
  if (child?.exitCode === null) {
    const exited = new Promise((done) => child!.on('exit', done));
    child.kill('SIGTERM');
    await exited;
  }
  for (const p of profiles) rmSync(p, { recursive: true, force: true });
});

describe('status page in headless Chromium, through the demo, with basic auth on', () => {
  it('lists every degraded call of the demo, with badges the simulator\u2019s samples justify', { timeout: 200_000 }, async () => {
    // A degraded call in the middle of an episode now: its last 5 samples hold 3 or more bad ones for an
    // issue, by the documented thresholds applied to the simulator's raw records (an oracle independent of
    // src/quality). Episodes are deterministic per call, so a few tries find one.
    let expected: { sid: string; issues: string[] } | undefined;
    for (let i = 0; i < 40 && !expected; i++) {
      const call = await control.createCall({ type: 'client', age_seconds: 200 + i * 23, duration_seconds: 900, degraded: true });
      const records = (await control.samples(call.sid, { edge: 'sdk_edge' })) as unknown as Array<Record<string, unknown>>;
      const last = records.slice(-5).map(badIssues);
      const issues = ['high_rtt', 'low_mos', 'high_jitter', 'high_packet_loss'].filter((issue) => last.filter((b) => b.has(issue)).length >= 3);
      if (issues.length > 0) expected = { sid: call.sid, issues };
    }
    expect(expected, 'a client call in an episode').toBeDefined();
    const degraded = (await control.listCalls()).filter((c) => c.degraded && c.status === 'in-progress').map((c) => c.sid);
    const rowOf = (dom: string, sid: string): string => dom.split('<tr data-call=').find((r) => r.startsWith(`"${sid}"`)) ?? '';
    const dom = await eventually(
      async () => {
        const d = await chromium(authed('/'), { dumpDom: true });
        const listed = degraded.every((sid) => d.includes(`data-call="${sid}"`));
        const row = rowOf(d, expected!.sid);
        return listed && expected!.issues.every((issue) => row.includes(`<span class="badge issue-${issue}">${issue}</span>`)) ? d : undefined;
      },
      60_000,
      `every degraded call listed and ${expected!.sid} badged ${expected!.issues.join(', ')}`,
    );
    // Every other stream badge: the simulator served a bad sample for that issue among the stream's recent ones.
    let checked = 0;
    for (const row of dom.split('<tr data-call="').slice(1)) {
      const sid = row.slice(0, 34);
      for (const m of row.matchAll(/<tr><td><code>([a-z_]+)\/([a-z]+)<\/code><\/td>.*?<\/td><td>((?:<span class="badge issue-[a-z_]+">[a-z_]+<\/span>)+)<\/td><\/tr>/g)) {
        const [, edge, direction, badges] = m;
        const issues = [...badges!.matchAll(/>([a-z_]+)<\/span>/g)].map((x) => x[1]!);
        const records = (await control.samples(sid, { edge: edge as Edge })) as unknown as Array<Record<string, unknown>>;
        const seen = new Set(records.filter((r) => r['direction'] === direction).slice(-12).flatMap((r) => [...badIssues(r)]));
        for (const issue of issues) expect(seen.has(issue), `${sid} ${edge}/${direction} ${issue}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
    await chromium(authed('/'), { screenshot: join(WORK, 'status-page.png') });
    expect(statSync(join(WORK, 'status-page.png')).size).toBeGreaterThan(20_000);
  });

  it('a call page shows sparklines and the poll log', { timeout: 60_000 }, async () => {
    const sid = (await control.listCalls()).find((c) => c.degraded && c.type === 'client' && c.status === 'in-progress')!.sid;
    const dom = await eventually(async () => {
      const d = await chromium(authed(`/calls/${sid}`), { dumpDom: true });
      return (d.match(/<polyline /g) ?? []).length >= 4 && d.includes('<span class="ok">ok</span>') ? d : undefined;
    }, 30_000, 'sparklines and a finished poll');
    expect(dom).toContain(`<h1 class="sid">${sid}</h1>`);
    expect(dom).toMatch(/<table class="polls">/);
    expect(dom).toMatch(/<svg class="spark" role="img" width="160" height="32"/);
    await chromium(authed(`/calls/${sid}`), { screenshot: join(WORK, 'call-page.png') });
    expect(statSync(join(WORK, 'call-page.png')).size).toBeGreaterThan(20_000);
  });

  it('without credentials the pages answer 401 and show no call data', { timeout: 60_000 }, async () => {
    for (const path of ['/', `/calls/${(await control.listCalls())[0]!.sid}`]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(401);
      expect(await res.text()).not.toContain('data-call=');
      expect((await fetch(`${base}${path}`, { headers: auth })).status, path).toBe(200);
    }
    // Chromium with the wrong password gets no page at all (it would prompt for credentials).
    expect(await chromium(base.replace('http://', `http://${USER}:wrong@`) + '/', { dumpDom: true })).not.toContain('data-call=');
  });
});
