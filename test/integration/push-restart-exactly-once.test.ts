import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { signDelivery } from '../../src/simulator/event-signing.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';

// Probe K #4: what push ingestion counts once was remembered in memory only. A restart between a delivery and its
// redelivery (Twilio retries for 4 h), or between a call's partial and complete summaries, counted it again. These
// run a real exporter, stop it (which saves the state file) and start a new one on the same file.
const ACCOUNT = DEMO_ACCOUNT.accountSid;
const TOKEN = DEMO_ACCOUNT.authToken;
const CALL = 'CA7569efe0253644fa4a88aa97beca3311';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

function envelope(id: string, type: string, schema: string, time: string, data: Record<string, unknown>): Record<string, unknown> {
  return { specversion: '1.0', type: `com.twilio.voice.insights.${type}`, source: `/v1/Voice/${CALL}`, id, dataschema: `https://events-schemas.twilio.com/VoiceInsights.${schema}`, time, data };
}

const at = (ms: number): string => new Date(ms).toISOString();
const sdkWarning = (id: string, name: string, t: number): Record<string, unknown> =>
  envelope(id, 'call-event.sdk', 'CallEvent/3', at(t), { call_sid: CALL, account_sid: ACCOUNT, edge: 'sdk_edge', group: 'network-quality-warning-raised', name, level: 'WARNING' });
const completed = (id: string, t: number): Record<string, unknown> =>
  envelope(id, 'call-event.gateway', 'CallEvent/3', at(t), { call_sid: CALL, account_sid: ACCOUNT, edge: 'carrier_edge', group: 'call-progress', name: 'completed', level: 'INFO' });
const summary = (id: string, state: 'partial' | 'complete', tags: string[], t: number): Record<string, unknown> =>
  envelope(id, `call-summary.${state}`, 'CallSummary/2', at(t), { call_sid: CALL, account_sid: ACCOUNT, call_type: 'carrier', processing_state: state, tags: [], carrier_edge: { tags } });
const metric = (id: string, t: number): Record<string, unknown> =>
  envelope(id, 'call-metrics.gateway', 'CallMetric/2', at(t), {
    timestamp: at(t), call_sid: CALL, account_sid: ACCOUNT, edge: 'carrier_edge', direction: 'inbound', carrier_edge: { codec_name: 'pcmu' },
  });

async function post(sink: string, events: unknown[]): Promise<Record<string, number>> {
  const body = JSON.stringify(events);
  const d = signDelivery(TOKEN, sink, body);
  const res = await fetch(d.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': d.signature }, body });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, number>;
}

const count = (text: string, name: string, labels: Record<string, string> = {}): number =>
  seriesOf(text, name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);

// A push-mode exporter on a state file; `skew` moves its clock.
async function startPushExporter(statePath: string, clock: { skew: number }, extra: Record<string, unknown> = {}): Promise<{ exp: TestExporter; sink: string }> {
  sim ??= await startSimulator({ lagSeconds: 0 });
  exp = await startTestExporter(
    sim.url,
    {
      accounts: [{ account_sid: ACCOUNT, auth_token: TOKEN, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'push' }],
      backfill: true,
      state: { path: statePath, flush_interval: '1h' },
      ...extra,
    },
    { now: () => Date.now() + clock.skew },
  );
  return { exp, sink: `${exp.url}/webhooks/twilio/event-streams/${ACCOUNT}` };
}

const newStatePath = (): string => join(mkdtempSync(join(tmpdir(), 'tie-push-restart-')), 'state.json');

describe('push ingestion over a restart counts each thing once', () => {
  it('a call event redelivered with the same id after a restart is a duplicate', { timeout: 30_000 }, async () => {
    const statePath = newStatePath();
    const clock = { skew: 0 };
    const t0 = Date.now() - 60_000;
    let { exp: e, sink } = await startPushExporter(statePath, clock);
    expect(await post(sink, [metric('EM1', t0), sdkWarning('EW1', 'high-rtt', t0 + 1000)])).toMatchObject({ applied: 2 });
    expect(count(await e.scrape(), 'twilio_voice_call_events_total', { name: 'high-rtt' })).toBe(1);
    await e.close();

    ({ exp: e, sink } = await startPushExporter(statePath, clock));
    // Twilio redelivers the batch (its answer was lost in the restart), then a new warning comes.
    expect(await post(sink, [metric('EM1', t0), sdkWarning('EW1', 'high-rtt', t0 + 1000)])).toMatchObject({ applied: 0, duplicates: 2 });
    expect(await post(sink, [sdkWarning('EW2', 'high-rtt', t0 + 2000)])).toMatchObject({ applied: 1 });
    expect(count(await e.scrape(), 'twilio_voice_call_events_total', { name: 'high-rtt' })).toBe(1);
  });

  it('a tag counted from a partial summary before a restart is not counted again from the complete one after it', { timeout: 30_000 }, async () => {
    const statePath = newStatePath();
    const clock = { skew: 0 };
    const t0 = Date.now() - 60_000;
    let { exp: e, sink } = await startPushExporter(statePath, clock);
    expect(await post(sink, [metric('EM1', t0), summary('ES1', 'partial', ['high_jitter'], t0 + 20_000)])).toMatchObject({ applied: 2 });
    expect(count(await e.scrape(), 'twilio_voice_call_tags_total', { tag: 'high_jitter' })).toBe(1);
    await e.close();

    ({ exp: e, sink } = await startPushExporter(statePath, clock));
    expect(await post(sink, [summary('ES2', 'complete', ['high_jitter', 'high_packet_loss'], t0 + 30_000)])).toMatchObject({ applied: 1 });
    const text = await e.scrape();
    expect(count(text, 'twilio_voice_call_tags_total', { tag: 'high_jitter' })).toBe(0);
    expect(count(text, 'twilio_voice_call_tags_total', { tag: 'high_packet_loss' })).toBe(1);
  });

  it('a sample redelivered after a restart, of an ended call whose state expired before it, is refused, not counted again', { timeout: 30_000 }, async () => {
    const statePath = newStatePath();
    const clock = { skew: 0 };
    const t0 = Math.floor(Date.now() / 10_000) * 10_000 - 120_000;
    const short = { call_retention: '1s', drain_period: '0s', max_sample_lateness: '5s' };
    let { exp: e, sink } = await startPushExporter(statePath, clock, short);
    expect(await post(sink, [...[0, 1, 2].map((i) => metric(`EM${i}`, t0 + i * 10_000)), completed('EVend', t0 + 30_000)])).toMatchObject({ applied: 4 });
    await eventually(() => (e.exporter.registry.get(CALL) === undefined ? true : undefined), 10_000, 'the call removed');
    clock.skew = 130_000;
    await eventually(() => (e.exporter.store.parkedSize === 0 ? true : undefined), 10_000, 'its state expired');
    await e.close();

    ({ exp: e, sink } = await startPushExporter(statePath, clock, short));
    const again = await post(sink, [0, 1, 2].map((i) => metric(`EN${i}`, t0 + i * 10_000)));
    expect(again).toMatchObject({ applied: 0, too_late: 3 });
    expect(count(await e.scrape(), 'twilio_voice_samples_total')).toBe(0);
  });

  // Probe K retest #6: a summary that came before its call's first metrics, with a restart in between, was lost.
  it('a summary that waited for its call\'s first metrics over a restart is still the call\'s', { timeout: 30_000 }, async () => {
    const statePath = newStatePath();
    const clock = { skew: 0 };
    const t0 = Date.now() - 60_000;
    let { exp: e, sink } = await startPushExporter(statePath, clock);
    expect(await post(sink, [summary('ES1', 'partial', ['high_jitter'], t0 + 20_000)])).toMatchObject({ applied: 1 });
    await e.close();

    ({ exp: e, sink } = await startPushExporter(statePath, clock));
    expect(await post(sink, [metric('EM1', t0)])).toMatchObject({ applied: 1 });
    expect(seriesOf(await e.scrape(), 'twilio_call_summary_tags').map((s) => [s.labels['processing_state'], s.labels['call_type'], s.value])).toEqual([['partial', 'carrier', 1]]);
  });
});
