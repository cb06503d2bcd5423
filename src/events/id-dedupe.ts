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

// Consumed queue slots are dropped in one copy once they are this many and over half the queue.
const COMPACT_AFTER = 4096;

/**
 * Remembers CloudEvent ids for the retry horizon in bounded memory. Ids are kept in arrival order, so
 * expiry and the size cap both drop from the front in O(1). A forgotten id lets a very late redelivery
 * through; its samples still count once (the store keys them by call, edge, direction and time).
 */
export class IdDedupe {
  // id -> its position in the arrival queue (a position counts every add since the start).
  readonly #seen = new Map<string, number>();
  // The arrival queue, oldest first from #head; #base is the position of slot 0. Not the Map's own order:
  // V8 walks over the holes deleted entries leave at the front of a Map, so reading its oldest entry
  // after many deletions cost O(deleted) per add once the cap was reached.
  #ids: string[] = [];
  #times: number[] = [];
  #head = 0;
  #base = 0;
  // Slots superseded by a later add of their id; while there are none, the front needs no Map lookup to judge.
  #stale = 0;
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
    return at !== undefined && this.#times[at - this.#base]! + this.#horizonMs > this.#now();
  }

  /** Remembers an id (applied events only, so a failed delivery can be retried in full). */
  add(id: string): void {
    const now = this.#now();
    const size = this.#seen.size;
    this.#seen.set(id, this.#base + this.#ids.length);
    if (this.#seen.size === size) this.#stale++;
    this.#ids.push(id);
    this.#times.push(now);
    while (this.#head < this.#ids.length) {
      const oldest = this.#ids[this.#head]!;
      // A slot whose id was added again later is stale: the id lives on at its newer slot.
      if (this.#stale > 0 && this.#seen.get(oldest) !== this.#base + this.#head) {
        this.#stale--;
      } else {
        if (this.#seen.size <= this.#maxIds && this.#times[this.#head]! + this.#horizonMs > now) break;
        this.#seen.delete(oldest);
      }
      this.#head++;
    }
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#ids.length) {
      this.#ids = this.#ids.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
  }

  /** Ids remembered now. */
  get size(): number {
    return this.#seen.size;
  }
}
