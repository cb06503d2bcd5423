import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { pushSigned, pushedCompleted, pushedEvent, pushedMetric } from '../helpers/event-streams.ts';
import { simControl } from '../helpers/sim-control.ts';

// Probe E #5: a late pushed sample brought an ended, removed call back as active (push mode: until silence_timeout;
// hybrid mode: polled every poll_interval, indefinitely), and so did a `completed` event or summary that arrived
// before the call's first metrics (Event Streams does not keep order).

const ACCOUNT = DEMO_ACCOUNT.accountSid;
const TOKEN = DEMO_ACCOUNT.authToken;

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

const summary = (id: string, call: string): Record<string, unknown> =>
  pushedEvent(id, 'call-summary.complete', 'CallSummary/2', call, { call_type: 'carrier', processing_state: 'complete', tags: ['low_mos'] });

const push = (events: unknown[]): Promise<Record<string, number>> => pushSigned(exp!.url, events);

async function start(mode: 'push' | 'hybrid', extra: Record<string, unknown> = {}): Promise<void> {
  sim ??= await startSimulator({ lagSeconds: 0 });
  exp = await startTestExporter(sim.url, {
    accounts: [{ account_sid: ACCOUNT, auth_token: TOKEN, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: mode }],
    backfill: true,
    drain_period: '1s',
    call_retention: '2s',
    ...extra,
  });
}

const total = (text: string, name: string): number => seriesOf(text, name).reduce((n, s) => n + s.value, 0);
const activeCalls = async (): Promise<number> => total(await exp!.scrape(), 'twilio_voice_active_calls');
const removed = (sid: string): Promise<true> => eventually(() => (exp!.exporter.registry.get(sid) === undefined ? true : undefined), 10_000, `${sid} removed after retention`);
// The call is not tracked, or tracked in the ended state: never active again.
const notActive = (sid: string): boolean => {
  const call = exp!.exporter.registry.get(sid);
  return call === undefined || exp!.exporter.registry.lifecycle(call) !== 'active';
};

describe('an ended call stays ended when its events arrive late or out of order', () => {
  it('applies a late pushed sample of an ended, removed call once, and leaves the call ended', { timeout: 30_000 }, async () => {
    await start('push');
    const R = `CA${'7a'.repeat(16)}`;
    const now = Date.now();
    await push([pushedMetric('R1', R, now - 60_000), pushedMetric('R2', R, now - 50_000)]);
    await push([pushedCompleted('R3', R)]);
    expect(exp!.exporter.registry.get(R)?.endedAtMs).toBeDefined();
    await removed(R);

    // A sample already applied, under a new id (a Twilio retry), then one never seen.
    expect(await push([pushedMetric('R4', R, now - 60_000)])).toMatchObject({ applied: 0, duplicates: 1 });
    expect(notActive(R)).toBe(true);
    expect(await push([pushedMetric('R5', R, now - 40_000)])).toMatchObject({ applied: 1 });
    expect(notActive(R)).toBe(true);
    expect(await activeCalls()).toBe(0);
    expect(total(await exp!.scrape(), 'twilio_voice_samples_total')).toBe(3);
    // Its end time was remembered: past retention already, it leaves again.
    await removed(R);
  });

  it('tracks a call whose completed event and summary came before its first metrics as ended, not active', { timeout: 30_000 }, async () => {
    await start('push', { call_retention: '1m' });
    const Q = `CA${'7b'.repeat(16)}`;
    const now = Date.now();
    expect(await push([pushedCompleted('Q1', Q), summary('Q2', Q)])).toMatchObject({ applied: 2 });
    expect(await push([pushedMetric('Q3', Q, now - 30_000)])).toMatchObject({ applied: 1 });
    const call = exp!.exporter.registry.get(Q);
    expect(call?.endedAtMs).toBeDefined();
    expect(exp!.exporter.registry.lifecycle(call!)).not.toBe('active');
    expect(await activeCalls()).toBe(0);
    // Retained like any ended call: its series show until call_retention after the end.
    expect(seriesOf(await exp!.scrape(), 'twilio_call_sample_timestamp_seconds').map((s) => s.labels['call_sid'])).toEqual([Q]);
  });

  it('does not poll an ended hybrid-mode call again when a late pushed sample names it', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const control = simControl(sim.url);
    // A completed call Twilio keeps serving metrics for: polling it would cost requests for ever.
    const C = (await control.createCall({ type: 'carrier', age_seconds: 400, duration_seconds: 60 })).sid;
    await start('hybrid', { event_streams: { hybrid_gap: '2s' } });
    const now = Date.now();
    await push([pushedMetric('C1', C, now - 20_000), pushedMetric('C2', C, now - 10_000)]);
    await push([pushedCompleted('C3', C)]);
    await removed(C);
    const before = (await control.ledger()).requests.by_route.metrics;
    expect(await push([pushedMetric('C4', C, now)])).toMatchObject({ applied: 1 });
    // Past the hybrid gap and several poll intervals.
    await new Promise((r) => setTimeout(r, 4000));
    expect((await control.ledger()).requests.by_route.metrics).toBe(before);
    expect(notActive(C)).toBe(true);
  });

  // Issue 14: "a call silent in every source for a configurable time ends too". A hybrid call whose ending event
  // never came (lost, or its end forgotten over a restart) was polled for ever: Twilio serves a completed call's
  // metrics, and the polls brought nothing new.
  it('ends a hybrid-mode call silent in every source (no push, no new polled sample) for silence_timeout', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const control = simControl(sim.url);
    const H = (await control.createCall({ type: 'carrier', age_seconds: 400, duration_seconds: 60 })).sid;
    await start('hybrid', { event_streams: { hybrid_gap: '1s', silence_timeout: '3s' }, poll_interval: '1s' });
    // One of Twilio's own samples of the call, pushed: the polls later read it too, and it counts once.
    const first = (await control.samples(H, { edge: 'carrier_edge', direction: 'inbound' }))[0]!;
    await push([pushedMetric('H1', H, Date.parse(first.timestamp))]);
    // Its pushes stop: the gap-fill polls read what Twilio has, then nothing new, and the call ends.
    await eventually(() => (exp!.exporter.registry.get(H)?.endedAtMs !== undefined ? true : undefined), 15_000, `${H} ended`);
    expect(total(await exp!.scrape(), 'twilio_voice_samples_total')).toBe((await control.samples(H)).length);
    await removed(H);
    const after = (await control.ledger()).requests.by_route.metrics;
    await new Promise((r) => setTimeout(r, 2500));
    expect((await control.ledger()).requests.by_route.metrics).toBe(after);
  });

  // Probe J #2: in push mode, calls end by silence when deliveries stop, so active calls vanish before the 15-minute
  // window of TwilioEventStreamsDeliveryStopped is empty; the rule reads this counter instead.
  it('counts push-mode calls ended by silence_timeout per account, and not calls ended by their completed event', { timeout: 30_000 }, async () => {
    await start('push', { event_streams: { silence_timeout: '2s' }, call_retention: '1m' });
    const silentCalls = async (): Promise<Array<{ labels: Record<string, string>; value: number }>> =>
      seriesOf(await exp!.scrape(), 'twilio_insights_exporter_event_streams_silent_calls_total');
    // 0 from the start, so increase() sees the first silent call.
    expect(await silentCalls()).toEqual([{ labels: { account_sid: ACCOUNT }, value: 0 }]);
    const SILENT = `CA${'7d'.repeat(16)}`;
    const COMPLETED = `CA${'7e'.repeat(16)}`;
    const now = Date.now();
    await push([pushedMetric('S1', SILENT, now - 20_000), pushedMetric('S2', COMPLETED, now - 20_000), pushedCompleted('S3', COMPLETED)]);
    await eventually(() => (exp!.exporter.registry.get(SILENT)?.endedAtMs !== undefined ? true : undefined), 10_000, `${SILENT} ended by silence`);
    expect(await silentCalls()).toEqual([{ labels: { account_sid: ACCOUNT }, value: 1 }]);
    // Past another silence_timeout: the call already ended is not counted again.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await silentCalls()).toEqual([{ labels: { account_sid: ACCOUNT }, value: 1 }]);
  });

  it('tracks a call as ended when its completed status callback came before in-progress (callbacks are unordered too)', async () => {
    await start('push', { call_retention: '1m' });
    const S = `CA${'7c'.repeat(16)}`;
    const url = `${exp!.url}/webhooks/twilio/call-status`;
    for (const status of ['completed', 'in-progress']) {
      const params = { CallSid: S, AccountSid: ACCOUNT, CallStatus: status };
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, url, params) },
        body: new URLSearchParams(params).toString(),
      });
      expect(res.status).toBe(204);
    }
    expect(exp!.exporter.registry.get(S)?.endedAtMs).toBeDefined();
    expect(await activeCalls()).toBe(0);
  });
});
