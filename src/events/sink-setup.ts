import type { EventsClient, EventsSink, EventsSubscribedEvent } from '../twilio/events-client.ts';
import { EVENT_TYPES } from './event-types.ts';

/** The Description the setup command gives its sink and subscription, so it finds them again. */
export const SETUP_DESCRIPTION = 'twilio-insights-exporter';

/** What one run of the setup did for one account. */
export interface SetupReport {
  readonly sinkSid: string;
  readonly sink: 'created' | 'updated' | 'kept';
  readonly sinkStatus: string;
  readonly subscriptionSid: string;
  readonly subscription: 'created' | 'updated' | 'kept';
  /** Types added or moved to another schema version. */
  readonly changedTypes: readonly string[];
}

/** The types and versions the exporter subscribes to. */
export function wantedTypes(): EventsSubscribedEvent[] {
  return EVENT_TYPES.map((t) => ({ type: t.type, schema_version: t.subscribeVersion }));
}

/** The account's sink delivering to `sinkUrl`, if any. */
export async function findSink(client: EventsClient, sinkUrl: string): Promise<EventsSink | undefined> {
  return (await client.listSinks()).find((s) => s.sink_configuration?.destination === sinkUrl);
}

/**
 * Creates or updates the webhook Sink for `sinkUrl` and its Subscription to every type the exporter reads.
 * Idempotent: a second run finds both by destination and sink, and changes nothing that is already right.
 */
export async function setupSink(client: EventsClient, sinkUrl: string): Promise<SetupReport> {
  let sink = await findSink(client, sinkUrl);
  let sinkAction: SetupReport['sink'] = 'kept';
  if (!sink) {
    sink = await client.createSink(SETUP_DESCRIPTION, sinkUrl);
    sinkAction = 'created';
  } else if (sink.description !== SETUP_DESCRIPTION) {
    sink = await client.updateSink(sink.sid, SETUP_DESCRIPTION);
    sinkAction = 'updated';
  }
  const wanted = wantedTypes();
  const subs = await client.listSubscriptions(sink.sid);
  const sub = subs.find((s) => s.description === SETUP_DESCRIPTION) ?? subs[0];
  if (!sub) {
    const created = await client.createSubscription(sink.sid, SETUP_DESCRIPTION, wanted);
    return { sinkSid: sink.sid, sink: sinkAction, sinkStatus: sink.status, subscriptionSid: created.sid, subscription: 'created', changedTypes: wanted.map((t) => t.type) };
  }
  const have = new Map((await client.listSubscribedEvents(sub.sid)).map((t) => [t.type, t.schema_version]));
  const changed: string[] = [];
  for (const t of wanted) {
    const version = have.get(t.type);
    if (version === t.schema_version) continue;
    if (version === undefined) await client.addSubscribedEvent(sub.sid, t);
    else await client.updateSubscribedEvent(sub.sid, t);
    changed.push(t.type);
  }
  return {
    sinkSid: sink.sid,
    sink: sinkAction,
    sinkStatus: sink.status,
    subscriptionSid: sub.sid,
    subscription: changed.length > 0 ? 'updated' : 'kept',
    changedTypes: changed,
  };
}
