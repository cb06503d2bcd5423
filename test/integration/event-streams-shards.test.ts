import { describe, expect, it } from 'vitest';
import { shardOf } from '../../src/calls/shard.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { PUSH_TYPES, deliveryLedger, setDelivery, subscribeSink } from '../helpers/event-streams.ts';
import { closeAfterEach, eventually, parseExposition, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { simControl } from '../helpers/sim-control.ts';

const ACCOUNT = DEMO_ACCOUNT.accountSid;
const TYPES = ['carrier', 'sip', 'client', 'trunking_originating', 'trunking_terminating'] as const;
let sim: RunningSimulator | undefined;
const exporters: TestExporter[] = [];
closeAfterEach(() => [...exporters, sim], () => {
  exporters.length = 0;
  sim = undefined;
});

// The live quality verdicts are judged in arrival order with hysteresis, and this delivery reorders batches
// independently per sink: on a stream near a threshold two replicas can legitimately disagree (seen in CI), so
// they are left out of the exact comparison. Every value, timestamp, info and counter series stays in it.
const ARRIVAL_ORDERED = 'twilio_call_quality_issue{';

function perCallLines(text: string): string[] {
  return [...parseExposition(text)]
    .filter(([k]) => k.startsWith('twilio_call_') && !k.startsWith(ARRIVAL_ORDERED))
    .map(([k, v]) => `${k} ${v}`)
    .sort();
}
const total = (t: string, name: string): number => seriesOf(t, name).reduce((a, s) => a + s.value, 0);

describe('push with shards: one sink per replica', () => {
  it('three shards, each with its own sink, together expose exactly what one push replica does', { timeout: 60_000 }, async () => {
    let simNow = Date.now();
    sim = await startSimulator({ lagSeconds: 0, seed: 41, now: () => simNow });
    const control = simControl(sim.url);
    const config = {
      accounts: [{ account_sid: ACCOUNT, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'push' }],
      backfill: true,
    };
    const whole = await startTestExporter(sim.url, config);
    exporters.push(whole);
    for (let ordinal = 0; ordinal < 3; ordinal++) exporters.push(await startTestExporter(sim.url, config, { shard: { ordinal, total: 3 } }));
    // Each replica's stable address is its own sink (what `event-streams setup --public-url=<pod URL>` creates).
    for (const e of exporters) await subscribeSink(sim.url, `${e.url}/webhooks/twilio/event-streams/${ACCOUNT}`, [...PUSH_TYPES, ['com.twilio.voice.insights.call-event.sdk', 3]]);
    await setDelivery(sim.url, { duplicateRate: 0.2, reorder: true, maxDelayMs: 200, batchSize: 6, concurrency: 4 });
    const sids: string[] = [];
    for (let i = 0; i < 15; i++) sids.push((await control.createCall({ type: TYPES[i % TYPES.length]!, age_seconds: 200, duration_seconds: 260 + i * 20 })).sid);
    expect(new Set(sids.map((s) => shardOf(s, 3))).size).toBe(3);

    await eventually(async () => ((await deliveryLedger(sim!.url)).pending === 0 ? true : undefined), 30_000, 'every delivery acknowledged');
    // Some calls end (a `completed` call event each), the others go on.
    simNow += 120_000;
    await eventually(async () => {
      const l = await deliveryLedger(sim!.url);
      return l.pending === 0 && total(await whole.scrape(), 'twilio_voice_call_events_total') > 0 ? true : undefined;
    }, 30_000, 'call events delivered');
    await eventually(async () => ((await deliveryLedger(sim!.url)).pending === 0 ? true : undefined), 30_000, 'every delivery acknowledged');
    const wholeText = await whole.scrape();
    expect(new Set(seriesOf(wholeText, 'twilio_call_sample_timestamp_seconds').map((s) => s.labels['call_sid']))).toEqual(new Set(sids));
    const shardTexts = await Promise.all(exporters.slice(1).map((e) => e.scrape()));

    expect(shardTexts.flatMap(perCallLines).sort()).toEqual(perCallLines(wholeText));
    for (const name of ['twilio_voice_samples_total', 'twilio_voice_call_events_total', 'twilio_voice_call_tags_total', 'twilio_voice_active_calls']) {
      expect({ name, sum: shardTexts.reduce((a, t) => a + total(t, name), 0) }).toEqual({ name, sum: total(wholeText, name) });
    }
    expect(total(wholeText, 'twilio_voice_samples_total')).toBeGreaterThan(0);
    expect(total(wholeText, 'twilio_voice_call_events_total')).toBeGreaterThan(0);
    // No replica made an Insights request: every call is pushed.
    const requests = (await control.ledger()).requests.by_route;
    expect({ metrics: requests.metrics, summary: requests.summary }).toEqual({ metrics: 0, summary: 0 });
  });
});
