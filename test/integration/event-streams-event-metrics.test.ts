import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { signDelivery } from '../../src/simulator/event-signing.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';

const ACCOUNT = DEMO_ACCOUNT.accountSid;
const TOKEN = DEMO_ACCOUNT.authToken;
const CALL = 'CA7569efe0253644fa4a88aa97beca3310';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

function envelope(id: string, type: string, schema: string, data: Record<string, unknown>): Record<string, unknown> {
  return { specversion: '1.0', type: `com.twilio.voice.insights.${type}`, source: `/v1/Voice/${CALL}`, id, dataschema: `https://events-schemas.twilio.com/VoiceInsights.${schema}`, time: '2024-01-01T00:02:00Z', data };
}

const sdkEvent = (id: string, group: string, name: string, level = 'WARNING'): Record<string, unknown> =>
  envelope(id, 'call-event.sdk', 'CallEvent/3', { call_sid: CALL, account_sid: ACCOUNT, edge: 'sdk_edge', group, name, level });
const summary = (id: string, state: 'partial' | 'complete', tags: string[], sdkTags: string[]): Record<string, unknown> =>
  envelope(id, `call-summary.${state}`, 'CallSummary/2', { call_sid: CALL, account_sid: ACCOUNT, call_type: 'client', processing_state: state, tags, sdk_edge: { tags: sdkTags } });
const metric = (id: string): Record<string, unknown> =>
  envelope(id, 'call-metrics.sdk', 'CallMetric/2', {
    timestamp: '2024-01-01T00:00:10Z', call_sid: CALL, account_sid: ACCOUNT, edge: 'sdk_edge', direction: 'inbound',
    sdk_edge: { interval: { mos: { value: 4.1 } } },
  });

async function post(sink: string, events: unknown[]): Promise<number> {
  const body = JSON.stringify(events);
  const d = signDelivery(TOKEN, sink, body);
  return (await fetch(d.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': d.signature }, body })).status;
}

const count = (text: string, name: string, labels: Record<string, string>): number =>
  seriesOf(text, name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);

// A push-mode exporter replaying everything once (backfill), and its account's sink URL.
async function startPushExporter(): Promise<{ exp: TestExporter; sink: string }> {
  sim = await startSimulator({ lagSeconds: 0 });
  exp = await startTestExporter(sim.url, {
    accounts: [{ account_sid: ACCOUNT, auth_token: TOKEN, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'push' }],
    backfill: true,
  });
  return { exp, sink: `${exp.url}/webhooks/twilio/event-streams/${ACCOUNT}` };
}

describe('metrics from pushed call events and summaries', () => {
  it('counts SDK warnings by bounded labels, each call tag once, and shows the per-call summary while the call is retained', { timeout: 30_000 }, async () => {
    const { exp: e, sink } = await startPushExporter();
    expect(await post(sink, [metric('M1'), sdkEvent('W1', 'network-quality-warning-raised', 'high-rtt'), sdkEvent('W2', 'network-quality-warning-raised', 'hostile-name-1')])).toBe(200);
    // A redelivery of W1, another warning, then the summaries: partial, complete, and the partial again, out of order.
    expect(await post(sink, [sdkEvent('W1', 'network-quality-warning-raised', 'high-rtt'), sdkEvent('W3', 'network-quality-warning-cleared', 'high-rtt', 'INFO')])).toBe(200);
    expect(await post(sink, [summary('S2', 'complete', ['high_pdd'], ['low_mos', 'high_jitter']), summary('S1', 'partial', [], ['low_mos'])])).toBe(200);
    const text = await e.scrape();

    const events = 'twilio_voice_call_events_total';
    expect(count(text, events, { account_sid: ACCOUNT, edge: 'sdk_edge', group: 'network-quality-warning-raised', name: 'high-rtt', level: 'WARNING' })).toBe(1);
    expect(count(text, events, { group: 'network-quality-warning-raised', name: 'other' })).toBe(1);
    expect(count(text, events, { group: 'network-quality-warning-cleared', name: 'high-rtt', level: 'INFO' })).toBe(1);
    for (const s of seriesOf(text, events)) expect(s.labels).not.toHaveProperty('call_sid');

    const tags = 'twilio_voice_call_tags_total';
    expect(count(text, tags, { edge: 'sdk_edge', tag: 'low_mos' })).toBe(1);
    expect(count(text, tags, { edge: 'sdk_edge', tag: 'high_jitter' })).toBe(1);
    expect(count(text, tags, { edge: 'call', tag: 'high_pdd' })).toBe(1);
    expect(seriesOf(text, tags).reduce((n, s) => n + s.value, 0)).toBe(3);

    // The summary ended the call; it is still retained, so its summary gauge shows the complete summary.
    expect(seriesOf(text, 'twilio_call_summary_tags')).toEqual([
      expect.objectContaining({ labels: { call_sid: CALL, account_sid: ACCOUNT, call_type: 'client', processing_state: 'complete' }, value: 3 }),
    ]);
  });

  // Event Streams does not keep order: a summary may come before the call's first metrics (probe K).
  it('shows the per-call summary of a call whose summary came before its first metrics', { timeout: 30_000 }, async () => {
    const { exp: e, sink } = await startPushExporter();
    expect(await post(sink, [summary('S1', 'partial', [], ['low_mos'])])).toBe(200);
    expect(await post(sink, [metric('M1')])).toBe(200);
    const text = await e.scrape();
    expect(seriesOf(text, 'twilio_call_summary_tags')).toEqual([
      expect.objectContaining({ labels: { call_sid: CALL, account_sid: ACCOUNT, call_type: 'client', processing_state: 'partial' }, value: 1 }),
    ]);
  });
});
