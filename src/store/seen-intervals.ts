/** What adding a timestamp to a stream's seen set decided. */
export type SeenOutcome = 'new' | 'duplicate' | 'too_late';

/** A run of seen timestamps `start, start + step, …, end`; `step` is 0 for a single timestamp. */
export type SeenRun = readonly [start: number, end: number, step: number];

/** The serialisable form of a {@link SeenIntervals}, as the state file holds it. */
export interface SeenIntervalsSnapshot {
  /** Runs in ascending order, disjoint. */
  readonly runs: readonly SeenRun[];
  /** The smallest gap seen between neighbouring timestamps, 0 when unknown. */
  readonly step: number;
  /** Timestamps at or below this were forgotten (run cap) and are refused as too late; null when none. */
  readonly floor: number | null;
}

/** Default cap on runs per stream: thousands of gaps per stream only come from a hostile or broken upstream. */
export const DEFAULT_MAX_RUNS = 512;

/**
 * The exact set of timestamps applied to one stream, in memory proportional to its gaps, not its samples:
 * arithmetic runs `[start, end, step]`, sorted and disjoint. Twilio samples a stream at a fixed cadence
 * (10 s at gateways, 1 s or 10 s in the SDK), so a gap-free stream is one run whatever its length; a
 * timestamp off its run's grid (a late sample, a jittered clock) splits the run, and neighbours merge again
 * once the gap between them is the stream's smallest observed step. Nothing is ever assumed seen that was not.
 */
export class SeenIntervals {
  // Runs flattened as [start, end, step, start, end, step, …]: one small array of doubles per stream, since
  // every tracked stream holds one, and created from a literal so it has no spare capacity.
  #r: number[] = EMPTY;
  // The smallest positive gap between neighbouring timestamps so far: two single timestamps this far apart
  // have nothing of the stream between them. Only ever shrinks, so a gap seen early never hides a late sample.
  #step = 0;
  #floor = Number.NEGATIVE_INFINITY;
  readonly #maxRuns: number;

  /** Creates an empty set holding at most `maxRuns` runs (the oldest are forgotten past it) [512]. */
  constructor(maxRuns = DEFAULT_MAX_RUNS) {
    this.#maxRuns = Math.max(2, maxRuns);
  }

  /** The newest timestamp seen, or -Infinity when none. */
  get newest(): number {
    const n = this.#r.length;
    return n === 0 ? Number.NEGATIVE_INFINITY : this.#r[n - 2]!;
  }

  /** Number of runs held: the memory this stream costs. */
  get runs(): number {
    return this.#r.length / 3;
  }

  /** Whether `t` was seen. */
  has(t: number): boolean {
    const i = this.#runAtOrBefore(t);
    return i >= 0 && t <= this.#r[i + 1]! && this.#onGrid(i, t);
  }

  /**
   * Adds `t` unless it was seen (`duplicate`), or it is neither seen nor within `latenessMs` of the newest
   * timestamp (`too_late`: the set cannot tell it from a sample it forgot, and the caller counts it).
   */
  add(t: number, latenessMs: number): SeenOutcome {
    const r = this.#r;
    const n = r.length;
    if (n > 0 && t > r[n - 2]!) {
      this.#append(t);
      return 'new';
    }
    if (n === 0) {
      if (t <= this.#floor) return 'too_late';
      this.#r = [t, t, 0];
      return 'new';
    }
    const i = this.#runAtOrBefore(t);
    const inside = i >= 0 && t <= r[i + 1]!;
    if (inside && this.#onGrid(i, t)) return 'duplicate';
    if (t <= this.#floor || t < r[n - 2]! - latenessMs) return 'too_late';
    if (inside) {
      this.#split(i, t);
    } else {
      this.#insert(i + 3, t);
    }
    return 'new';
  }

  /** A copy for the state file. */
  snapshot(): SeenIntervalsSnapshot {
    const runs: SeenRun[] = [];
    const r = this.#r;
    for (let i = 0; i < r.length; i += 3) runs.push([r[i]!, r[i + 1]!, r[i + 2]!]);
    return { runs, step: this.#step, floor: Number.isFinite(this.#floor) ? this.#floor : null };
  }

  /** Rebuilds a set from a snapshot; throws a TypeError naming the first rule the snapshot breaks. */
  static restore(s: SeenIntervalsSnapshot, maxRuns = DEFAULT_MAX_RUNS): SeenIntervals {
    const out = new SeenIntervals(maxRuns);
    const flat: number[] = [];
    let prevEnd = Number.NEGATIVE_INFINITY;
    for (const [start, end, step] of s.runs) {
      const ok =
        Number.isSafeInteger(start) && Number.isSafeInteger(end) && Number.isSafeInteger(step) &&
        start > prevEnd && end >= start && step >= 0 && (step === 0 ? start === end : end > start && (end - start) % step === 0);
      if (!ok) throw new TypeError(`invalid run [${start}, ${end}, ${step}]: runs must be ascending, disjoint and on their step`);
      flat.push(start, end, step);
      prevEnd = end;
    }
    if (s.runs.length > out.#maxRuns) throw new TypeError(`${s.runs.length} runs exceed the cap of ${out.#maxRuns}`);
    if (!Number.isSafeInteger(s.step) || s.step < 0) throw new TypeError(`invalid step ${s.step}`);
    out.#r = flat.length === 0 ? EMPTY : flat;
    out.#step = s.step;
    if (s.floor !== null) {
      if (!Number.isSafeInteger(s.floor)) throw new TypeError(`invalid floor ${s.floor}`);
      out.#floor = s.floor;
    }
    return out;
  }

  // Indexes below are of a run's first slot (a multiple of 3).
  #onGrid(i: number, t: number): boolean {
    const step = this.#r[i + 2]!;
    return step === 0 ? t === this.#r[i] : (t - this.#r[i]!) % step === 0;
  }

  // Slot of the last run starting at or before t, or -3.
  #runAtOrBefore(t: number): number {
    const r = this.#r;
    let lo = 0;
    let hi = r.length / 3 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (r[mid * 3]! <= t) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi * 3;
  }

  // The common case, a sample newer than all: extend the last run or start one, without searching.
  #append(t: number): void {
    const r = this.#r;
    const last = r.length - 3;
    const gap = t - r[last + 1]!;
    const step = r[last + 2]!;
    if (step === 0) this.#learn(gap);
    if (step === 0 ? gap === this.#step : gap === step) {
      r[last + 2] = gap;
      r[last + 1] = t;
      return;
    }
    r.push(t, t, 0);
    this.#cap();
  }

  #learn(gap: number): void {
    if (gap > 0 && (this.#step === 0 || gap < this.#step)) this.#step = gap;
  }

  // Puts t, off the grid of run i but within its span, between the two halves of that run.
  #split(i: number, t: number): void {
    const r = this.#r;
    const start = r[i]!;
    const end = r[i + 1]!;
    const step = r[i + 2]!;
    const leftEnd = start + Math.floor((t - start) / step) * step;
    const rightStart = leftEnd + step;
    r[i + 1] = leftEnd;
    if (leftEnd === start) r[i + 2] = 0;
    r.splice(i + 3, 0, t, t, 0, rightStart, end, rightStart === end ? 0 : step);
    this.#mergeAround(i + 3);
  }

  // Inserts t as its own run at slot j (between the runs before and after it), then merges it with its neighbours.
  #insert(j: number, t: number): void {
    this.#r.splice(j, 0, t, t, 0);
    this.#mergeAround(j);
  }

  #mergeAround(j: number): void {
    const r = this.#r;
    const t = r[j]!;
    if (j > 0) this.#learn(t - r[j - 2]!);
    if (j + 3 < r.length) this.#learn(r[j + 3]! - t);
    // A merge changes a run's step, which may let it join the next neighbour too.
    let k = j;
    for (;;) {
      if (k > 0 && this.#merge(k - 3)) k -= 3;
      else if (k + 3 < r.length && this.#merge(k)) continue;
      else break;
    }
    this.#cap();
  }

  // Merges the runs at slots i and i+3 when they form one arithmetic run.
  #merge(i: number): boolean {
    const r = this.#r;
    const gap = r[i + 3]! - r[i + 1]!;
    const a = r[i + 2]!;
    const b = r[i + 5]!;
    const step = a !== 0 ? a : b !== 0 ? b : this.#step;
    if (gap !== step || (a !== 0 && a !== step) || (b !== 0 && b !== step)) return false;
    r[i + 1] = r[i + 4]!;
    r[i + 2] = step;
    r.splice(i + 3, 3);
    return true;
  }

  // Past the cap the oldest run is forgotten: its timestamps, and any older, are refused from then on.
  #cap(): void {
    const r = this.#r;
    if (r.length / 3 <= this.#maxRuns) return;
    this.#floor = Math.max(this.#floor, r[1]!);
    r.splice(0, 3);
  }
}

// Shared by every empty set; never written to, since the first add replaces it.
const EMPTY: number[] = [];
