import type { Dispatcher } from 'undici';
import { createTransport } from './transport.ts';
import type { FormBody, TwilioCredentials } from './transport.ts';
import { checkSameOrigin, joinPath, parseBaseUrl } from './urls.ts';

/** A webhook Sink as the Events API returns it (the fields the exporter reads). */
export interface EventsSink {
  readonly sid: string;
  readonly status: string;
  readonly description: string;
  readonly sink_configuration: { readonly destination?: string } | null;
}

/** A Subscription as the Events API returns it. */
export interface EventsSubscription {
  readonly sid: string;
  readonly sink_sid: string;
  readonly description: string;
}

/** A subscribed event type. */
export interface EventsSubscribedEvent {
  readonly type: string;
  readonly schema_version: number;
}

/** Options of the Events API client. */
export interface EventsClientOptions {
  /** Events API base URL, e.g. `https://events.twilio.com`; credentials are only sent to its origin. */
  readonly baseUrl: string;
  /** Basic credentials (Account SID + Auth Token, or API Key SID + secret), read per request. */
  readonly credentials: () => TwilioCredentials;
  /** Connection pool of every request. */
  readonly dispatcher: Dispatcher;
  /** Deadline of each request, covering connect, headers and body, in milliseconds. */
  readonly requestTimeoutMs: number;
  /** Sent as `User-Agent`. */
  readonly userAgent: string;
}

/** The Events API calls the setup command needs: Sinks, Subscriptions and SubscribedEvents. */
export interface EventsClient {
  listSinks(): Promise<EventsSink[]>;
  createSink(description: string, destination: string): Promise<EventsSink>;
  updateSink(sid: string, description: string): Promise<EventsSink>;
  listSubscriptions(sinkSid: string): Promise<EventsSubscription[]>;
  createSubscription(sinkSid: string, description: string, types: readonly EventsSubscribedEvent[]): Promise<EventsSubscription>;
  listSubscribedEvents(subscriptionSid: string): Promise<EventsSubscribedEvent[]>;
  addSubscribedEvent(subscriptionSid: string, t: EventsSubscribedEvent): Promise<void>;
  updateSubscribedEvent(subscriptionSid: string, t: EventsSubscribedEvent): Promise<void>;
}

// Lists are short (a few sinks per account); 20 pages of 1000 bound a runaway paging loop.
const MAX_PAGES = 20;

/** Largest Events API response read, in bytes: a page of 1000 sinks or subscribed types is well under 1 MiB. */
export const MAX_EVENTS_BODY_BYTES = 4 * 1024 * 1024;

/**
 * A small Events API client over the Twilio transport, so it keeps the poll path's rules: Basic auth to the
 * configured origin only, no redirects followed, a deadline and a body cap per request, error bodies redacted,
 * every failure a classified TwilioError (endpoint `events`). Every page is followed up to a cap.
 */
export function createEventsClient(o: EventsClientOptions): EventsClient {
  const base = parseBaseUrl('baseUrl', o.baseUrl);
  const send = createTransport({ dispatcher: o.dispatcher, userAgent: o.userAgent, requestTimeoutMs: o.requestTimeoutMs, credentials: o.credentials });
  const call = <T>(url: string | URL, form?: FormBody): Promise<T> =>
    send('events', typeof url === 'string' ? joinPath(base, url) : url, (body) => body as T, { maxBodyBytes: MAX_EVENTS_BODY_BYTES, form });
  const all = async <T>(path: string, key: string): Promise<T[]> => {
    const out: T[] = [];
    let next: URL | null = joinPath(base, path);
    for (let i = 0; next !== null && i < MAX_PAGES; i++) {
      const page: Record<string, unknown> = await call<Record<string, unknown>>(next);
      out.push(...((page[key] as T[] | undefined) ?? []));
      const link = (page['meta'] as { next_page_url?: string | null } | undefined)?.next_page_url ?? null;
      // Only follow links on the configured origin: credentials never go elsewhere.
      next = link === null ? null : checkSameOrigin('events', base, link);
    }
    return out;
  };
  return {
    listSinks: () => all<EventsSink>('/v1/Sinks?PageSize=1000', 'sinks'),
    createSink: (description, destination) =>
      call('/v1/Sinks', [
        ['Description', description],
        ['SinkType', 'webhook'],
        ['SinkConfiguration', JSON.stringify({ destination, method: 'POST', batch_events: true })],
      ]),
    updateSink: (sid, description) => call(`/v1/Sinks/${sid}`, [['Description', description]]),
    listSubscriptions: (sinkSid) => all<EventsSubscription>(`/v1/Subscriptions?SinkSid=${sinkSid}&PageSize=1000`, 'subscriptions'),
    createSubscription: (sinkSid, description, types) =>
      call('/v1/Subscriptions', [
        ['Description', description],
        ['SinkSid', sinkSid],
        ...types.map((t): [string, string] => ['Types', JSON.stringify({ type: t.type, schema_version: t.schema_version })]),
      ]),
    listSubscribedEvents: (sid) => all<EventsSubscribedEvent>(`/v1/Subscriptions/${sid}/SubscribedEvents?PageSize=1000`, 'types'),
    addSubscribedEvent: async (sid, t) => {
      await call(`/v1/Subscriptions/${sid}/SubscribedEvents`, [['Type', t.type], ['SchemaVersion', String(t.schema_version)]]);
    },
    updateSubscribedEvent: async (sid, t) => {
      await call(`/v1/Subscriptions/${sid}/SubscribedEvents/${encodeURIComponent(t.type)}`, [['SchemaVersion', String(t.schema_version)]]);
    },
  };
}
