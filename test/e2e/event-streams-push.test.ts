import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { deliveryLedger, setDelivery, subscribeSink } from '../helpers/event-streams.ts';
import { eventually, seriesOf } from '../helpers/exporter.ts';
import { PROMETHEUS_JOB, startPrometheus } from '../helpers/prometheus.ts';
import type { RunningPrometheus } from '../helpers/prometheus.ts';
import { simControl } from '../helpers/sim-control.ts';
import { freePort } from '../helpers/free-port.ts';

// Three real processes: the simulator (playing Twilio's Events API and delivering to its sinks), the exporter in
// push mode, and Prometheus scraping the exporter. Nothing is shared in memory with this test.
const ROOT = resolve(import.meta.dirname, '../..');
const ACCOUNT = DEMO_ACCOUNT.accountSid;
const children: ChildProcess[] = [];
let prom: RunningPrometheus | undefined;
let dir = '';
let simUrl = '';
let expUrl = '';


function run(args: string[]): { child: ChildProcess; output: () => string } {
  let out = '';
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '' } });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  children.push(child);
  return { child, output: () => out };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tie-e2e-push-'));
  const sim = run(['src/simulator/main.ts', '--web.listen-address=127.0.0.1:0', '--lag=0', '--seed=31']);
  simUrl = await eventually(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(sim.output())?.[1], 30_000, 'the simulator banner');
  const config = join(dir, 'config.yaml');
  writeFileSync(config, stringify({
    accounts: [{ account_sid: ACCOUNT, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: simUrl, api_base_url: simUrl, ingest_mode: 'push' }],
    backfill: true,
    log: { level: 'warn' },
  }));
  const port = await freePort();
  const exp = run(['src/main.ts', `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`]);
  expUrl = `http://127.0.0.1:${port}`;
  await eventually(async () => ((await fetch(`${expUrl}/metrics`).catch(() => undefined))?.ok ? true : undefined), 30_000, `the exporter to serve /metrics (${exp.output()})`);
  prom = await startPrometheus({ scrapeTargets: [`127.0.0.1:${port}`] });
}, 90_000);

afterAll(async () => {
  await prom?.stop();
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((done) => child.on('exit', done));
    child.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Event Streams push between real processes', () => {
  it('a real Prometheus sees the MOS of a call the simulator pushed to the exporter, with no Insights request', { timeout: 120_000 }, async () => {
    await subscribeSink(simUrl, `${expUrl}/webhooks/twilio/event-streams/${ACCOUNT}`);
    await setDelivery(simUrl, { duplicateRate: 0.2, reorder: true, maxDelayMs: 200, batchSize: 5 });
    const control = simControl(simUrl);
    const call = (await control.createCall({ type: 'client', age_seconds: 120, duration_seconds: 3600 })).sid;

    // The simulator's ledger says what its sink delivered; the exporter's exposition must carry that call's MOS.
    await eventually(async () => {
      const l = await deliveryLedger(simUrl);
      return l.pending === 0 && Object.keys(l.samples).some((k) => k.startsWith(`${call}/sdk_edge`)) ? l : undefined;
    }, 30_000, 'the sdk_edge samples delivered');
    const exported = await eventually(async () => {
      const text = await (await fetch(`${expUrl}/metrics`)).text();
      return seriesOf(text, 'twilio_call_mos').find((s) => s.labels['call_sid'] === call);
    }, 30_000, 'the exporter to expose the pushed MOS');

    const series = await eventually(async () => {
      const r = await prom!.query(`twilio_call_mos{call_sid="${call}"}`);
      return r.length > 0 && Number(r[0]!.value[1]) === exported.value ? r : undefined;
    }, 60_000, 'Prometheus to scrape the pushed MOS');
    expect(series).toHaveLength(1);
    expect(series[0]!.metric).toMatchObject({ __name__: 'twilio_call_mos', job: PROMETHEUS_JOB, call_sid: call, edge: 'sdk_edge', direction: 'both' });
    expect(Number(series[0]!.value[1])).toBeGreaterThanOrEqual(1);
    expect(Number(series[0]!.value[1])).toBeLessThanOrEqual(4.5);

    // Pushed deliveries were accepted over HTTP, and the call cost no Insights request.
    const accepted = await prom!.query('sum(twilio_insights_exporter_event_streams_deliveries_total{outcome="accepted"})');
    expect(Number(accepted[0]!.value[1])).toBeGreaterThan(0);
    const requests = (await control.ledger()).requests.by_route;
    expect({ metrics: requests.metrics, summary: requests.summary, events: requests.events }).toEqual({ metrics: 0, summary: 0, events: 0 });
  });
});
