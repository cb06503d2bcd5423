import { fnv1a32 } from '../calls/shard.ts';
import { checkScope, parseMetricRecord } from '../samples/parse.ts';
import { edgeDirections, streamKey } from '../samples/sample.ts';
import type { ParseResult, RecordScope, RejectReason } from '../samples/parse.ts';
import type { Sample } from '../samples/sample.ts';
import type { MetricsPage, MetricsQuery, PageLimits } from '../twilio/client.ts';
import { TwilioError } from '../twilio/errors.ts';
import { PageTrail } from '../twilio/page-trail.ts';
import { readBudget } from './read-budget.ts';
import type { ReadBudget } from './read-budget.ts';

/** Sort order of a query's records, learned from the data (the real API's order is not documented). */
export type SampleOrder = 'asc' | 'desc' | 'unknown';

/**
 * How far behind the newest sample an ordinary newest-first poll reads while a gateway edge has shown one of its two
 * directions only: the other may be published minutes later. Also the least span a read's budget is sized for.
 */
export const DESC_LOOKBACK_MS = 5 * 60_000;

/** How late a sample may be published (after newer ones of its stream) and still be read: `max_sample_lateness` [10 min]. */
export const DEFAULT_MAX_LATENESS_MS = 10 * 60_000;

/**
 * Where the next poll of one (call, edge query) starts. In ascending order it resumes at the last page
 * read (every record on it is parsed again; the store applies only what is new, so a record that appears
 * in the middle of that page is not lost); in descending order it reads from the first page and stops once
 * a page reaches the newest sample seen of the stream furthest behind. Either way a steady-state poll costs one
 * request. The order is learned from the data, and corrected when later pages contradict it. Every half
 * `maxLatenessMs` of data time one read reaches back 1.5 × `maxLatenessMs` (from the newest page that starts that
 * far back, or the first page), so a sample published up to `maxLatenessMs` after newer ones is still read, in
 * either order, for a few requests every few minutes; so does the last poll of an ended call.
 */
export interface EdgeCursor {
  /** The URL (with its PageToken) of the last page read, when the order is ascending. */
  resumeUrl: string | null;
  /** Learned sort order: which end of the list new records appear at. */
  order: SampleOrder;
  /**
   * What the order was learned from: `pages` (a later page held only newer, or only older, records than the one
   * before it: where new records go) outranks `records` (the records within pages mostly rising or falling, which
   * one out-of-order page, or pages each listed the other way, can mislead).
   */
  orderFrom: 'pages' | 'records' | 'none';
  /** Newest timestamp seen per stream (`edge/direction`) by this cursor. */
  readonly highWater: Map<string, number>;
  /** The newest timestamp seen when a read last reached back the whole lateness window. */
  deepReadAtMs: number;
  /** Ascending: URLs of the pages read, in order, with their oldest timestamp (only the last lateness window's). */
  readonly pages: Map<string, number>;
  /** The malformed records reported so far (made on the first), so a page read again reports only the others. */
  reported?: ReportedRejections;
}

/** How many malformed records a cursor remembers having reported: past it, the oldest may be counted again. */
export const REPORTED_REJECTIONS = 256;

/**
 * The 32-bit fingerprints of the last {@link REPORTED_REJECTIONS} malformed records a cursor reported, in a ring that
 * starts small and doubles as it fills (4 bytes a record, so 1 KB at most a cursor). Where a read's seen samples
 * cannot tell an old rejection from a new one (a stream with no good sample yet), this can. Two records sharing a
 * fingerprint are counted once: a malformed record is counted, not kept.
 */
export class ReportedRejections {
  #ring = new Uint32Array(16);
  #size = 0;
  #next = 0;

  /** Whether the fingerprint was reported. */
  has(fingerprint: number): boolean {
    for (let i = 0; i < this.#size; i++) if (this.#ring[i] === fingerprint) return true;
    return false;
  }

  /** Remembers a reported fingerprint, forgetting the oldest once full. */
  add(fingerprint: number): void {
    if (this.#size === this.#ring.length && this.#ring.length < REPORTED_REJECTIONS) {
      const grown = new Uint32Array(this.#ring.length * 2);
      grown.set(this.#ring);
      this.#ring = grown;
    }
    this.#ring[this.#next] = fingerprint;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#size = Math.min(this.#size + 1, this.#ring.length);
  }
}

/** A fresh cursor: the first poll reads the whole history. */
export function newCursor(): EdgeCursor {
  return { resumeUrl: null, order: 'unknown', orderFrom: 'none', highWater: new Map(), deepReadAtMs: Number.NEGATIVE_INFINITY, pages: new Map() };
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

/** Why a read stopped before the last page: a closed set, used as a metric label value. */
export const PAGING_STOP_REASONS = ['page_cap', 'byte_cap', 'foreign_origin', 'page_failed'] as const;
/** A reason a read stopped early. */
export type PagingStopReason = (typeof PAGING_STOP_REASONS)[number];

/** A read that stopped before the last page; what was read before it is kept. */
export interface PagingStop {
  readonly reason: PagingStopReason;
  /** The failure, for `foreign_origin` and `page_failed`. */
  readonly error?: unknown;
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
  /** Set when the read stopped before the last page; the next read goes on from where this one stopped. */
  readonly stopped?: PagingStop;
}

/** Fetches one page: a query for the first page, or an absolute URL from a previous page. */
export type PageFetcher = (req: MetricsQuery | { url: string }, limits?: PageLimits) => Promise<MetricsPage>;

/** What a read checks records against and how much it may read. */
export interface ReadOptions {
  /** The account the call is polled with; a record naming another is rejected [not checked]. */
  readonly accountSid?: string;
  /** Latest plausible sample time, epoch ms (the clock plus the allowed skew); a later record is rejected [not checked]. */
  readonly notAfterMs?: number;
  /** Pages and bytes one read may take [readBudget(page size, 1.5 × maxLatenessMs)]. */
  readonly budget?: ReadBudget;
  /** Samples published up to this late are still read; 0 turns the read-back off [DEFAULT_MAX_LATENESS_MS]. */
  readonly maxLatenessMs?: number;
  /**
   * Reach back the whole lateness window on this read, whatever data time did since the last: the last poll of an
   * ended call, whose data time no longer moves [false].
   */
  readonly readBack?: boolean;
}

// Parses one record and checks it belongs to the query; whatever the record holds, it costs only itself.
function parseInScope(raw: unknown, scope: RecordScope | undefined): ParseResult {
  try {
    const result = parseMetricRecord(raw);
    return result.ok && scope !== undefined ? checkScope(result.sample, scope) : result;
  } catch {
    return { ok: false, reason: 'bad_value', detail: 'record could not be parsed' };
  }
}

// Whether a failed page ends the read with what it has: not when nothing is read yet, nor on shutdown.
function keepsPartial(err: unknown, pagesRead: number): PagingStop | undefined {
  if (pagesRead === 0 || (err instanceof TwilioError && err.code === 'aborted')) return undefined;
  return { reason: err instanceof TwilioError && err.code === 'foreign_origin' ? 'foreign_origin' : 'page_failed', error: err };
}

/**
 * Reads what is new for one (call, edge) query and advances the cursor. A read stops at its budget of
 * pages and bytes, and when a later page is refused (another origin) or fails for good: the records already
 * read are kept and the next read goes on from the last page read. When the first page fails the read
 * throws and the cursor is unchanged, so the next poll simply repeats it.
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
  const deep = lateness > 0 && (options.readBack === true || !(newest - cursor.deepReadAtMs < lateness / 2));
  const window = lateness * 1.5;
  const budget = options.budget ?? readBudget(query.pageSize ?? 50, Math.max(DESC_LOOKBACK_MS, window));
  const scope: RecordScope | undefined =
    options.accountSid === undefined
      ? undefined
      : {
          callSid: query.callSid,
          accountSid: options.accountSid,
          notAfterMs: options.notAfterMs ?? Number.POSITIVE_INFINITY,
          ...(query.edge !== undefined && { edge: query.edge }),
        };
  const resumeUrl = cursor.order === 'asc' ? resumePage(cursor, deep, newest - window) : null;
  let req: MetricsQuery | { url: string } = resumeUrl !== null ? { url: resumeUrl } : query;
  let resuming = resumeUrl !== null;
  // Newest first, an ordinary poll reads down to the newest sample of every stream seen (the stream furthest behind);
  // samples published late behind it are the read-back's, which reaches back the whole window. A gateway edge's
  // second direction, not seen yet, may be published minutes after the first: until then it reads DESC_LOOKBACK_MS back.
  let caughtUp = Number.POSITIVE_INFINITY;
  for (const hw of cursor.highWater.values()) caughtUp = Math.min(caughtUp, hw);
  const streamsExpected = query.edge === undefined ? 1 : edgeDirections(query.edge).length;
  const stopAt = deep
    ? newest - window
    : cursor.highWater.size < streamsExpected
      ? newest - DESC_LOOKBACK_MS
      : Number.isFinite(caughtUp)
        ? caughtUp
        : Number.NEGATIVE_INFINITY;
  const state = newReadState(cursor, deep, window);
  let reset = false;
  let requests = 0;
  let pagesRead = 0;
  let bytesRead = 0;
  let stopped: PagingStop | undefined;
  // Every page read so far: a next_page_url pointing back at one would loop forever.
  const trail = new PageTrail('metrics');
  // Set by every page read; the loop below never ends before one.
  let lastUrl: string;

  for (;;) {
    let page: MetricsPage;
    try {
      requests++;
      page = await fetchPage(req, { maxBodyBytes: budget.maxPageBytes });
    } catch (err) {
      // Twilio refusing a saved PageToken (expired, invalid) is answered 400: re-read from the start.
      if (resuming && err instanceof TwilioError && err.code === 'bad_request') {
        // Every saved page token is as good as refused: the re-read registers fresh ones.
        state.pages.clear();
        reset = true;
        resuming = false;
        req = query;
        continue;
      }
      stopped = keepsPartial(err, pagesRead);
      if (stopped === undefined) throw err;
      // A refused origin was never sent a request.
      if (stopped.reason === 'foreign_origin') requests--;
      break;
    }
    resuming = false;
    pagesRead++;
    bytesRead += page.bodyBytes;
    const oldest = readPage(state, page.records, scope);
    lastUrl = page.requestUrl;
    if (state.order !== 'desc' && Number.isFinite(oldest) && !state.pages.has(lastUrl)) state.pages.set(lastUrl, oldest);
    if (page.nextPageUrl === null) break;
    // Newest first: every later page is older still than this one's oldest record. Until two pages have shown it,
    // a second page is read to see which way the pages go.
    if (state.order === 'desc' && oldest <= stopAt && (state.orderFrom === 'pages' || pagesRead >= 2)) break;
    trail.read(page.requestUrl, page.nextPageUrl);
    if (pagesRead >= budget.maxPages || bytesRead >= budget.maxBytes) {
      stopped = { reason: pagesRead >= budget.maxPages ? 'page_cap' : 'byte_cap' };
      break;
    }
    req = { url: page.nextPageUrl };
  }

  return finishRead(cursor, state, lastUrl!, { requests, reset, ...(stopped !== undefined && { stopped }) });
}

// Moves the cursor past what a read took and reports the rejections no earlier read reported.
function finishRead(cursor: EdgeCursor, state: ReadState, lastUrl: string, outcome: Pick<QueryRead, 'requests' | 'reset' | 'stopped'>): QueryRead {
  const order = state.order;
  // Newest first, a read cut short by a failure has missed older samples, which a store that keeps only the
  // newest per stream would then take for duplicates: the cursor stays put and the next read, which goes
  // back as far again, applies them all. (A refused origin is never read past, so its pages are kept now.)
  if (order === 'desc' && outcome.stopped?.reason === 'page_failed') return { samples: [], rejected: [], ...outcome };
  // A page read again (newest first, or a full re-read after a reset) holds the malformed records an
  // earlier read already reported: only those on the new side of every seen sample are new, and of those only the
  // ones not reported before (a stream with no good sample has no seen sample to tell them apart).
  const rejected: Rejection[] = [];
  for (const { at, rejection, fingerprint } of state.rejectedAt) {
    if (order === 'desc' ? at >= state.firstSeenAt : at <= state.lastSeenAt) continue;
    if (cursor.reported?.has(fingerprint) === true) continue;
    (cursor.reported ??= new ReportedRejections()).add(fingerprint);
    rejected.push(rejection);
  }
  cursor.order = order;
  cursor.orderFrom = state.orderFrom;
  cursor.resumeUrl = order === 'asc' ? lastUrl : null;
  cursor.highWater.clear();
  let newestRead = Number.NEGATIVE_INFINITY;
  for (const [k, v] of state.highWater) {
    cursor.highWater.set(k, v);
    newestRead = Math.max(newestRead, v);
  }
  if (state.deep || outcome.reset) cursor.deepReadAtMs = newestRead;
  if (order === 'asc') prunePages(state.pages, newestRead - state.window);
  cursor.pages.clear();
  if (order !== 'desc') keepNewestPages(cursor.pages, state.pages);
  return { samples: state.samples, rejected, ...outcome };
}

/**
 * Most characters of page URLs a cursor keeps for deep reads to start from: 64 of Twilio's (about 250 characters),
 * several times the pages of a lateness window at any page size. Pages are pruned as sample time moves on; an upstream
 * whose pages name new URLs while time stands still would otherwise grow the cursor every poll, for good.
 */
export const KEPT_PAGE_URL_CHARS = 16_384;

// Copies `pages` (oldest first) into `into`, the newest ones only, as many as fit in KEPT_PAGE_URL_CHARS.
function keepNewestPages(into: Map<string, number>, pages: ReadonlyMap<string, number>): void {
  const entries = [...pages];
  let chars = 0;
  let from = entries.length;
  while (from > 0 && chars + entries[from - 1]![0].length <= KEPT_PAGE_URL_CHARS) chars += entries[--from]![0].length;
  for (let i = from; i < entries.length; i++) into.set(entries[i]![0], entries[i]![1]);
}

// What a read has gathered so far, page by page.
interface ReadState {
  readonly seen: ReadonlyMap<string, number>;
  readonly highWater: Map<string, number>;
  // Ascending: pages read with their oldest timestamp, for a later deep read to start from.
  readonly pages: Map<string, number>;
  // Whether this read reaches back the whole lateness window, and how far that is.
  readonly deep: boolean;
  readonly window: number;
  readonly samples: Sample[];
  // Rejections with their position in the read, so the ones a previous read already reported can be dropped.
  readonly rejectedAt: { at: number; rejection: Rejection; fingerprint: number }[];
  order: SampleOrder;
  orderFrom: EdgeCursor['orderFrom'];
  // Adjacent records within pages that rise and that fall; the time range of the page read before.
  rising: number;
  falling: number;
  previousPage: { readonly min: number; readonly max: number } | undefined;
  position: number;
  firstSeenAt: number;
  lastSeenAt: number;
}

function newReadState(cursor: EdgeCursor, deep: boolean, window: number): ReadState {
  return {
    seen: cursor.highWater,
    highWater: new Map(cursor.highWater),
    pages: new Map(cursor.pages),
    deep,
    window,
    samples: [],
    rejectedAt: [],
    order: cursor.order,
    orderFrom: cursor.orderFrom,
    rising: 0,
    falling: 0,
    previousPage: undefined,
    position: 0,
    firstSeenAt: Number.POSITIVE_INFINITY,
    lastSeenAt: Number.NEGATIVE_INFINITY,
  };
}

// Parses one page into the read state and returns the oldest sample time on it.
function readPage(state: ReadState, records: readonly unknown[], scope: RecordScope | undefined): number {
  let previous: number | undefined;
  let oldest = Number.POSITIVE_INFINITY;
  let newest = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < records.length; i++, state.position++) {
    const result = parseInScope(records[i], scope);
    if (!result.ok) {
      const fingerprint = rejectionFingerprint(records[i], result.reason, result.detail);
      state.rejectedAt.push({ at: state.position, rejection: { reason: result.reason, detail: result.detail }, fingerprint });
      continue;
    }
    const s = result.sample;
    state.samples.push(s);
    if (previous !== undefined && s.timestampMs !== previous) {
      if (s.timestampMs > previous) state.rising++;
      else state.falling++;
    }
    previous = s.timestampMs;
    if (s.timestampMs < oldest) oldest = s.timestampMs;
    if (s.timestampMs > newest) newest = s.timestampMs;
    const key = streamKey(s.edge, s.direction);
    const seen = state.seen.get(key);
    if (seen !== undefined && s.timestampMs <= seen) {
      state.firstSeenAt = Math.min(state.firstSeenAt, state.position);
      state.lastSeenAt = state.position;
    }
    const hw = state.highWater.get(key);
    if (hw === undefined || s.timestampMs > hw) state.highWater.set(key, s.timestampMs);
  }
  if (Number.isFinite(oldest)) {
    learnOrder(state, { min: oldest, max: newest });
    state.previousPage = { min: oldest, max: newest };
  }
  return oldest;
}

// What tells one malformed record from another in bounded time, whatever its size or depth: why it was refused (the
// detail quotes the bad value, cut short) and the record's identifying fields when they are short scalars.
function rejectionFingerprint(record: unknown, reason: string, detail: string): number {
  let text = `${reason}\u0000${detail}`;
  if (typeof record === 'object' && record !== null && !Array.isArray(record)) {
    const r = record as Record<string, unknown>;
    for (const field of ['timestamp', 'call_sid', 'edge', 'direction'] as const) {
      const v = Object.hasOwn(r, field) ? r[field] : undefined;
      text += `\u0000${typeof v === 'string' ? v.slice(0, 80) : typeof v === 'number' ? String(v) : typeof v}`;
    }
  }
  return fnv1a32(text);
}

// Which end of the list new records appear at. Two pages in a row whose time ranges do not overlap say it for sure;
// without them, the records within pages say it when they mostly rise or mostly fall (two to one), which one
// out-of-order page does not turn; an order learned from pages is changed only by pages.
function learnOrder(state: ReadState, page: { readonly min: number; readonly max: number }): void {
  const before = state.previousPage;
  // Both directions of a gateway edge often share a timestamp, which the two pages may then share at their seam.
  const newer = before !== undefined && page.min >= before.max && page.max > before.max;
  const older = before !== undefined && page.max <= before.min && page.min < before.min;
  if (newer || older) {
    state.order = newer ? 'asc' : 'desc';
    state.orderFrom = 'pages';
    return;
  }
  if (state.orderFrom === 'pages') return;
  if (state.rising > 0 && state.rising >= 2 * state.falling) state.order = 'asc';
  else if (state.falling > 0 && state.falling >= 2 * state.rising) state.order = 'desc';
  else return;
  state.orderFrom = 'records';
}
