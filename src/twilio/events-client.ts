import type { Dispatcher } from 'undici';
import { PageTrail } from './page-trail.ts';
import { createTransport } from './transport.ts';
import type { FormBody, TwilioCredentials } from './transport.ts';
import { checkSameOrigin, joinPath, parseBaseUrl } from './urls.ts';
import {
  parseSink,
  parseSinksPage,
  parseSubscribedEvent,
  parseSubscribedEventsPage,
  parseSubscription,
  parseSubscriptionsPage,
} from './events-envelope.ts';
import type { EventsPage, EventsSink, EventsSubscribedEvent, EventsSubscription } from './events-envelope.ts';

export type { EventsSink, EventsSubscribedEvent, EventsSubscription } from './events-envelope.ts';

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

// Lists are short (a few sinks per account): 20 pages of 1000 bound a runaway paging loop.
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
  const call = <T>(url: string | URL, parse: (body: unknown) => T, form?: FormBody): Promise<T> =>
    send('events', typeof url === 'string' ? joinPath(base, url) : url, parse, { maxBodyBytes: MAX_EVENTS_BODY_BYTES, form });
  const all = async <T>(path: string, parsePage: (body: unknown) => EventsPage<T>): Promise<T[]> => {
    const out: T[] = [];
    // A link back at a page read, or a list still paging after MAX_PAGES, fails the walk: part of a list is worse
    // than none (setup would not find its sink and create a second one).
    const trail = new PageTrail('events', MAX_PAGES);
    let url = joinPath(base, path);
    for (;;) {
      const page: EventsPage<T> = await call(url, parsePage);
      out.push(...page.items);
      trail.read(url.href, page.nextPageUrl);
      if (page.nextPageUrl === null) return out;
      // Only follow links on the configured origin: credentials never go elsewhere.
      url = checkSameOrigin('events', base, page.nextPageUrl);
    }
  };
  return {
    listSinks: () => all('/v1/Sinks?PageSize=1000', parseSinksPage),
    createSink: (description, destination) =>
      call('/v1/Sinks', parseSink, [
        ['Description', description],
        ['SinkType', 'webhook'],
        ['SinkConfiguration', JSON.stringify({ destination, method: 'POST', batch_events: true })],
      ]),
    updateSink: (sid, description) => call(`/v1/Sinks/${sid}`, parseSink, [['Description', description]]),
    listSubscriptions: (sinkSid) => all(`/v1/Subscriptions?SinkSid=${sinkSid}&PageSize=1000`, parseSubscriptionsPage),
    createSubscription: (sinkSid, description, types) =>
      call('/v1/Subscriptions', parseSubscription, [
        ['Description', description],
        ['SinkSid', sinkSid],
        ...types.map((t): [string, string] => ['Types', JSON.stringify({ type: t.type, schema_version: t.schema_version })]),
      ]),
    listSubscribedEvents: (sid) => all(`/v1/Subscriptions/${sid}/SubscribedEvents?PageSize=1000`, parseSubscribedEventsPage),
    addSubscribedEvent: async (sid, t) => {
      await call(`/v1/Subscriptions/${sid}/SubscribedEvents`, parseSubscribedEvent, [['Type', t.type], ['SchemaVersion', String(t.schema_version)]]);
    },
    updateSubscribedEvent: async (sid, t) => {
      await call(`/v1/Subscriptions/${sid}/SubscribedEvents/${encodeURIComponent(t.type)}`, parseSubscribedEvent, [['SchemaVersion', String(t.schema_version)]]);
    },
  };
}
