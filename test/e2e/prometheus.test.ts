import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { PROMETHEUS_JOB, startPrometheus } from '../helpers/prometheus.ts';
import type { RunningPrometheus } from '../helpers/prometheus.ts';
import { simControl } from '../helpers/sim-control.ts';

const TYPES = ['carrier', 'sip', 'client', 'trunking_originating', 'trunking_terminating'] as const;
let sim: RunningSimulator;
let exp: TestExporter;
let prom: RunningPrometheus;
const sids: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ lagSeconds: 0, seed: 21 });
  for (const type of TYPES) sids.push((await simControl(sim.url).createCall({ type, age_seconds: 120, degraded: type === 'client' })).sid);
  exp = await startTestExporter(sim.url, { discovery: { enabled: true, interval: '1s' }, backfill: true });
  prom = await startPrometheus({ scrapeTargets: [new URL(exp.url).host], extraFlags: ['--enable-feature=exemplar-storage'] });
});

afterAll(async () => {
  await prom?.stop();
  await exp?.close();
  await sim?.close();
});

describe('a real Prometheus scraping the exporter', () => {
  it('stores the per-call MOS series with the right labels and values', async () => {
    const client = sids[TYPES.indexOf('client')]!;
    const series = await eventually(async () => {
      const r = await prom.query(`twilio_call_mos{call_sid="${client}"}`);
      return r.length > 0 ? r : undefined;
    }, 60_000, 'Prometheus to scrape twilio_call_mos');
    expect(series).toHaveLength(1);
    expect(series[0]!.metric).toMatchObject({ __name__: 'twilio_call_mos', job: PROMETHEUS_JOB, call_sid: client, edge: 'sdk_edge', direction: 'both' });
    const exported = seriesOf(await exp.scrape(), 'twilio_call_mos').find((s) => s.labels['call_sid'] === client)!;
    expect(Number(series[0]!.value[1])).toBe(exported.value);

    // Every call type's streams arrived, labelled by edge and direction.
    const streams = await eventually(async () => {
      const r = await prom.query('count by (edge, direction) (twilio_call_sample_timestamp_seconds)');
      return r.length === 7 ? r : undefined;
    }, 30_000, 'all seven (edge, direction) streams');
    expect(streams.map((s) => `${s.metric['edge']}/${s.metric['direction']}`).sort()).toEqual([
      'carrier_edge/inbound', 'carrier_edge/outbound', 'client_edge/inbound', 'client_edge/outbound',
      'sdk_edge/both', 'sip_edge/inbound', 'sip_edge/outbound',
    ]);
  });

  it('computes fleet quantiles from the histograms and keeps call_sid exemplars', async () => {
    const p50 = await eventually(async () => {
      const r = await prom.query('histogram_quantile(0.5, sum by (le) (rate(twilio_voice_mos_bucket[1m])))');
      return r.length > 0 && Number.isFinite(Number(r[0]!.value[1])) ? r : undefined;
    }, 60_000, 'a MOS median');
    expect(Number(p50[0]!.value[1])).toBeGreaterThan(1);
    const exemplars = await eventually(async () => {
      const r = (await prom.queryExemplars?.('twilio_voice_mos_bucket')) ?? [];
      return r.some((s) => s.exemplars.length > 0) ? r : undefined;
    }, 30_000, 'exemplars');
    const labels = exemplars.flatMap((s) => s.exemplars.map((e) => e.labels['call_sid']));
    expect(labels.every((sid) => sids.includes(sid!))).toBe(true);
  });

  it('promtool check metrics reports nothing on the live text exposition', async () => {
    const text = await exp.scrape();
    expect(text).toContain('twilio_call_mos{');
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
