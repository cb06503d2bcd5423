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
  /** Origin, e.g. `https://events.twilio.com`. */
  readonly baseUrl: string;
  /** Basic credentials: Account SID + Auth Token, or API key SID + secret. */
  readonly username: string;
  readonly password: string;
  /** Timeout of each request, ms. */
  readonly timeoutMs: number;
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
const MAX_ERROR_CHARS = 200;

/** A small Events API client over fetch: Basic auth, a timeout per request, every page followed up to a cap. */
export function createEventsClient(o: EventsClientOptions): EventsClient {
  const auth = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`;
  const call = async <T>(method: string, pathOrUrl: string, form?: Array<[string, string]>): Promise<T> => {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${o.baseUrl}${pathOrUrl}`;
    // Only follow links on the configured origin: credentials never go elsewhere.
    if (!url.startsWith(`${o.baseUrl}/`)) throw new Error(`refusing to follow a link off ${o.baseUrl}`);
    const res = await fetch(url, {
      method,
      headers: {
        authorization: auth,
        'user-agent': o.userAgent,
        ...(form && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(form && { body: new URLSearchParams(form).toString() }),
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, MAX_ERROR_CHARS);
      try {
        const m = (JSON.parse(text) as { message?: unknown }).message;
        if (typeof m === 'string') message = m.slice(0, MAX_ERROR_CHARS);
      } catch {
        // not JSON: the text itself is the message
      }
      throw new Error(`${method} ${new URL(url).pathname}: HTTP ${res.status}: ${message}`);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  const all = async <T>(path: string, key: string): Promise<T[]> => {
    const out: T[] = [];
    let next: string | null = path;
    for (let i = 0; next !== null && i < MAX_PAGES; i++) {
      const page: Record<string, unknown> = await call<Record<string, unknown>>('GET', next);
      out.push(...((page[key] as T[] | undefined) ?? []));
      next = ((page['meta'] as { next_page_url?: string | null } | undefined)?.next_page_url) ?? null;
    }
    return out;
  };
  return {
    listSinks: () => all<EventsSink>('/v1/Sinks?PageSize=1000', 'sinks'),
    createSink: (description, destination) =>
      call('POST', '/v1/Sinks', [
        ['Description', description],
        ['SinkType', 'webhook'],
        ['SinkConfiguration', JSON.stringify({ destination, method: 'POST', batch_events: true })],
      ]),
    updateSink: (sid, description) => call('POST', `/v1/Sinks/${sid}`, [['Description', description]]),
    listSubscriptions: (sinkSid) => all<EventsSubscription>(`/v1/Subscriptions?SinkSid=${sinkSid}&PageSize=1000`, 'subscriptions'),
    createSubscription: (sinkSid, description, types) =>
      call('POST', '/v1/Subscriptions', [
        ['Description', description],
        ['SinkSid', sinkSid],
        ...types.map((t): [string, string] => ['Types', JSON.stringify({ type: t.type, schema_version: t.schema_version })]),
      ]),
    listSubscribedEvents: (sid) => all<EventsSubscribedEvent>(`/v1/Subscriptions/${sid}/SubscribedEvents?PageSize=1000`, 'types'),
    addSubscribedEvent: async (sid, t) => {
      await call('POST', `/v1/Subscriptions/${sid}/SubscribedEvents`, [['Type', t.type], ['SchemaVersion', String(t.schema_version)]]);
    },
    updateSubscribedEvent: async (sid, t) => {
      await call('POST', `/v1/Subscriptions/${sid}/SubscribedEvents/${encodeURIComponent(t.type)}`, [['SchemaVersion', String(t.schema_version)]]);
    },
  };
}
