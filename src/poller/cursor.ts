import { parseMetricRecord } from '../samples/parse.ts';
import { streamKey } from '../samples/sample.ts';
import type { RejectReason } from '../samples/parse.ts';
import type { Sample } from '../samples/sample.ts';
import type { MetricsPage, MetricsQuery } from '../twilio/client.ts';
import { TwilioError } from '../twilio/errors.ts';

/** Sort order of a query's records, learned from the data (the real API's order is not documented). */
export type SampleOrder = 'asc' | 'desc' | 'unknown';

/**
 * How far behind the newest sample of a query a descending read still looks, so that a stream made
 * visible later than its sibling (the two directions of a gateway edge), or a new stream, is not cut off.
 * Twilio publishes samples about 90 s late; 5 minutes is 30 samples per stream, well within one page of 100.
 */
export const DESC_LOOKBACK_MS = 5 * 60_000;

/**
 * Where the next poll of one (call, edge query) starts. In ascending order it resumes at the last page
 * read (every record on it is parsed again; the store applies only what is new, so a record that appears
 * in the middle of that page is not lost); in descending order it reads from the first page and stops once
 * a page reaches back past the newest seen sample minus DESC_LOOKBACK_MS. Either way a steady-state poll
 * costs one request.
 */
export interface EdgeCursor {
  /** The URL (with its PageToken) of the last page read, when the order is ascending. */
  resumeUrl: string | null;
  /** Learned sort order. */
  order: SampleOrder;
  /** Newest timestamp seen per stream (`edge/direction`) by this cursor. */
  readonly highWater: Map<string, number>;
}

/** A fresh cursor: the first poll reads the whole history. */
export function newCursor(): EdgeCursor {
  return { resumeUrl: null, order: 'unknown', highWater: new Map() };
}

/** A record the parser rejected. */
export interface Rejection {
  readonly reason: RejectReason;
  readonly detail: string;
}

/** What one read of a query produced. */
export interface QueryRead {
  /** Every parsed sample read (already-applied ones included; the store de-duplicates). */
  readonly samples: Sample[];
  /** Records skipped as malformed that no earlier read reported (pages read again do not count twice). */
  readonly rejected: Rejection[];
  /** HTTP requests made (pages fetched). */
  readonly requests: number;
  /** Whether the saved cursor was refused and the history re-read from the first page. */
  readonly reset: boolean;
}

/** Fetches one page: a query for the first page, or an absolute URL from a previous page. */
export type PageFetcher = (req: MetricsQuery | { url: string }) => Promise<MetricsPage>;

/**
 * Reads what is new for one (call, edge) query and advances the cursor; the cursor moves only when the
 * whole read succeeded, so a failed read is simply repeated by the next poll.
 */
export async function readQuery(cursor: EdgeCursor, query: MetricsQuery, fetchPage: PageFetcher): Promise<QueryRead> {
  const resumable = cursor.order === 'asc' && cursor.resumeUrl !== null;
  let req: MetricsQuery | { url: string } = resumable ? { url: cursor.resumeUrl! } : query;
  let resuming = resumable;
  let newest = Number.NEGATIVE_INFINITY;
  for (const hw of cursor.highWater.values()) newest = Math.max(newest, hw);
  // Newest first: pages older than this hold nothing a later-visible stream could still be missing.
  const stopAt = newest - DESC_LOOKBACK_MS;
  let reset = false;
  let requests = 0;
  let order = cursor.order;
  const highWater = new Map(cursor.highWater);
  const samples: Sample[] = [];
  // Rejections with their position in the read, so the ones a previous read already reported can be dropped.
  const rejectedAt: { at: number; rejection: Rejection }[] = [];
  let position = 0;
  let firstSeenAt = Number.POSITIVE_INFINITY;
  let lastSeenAt = Number.NEGATIVE_INFINITY;
  // Every page URL read so far: a next_page_url pointing back at one would loop forever.
  const visited = new Set<string>();
  // Set by every page read; the loop below never ends before one.
  let lastUrl: string;

  for (;;) {
    let page: MetricsPage;
    try {
      requests++;
      page = await fetchPage(req);
    } catch (err) {
      // Twilio refusing a saved PageToken (expired, invalid) is answered 400: re-read from the start.
      if (resuming && err instanceof TwilioError && err.code === 'bad_request') {
        reset = true;
        resuming = false;
        req = query;
        continue;
      }
      throw err;
    }
    const records = page.records;
    resuming = false;
    let first: number | undefined;
    let last: number | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < records.length; i++, position++) {
      const result = parseMetricRecord(records[i]);
      if (!result.ok) {
        rejectedAt.push({ at: position, rejection: { reason: result.reason, detail: result.detail } });
        continue;
      }
      const s = result.sample;
      samples.push(s);
      first ??= s.timestampMs;
      last = s.timestampMs;
      if (s.timestampMs < oldest) oldest = s.timestampMs;
      const key = streamKey(s.edge, s.direction);
      const seen = cursor.highWater.get(key);
      if (seen !== undefined && s.timestampMs <= seen) {
        firstSeenAt = Math.min(firstSeenAt, position);
        lastSeenAt = position;
      }
      const hw = highWater.get(key);
      if (hw === undefined || s.timestampMs > hw) highWater.set(key, s.timestampMs);
    }
    if (order === 'unknown' && first !== undefined && last !== undefined && first !== last) {
      order = last > first ? 'asc' : 'desc';
    }
    lastUrl = page.requestUrl;
    visited.add(normalizeUrl(page.requestUrl));
    if (page.nextPageUrl === null) break;
    // Newest first: every later page is older still than this one's oldest record.
    if (order === 'desc' && oldest <= stopAt) break;
    if (visited.has(normalizeUrl(page.nextPageUrl))) {
      throw new TwilioError({
        code: 'bad_payload',
        endpoint: 'metrics',
        detail: 'next_page_url points back at a page already read',
        url: page.requestUrl,
      });
    }
    req = { url: page.nextPageUrl };
  }

  // A page read again (newest first, or a full re-read after a reset) holds the malformed records an
  // earlier read already reported: only those on the new side of every seen sample are new.
  const rejected = rejectedAt
    .filter(({ at }) => (order === 'desc' ? at < firstSeenAt : at > lastSeenAt))
    .map(({ rejection }) => rejection);

  cursor.order = order;
  cursor.resumeUrl = order === 'asc' ? lastUrl : null;
  cursor.highWater.clear();
  for (const [k, v] of highWater) cursor.highWater.set(k, v);
  return { samples, rejected, requests, reset };
}

function normalizeUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
