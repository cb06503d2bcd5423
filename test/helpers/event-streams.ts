import { expect } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import type { DeliveryKnobs, DeliveryLedger } from '../../src/simulator/event-delivery.ts';
import { signDelivery } from '../../src/simulator/event-signing.ts';
import { basicAuth } from './simulator.ts';

/** The Call Insights types the exporter reads, with the schema version it subscribes to. */
export const PUSH_TYPES = [
  ['com.twilio.voice.insights.call-metrics.gateway', 2],
  ['com.twilio.voice.insights.call-metrics.sdk', 2],
  ['com.twilio.voice.insights.call-event.gateway', 3],
] as const;

/** Creates a webhook sink on the simulator for `destination` and subscribes it to `types`; returns the sink SID. */
export async function subscribeSink(simUrl: string, destination: string, types: ReadonlyArray<readonly [string, number]> = PUSH_TYPES): Promise<string> {
  const post = async (path: string, params: Array<[string, string]>): Promise<{ sid: string }> => {
    const res = await fetch(`${simUrl}${path}`, {
      method: 'POST',
      headers: { authorization: basicAuth(DEMO_ACCOUNT.accountSid, DEMO_ACCOUNT.authToken), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { sid: string };
  };
  const sink = await post('/v1/Sinks', [
    ['Description', 'test'],
    ['SinkType', 'webhook'],
    ['SinkConfiguration', JSON.stringify({ destination, method: 'POST', batch_events: true })],
  ]);
  await post('/v1/Subscriptions', [
    ['Description', 'test'],
    ['SinkSid', sink.sid],
    ...types.map(([type, v]): [string, string] => ['Types', JSON.stringify({ type, schema_version: v })]),
  ]);
  return sink.sid;
}

/** Sets delivery knobs of the simulator's Event Streams. */
export async function setDelivery(simUrl: string, knobs: Partial<DeliveryKnobs>): Promise<void> {
  const res = await fetch(`${simUrl}/_simulator/event-streams/settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(knobs) });
  if (!res.ok) throw new Error(`knobs: ${res.status} ${await res.text()}`);
}

/** The simulator's delivery ledger. */
export async function deliveryLedger(simUrl: string): Promise<DeliveryLedger> {
  return (await (await fetch(`${simUrl}/_simulator/event-streams/ledger`)).json()) as DeliveryLedger;
}

/** A CloudEvent of the demo account about `call`, with `data` besides its call and account SIDs. */
export const pushedEvent = (id: string, type: string, schema: string, call: string, data: Record<string, unknown>): Record<string, unknown> => ({
  specversion: '1.0', type: `com.twilio.voice.insights.${type}`, source: `/v1/Voice/${call}`, id,
  dataschema: `https://events-schemas.twilio.com/VoiceInsights.${schema}`, time: new Date().toISOString(),
  data: { call_sid: call, account_sid: DEMO_ACCOUNT.accountSid, ...data },
});
/** A carrier_edge inbound call-metrics event dated `atMs`. */
export const pushedMetric = (id: string, call: string, atMs: number): Record<string, unknown> =>
  pushedEvent(id, 'call-metrics.gateway', 'CallMetric/2', call, {
    timestamp: new Date(atMs).toISOString(), edge: 'carrier_edge', direction: 'inbound',
    carrier_edge: { codec_name: 'pcmu', cumulative: { jitter: { avg: 3, max: 9 } }, interval: { packets_loss_percentage: 0.5 } },
  });
/** A gateway `completed` call event. */
export const pushedCompleted = (id: string, call: string): Record<string, unknown> =>
  pushedEvent(id, 'call-event.gateway', 'CallEvent/3', call, { edge: 'carrier_edge', group: 'call_state', name: 'completed', level: 'INFO' });

/** POSTs `events` to the exporter at `baseUrl` as the demo account's signed delivery; expects 200 and returns the answer. */
export async function pushSigned(baseUrl: string, events: unknown[]): Promise<Record<string, number>> {
  const body = JSON.stringify(events);
  const d = signDelivery(DEMO_ACCOUNT.authToken, `${baseUrl}/webhooks/twilio/event-streams/${DEMO_ACCOUNT.accountSid}`, body);
  const res = await fetch(d.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': d.signature }, body });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, number>;
}
