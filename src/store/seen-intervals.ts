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
  #starts: number[] = [];
  #ends: number[] = [];
  #steps: number[] = [];
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
    const n = this.#ends.length;
    return n === 0 ? Number.NEGATIVE_INFINITY : this.#ends[n - 1]!;
  }

  /** Number of runs held: the memory this stream costs. */
  get runs(): number {
    return this.#starts.length;
  }

  /** Whether `t` was seen. */
  has(t: number): boolean {
    const i = this.#runAtOrBefore(t);
    return i >= 0 && t <= this.#ends[i]! && this.#onGrid(i, t);
  }

  /**
   * Adds `t` unless it was seen (`duplicate`), or it is neither seen nor within `latenessMs` of the newest
   * timestamp (`too_late`: the set cannot tell it from a sample it forgot, and the caller counts it).
   */
  add(t: number, latenessMs: number): SeenOutcome {
    const n = this.#starts.length;
    if (n > 0 && t > this.#ends[n - 1]!) {
      this.#append(t);
      return 'new';
    }
    if (n === 0) {
      if (t <= this.#floor) return 'too_late';
      this.#insert(0, t);
      return 'new';
    }
    const i = this.#runAtOrBefore(t);
    const inside = i >= 0 && t <= this.#ends[i]!;
    if (inside && this.#onGrid(i, t)) return 'duplicate';
    if (t <= this.#floor || t < this.#ends[n - 1]! - latenessMs) return 'too_late';
    if (inside) {
      this.#split(i, t);
    } else {
      this.#insert(i + 1, t);
    }
    return 'new';
  }

  /** A copy for the state file. */
  snapshot(): SeenIntervalsSnapshot {
    const runs: SeenRun[] = [];
    for (let i = 0; i < this.#starts.length; i++) runs.push([this.#starts[i]!, this.#ends[i]!, this.#steps[i]!]);
    return { runs, step: this.#step, floor: Number.isFinite(this.#floor) ? this.#floor : null };
  }

  /** Rebuilds a set from a snapshot; throws a TypeError naming the first rule the snapshot breaks. */
  static restore(s: SeenIntervalsSnapshot, maxRuns = DEFAULT_MAX_RUNS): SeenIntervals {
    const out = new SeenIntervals(maxRuns);
    let prevEnd = Number.NEGATIVE_INFINITY;
    for (const [start, end, step] of s.runs) {
      const ok =
        Number.isSafeInteger(start) && Number.isSafeInteger(end) && Number.isSafeInteger(step) &&
        start > prevEnd && end >= start && step >= 0 && (step === 0 ? start === end : end > start && (end - start) % step === 0);
      if (!ok) throw new TypeError(`invalid run [${start}, ${end}, ${step}]: runs must be ascending, disjoint and on their step`);
      out.#starts.push(start);
      out.#ends.push(end);
      out.#steps.push(step);
      prevEnd = end;
    }
    if (out.#starts.length > out.#maxRuns) throw new TypeError(`${out.#starts.length} runs exceed the cap of ${out.#maxRuns}`);
    if (!Number.isSafeInteger(s.step) || s.step < 0) throw new TypeError(`invalid step ${s.step}`);
    out.#step = s.step;
    if (s.floor !== null) {
      if (!Number.isSafeInteger(s.floor)) throw new TypeError(`invalid floor ${s.floor}`);
      out.#floor = s.floor;
    }
    return out;
  }

  #onGrid(i: number, t: number): boolean {
    const step = this.#steps[i]!;
    return step === 0 ? t === this.#starts[i] : (t - this.#starts[i]!) % step === 0;
  }

  // Index of the last run starting at or before t, or -1.
  #runAtOrBefore(t: number): number {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#starts[mid]! <= t) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi;
  }

  // The common case, a sample newer than all: extend the last run or start one, without searching.
  #append(t: number): void {
    const last = this.#starts.length - 1;
    const gap = t - this.#ends[last]!;
    const step = this.#steps[last]!;
    if (step === 0) this.#learn(gap);
    if (step === 0 ? gap === this.#step : gap === step) {
      this.#steps[last] = gap;
      this.#ends[last] = t;
      return;
    }
    this.#starts.push(t);
    this.#ends.push(t);
    this.#steps.push(0);
    this.#cap();
  }

  #learn(gap: number): void {
    if (gap > 0 && (this.#step === 0 || gap < this.#step)) this.#step = gap;
  }

  // Puts t, off the grid of run i but within its span, between the two halves of that run.
  #split(i: number, t: number): void {
    const start = this.#starts[i]!;
    const end = this.#ends[i]!;
    const step = this.#steps[i]!;
    const leftEnd = start + Math.floor((t - start) / step) * step;
    const rightStart = leftEnd + step;
    this.#ends[i] = leftEnd;
    if (leftEnd === start) this.#steps[i] = 0;
    this.#starts.splice(i + 1, 0, t, rightStart);
    this.#ends.splice(i + 1, 0, t, end);
    this.#steps.splice(i + 1, 0, 0, rightStart === end ? 0 : step);
    this.#mergeAround(i + 1);
  }

  // Inserts t as its own run at index j (between runs j-1 and j), then merges it with its neighbours.
  #insert(j: number, t: number): void {
    this.#starts.splice(j, 0, t);
    this.#ends.splice(j, 0, t);
    this.#steps.splice(j, 0, 0);
    this.#mergeAround(j);
  }

  #mergeAround(j: number): void {
    const t = this.#starts[j]!;
    if (j > 0) this.#learn(t - this.#ends[j - 1]!);
    if (j + 1 < this.#starts.length) this.#learn(this.#starts[j + 1]! - t);
    // A merge changes a run's step, which may let it join the next neighbour too.
    let k = j;
    for (;;) {
      if (k > 0 && this.#merge(k - 1)) k--;
      else if (k + 1 < this.#starts.length && this.#merge(k)) continue;
      else break;
    }
    this.#cap();
  }

  // Merges runs i and i+1 when they form one arithmetic run.
  #merge(i: number): boolean {
    const gap = this.#starts[i + 1]! - this.#ends[i]!;
    const a = this.#steps[i]!;
    const b = this.#steps[i + 1]!;
    const step = a !== 0 ? a : b !== 0 ? b : this.#step;
    if (gap !== step || (a !== 0 && a !== step) || (b !== 0 && b !== step)) return false;
    this.#ends[i] = this.#ends[i + 1]!;
    this.#steps[i] = step;
    this.#starts.splice(i + 1, 1);
    this.#ends.splice(i + 1, 1);
    this.#steps.splice(i + 1, 1);
    return true;
  }

  // Past the cap the oldest run is forgotten: its timestamps, and any older, are refused from then on.
  #cap(): void {
    if (this.#starts.length <= this.#maxRuns) return;
    this.#floor = Math.max(this.#floor, this.#ends[0]!);
    this.#starts.shift();
    this.#ends.shift();
    this.#steps.shift();
  }
}
