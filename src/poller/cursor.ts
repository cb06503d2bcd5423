import { parseMetricRecord } from '../samples/parse.ts';
import { streamKey } from '../samples/sample.ts';
import type { RejectReason } from '../samples/parse.ts';
import type { Sample } from '../samples/sample.ts';
import type { MetricsPage, MetricsQuery } from '../twilio/client.ts';
import { TwilioError } from '../twilio/errors.ts';

/** Sort order of a query's records, learned from the data (the real API's order is not documented). */
export type SampleOrder = 'asc' | 'desc' | 'unknown';

/**
 * How far behind the newest sample of a query a descending read still looks on an ordinary poll, so that a
 * stream made visible later than its sibling (the two directions of a gateway edge), or a new stream, is not
 * cut off. Twilio publishes samples about 90 s late; 5 minutes is 30 samples per stream, well within one page of 100.
 */
export const DESC_LOOKBACK_MS = 5 * 60_000;

/** How late a sample may be published (after newer ones of its stream) and still be read: `max_sample_lateness` [10 min]. */
export const DEFAULT_MAX_LATENESS_MS = 10 * 60_000;

/** Options of one read. */
export interface ReadOptions {
  /** Samples published up to this late are still read; 0 turns the read-back off [DEFAULT_MAX_LATENESS_MS]. */
  readonly maxLatenessMs?: number;
}

/**
 * Where the next poll of one (call, edge query) starts. In ascending order it resumes at the last page
 * read (every record on it is parsed again; the store applies only what is new, so a record that appears
 * in the middle of that page is not lost); in descending order it reads from the first page and stops once
 * a page reaches back past the newest seen sample minus DESC_LOOKBACK_MS. Either way a steady-state poll
 * costs one request. Every half `maxLatenessMs` of data time one read reaches back 1.5 × `maxLatenessMs`
 * (from the newest page that starts that far back, or the first page), so a sample published up to
 * `maxLatenessMs` after newer ones is still read, in either order, for a few requests every few minutes.
 */
export interface EdgeCursor {
  /** The URL (with its PageToken) of the last page read, when the order is ascending. */
  resumeUrl: string | null;
  /** Learned sort order. */
  order: SampleOrder;
  /** Newest timestamp seen per stream (`edge/direction`) by this cursor. */
  readonly highWater: Map<string, number>;
  /** The newest timestamp seen when a read last reached back the whole lateness window. */
  deepReadAtMs: number;
  /** Ascending: URLs of the pages read, in order, with their oldest timestamp (only the last lateness window's). */
  readonly pages: Map<string, number>;
}

/** A fresh cursor: the first poll reads the whole history. */
export function newCursor(): EdgeCursor {
  return { resumeUrl: null, order: 'unknown', highWater: new Map(), deepReadAtMs: Number.NEGATIVE_INFINITY, pages: new Map() };
}

// The page an ascending read resumes from: the last one read, or on a deep read the newest page that
// starts at or before `from` (the oldest page kept when none does, since then the call is younger than that).
function resumePage(cursor: EdgeCursor, deep: boolean, from: number): string | null {
  if (!deep) return cursor.resumeUrl;
  let chosen: string | undefined;
  for (const [url, oldest] of cursor.pages) {
    if (chosen === undefined || oldest <= from) chosen = url;
    else break;
  }
  return chosen ?? cursor.resumeUrl;
}

// Forgets the pages no deep read can start from any more (all but the newest that starts at or before `from`).
function prunePages(pages: Map<string, number>, from: number): void {
  let keepFrom: string | undefined;
  for (const [url, oldest] of pages) if (oldest <= from) keepFrom = url;
  if (keepFrom === undefined) return;
  for (const url of pages.keys()) {
    if (url === keepFrom) break;
    pages.delete(url);
  }
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
export async function readQuery(
  cursor: EdgeCursor,
  query: MetricsQuery,
  fetchPage: PageFetcher,
  options: ReadOptions = {},
): Promise<QueryRead> {
  let newest = Number.NEGATIVE_INFINITY;
  for (const hw of cursor.highWater.values()) newest = Math.max(newest, hw);
  // A sample published L late is visible by the deep read after next at most half L later: reach back 1.5 L.
  const lateness = options.maxLatenessMs ?? DEFAULT_MAX_LATENESS_MS;
  const deep = lateness > 0 && !(newest - cursor.deepReadAtMs < lateness / 2);
  const window = lateness * 1.5;
  const resumeUrl = cursor.order === 'asc' ? resumePage(cursor, deep, newest - window) : null;
  let req: MetricsQuery | { url: string } = resumeUrl !== null ? { url: resumeUrl } : query;
  let resuming = resumeUrl !== null;
  // Newest first: pages older than this hold nothing a later-visible stream could still be missing.
  const stopAt = newest - (deep ? window : DESC_LOOKBACK_MS);
  let reset = false;
  let requests = 0;
  let order = cursor.order;
  const highWater = new Map(cursor.highWater);
  const pages = new Map(cursor.pages);
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
        // Every saved page token is as good as refused: the re-read registers fresh ones.
        pages.clear();
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
    if (order !== 'desc' && Number.isFinite(oldest) && !pages.has(lastUrl)) pages.set(lastUrl, oldest);
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
  let newestRead = Number.NEGATIVE_INFINITY;
  for (const [k, v] of highWater) {
    cursor.highWater.set(k, v);
    newestRead = Math.max(newestRead, v);
  }
  if (deep || reset) cursor.deepReadAtMs = newestRead;
  if (order === 'asc') prunePages(pages, newestRead - window);
  cursor.pages.clear();
  if (order !== 'desc') for (const [url, oldest] of pages) cursor.pages.set(url, oldest);
  return { samples, rejected, requests, reset };
}

function normalizeUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
