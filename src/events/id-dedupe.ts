import { randomBytes } from 'node:crypto';

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

// Both the table and the ring start this small and double as ids arrive, so an idle memory costs nothing.
const INITIAL_SLOTS = 64;

/**
 * Remembers CloudEvent ids for the retry horizon in bounded memory, exactly: an id is reported seen only when
 * the same string was added and has neither expired nor been pushed out by the cap. A forgotten id lets a
 * very late redelivery through; its samples still count once (the store keys them by call, edge, direction
 * and time).
 *
 * Ids sit in a ring in arrival order, so expiry and the cap both drop from the front in O(1). They are found
 * through an open-addressing table of 32-bit hashes in typed arrays: a miss, which is nearly every lookup,
 * reads one or two table slots and no string; the stored id is compared only when its hash matches. A string
 * Map of 200,000 ids cost several cache misses per lookup and most of the CPU of a webhook batch.
 */
export class IdDedupe {
  // Linear-probing table of a power of two entries, at most half full, each two ints side by side (one cache
  // line holds both): ring slot + 1 of an id (0 is empty), and the id's hash.
  #table = new Int32Array(INITIAL_SLOTS * 2);
  // The ring, a power of two long: the id (undefined once superseded or dropped), its hash and when it was added.
  #ids: Array<string | undefined> = new Array<string | undefined>(INITIAL_SLOTS).fill(undefined);
  #hashes = new Int32Array(INITIAL_SLOTS);
  #times = new Float64Array(INITIAL_SLOTS);
  // Ring slots in use from #head, oldest first: #live ids plus the slots of ids added again later (dead).
  #head = 0;
  #used = 0;
  #live = 0;
  #changes = 0;
  // A random seed, so which ids share a probe chain cannot be chosen by whoever names them.
  readonly #seed = randomBytes(4).readInt32LE(0);
  readonly #horizonMs: number;
  readonly #maxIds: number;
  readonly #now: () => number;

  /** Creates an empty memory. */
  constructor(options: IdDedupeOptions = {}) {
    this.#horizonMs = options.horizonMs ?? DEDUPE_HORIZON_MS;
    this.#maxIds = Math.max(1, options.maxIds ?? DEDUPE_MAX_IDS);
    this.#now = options.now ?? Date.now;
  }

  /** The hash this memory files an id under: a delivery's ids are hashed once, for `has` and `addAll` alike. */
  hashOf(id: string): number {
    return this.#hash(id);
  }

  /** Whether the id was remembered and has not expired; `h` is its `hashOf`, when already known. */
  has(id: string, h = this.#hash(id)): boolean {
    const at = this.#find(id, h);
    return at >= 0 && this.#times[this.#table[at]! - 1]! + this.#horizonMs > this.#now();
  }

  /** Remembers an id (applied events only, so a failed delivery can be retried in full). */
  add(id: string): void {
    this.#add(id, this.#hash(id), this.#now());
  }

  /** Remembers the ids of one delivery, in order, at one time; `hashes[i]` is the `hashOf` of `ids[i]`. */
  addAll(ids: readonly string[], hashes: readonly number[]): void {
    const now = this.#now();
    for (let i = 0; i < ids.length; i++) this.#add(ids[i]!, hashes[i]!, now);
  }

  /** Grows with every id added: the state file is due a save when it changed. */
  get changes(): number {
    return this.#changes;
  }

  /** The ids remembered now, each with when it was added, oldest first: what the state file saves. */
  *entries(): Generator<readonly [string, number]> {
    const now = this.#now();
    const mask = this.#ids.length - 1;
    for (let k = 0; k < this.#used; k++) {
      const slot = (this.#head + k) & mask;
      const id = this.#ids[slot];
      if (id !== undefined && this.#times[slot]! + this.#horizonMs > now) yield [id, this.#times[slot]!];
    }
  }

  /**
   * Remembers ids saved by `entries()` (oldest first), each from the time it was first added, so the horizon runs
   * on across a restart; expired ones are skipped. Returns how many are remembered.
   */
  restore(saved: Iterable<readonly [string, number, ...unknown[]]>): number {
    const now = this.#now();
    for (const [id, atMs] of saved) {
      if (atMs + this.#horizonMs > now) this.#add(id, this.#hash(id), Math.min(atMs, now));
    }
    this.#dropOld(now);
    return this.#live;
  }

  #add(id: string, h: number, now: number): void {
    this.#changes++;
    if (this.#used === this.#ids.length) this.#resizeRing();
    const slot = (this.#head + this.#used) & (this.#ids.length - 1);
    const at = this.#find(id, h);
    if (at >= 0) {
      // Added again: the id lives on at the newest slot; its old slot is skipped when it reaches the front.
      this.#ids[this.#table[at]! - 1] = undefined;
      this.#table[at] = slot + 1;
    } else {
      if (this.#tableTooFull()) this.#rebuildTable();
      this.#insert(h, slot);
      this.#live++;
    }
    this.#ids[slot] = id;
    this.#hashes[slot] = h;
    this.#times[slot] = now;
    this.#used++;
    this.#dropOld(now);
  }

  /** Ids remembered now. */
  get size(): number {
    return this.#live;
  }

  // Drops superseded slots, expired ids and ids over the cap from the front.
  #dropOld(now: number): void {
    const mask = this.#ids.length - 1;
    while (this.#used > 0) {
      const slot = this.#head;
      const id = this.#ids[slot];
      if (id !== undefined) {
        if (this.#live <= this.#maxIds && this.#times[slot]! + this.#horizonMs > now) return;
        this.#remove(this.#entryOf(slot));
        this.#ids[slot] = undefined;
        this.#live--;
      }
      this.#head = (slot + 1) & mask;
      this.#used--;
    }
  }

  // FNV-1a over the UTF-16 code units from a random basis, then murmur3's finaliser to spread the low bits.
  #hash(id: string): number {
    let h = this.#seed ^ 0x811c9dc5;
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return h ^ (h >>> 16);
  }

  // The table position (an even index) holding `id`, or -1. The id is compared only when the hash matches.
  #find(id: string, h: number): number {
    const table = this.#table;
    const mask = table.length - 2;
    for (let i = (h << 1) & mask; ; i = (i + 2) & mask) {
      const entry = table[i]!;
      if (entry === 0) return -1;
      if (table[i + 1] === h && this.#ids[entry - 1] === id) return i;
    }
  }

  // The table position pointing at ring slot `slot` (which is live): found by its hash, no string compared.
  #entryOf(slot: number): number {
    const table = this.#table;
    const mask = table.length - 2;
    let i = (this.#hashes[slot]! << 1) & mask;
    while (table[i] !== slot + 1) i = (i + 2) & mask;
    return i;
  }

  #insert(h: number, slot: number): void {
    const table = this.#table;
    const mask = table.length - 2;
    let i = (h << 1) & mask;
    while (table[i] !== 0) i = (i + 2) & mask;
    table[i] = slot + 1;
    table[i + 1] = h;
  }

  // Empties table position `i`, moving later entries of its probe chain back so every chain stays unbroken.
  #remove(i: number): void {
    const table = this.#table;
    const mask = table.length - 2;
    for (let j = (i + 2) & mask; table[j] !== 0; j = (j + 2) & mask) {
      const home = (table[j + 1]! << 1) & mask;
      // The entry at j may fill the hole at i when its home is not cyclically within (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        table[i] = table[j]!;
        table[i + 1] = table[j + 1]!;
        i = j;
      }
    }
    table[i] = 0;
  }

  // The ring is full: doubles it, unless half its slots are dead, which are dropped instead. Live ids keep their
  // order; their slots change, so the table is rebuilt. Live ids stay at most maxIds + 1, dead slots under half.
  #resizeRing(): void {
    const old = this.#ids;
    const oldMask = old.length - 1;
    const length = (this.#used - this.#live) * 2 >= this.#used ? old.length : old.length * 2;
    const ids = new Array<string | undefined>(length).fill(undefined);
    const hashes = new Int32Array(length);
    const times = new Float64Array(length);
    let n = 0;
    for (let k = 0; k < this.#used; k++) {
      const from = (this.#head + k) & oldMask;
      if (old[from] === undefined) continue;
      ids[n] = old[from];
      hashes[n] = this.#hashes[from]!;
      times[n] = this.#times[from]!;
      n++;
    }
    this.#ids = ids;
    this.#hashes = hashes;
    this.#times = times;
    this.#head = 0;
    this.#used = n;
    this.#rebuildTable();
  }

  // Whether one more live id would fill more than half of the table's positions (two ints each).
  #tableTooFull(): boolean {
    return (this.#live + 1) * 4 > this.#table.length;
  }

  // Refills the table from the ring (slots change when the ring is resized), doubling it when it is too full.
  #rebuildTable(): void {
    this.#table = new Int32Array(this.#tableTooFull() ? this.#table.length * 2 : this.#table.length);
    const mask = this.#ids.length - 1;
    for (let k = 0; k < this.#used; k++) {
      const slot = (this.#head + k) & mask;
      if (this.#ids[slot] !== undefined) this.#insert(this.#hashes[slot]!, slot);
    }
  }
}

/**
 * The ids of one delivery, to find an id repeated within it: an open-addressing table of the ids' hashes (the
 * memory's `hashOf`), kept from one delivery to the next, so a delivery costs no string Set (which hashed every id
 * a second time and grew as it filled). Ids are compared only when their hashes match.
 */
export class DeliveryIds {
  // Pairs of (index + 1 in #ids, 0 when empty; hash), a power of two of pairs, at most half full.
  #table = new Int32Array(0);
  readonly #ids: string[] = [];

  /** Empties the set for a delivery of at most `count` ids. */
  reset(count: number): void {
    let pairs = 16;
    while (pairs < count * 2) pairs *= 2;
    if (this.#table.length < pairs * 2) this.#table = new Int32Array(pairs * 2);
    else this.#table.fill(0);
    this.#ids.length = 0;
  }

  /** Adds an id with its hash; false when the delivery already held it. */
  add(id: string, h: number): boolean {
    const table = this.#table;
    const mask = table.length - 2;
    for (let i = (h << 1) & mask; ; i = (i + 2) & mask) {
      const entry = table[i]!;
      if (entry === 0) {
        this.#ids.push(id);
        table[i] = this.#ids.length;
        table[i + 1] = h;
        return true;
      }
      if (table[i + 1] === h && this.#ids[entry - 1] === id) return false;
    }
  }
}
