import { z } from 'zod';
import { kind, PayloadError } from './envelope.ts';

// Everything the Events API client reads, checked before it is used: a SID goes into the next request's path
// and, with the sink status, into what the setup command prints. Fields the exporter does not read are not
// checked (nor kept), so a field Twilio adds changes nothing. Shapes: twilio_events_v1.json.

const sid = (pattern: RegExp, what: string) => z.string().regex(pattern, { error: `must be ${what}` });
const sinkSid = sid(/^DG[0-9a-fA-F]{32}$/, 'a Sink SID (DG + 32 hex)');
const subscriptionSid = sid(/^DF[0-9a-fA-F]{32}$/, 'a Subscription SID (DF + 32 hex)');

const sink = z.object({
  sid: sinkSid,
  // The spec lists initialized, validating, active and failed; any short word is kept, as it is printed as is.
  status: z.string().regex(/^[a-z][a-z_-]{0,31}$/, { error: 'must be a sink status such as active' }),
  description: z.string().nullable().default(null),
  // A webhook's configuration; other sink types (Kinesis, Segment) have no destination.
  sink_configuration: z.object({ destination: z.string().optional() }).nullable().default(null),
});

const subscription = z.object({
  sid: subscriptionSid,
  sink_sid: sinkSid,
  description: z.string().nullable().default(null),
});

const subscribedEvent = z.object({
  type: z.string().min(1, { error: 'must be an event type' }),
  schema_version: z.number().int().min(0, { error: 'must be 0 or more' }),
});

// `next_page_url` is absolute; an empty string counts as null, as in twilio-node.
const meta = z.object({ next_page_url: z.string().nullable().default(null).transform((url) => (url === '' ? null : url)) });

/** A Sink as the Events API returns it, with the fields the exporter reads. */
export type EventsSink = z.output<typeof sink>;
/** A Subscription as the Events API returns it, with the fields the exporter reads. */
export type EventsSubscription = z.output<typeof subscription>;
/** An event type and schema version a Subscription delivers. */
export type EventsSubscribedEvent = z.output<typeof subscribedEvent>;

/** One page of an Events API list: its items, and the absolute URL of the next page or null on the last. */
export interface EventsPage<T> {
  readonly items: T[];
  readonly nextPageUrl: string | null;
}

/** Validates a Sink body (create, update). */
export const parseSink = (body: unknown): EventsSink => check(sink, body);
/** Validates a Subscription body (create). */
export const parseSubscription = (body: unknown): EventsSubscription => check(subscription, body);
/** Validates a SubscribedEvent body (add, update). */
export const parseSubscribedEvent = (body: unknown): EventsSubscribedEvent => check(subscribedEvent, body);

/** Validates a page of `GET /v1/Sinks`. */
export function parseSinksPage(body: unknown): EventsPage<EventsSink> {
  const page = check(z.object({ sinks: z.array(sink), meta }), body);
  return { items: page.sinks, nextPageUrl: page.meta.next_page_url };
}

/** Validates a page of `GET /v1/Subscriptions`. */
export function parseSubscriptionsPage(body: unknown): EventsPage<EventsSubscription> {
  const page = check(z.object({ subscriptions: z.array(subscription), meta }), body);
  return { items: page.subscriptions, nextPageUrl: page.meta.next_page_url };
}

/** Validates a page of `GET /v1/Subscriptions/{Sid}/SubscribedEvents`. */
export function parseSubscribedEventsPage(body: unknown): EventsPage<EventsSubscribedEvent> {
  const page = check(z.object({ types: z.array(subscribedEvent), meta }), body);
  return { items: page.types, nextPageUrl: page.meta.next_page_url };
}

const ARTICLE: Readonly<Record<string, string>> = { array: 'an array', object: 'an object', int: 'an integer' };

// Worded like the poll path's payload errors (`"sinks" is a string, expected an array`); never quotes the value.
const errorMap: z.core.$ZodErrorMap = (iss) =>
  iss.code === 'invalid_type' ? `is ${kind(iss.input)}, expected ${ARTICLE[iss.expected] ?? `a ${iss.expected}`}` : undefined;

// Parses `body` with `schema`, or throws a PayloadError naming the first wrong field (the client makes it a `bad_payload`).
function check<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body, { error: errorMap });
  if (result.success) return result.data;
  const [first] = result.error.issues;
  const where = first === undefined || first.path.length === 0 ? 'body' : `"${z.core.toDotPath(first.path)}"`;
  const more = result.error.issues.length > 1 ? ` (+${result.error.issues.length - 1} more)` : '';
  throw new PayloadError(`${where} ${first?.message ?? 'is not valid'}${more}`);
}
