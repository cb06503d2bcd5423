/** Options of the CloudEvent id memory. */
export interface IdDedupeOptions {
  /** How long an id is remembered [4 h: Twilio's retry horizon]. */
  readonly horizonMs?: number;
  /** Most ids kept; the oldest are forgotten first [200,000, about 30 MB]. */
  readonly maxIds?: number;
  /** Clock, epoch ms. */
  readonly now?: () => number;
}

/** Default retry horizon: Event Streams retries a batch for up to 4 hours. */
export const DEDUPE_HORIZON_MS = 4 * 3600_000;
/** Default cap on remembered CloudEvent ids. */
export const DEDUPE_MAX_IDS = 200_000;

/**
 * Remembers CloudEvent ids for the retry horizon in bounded memory. Ids are kept in arrival order, so
 * expiry and the size cap both drop from the front in O(1). A forgotten id lets a very late redelivery
 * through; its samples still count once (the store keys them by call, edge, direction and time).
 */
export class IdDedupe {
  readonly #seen = new Map<string, number>();
  readonly #horizonMs: number;
  readonly #maxIds: number;
  readonly #now: () => number;

  /** Creates an empty memory. */
  constructor(options: IdDedupeOptions = {}) {
    this.#horizonMs = options.horizonMs ?? DEDUPE_HORIZON_MS;
    this.#maxIds = options.maxIds ?? DEDUPE_MAX_IDS;
    this.#now = options.now ?? Date.now;
  }

  /** Whether the id was remembered and has not expired. */
  has(id: string): boolean {
    const at = this.#seen.get(id);
    return at !== undefined && at + this.#horizonMs > this.#now();
  }

  /** Remembers an id (applied events only, so a failed delivery can be retried in full). */
  add(id: string): void {
    const now = this.#now();
    this.#seen.delete(id);
    this.#seen.set(id, now);
    for (const [oldest, at] of this.#seen) {
      if (this.#seen.size <= this.#maxIds && at + this.#horizonMs > now) break;
      this.#seen.delete(oldest);
    }
  }

  /** Ids remembered now. */
  get size(): number {
    return this.#seen.size;
  }
}
