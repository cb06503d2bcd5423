/** Running totals of a stream before some sample index (what cumulative counters are built from). */
export interface StreamTotals {
  packets: number;
  lost: number;
  sent: number;
  bytesReceived: number;
  bytesSent: number;
  jitterSum: number;
  jitterMax: number;
  count: number;
}

interface Checkpoint {
  readonly index: number;
  readonly totals: Readonly<StreamTotals>;
}

/** Checkpoints kept per stream: the starts and ends of the last few ranges read. */
const PER_STREAM = 4;

/**
 * A bounded cache of stream totals at a few sample indices, so reading the newest page of a long
 * call does not recompute its whole history every poll. Totals are a pure function of the stream,
 * so a cached value is always identical to a recomputed one; least recently used streams are dropped.
 */
export class StreamCheckpoints {
  readonly #maxStreams: number;
  readonly #streams = new Map<string, Checkpoint[]>();

  /** Keeps checkpoints for at most `maxStreams` streams. */
  constructor(maxStreams = 20_000) {
    this.#maxStreams = maxStreams;
  }

  /** The checkpoint with the highest index not after `index`, if any (a copy, safe to mutate). */
  nearest(stream: string, index: number): { index: number; totals: StreamTotals } | undefined {
    const list = this.#streams.get(stream);
    if (list === undefined) return undefined;
    // Touch: re-inserting moves the stream to the young end of the Map's order.
    this.#streams.delete(stream);
    this.#streams.set(stream, list);
    let best: Checkpoint | undefined;
    for (const checkpoint of list) {
      if (checkpoint.index <= index && (best === undefined || checkpoint.index > best.index)) best = checkpoint;
    }
    return best === undefined ? undefined : { index: best.index, totals: { ...best.totals } };
  }

  /** Remembers the totals before sample `index` of a stream. */
  save(stream: string, index: number, totals: StreamTotals): void {
    const list = (this.#streams.get(stream) ?? []).filter((c) => c.index !== index);
    list.push({ index, totals: { ...totals } });
    if (list.length > PER_STREAM) list.shift();
    this.#streams.delete(stream);
    this.#streams.set(stream, list);
    if (this.#streams.size > this.#maxStreams) {
      const oldest = this.#streams.keys().next().value;
      if (oldest !== undefined) this.#streams.delete(oldest);
    }
  }

  /** Number of streams with checkpoints. */
  get size(): number {
    return this.#streams.size;
  }
}
