/** Records one (call, edge) query can gain per second at most: a Voice SDK stream is sampled every second, two streams are allowed for. */
export const MAX_RECORDS_PER_SECOND = 2;

/** Largest plausible size of one Call Metrics record on the wire, in bytes: real ones are 400 to 900. */
export const MAX_RECORD_BYTES = 2048;

/** Fewest pages a poll may read, so a small `page_size` still catches up on a burst. */
const MIN_PAGES = 4;

/** Smallest body limit of a page, in bytes, so one odd record (a long string, a deep array) costs itself, not its page. */
const MIN_PAGE_BYTES = 1024 * 1024;

/** How much one poll of one (call, edge) query may read before it stops and leaves the rest to the next poll. */
export interface ReadBudget {
  /** Pages read per poll at most. */
  readonly maxPages: number;
  /** Body bytes of one page at most; a longer body fails as `bad_payload`. */
  readonly maxPageBytes: number;
  /** Body bytes read per poll at most. */
  readonly maxBytes: number;
}

/**
 * The budget of one poll: enough pages for every record a query can gain over `windowMs` (the lateness
 * the cursor reads back plus one poll interval) at `pageSize` records a page, plus one page that is re-read.
 */
export function readBudget(pageSize: number, windowMs: number): ReadBudget {
  const records = Math.ceil((Math.max(0, windowMs) / 1000) * MAX_RECORDS_PER_SECOND);
  const maxPages = Math.max(MIN_PAGES, Math.ceil(records / pageSize) + 1);
  const maxPageBytes = Math.max(MIN_PAGE_BYTES, pageSize * MAX_RECORD_BYTES);
  return { maxPages, maxPageBytes, maxBytes: maxPages * maxPageBytes };
}
