import type { Direction, Edge } from '../../../src/samples/sample.ts';
import type { MetricsPage, MetricsQuery } from '../../../src/twilio/client.ts';
import { TwilioError } from '../../../src/twilio/errors.ts';
import { ACCOUNT_A, CALL_1, T0 } from '../store/sample-builder.ts';

/** Options of {@link FakeMetricsApi}. */
export interface FakeMetricsApiOptions {
  /** Sort order the API serves records in. */
  order: 'asc' | 'desc';
  /** Records per page. */
  pageSize: number;
  callSid?: string;
  accountSid?: string;
  edge?: Edge;
  /** Streams of the edge, interleaved in time (gateway edges have inbound and outbound). */
  directions?: readonly Direction[];
  /** Also give a `next_page_url` on a full page that happens to be the last (an empty page follows). */
  nextOnFullPage?: boolean;
  /** Serve the very first page with its first and last records swapped (one out-of-order page). */
  swapFirstPage?: boolean;
  /** Serve each page's records in the other order than the pages themselves (ascending pages, newest first within). */
  reversePages?: boolean;
  /** Streams of one round share its timestamp (as both directions of a gateway edge often do), instead of 1 s apart. */
  sameTimestamp?: boolean;
}

const BASE = 'https://insights.twilio.com';

/**
 * An in-memory Call Metrics list of one (call, edge) that grows over time, served page by page in
 * either order. Page tokens encode a position in the history (stable while it grows) and an epoch, so
 * tokens issued before {@link invalidateTokens} are refused with a 400 `bad_request`, as Twilio may
 * refuse an expired PageToken.
 */
export class FakeMetricsApi {
  /** Every record so far, oldest first. */
  readonly records: unknown[] = [];
  /** URLs requested, in order (failed requests included). */
  readonly requests: string[] = [];
  readonly #o: Required<FakeMetricsApiOptions>;
  #epoch = 0;
  #failures = new Map<number, Error>();
  #samples = 0;

  constructor(options: FakeMetricsApiOptions) {
    this.#o = {
      callSid: CALL_1,
      accountSid: ACCOUNT_A,
      edge: 'sdk_edge',
      directions: ['both'],
      nextOnFullPage: false,
      swapFirstPage: false,
      reversePages: false,
      sameTimestamp: false,
      ...options,
    };
  }

  /** Samples added so far (malformed records not included). */
  get sampleCount(): number {
    return this.#samples;
  }

  /** Appends `n` new samples, 10 s apart per stream, streams 1 s apart. */
  add(n: number): void {
    const dirs = this.#o.directions;
    for (let i = 0; i < n; i++) {
      const k = this.#samples++;
      const direction = dirs[k % dirs.length]!;
      const round = Math.floor(k / dirs.length);
      const ts = new Date(T0 + round * 10_000 + (this.#o.sameTimestamp ? 0 : (k % dirs.length) * 1000)).toISOString();
      this.records.push(this.#record(direction, ts, round));
    }
  }

  /** Appends a record as is (a malformed one, say). */
  addRaw(record: unknown): void {
    this.records.push(record);
  }

  /** Refuses every token issued so far. */
  invalidateTokens(): void {
    this.#epoch++;
  }

  /** Makes the request with this 1-based number (counted over the API's lifetime) throw `err`. */
  failRequest(n: number, err: Error): void {
    this.#failures.set(n, err);
  }

  /** Makes the next request throw `err`. */
  failNext(err: Error): void {
    this.failRequest(this.requests.length + 1, err);
  }

  /** The page fetcher `readQuery` takes. */
  readonly fetch = (req: MetricsQuery | { url: string }): Promise<MetricsPage> => {
    try {
      return Promise.resolve(this.#serve(req));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };

  #serve(req: MetricsQuery | { url: string }): MetricsPage {
    const { pageSize, order, callSid, edge } = this.#o;
    const path = `${BASE}/v1/Voice/${callSid}/Metrics?Edge=${edge}&PageSize=${pageSize}`;
    const requestUrl = 'url' in req ? req.url : path;
    this.requests.push(requestUrl);
    const failure = this.#failures.get(this.requests.length);
    if (failure) throw failure;
    if (runaway(this.requests.length)) throw new Error('fake API: more than 10 000 requests, the reader is looping');

    let position: number;
    let page: number;
    const url = 'url' in req ? new URL(req.url) : undefined;
    if (url?.searchParams.has('PageToken')) {
      const token = /^E(\d+)P(\d+)$/.exec(url.searchParams.get('PageToken')!);
      if (!token) throw new Error(`fake API: not a URL it issued: ${url.href}`);
      if (Number(token[1]) !== this.#epoch) {
        throw new TwilioError({ code: 'bad_request', endpoint: 'metrics', status: 400, twilioCode: 20001, twilioMessage: 'Invalid PageToken', url: url.href });
      }
      position = Number(token[2]);
      page = Number(url.searchParams.get('Page'));
    } else {
      // A query, or the URL of a first page (no token), as a cursor resumes when the history fitted one page.
      if ('url' in req ? url!.href !== new URL(path).href : req.callSid !== callSid || (req.edge !== undefined && req.edge !== edge)) {
        throw new Error(`fake API: unexpected request ${JSON.stringify(req)}`);
      }
      position = order === 'asc' ? 0 : this.records.length;
      page = 0;
    }

    let records: unknown[];
    let next: number | null;
    if (order === 'asc') {
      records = this.records.slice(position, position + pageSize);
      const end = position + records.length;
      const more = end < this.records.length || (this.#o.nextOnFullPage && records.length === pageSize);
      next = more ? end : null;
    } else {
      const start = Math.max(0, position - pageSize);
      records = this.records.slice(start, position).reverse();
      next = start > 0 ? start : null;
    }
    if (this.#o.reversePages) records = [...records].reverse();
    if (this.#o.swapFirstPage && this.requests.length === 1 && records.length > 1) {
      records = [records.at(-1), ...records.slice(1, -1), records[0]];
    }
    const nextPageUrl = next === null ? null : `${path}&Page=${page + 1}&PageToken=E${this.#epoch}P${next}`;
    return { requestUrl, records: structuredClone(records), nextPageUrl, page, pageSize, bodyBytes: JSON.stringify(records).length };
  }

  #record(direction: Direction, timestamp: string, round: number): unknown {
    const { callSid, accountSid, edge } = this.#o;
    const data =
      edge === 'sdk_edge'
        ? {
            interval: { packets_received: 50, packets_lost: 0, mos: { value: 4.3 }, rtt: { value: 80 + (round % 7) }, jitter: { value: 4 } },
            cumulative: { packets_received: 50 * (round + 1), packets_sent: 50 * (round + 1), packets_lost: 0 },
          }
        : {
            cumulative: { [direction === 'outbound' ? 'packets_sent' : 'packets_received']: 500 * (round + 1), packets_lost: 0, jitter: { avg: 5, max: 12 } },
            codec: 0,
            codec_name: 'pcmu',
            metadata: { region: 'us1' },
          };
    return {
      timestamp,
      call_sid: callSid,
      account_sid: accountSid,
      edge,
      direction,
      carrier_edge: null,
      sip_edge: null,
      sdk_edge: null,
      client_edge: null,
      [edge]: data,
    };
  }
}

// A reader that never stops would otherwise spin on resolved promises and never yield to the test timeout.
function runaway(requests: number): boolean {
  return requests > 10_000;
}
