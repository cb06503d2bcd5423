import { streamKey } from '../samples/sample.ts';
import type { Direction, Edge, Sample, SampleValues } from '../samples/sample.ts';

/** The newest state of one stream (call, edge, direction). */
export interface StreamState {
  readonly edge: Edge;
  readonly direction: Direction;
  /** Timestamp of the newest applied sample, epoch ms: the exactly-once high-water mark. */
  lastTimestampMs: number;
  /** Values of the newest applied sample. */
  values: Readonly<SampleValues>;
}

/** What the store knows of one call. */
export interface CallState {
  readonly callSid: string;
  readonly accountSid: string;
  /** When the exporter started tracking the call, epoch ms: older samples are history. */
  readonly trackedAtMs: number;
  /** Voice Insights call type as Twilio names it (`carrier`, `sip`, `trunking`, `client`, …), once known. */
  callType: string | undefined;
  /** Codec of the newest sample that named one. */
  codecName: string | undefined;
  /** Media region of the newest sample that named one. */
  mediaRegion: string | undefined;
  /** Streams by `edge/direction`. */
  readonly streams: Map<string, StreamState>;
}

/** Receives every sample the store applies, exactly once; `observe` is false for history not replayed. */
export interface SampleListener {
  /** Called once per new sample, in timestamp order within a stream. */
  onSample(sample: Sample, call: Readonly<CallState>, observe: boolean): void;
  /** Called when a call and all its series are removed. */
  onCallRemoved?(call: Readonly<CallState>): void;
}

/** Options of the store. */
export interface SampleStoreOptions {
  /** Replay samples older than the call's tracking time into the fleet aggregates [false]. */
  readonly backfill: boolean;
  /** Samples this much older than the tracking time count as history [120 s: Twilio's ~90 s lag plus margin]. */
  readonly historyWindowMs?: number;
}

/** The outcome of applying a batch. */
export interface ApplyResult {
  /** New samples applied (gauges moved). */
  applied: number;
  /** New samples also observed into the fleet aggregates. */
  observed: number;
  /** Samples already applied before, skipped. */
  duplicates: number;
}

function byTimestamp(a: Sample, b: Sample): number {
  return a.timestampMs - b.timestampMs;
}

/**
 * Latest values per stream, with the exactly-once rule: a sample is applied only when it is newer than
 * the newest applied sample of its stream, so re-reads from paging, retries or cursor resets apply nothing.
 */
export class SampleStore {
  readonly #calls = new Map<string, CallState>();
  readonly #listeners: SampleListener[] = [];
  readonly #backfill: boolean;
  readonly #historyWindowMs: number;

  /** Creates an empty store. */
  constructor(options: SampleStoreOptions) {
    this.#backfill = options.backfill;
    this.#historyWindowMs = options.historyWindowMs ?? 120_000;
  }

  /** Adds a listener that sees each applied sample once. */
  addListener(listener: SampleListener): void {
    this.#listeners.push(listener);
  }

  /** Starts holding a call (idempotent); `trackedAtMs` of the first call wins. */
  addCall(callSid: string, accountSid: string, trackedAtMs: number): CallState {
    let call = this.#calls.get(callSid);
    if (!call) {
      call = {
        callSid,
        accountSid,
        trackedAtMs,
        callType: undefined,
        codecName: undefined,
        mediaRegion: undefined,
        streams: new Map(),
      };
      this.#calls.set(callSid, call);
    }
    return call;
  }

  /** The call, if held. */
  get(callSid: string): Readonly<CallState> | undefined {
    return this.#calls.get(callSid);
  }

  /** Every held call. */
  calls(): IterableIterator<Readonly<CallState>> {
    return this.#calls.values();
  }

  /** Number of held calls. */
  get size(): number {
    return this.#calls.size;
  }

  /** Records the call type once learned. */
  setCallType(callSid: string, callType: string): void {
    const call = this.#calls.get(callSid);
    if (call) call.callType = callType;
  }

  /** The high-water mark of a stream, or undefined when nothing was applied yet. */
  lastTimestamp(callSid: string, edge: Edge, direction: Direction): number | undefined {
    return this.#calls.get(callSid)?.streams.get(streamKey(edge, direction))?.lastTimestampMs;
  }

  /**
   * Applies a batch of samples of one call, each at most once, oldest first; samples of calls not held
   * are ignored (the call was removed while its poll was in flight).
   */
  apply(samples: readonly Sample[]): ApplyResult {
    const result: ApplyResult = { applied: 0, observed: 0, duplicates: 0 };
    if (samples.length === 0) return result;
    const sorted = isSorted(samples) ? samples : [...samples].sort(byTimestamp);
    for (const sample of sorted) {
      const call = this.#calls.get(sample.callSid);
      if (!call) continue;
      const key = streamKey(sample.edge, sample.direction);
      let stream = call.streams.get(key);
      if (stream && sample.timestampMs <= stream.lastTimestampMs) {
        result.duplicates++;
        continue;
      }
      if (!stream) {
        stream = {
          edge: sample.edge,
          direction: sample.direction,
          lastTimestampMs: sample.timestampMs,
          values: sample.values,
        };
        call.streams.set(key, stream);
      } else {
        // Updated in place: expositions cache per-stream label text by the stream object's identity.
        stream.lastTimestampMs = sample.timestampMs;
        stream.values = sample.values;
      }
      if (sample.codecName !== undefined) call.codecName = sample.codecName;
      if (sample.region !== undefined) call.mediaRegion = sample.region;
      const observe = this.#backfill || sample.timestampMs >= call.trackedAtMs - this.#historyWindowMs;
      result.applied++;
      if (observe) result.observed++;
      for (const listener of this.#listeners) listener.onSample(sample, call, observe);
    }
    return result;
  }

  /** Removes a call and its series from every exposition. */
  removeCall(callSid: string): boolean {
    const call = this.#calls.get(callSid);
    if (!call) return false;
    this.#calls.delete(callSid);
    for (const listener of this.#listeners) listener.onCallRemoved?.(call);
    return true;
  }
}

function isSorted(samples: readonly Sample[]): boolean {
  for (let i = 1; i < samples.length; i++) {
    if (samples[i - 1]!.timestampMs > samples[i]!.timestampMs) return false;
  }
  return true;
}
