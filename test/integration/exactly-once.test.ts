import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { simControl } from '../helpers/sim-control.ts';

const TYPES = ['carrier', 'sip', 'client', 'trunking_originating', 'trunking_terminating'] as const;

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

function key(edge: string, direction: string): string {
  return `${edge}/${direction}`;
}

function sumBy(rows: Iterable<{ edge: string; direction: string; n: number }>): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) out.set(key(r.edge, r.direction), (out.get(key(r.edge, r.direction)) ?? 0) + r.n);
  return out;
}

async function visibleByStream(simUrl: string, sids: string[]): Promise<Map<string, number>> {
  const c = simControl(simUrl);
  const rows: Array<{ edge: string; direction: string; n: number }> = [];
  for (const sid of sids) {
    for (const s of await c.samples(sid)) rows.push({ edge: String(s['edge']), direction: String(s['direction']), n: 1 });
  }
  return sumBy(rows);
}

async function ledgerByStream(simUrl: string): Promise<Map<string, number>> {
  const l = await simControl(simUrl).ledger();
  return sumBy(l.streams.map((s) => ({ edge: s.edge, direction: s.direction, n: s.served })));
}

function exportedByStream(text: string, metric: string): Map<string, number> {
  return sumBy(seriesOf(text, metric).map((s) => ({ edge: s.labels['edge']!, direction: s.labels['direction']!, n: s.value })));
}

function sameCounts(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

// Waits until the exporter has applied every visible sample, then checks nothing was applied twice.
async function expectExactlyOnce(simUrl: string, sids: string[]): Promise<void> {
  const visible = await visibleByStream(simUrl, sids);
  const counted = await eventually(
    async () => {
      const text = await exp!.scrape();
      const c = exportedByStream(text, 'twilio_voice_samples_total');
      return sameCounts(c, visible) ? text : undefined;
    },
    20_000,
    'the exporter to apply every visible sample',
  ).catch(async (err: unknown) => {
    const text = await exp!.scrape();
    expect(Object.fromEntries(exportedByStream(text, 'twilio_voice_samples_total'))).toEqual(Object.fromEntries(visible));
    throw err;
  });
  // Every stream reports loss, so the loss histogram observes every sample: exactly once.
  expect(Object.fromEntries(exportedByStream(counted, 'twilio_voice_packet_loss_ratio_count'))).toEqual(Object.fromEntries(visible));
  // The simulator served each of them at least once; the exporter applied each exactly once.
  expect(Object.fromEntries(await ledgerByStream(simUrl))).toEqual(Object.fromEntries(visible));
}

describe.each(['asc', 'desc'] as const)('every sample exactly once, %s order', (order) => {
  it('across paging, new samples, a PageToken expiry and the end of the calls', { timeout: 90_000 }, async () => {
    let simNow = Date.parse('2026-11-27T10:00:00Z');
    sim = await startSimulator({ lagSeconds: 0, order, seed: 7, now: () => simNow });
    const control = simControl(sim.url);
    const sids: string[] = [];
    for (const type of TYPES) sids.push((await control.createCall({ type, age_seconds: 600, duration_seconds: 3600 })).sid);

    exp = await startTestExporter(sim.url, {
      calls: sids,
      backfill: true,
      page_size: 25,
      poll_interval: '1s',
    });
    await expectExactlyOnce(sim.url, sids);

    // New samples arrive: read incrementally.
    simNow += 60_000;
    await expectExactlyOnce(sim.url, sids);

    // Saved PageTokens stop being accepted: a full re-read, de-duplicated, and counted.
    await control.invalidateTokens();
    simNow += 30_000;
    await expectExactlyOnce(sim.url, sids);
    const resets = seriesOf(await exp.scrape(), 'twilio_insights_exporter_cursor_resets_total');
    if (order === 'asc') expect(resets.reduce((a, s) => a + s.value, 0)).toBeGreaterThan(0);

    // The calls end; the last samples still arrive once.
    for (const sid of sids) await control.endCall(sid);
    simNow += 30_000;
    await expectExactlyOnce(sim.url, sids);
  });
});

describe('values', () => {
  it('per-call gauges equal the newest simulator sample after unit conversion', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0, seed: 11 });
    const control = simControl(sim.url);
    const client = await control.createCall({ type: 'client', age_seconds: 120, duration_seconds: 3600, degraded: true });
    const carrier = await control.createCall({ type: 'carrier', age_seconds: 120, duration_seconds: 3600 });
    exp = await startTestExporter(sim.url, { calls: [client.sid, carrier.sid] });

    const samples = await control.samples(client.sid);
    const sdk = samples.filter((s) => s.edge === 'sdk_edge').at(-1)!;
    const interval = sdk.sdk_edge!.interval;
    const text = await eventually(async () => {
      const t = await exp!.scrape();
      const ts = seriesOf(t, 'twilio_call_sample_timestamp_seconds').find((s) => s.labels['call_sid'] === client.sid && s.labels['edge'] === 'sdk_edge');
      return ts && ts.value * 1000 === Date.parse(sdk.timestamp) ? t : undefined;
    });
    const one = (name: string) =>
      seriesOf(text, name).find((s) => s.labels['call_sid'] === client.sid && s.labels['edge'] === 'sdk_edge' && s.labels['direction'] === 'both')?.value;
    expect(one('twilio_call_mos')).toBe(interval.mos.value);
    expect(one('twilio_call_rtt_seconds')).toBeCloseTo(interval.rtt.value / 1000, 9);
    expect(one('twilio_call_jitter_seconds')).toBeCloseTo(interval.jitter.value / 1000, 9);
    expect(one('twilio_call_packet_loss_ratio')).toBeCloseTo(interval.packets_loss_percentage / 100, 9);

    const carrierIn = (await control.samples(carrier.sid)).filter((s) => s.direction === 'inbound').at(-1)!;
    const cum = carrierIn.carrier_edge!.cumulative;
    const gw = await eventually(async () => {
      const t = await exp!.scrape();
      const v = seriesOf(t, 'twilio_call_packets_received_total').find((s) => s.labels['call_sid'] === carrier.sid && s.labels['direction'] === 'inbound');
      return v?.value === cum.packets_received ? t : undefined;
    });
    const avg = seriesOf(gw, 'twilio_call_jitter_avg_seconds').find((s) => s.labels['call_sid'] === carrier.sid && s.labels['direction'] === 'inbound');
    expect(avg?.value).toBeCloseTo(cum.jitter.avg / 1000, 9);
    const info = seriesOf(gw, 'twilio_call_info').find((s) => s.labels['call_sid'] === carrier.sid);
    expect(info?.labels['call_type']).toBe('carrier');
  });
});
