import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { eventually, seriesOf } from '../helpers/exporter.ts';
import { ACCOUNT_1, ACCOUNT_2 } from '../unit/poller/hostile-exporter.ts';
import { hostileInsights } from '../unit/poller/hostile-insights.ts';
import type { FakeCall, HostileInsights } from '../unit/poller/hostile-insights.ts';

// The exporter process as a user runs it, against a hostile fake Twilio over a real socket that serves, to
// several calls at once: endless paging, a huge page, a record dated years ahead, records naming another
// call, account and edge, a timestamp nested 200 000 deep, an HTML body, a gzip body nobody asked for and a
// body that never ends. The process must stay alive and small, the well-behaved calls must match what the
// fake served exactly, and every rejection must be counted by reason.

/** The bound this test holds the process to: the resident set of the whole exporter process, in MiB. */
const MAX_RSS_MIB = 300;
/** How long the hostile traffic runs before the ledger is frozen. */
const HOSTILE_MS = 15_000;

const ROOT = new URL('../..', import.meta.url).pathname;
const sid = (n: number): string => `CA${n.toString(16).padStart(32, '0')}`;
let child: ChildProcessWithoutNullStreams | undefined;
let fake: HostileInsights | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  await fake?.close();
  fake = undefined;
});

function rssMiB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (kb !== undefined) return Number(kb) / 1024;
  } catch {
    // Not Linux: ask ps.
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)]).toString().trim()) / 1024;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) throw new Error(`scrape failed: ${res.status}`);
  return res.text();
}

const total = (text: string, name: string, match: Record<string, string> = {}): number =>
  seriesOf(text, name)
    .filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

const newestMs = (text: string, callSid: string, direction: string): number | undefined => {
  const s = seriesOf(text, 'twilio_call_sample_timestamp_seconds').find(
    (x) => x.labels['call_sid'] === callSid && x.labels['direction'] === direction && x.labels['edge'] === 'carrier_edge',
  );
  return s === undefined ? undefined : s.value * 1000;
};

describe('a hostile upstream', () => {
  it('leaves the process alive and small, the other calls exact, and every rejection counted by reason', { timeout: 90_000 }, async () => {
    const good = [sid(0x601), sid(0x602), sid(0x603)].map((callSid): FakeCall => ({ callSid, accountSid: ACCOUNT_1, behaviour: 'good' }));
    const withValidRecords: FakeCall[] = [
      ...good,
      { callSid: sid(0xf01), accountSid: ACCOUNT_1, behaviour: 'future' },
      { callSid: sid(0xc01), accountSid: ACCOUNT_1, behaviour: 'cross', target: good[0]!.callSid },
      { callSid: sid(0xd01), accountSid: ACCOUNT_1, behaviour: 'nested' },
    ];
    const broken: FakeCall[] = [
      { callSid: sid(0xb01), accountSid: ACCOUNT_1, behaviour: 'html' },
      { callSid: sid(0xb02), accountSid: ACCOUNT_1, behaviour: 'gzip' },
      { callSid: sid(0xb03), accountSid: ACCOUNT_1, behaviour: 'never_ending' },
      { callSid: sid(0xb04), accountSid: ACCOUNT_1, behaviour: 'huge' },
      { callSid: sid(0xe01), accountSid: ACCOUNT_2, behaviour: 'endless' },
    ];
    const calls = [...withValidRecords, ...broken];
    fake = await hostileInsights({ calls });

    const dir = mkdtempSync(join(tmpdir(), 'tie-hostile-'));
    const file = join(dir, 'config.yaml');
    const account = (accountSid: string) => ({ account_sid: accountSid, auth_token: 'token', insights_base_url: fake!.baseUrl, api_base_url: fake!.baseUrl });
    writeFileSync(
      file,
      stringify({
        accounts: [account(ACCOUNT_1), account(ACCOUNT_2)],
        calls: calls.map((c) => ({ call_sid: c.callSid, account_sid: c.accountSid })),
        poll_interval: '1s',
        request_timeout: '2s',
        backfill: true,
        log: { level: 'warn' },
      }),
    );
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWILIO_')));
    child = spawn(process.execPath, ['src/main.ts', `--config.file=${file}`, '--web.listen-address=127.0.0.1:0'], { cwd: ROOT, env: clean });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const url = await eventually(() => /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(output)?.[1], 20_000, 'the listening line');
    const pid = child.pid!;

    // Hostile traffic for a while, the process answering and its memory sampled throughout.
    let peakMiB = 0;
    const until = Date.now() + HOSTILE_MS;
    while (Date.now() < until) {
      expect((await fetch(`${url}/-/healthy`)).status).toBe(200);
      peakMiB = Math.max(peakMiB, rssMiB(pid));
      await new Promise((r) => setTimeout(r, 500));
    }

    fake.freeze();
    const ledger = fake.ledger();
    const text = await eventually(async () => {
      const t = await scrape(url);
      const caughtUp = withValidRecords.every((c) => newestMs(t, c.callSid, 'inbound') === ledger.newestMs && newestMs(t, c.callSid, 'outbound') === ledger.newestMs);
      return caughtUp ? t : undefined;
    }, 20_000, 'every call with valid records at the ledger newest');
    peakMiB = Math.max(peakMiB, rssMiB(pid));

    expect(child.exitCode).toBeNull();
    expect(peakMiB).toBeLessThan(MAX_RSS_MIB);

    // Exact against the ledger: every valid record once in the fleet counter, nothing of the strays.
    expect(total(text, 'twilio_voice_samples_total', { account_sid: ACCOUNT_1 })).toBe(withValidRecords.length * ledger.count);
    const victim = good[0]!.callSid;
    const rounds = ledger.count / 2;
    expect(total(text, 'twilio_call_packets_received_total', { call_sid: victim })).toBe(500 * rounds);
    expect(seriesOf(text, 'twilio_call_info').find((s) => s.labels['call_sid'] === victim)?.labels['codec_name']).toBe('pcmu');

    // Each rejected record counted once, by reason, however often its page was read.
    const rejected = (reason: string) => total(text, 'twilio_insights_exporter_samples_rejected_total', { reason });
    expect({
      future_timestamp: rejected('future_timestamp'),
      wrong_call: rejected('wrong_call'),
      wrong_account: rejected('wrong_account'),
      wrong_edge: rejected('wrong_edge'),
      bad_timestamp: rejected('bad_timestamp'),
    }).toEqual({ future_timestamp: 1, wrong_call: 1, wrong_account: 1, wrong_edge: 1, bad_timestamp: 1 });
    expect(total(text, 'twilio_insights_exporter_paging_stopped_total', { account_sid: ACCOUNT_2, reason: 'page_cap' })).toBeGreaterThan(0);
    // Unusable bodies fail their own calls' polls, counted by outcome, and nothing else.
    expect(total(text, 'twilio_insights_exporter_api_requests_total', { account_sid: ACCOUNT_1, endpoint: 'metrics', outcome: 'bad_payload' })).toBeGreaterThan(0);
    expect(total(text, 'twilio_insights_exporter_api_requests_total', { account_sid: ACCOUNT_1, endpoint: 'metrics', outcome: 'timeout' })).toBeGreaterThan(0);
    for (const c of broken.filter((b) => b.behaviour !== 'endless')) {
      expect(total(text, 'twilio_insights_exporter_call_poll_success', { call_sid: c.callSid })).toBe(0);
    }
    expect(seriesOf(text, 'twilio_insights_exporter_up').map((s) => s.value)).toEqual([1, 1]);
  });
});
