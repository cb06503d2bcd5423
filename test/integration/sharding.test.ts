import { describe, expect, it } from 'vitest';
import { resolveShard, shardOf } from '../../src/calls/shard.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, eventually, parseExposition, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { simControl } from '../helpers/sim-control.ts';

const TYPES = ['carrier', 'sip', 'client', 'trunking_originating', 'trunking_terminating'] as const;
let sim: RunningSimulator | undefined;
const exporters: TestExporter[] = [];
closeAfterEach(() => [...exporters, sim], () => {
  exporters.length = 0;
  sim = undefined;
});

// Per-call series lines (name{labels} value), the part sharding splits.
function perCallLines(text: string): string[] {
  return [...parseExposition(text)]
    .filter(([k]) => k.startsWith('twilio_call_'))
    .map(([k, v]) => `${k} ${v}`)
    .sort();
}

describe('sharding', () => {
  it('three shards together expose exactly the series of one unsharded exporter', { timeout: 60_000 }, async () => {
    const simNow = Date.parse('2026-11-27T10:00:00Z');
    sim = await startSimulator({ lagSeconds: 0, now: () => simNow });
    const control = simControl(sim.url);
    const sids: string[] = [];
    for (let i = 0; i < 15; i++) sids.push((await control.createCall({ type: TYPES[i % TYPES.length]!, age_seconds: 300 })).sid);
    // The 15 calls must really be split, or the test proves nothing.
    expect(new Set(sids.map((s) => shardOf(s, 3))).size).toBe(3);

    const config = { discovery: { enabled: true, interval: '1s' }, backfill: true };
    const whole = await startTestExporter(sim.url, config);
    exporters.push(whole);
    for (let ordinal = 0; ordinal < 3; ordinal++) {
      exporters.push(await startTestExporter(sim.url, config, { shard: { ordinal, total: 3 } }));
    }
    const shards = exporters.slice(1);
    // Every call fully read: each exporter's newest sample of every stream is the simulator's newest.
    const caughtUp = async (e: TestExporter, n: number) => {
      const t = await e.scrape();
      const streams = seriesOf(t, 'twilio_call_sample_timestamp_seconds');
      return new Set(streams.map((s) => s.labels['call_sid'])).size === n && streams.every((s) => s.value * 1000 >= simNow - 10_000) ? t : undefined;
    };
    const wholeText = await eventually(() => caughtUp(whole, 15), 20_000, 'the unsharded exporter');
    const shardTexts: string[] = [];
    for (const [i, e] of shards.entries()) {
      const n = sids.filter((s) => shardOf(s, 3) === i).length;
      shardTexts.push(await eventually(() => caughtUp(e, n), 20_000, `shard ${i}`));
    }

    expect(shardTexts.flatMap(perCallLines).sort()).toEqual(perCallLines(wholeText));
    // Fleet counts add up too, and each replica says which shard it is.
    const total = (t: string) => seriesOf(t, 'twilio_voice_samples_total').reduce((a, s) => a + s.value, 0);
    expect(shardTexts.reduce((a, t) => a + total(t), 0)).toBe(total(wholeText));
    expect(shardTexts.map((t) => seriesOf(t, 'twilio_insights_exporter_shard_ordinal')[0]?.value)).toEqual([0, 1, 2]);
    expect(seriesOf(shardTexts[0]!, 'twilio_insights_exporter_total_shards')[0]?.value).toBe(3);
  });

  it('takes the ordinal from a StatefulSet pod name and rejects impossible values', () => {
    expect(resolveShard({ totalShards: '3', podName: 'twilio-insights-exporter-2' })).toEqual({ ordinal: 2, total: 3 });
    expect(resolveShard({})).toEqual({ ordinal: 0, total: 1 });
    expect(() => resolveShard({ totalShards: '3', podName: 'exporter' })).toThrow(/--shard: not given/);
    // Probe L #9: unset, it was said not to end in an ordinal.
    expect(() => resolveShard({ totalShards: '3' })).toThrow('--shard: not given, and POD_NAME is not set (a StatefulSet sets it to name-N)');
    expect(() => resolveShard({ shard: '3', totalShards: '3' })).toThrow('--shard: 3 must be below --total-shards 3');
    expect(() => resolveShard({ totalShards: '0' })).toThrow(/--total-shards: must be a positive integer/);
  });
});
