import { streamKey } from '../samples/sample.ts';
import type { Direction, Edge, Sample } from '../samples/sample.ts';
import type { AppliedSamples, CallState, SampleListener, StreamState } from '../store/sample-store.ts';

/** The values a sparkline draws, in the order of their columns in the ring (jitter: interval, or the gateways' average). */
export const HISTORY_FIELDS = ['mos', 'rttSeconds', 'jitterSeconds', 'packetLossRatio'] as const;
/** A field kept in the history. */
export type HistoryField = (typeof HISTORY_FIELDS)[number];

/** The recent samples of one stream, oldest first; NaN where Twilio sent no value. */
export interface StreamHistory {
  readonly edge: Edge;
  readonly direction: Direction;
  readonly timestampsMs: readonly number[];
  readonly values: Readonly<Record<HistoryField, readonly number[]>>;
}

interface Ring {
  readonly edge: Edge;
  readonly direction: Direction;
  readonly timestamps: Float64Array;
  // HISTORY_FIELDS.length columns per slot; Float32 is precise enough to draw and halves the memory.
  readonly values: Float32Array;
  next: number;
  count: number;
}

/**
 * A small bounded ring of the latest samples per stream, for the status page's sparklines. It is a store
 * listener (the store is not changed), forgets a call when the store removes it, and holds at most
 * `perStream` samples of each stream, so its memory is bounded by the tracked-call cap.
 */
export class SampleHistory implements SampleListener {
  readonly #perStream: number;
  readonly #calls = new Map<string, Map<string, Ring>>();
  // The same rings by the store's stream object: one lookup in one table every sample touches, instead of the call's
  // map and then its stream map (per-call tables that are out of cache by the time the call's next sample comes).
  // Holds exactly the rings of #calls: both gain a ring in #ring and lose a call's in onCallRemoved.
  readonly #byStream = new WeakMap<Readonly<StreamState>, Ring>();

  /** Keeps `perStream` samples per stream [30]. */
  constructor(perStream = 30) {
    this.#perStream = perStream;
  }

  /** Records the samples of one store batch, in the order applied. */
  onSamples(applied: AppliedSamples): void {
    const { samples, calls, streams } = applied;
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i]!;
      this.#record(sample, this.#byStream.get(streams[i]!) ?? this.#ring(sample, calls[i]!, streams[i]!));
    }
  }

  // The ring of a stream not seen since its call was tracked (or came back).
  #ring(sample: Sample, call: Readonly<CallState>, stream: Readonly<StreamState>): Ring {
    let streams = this.#calls.get(call.callSid);
    if (!streams) this.#calls.set(call.callSid, (streams = new Map<string, Ring>()));
    const key = streamKey(sample.edge, sample.direction);
    let ring = streams.get(key);
    if (!ring) {
      ring = {
        edge: sample.edge,
        direction: sample.direction,
        timestamps: new Float64Array(this.#perStream),
        values: new Float32Array(this.#perStream * HISTORY_FIELDS.length),
        next: 0,
        count: 0,
      };
      streams.set(key, ring);
    }
    this.#byStream.set(stream, ring);
    return ring;
  }

  #record(sample: Sample, ring: Ring): void {
    const slot = ring.next;
    ring.timestamps[slot] = sample.timestampMs;
    const v = sample.values;
    const base = slot * HISTORY_FIELDS.length;
    ring.values[base] = v.mos ?? Number.NaN;
    ring.values[base + 1] = v.rttSeconds ?? Number.NaN;
    // Gateways report no interval jitter, only the running average: draw that.
    ring.values[base + 2] = v.jitterSeconds ?? v.jitterAvgSeconds ?? Number.NaN;
    ring.values[base + 3] = v.packetLossRatio ?? Number.NaN;
    ring.next = (slot + 1) % this.#perStream;
    ring.count = Math.min(ring.count + 1, this.#perStream);
  }

  /** Forgets a removed call. */
  onCallRemoved(call: Readonly<CallState>): void {
    this.#calls.delete(call.callSid);
    for (const stream of call.streams.values()) this.#byStream.delete(stream);
  }

  /** The recent samples of each stream of a call, oldest first. */
  history(callSid: string): StreamHistory[] {
    const streams = this.#calls.get(callSid);
    if (!streams) return [];
    const out: StreamHistory[] = [];
    for (const ring of streams.values()) {
      const start = (ring.next - ring.count + this.#perStream) % this.#perStream;
      const timestampsMs: number[] = [];
      const values = Object.fromEntries(HISTORY_FIELDS.map((f) => [f, [] as number[]])) as Record<HistoryField, number[]>;
      for (let i = 0; i < ring.count; i++) {
        const slot = (start + i) % this.#perStream;
        timestampsMs.push(ring.timestamps[slot]!);
        HISTORY_FIELDS.forEach((f, c) => values[f].push(ring.values[slot * HISTORY_FIELDS.length + c]!));
      }
      out.push({ edge: ring.edge, direction: ring.direction, timestampsMs, values });
    }
    return out;
  }
}
