import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import type { DeliveryKnobs, DeliveryLedger } from '../../src/simulator/event-delivery.ts';
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
