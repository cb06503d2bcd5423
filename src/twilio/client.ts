import type { Dispatcher } from 'undici';
import { DIRECTIONS, EDGES } from '../samples/sample.ts';
import type { Direction, Edge } from '../samples/sample.ts';
import type { Endpoint } from './endpoint.ts';
import { parseCallsEnvelope, parseMetricsEnvelope, parseSettings, parseSummary } from './envelope.ts';
import type { CallRecord, CallSummary, VoiceSettings } from './envelope.ts';
import { TwilioError } from './errors.ts';
import { createTransport } from './transport.ts';
import type { RequestEvent, TwilioCredentials } from './transport.ts';
import { MAX_CALLS_LIST_PAGES, PageTrail } from './page-trail.ts';
import { checkAccountSid, checkCallSid, checkSameOrigin, joinPath, parseBaseUrl } from './urls.ts';

export type { Endpoint } from './endpoint.ts';
export type { CallRecord, CallSummary, VoiceSettings } from './envelope.ts';
export type { RequestEvent, TwilioCredentials } from './transport.ts';

/** Upper bound of `PageSize` in both the Insights and 2010 APIs. */
export const MAX_PAGE_SIZE = 1000;

/** Everything the client needs; nothing is read from globals or the environment. */
export interface TwilioClientOptions {
  /** The account whose 2010 Calls list is read (`AC` + 32 hex). */
  accountSid: string;
  /** Called per request so credentials can rotate on reload; the password is a Secret-like object. */
  credentials: () => TwilioCredentials;
  /** Insights base URL, e.g. `https://insights.twilio.com`; credentials are only sent to its origin. */
  insightsBaseUrl: string;
  /** 2010 API base URL, e.g. `https://api.twilio.com`; credentials are only sent to its origin. */
  apiBaseUrl: string;
  /** Connection pool for every request (an undici Agent with keep-alive in practice). */
  dispatcher: Dispatcher;
  /** Sent as `User-Agent` (see `userAgent()`). */
  userAgent: string;
  /** Deadline for one HTTP attempt, covering connect, headers and body, in milliseconds. */
  requestTimeoutMs: number;
  /** Called exactly once per HTTP attempt, success or failure (not for requests refused before sending). */
  onRequest?: (e: RequestEvent) => void;
  /** Called once per 2010 call record skipped as malformed (also counted in `CallsPage.skipped`). */
  onBadRecord?: (e: BadRecordEvent) => void;
}

/** A record dropped because it failed validation; the record itself is not included (it holds phone numbers). */
export interface BadRecordEvent {
  /** The resource the record came from. */
  endpoint: Endpoint;
  /** Index of the record on its page. */
  index: number;
  /** Which field was wrong. */
  reason: string;
}

/** The first page of a call's metrics for one (edge, direction) query; `Page`/`PageToken` resume a known position. */
export interface MetricsQuery {
  /** The call, `CA` + 32 hex; checked before anything is sent. */
  callSid: string;
  /** Sent as `Edge`; Twilio picks the call type's default edge when omitted. */
  edge?: Edge;
  /** Sent as `Direction`. */
  direction?: Direction;
  /** Sent as `PageSize`, 1..1000 (Twilio defaults to 50). */
  pageSize?: number;
  /** Sent as `Page`, 0 or more. */
  page?: number;
  /** Sent as `PageToken`, the opaque token from a `next_page_url`. */
  pageToken?: string;
}

/** One page of Call Metrics with the envelope validated and the records left raw. */
export interface MetricsPage {
  /** The URL actually requested, with any PageToken; fetching it again re-reads this page. */
  requestUrl: string;
  /** Raw metric records, not validated here (the sample parser validates and counts them). */
  records: unknown[];
  /** Absolute URL of the next page, or null on the last; not checked here: fetching it throws `foreign_origin` if it leaves the configured origin. */
  nextPageUrl: string | null;
  /** `meta.page`. */
  page: number;
  /** `meta.page_size`. */
  pageSize: number;
  /** Size of the response body in bytes, for per-poll byte budgets. */
  bodyBytes: number;
}

/** Limits of one page request. */
export interface PageLimits {
  /** Largest body read, in bytes; a longer one fails as `bad_payload` [32 MiB]. */
  maxBodyBytes?: number;
}

/** The first page of the account's 2010 Calls list. */
export interface CallsQuery {
  /** Sent as `Status`, e.g. `in-progress`. */
  status?: string;
  /** Sent as `PageSize`, 1..1000. */
  pageSize?: number;
}

/** One page of the 2010 Calls list with every record validated. */
export interface CallsPage {
  /** The URL actually requested. */
  requestUrl: string;
  /** The records that passed validation, in page order. */
  calls: CallRecord[];
  /** How many records on this page were malformed and dropped (each also reported to `onBadRecord`). */
  skipped: number;
  /** Absolute URL of the next page (the relative `next_page_uri` resolved against the API base URL), or null on the last. */
  nextPageUrl: string | null;
}

/** A client for the few Twilio resources the exporter reads; one HTTP request per call, no retries (the poller owns retry policy). */
export interface TwilioClient {
  /** Fetches one Call Metrics page, by query or by a `next_page_url` that must have the configured Insights origin. */
  fetchMetricsPage(req: MetricsQuery | { url: string }, signal?: AbortSignal, limits?: PageLimits): Promise<MetricsPage>;
  /** Reads every Call Metrics page of a query by following `next_page_url` (a full re-read, like twilio-node's list()). */
  listMetrics(query: MetricsQuery, signal?: AbortSignal): AsyncIterable<MetricsPage>;
  /** Fetches one page of the account's 2010 Calls list, by query or by a next-page URL that must have the configured API origin. */
  fetchCallsPage(req: CallsQuery | { url: string }, signal?: AbortSignal): Promise<CallsPage>;
  /** Yields every valid call of the 2010 Calls list across all pages. */
  listCalls(req: CallsQuery, signal?: AbortSignal): AsyncIterable<CallRecord>;
  /** Fetches a call's summary with `ProcessingState=partial`, which Twilio answers while the call is still being summarised. */
  fetchCallSummary(callSid: string, signal?: AbortSignal): Promise<CallSummary>;
  /** Fetches the account's Voice Insights settings (Metrics need Advanced Features on). */
  fetchSettings(signal?: AbortSignal): Promise<VoiceSettings>;
}

/** Builds a Twilio client; throws a TypeError at once if a base URL or the timeout is unusable. */
export function createTwilioClient(o: TwilioClientOptions): TwilioClient {
  const insightsBase = parseBaseUrl('insightsBaseUrl', o.insightsBaseUrl);
  const apiBase = parseBaseUrl('apiBaseUrl', o.apiBaseUrl);
  if (!Number.isFinite(o.requestTimeoutMs) || o.requestTimeoutMs <= 0) {
    throw new TypeError('requestTimeoutMs must be a positive number of milliseconds');
  }
  const getJson = createTransport({
    dispatcher: o.dispatcher,
    userAgent: o.userAgent,
    requestTimeoutMs: o.requestTimeoutMs,
    credentials: o.credentials,
    ...(o.onRequest === undefined ? {} : { onRequest: o.onRequest }),
  });

  function metricsUrl(query: MetricsQuery): URL {
    const sid = checkCallSid('metrics', query.callSid);
    const url = joinPath(insightsBase, `/v1/Voice/${sid}/Metrics`);
    const params = url.searchParams;
    if (query.edge !== undefined) params.set('Edge', oneOf('metrics', 'edge', query.edge, EDGES));
    if (query.direction !== undefined) {
      params.set('Direction', oneOf('metrics', 'direction', query.direction, DIRECTIONS));
    }
    if (query.pageSize !== undefined) params.set('PageSize', String(pageSize('metrics', query.pageSize)));
    if (query.page !== undefined) params.set('Page', String(integer('metrics', 'page', query.page, 0)));
    if (query.pageToken !== undefined) params.set('PageToken', query.pageToken);
    return url;
  }

  async function fetchMetricsPage(req: MetricsQuery | { url: string }, signal?: AbortSignal, limits?: PageLimits): Promise<MetricsPage> {
    const url = 'url' in req ? checkSameOrigin('metrics', insightsBase, req.url) : metricsUrl(req);
    const parse = (body: unknown, bodyBytes: number) => ({ ...parseMetricsEnvelope(body, url), bodyBytes });
    const envelope = await getJson('metrics', url, parse, { signal, maxBodyBytes: limits?.maxBodyBytes });
    return { requestUrl: url.href, ...envelope };
  }

  async function* listMetrics(query: MetricsQuery, signal?: AbortSignal): AsyncGenerator<MetricsPage> {
    const trail = new PageTrail('metrics');
    let page = await fetchMetricsPage(query, signal);
    yield page;
    while (page.nextPageUrl !== null) {
      trail.read(page.requestUrl, page.nextPageUrl);
      page = await fetchMetricsPage({ url: page.nextPageUrl }, signal);
      yield page;
    }
  }

  function callsUrl(query: CallsQuery): URL {
    const sid = checkAccountSid('calls', o.accountSid);
    const url = joinPath(apiBase, `/2010-04-01/Accounts/${sid}/Calls.json`);
    if (query.status !== undefined) url.searchParams.set('Status', query.status);
    if (query.pageSize !== undefined) url.searchParams.set('PageSize', String(pageSize('calls', query.pageSize)));
    return url;
  }

  async function fetchCallsPage(req: CallsQuery | { url: string }, signal?: AbortSignal): Promise<CallsPage> {
    const url = 'url' in req ? checkSameOrigin('calls', apiBase, req.url) : callsUrl(req);
    const envelope = await getJson('calls', url, (body) => parseCallsEnvelope(body, apiBase), { signal });
    for (const { index, reason } of envelope.skipped) {
      try {
        o.onBadRecord?.({ endpoint: 'calls', index, reason });
      } catch {
        // A broken reporting hook must not cost the valid records of the page.
      }
    }
    return {
      requestUrl: url.href,
      calls: envelope.calls,
      skipped: envelope.skipped.length,
      nextPageUrl: envelope.nextPageUrl,
    };
  }

  async function* listCalls(req: CallsQuery, signal?: AbortSignal): AsyncGenerator<CallRecord> {
    const trail = new PageTrail('calls', MAX_CALLS_LIST_PAGES);
    let page = await fetchCallsPage(req, signal);
    yield* page.calls;
    while (page.nextPageUrl !== null) {
      trail.read(page.requestUrl, page.nextPageUrl);
      page = await fetchCallsPage({ url: page.nextPageUrl }, signal);
      yield* page.calls;
    }
  }

  async function fetchCallSummary(callSid: string, signal?: AbortSignal): Promise<CallSummary> {
    const sid = checkCallSid('summary', callSid);
    const url = joinPath(insightsBase, `/v1/Voice/${sid}/Summary`);
    // `partial` answers 200 during and right after the call; the default (complete) is 17001 for ~30 min.
    url.searchParams.set('ProcessingState', 'partial');
    return getJson('summary', url, parseSummary, { signal });
  }

  async function fetchSettings(signal?: AbortSignal): Promise<VoiceSettings> {
    return getJson('settings', joinPath(insightsBase, '/v1/Voice/Settings'), parseSettings, { signal });
  }

  return { fetchMetricsPage, listMetrics, fetchCallsPage, listCalls, fetchCallSummary, fetchSettings };
}

function oneOf<T extends string>(endpoint: Endpoint, name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new TwilioError({
      code: 'bad_request',
      endpoint,
      detail: `invalid ${name} ${JSON.stringify(value)}: must be one of ${allowed.join(', ')}`,
    });
  }
  return value as T;
}

function pageSize(endpoint: Endpoint, value: number): number {
  const size = integer(endpoint, 'pageSize', value, 1);
  if (size > MAX_PAGE_SIZE) {
    throw new TwilioError({ code: 'bad_request', endpoint, detail: `invalid pageSize ${size}: at most ${MAX_PAGE_SIZE}` });
  }
  return size;
}

function integer(endpoint: Endpoint, name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TwilioError({ code: 'bad_request', endpoint, detail: `invalid ${name} ${value}: must be an integer >= ${min}` });
  }
  return value;
}
