import { streamKey } from '../samples/sample.ts';
import type { Direction, Edge, Sample, SampleValues } from '../samples/sample.ts';
import { SeenIntervals } from './seen-intervals.ts';
import { callTypeOfDataEdges } from '../samples/call-type.ts';
import { fromSavedSummary, toSavedSummary } from './state-memories.ts';
import type { MemoryEntry, SavedMemory, WaitingSummary } from './state-memories.ts';
import { labelValue } from '../samples/label-value.ts';

/** The newest state of one stream (call, edge, direction). */
export interface StreamState {
  readonly edge: Edge;
  readonly direction: Direction;
  /** Timestamp of the newest applied sample, epoch ms. */
  lastTimestampMs: number;
  /** Values of the newest applied sample. */
  values: Readonly<SampleValues>;
  /** Every timestamp applied to the stream: the exactly-once memory (writers ignore it). */
  readonly seen: SeenIntervals;
}

/** What the store knows of one call. */
export interface CallState {
  readonly callSid: string;
  readonly accountSid: string;
  /** When the exporter started tracking the call, epoch ms: older samples are history. */
  readonly trackedAtMs: number;
  /** Voice Insights call type as Twilio names it (`carrier`, `sip`, `trunking`, `client`, …), once known. */
  callType: string | undefined;
  /** A Summary named `callType`; until then the edges with data name it, as each new one shows up. */
  callTypeNamed?: boolean;
  /** Codec of the newest sample that named one. */
  codecName: string | undefined;
  /** Media region of the newest sample that named one. */
  mediaRegion: string | undefined;
  /** Streams by `edge/direction`. */
  readonly streams: Map<string, StreamState>;
  /** The most final call summary pushed so far, once one arrived. */
  summary?: CallSummaryInfo;
  /** When a sample of the call was last applied (the clock's time, not the sample's), epoch ms; not saved. */
  lastAppliedAtMs?: number | undefined;
  /** Tracked again after its exactly-once state expired: what it applied before is unknown, so nothing is applied. */
  exactlyOnceLost?: boolean;
}

/** What the store keeps of a call summary for the per-call summary gauge: bounded, label-safe fields. */
export interface CallSummaryInfo {
  /** partial, predicted_complete or complete. */
  readonly processingState: string;
  /** Rank of `processingState`: a later summary replaces the kept one only when it is at least as final. */
  readonly rank: number;
  /** Distinct quality tags Twilio gave the call (0 for a clean call). */
  readonly tagCount: number;
}

/**
 * The new samples of one `apply`, in the order applied (timestamp order), each with its call, stream and flags at the
 * same index: what a batch listener receives at once. `observe` is false for history not replayed; `newest` is false
 * for a late sample, older than one applied before (it moved no gauge; `observe` still says whether it belongs in the
 * fleet aggregates). A stream object stays the same as long as the store keeps its call's state (a removed call that
 * comes back resumes the same streams), and `onCallRemoved` gets the call with all of them in `call.streams`: a
 * listener may key per-stream state by the stream object, and drop it there.
 */
export interface AppliedSamples {
  readonly samples: readonly Sample[];
  readonly calls: readonly Readonly<CallState>[];
  readonly streams: readonly Readonly<StreamState>[];
  readonly observe: readonly boolean[];
  readonly newest: readonly boolean[];
}

/**
 * Receives every sample the store applies, exactly once, through one of two methods: `onSamples` (a batch
 * listener) when it has one, else `onSample`.
 */
export interface SampleListener {
  /**
   * Called once per new sample, in timestamp order within a batch. `newest` is false for a late sample,
   * older than one applied before: it moved no gauge (the stream still shows its newest), and `observe`
   * still says whether it belongs in the fleet aggregates. Listeners that only aggregate can ignore it.
   */
  onSample?(sample: Sample, call: Readonly<CallState>, observe: boolean, newest?: boolean): void;
  /**
   * Called once per `apply` that applied any sample, with all of them, once the whole batch is applied: one call
   * per batch instead of one per sample, so a listener's loop stays monomorphic and the store's per-sample work
   * does not grow with the listeners. The arrays are the store's: read them during the call, do not keep them.
   */
  onSamples?(applied: AppliedSamples): void;
  /** Called when a call and all its series are removed. */
  onCallRemoved?(call: Readonly<CallState>): void;
}

/** Options of the store. */
export interface SampleStoreOptions {
  /** Replay samples older than the call's tracking time into the fleet aggregates [false]. */
  readonly backfill: boolean;
  /** Samples this much older than the tracking time count as history [120 s: Twilio's ~90 s lag plus margin]. */
  readonly historyWindowMs?: number;
  /** A never-seen sample this much older than its stream's newest is refused as too late [10 min]. */
  readonly maxSampleLatenessMs?: number;
  /** How long a removed call's exactly-once state is kept for its return [lateness + history window]. */
  readonly parkedRetentionMs?: number;
  /** Cap on removed calls whose state is kept; the oldest go first [10000]. */
  readonly maxParked?: number;
  /**
   * How long the store remembers that a removed call's exactly-once state expired, so the call, tracked again (the
   * registry remembers an ended call for Twilio's 4 h retry horizon), refuses its samples rather than count them
   * twice [4 h]; at most `maxExpired` calls of each account.
   */
  readonly expiredMemoryMs?: number;
  /**
   * Most removed calls of one account remembered as expired; the oldest go first [4 × maxParked]. Give it the
   * registry's ended-call memory, which is per account too.
   */
  readonly maxExpired?: number;
  /** How many accounts the exporter runs: a load keeps at most `maxExpired` expired calls of each [1]. */
  readonly accounts?: number;
  /** Clock, epoch ms [Date.now]. */
  readonly now?: () => number;
}

/** The outcome of applying a batch. */
export interface ApplyResult {
  /** New samples applied (gauges moved). */
  applied: number;
  /** New samples also observed into the fleet aggregates. */
  observed: number;
  /** Samples already applied before, skipped. */
  duplicates: number;
  /** Never-seen samples older than `maxSampleLatenessMs` behind their stream's newest, refused. */
  tooLate: number;
}

/** Why the store refuses a sample that is not a duplicate: a closed set, used as a metric label value. */
export const STORE_REJECT_REASONS = ['too_late'] as const;

interface Parked {
  readonly call: CallState;
  readonly parkedAtMs: number;
}

function byTimestamp(a: Sample, b: Sample): number {
  return a.timestampMs - b.timestampMs;
}

/**
 * Latest values per stream, with the exactly-once rule: a sample is identified by (call, edge, direction,
 * timestamp) and applied the first time it arrives, in any order; re-reads from paging, retries, cursor
 * resets and a call re-announced after removal apply nothing. Gauges show each stream's newest sample.
 */
export class SampleStore {
  readonly #calls = new Map<string, CallState>();
  // Removed calls' exactly-once state by account and SID (parkKey), oldest first, so a call that comes back resumes
  // instead of repeating.
  readonly #parked = new Map<string, Parked>();
  readonly #listeners: SampleListener[] = [];
  // The listeners with onSample but not onSamples, called per sample.
  readonly #sampleListeners: SampleListener[] = [];
  // The listeners with onSamples, called per batch.
  readonly #batchListeners: SampleListener[] = [];
  // What batch listeners receive, reused from one apply to the next (the listeners do not keep them), so an apply
  // allocates and grows no arrays: written by index, then cut to the batch's length. They hold the last batch's
  // samples until the next apply.
  readonly #batch: { samples: Sample[]; calls: CallState[]; streams: StreamState[]; observe: boolean[]; newest: boolean[] } = {
    samples: [],
    calls: [],
    streams: [],
    observe: [],
    newest: [],
  };
  // Removed calls whose exactly-once state expired, with when, per account and SID (oldest first): keyed by the SID
  // strings the calls had, so an entry costs a map slot and a number (the memory holds 10,000 calls an account).
  readonly #expired = new Map<string, Map<string, number>>();
  readonly #expiredMemoryMs: number;
  readonly #maxExpired: number;
  readonly #accounts: number;
  #expiredChanges = 0;
  #pendingChanges = 0;
  readonly #pending = new Map<string, { callType?: string; summary?: CallSummaryInfo; readonly atMs: number }>();
  readonly #backfill: boolean;
  readonly #historyWindowMs: number;
  readonly #latenessMs: number;
  readonly #parkedRetentionMs: number;
  readonly #maxParked: number;
  readonly #now: () => number;
  #changes = 0;

  /** Creates an empty store. */
  constructor(options: SampleStoreOptions) {
    this.#backfill = options.backfill;
    this.#historyWindowMs = options.historyWindowMs ?? 120_000;
    this.#latenessMs = options.maxSampleLatenessMs ?? 600_000;
    this.#parkedRetentionMs = options.parkedRetentionMs ?? this.#latenessMs + this.#historyWindowMs;
    this.#maxParked = options.maxParked ?? 10_000;
    this.#expiredMemoryMs = options.expiredMemoryMs ?? 4 * 3600_000;
    this.#maxExpired = options.maxExpired ?? 4 * this.#maxParked;
    this.#accounts = Math.max(1, options.accounts ?? 1);
    this.#now = options.now ?? Date.now;
  }

  /** Adds a listener that sees each applied sample once. */
  addListener(listener: SampleListener): void {
    this.#listeners.push(listener);
    if (listener.onSamples) this.#batchListeners.push(listener);
    else if (listener.onSample) this.#sampleListeners.push(listener);
  }

  /**
   * Starts holding a call (idempotent); `trackedAtMs` of the first call wins, and a call removed a short
   * while ago (or restored from the state file) resumes its state, tracking time included.
   */
  addCall(callSid: string, accountSid: string, trackedAtMs: number, options: { readonly ended?: boolean } = {}): CallState {
    let call = this.#calls.get(callSid);
    if (call) return call;
    this.#expireParked();
    const key = parkKey(accountSid, callSid);
    const parked = this.#parked.get(key);
    const expiredAtMs = parked ? undefined : this.#expired.get(accountSid)?.get(callSid);
    if (parked) {
      this.#parked.delete(key);
      call = parked.call;
    } else {
      call = {
        callSid,
        accountSid,
        trackedAtMs,
        callType: undefined,
        codecName: undefined,
        mediaRegion: undefined,
        streams: new Map(),
        lastAppliedAtMs: undefined,
      };
      // An ended call (announced again by a redelivery) would count again what it applied; a live one starts over.
      if (options.ended === true && expiredAtMs !== undefined && this.#now() - expiredAtMs <= this.#expiredMemoryMs) call.exactlyOnceLost = true;
    }
    this.#calls.set(callSid, call);
    this.#changes++;
    // What a summary said before the call was held (its first metrics came later) is recorded now.
    const pending = this.#pending.get(key);
    if (pending) {
      this.#pending.delete(key);
      if (pending.callType !== undefined) this.setCallType(callSid, accountSid, pending.callType);
      if (pending.summary !== undefined) this.setSummary(callSid, accountSid, pending.summary);
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

  /** Whether the exactly-once state of this account's removed (or restored) call is kept. */
  isParked(accountSid: string, callSid: string): boolean {
    return this.#parked.has(parkKey(accountSid, callSid));
  }

  /** Number of removed calls whose exactly-once state is still kept. */
  get parkedSize(): number {
    return this.#parked.size;
  }

  /** Grows with every change worth saving; the state file writer compares it with the last one it wrote. */
  get changes(): number {
    return this.#changes;
  }

  /**
   * Which removed calls' exactly-once state expired, for the state file: without it, an ended call redelivered after
   * a restart would start over and count its samples again.
   */
  get expiredCalls(): SavedMemory {
    return {
      kind: 'expired_calls',
      capacity: this.#maxExpired * this.#accounts,
      changes: () => this.#expiredChanges,
      entries: () => this.#expiredEntries(),
      restore: (saved: readonly MemoryEntry[]) => {
        const now = this.#now();
        for (const [key, atMs] of saved) {
          // A call whose state the file also held (saved again later) resumes that state instead.
          if (this.#parked.has(key) || now - atMs > this.#expiredMemoryMs) continue;
          const slash = key.indexOf('/');
          this.#expire(key.slice(0, slash), key.slice(slash + 1), Math.min(atMs, now));
        }
        this.#expireParked();
      },
    };
  }

  /**
   * What pushed summaries said of calls whose first metrics had not come yet, for the state file: without it, such a
   * call would miss its summary and the call type it named when its metrics come after a restart.
   */
  get waitingSummaries(): SavedMemory {
    return {
      kind: 'waiting_summaries',
      capacity: this.#maxParked,
      changes: () => this.#pendingChanges,
      entries: () => this.#waitingEntries(),
      restore: (saved: readonly MemoryEntry[]) => {
        const now = this.#now();
        for (const [key, atMs, w] of saved) {
          if (w === undefined || this.#pending.has(key) || now - atMs > this.#parkedRetentionMs) continue;
          const callType = labelValue(w.call_type);
          const summary = fromSavedSummary(w.summary);
          const p: { callType?: string; summary?: CallSummaryInfo; readonly atMs: number } = { atMs: Math.min(atMs, now) };
          if (callType !== undefined) p.callType = callType;
          if (summary !== undefined) p.summary = summary;
          this.#pending.set(key, p);
        }
        dropOldest(this.#pending, this.#maxParked - 1, (old) => now - old.atMs <= this.#parkedRetentionMs);
      },
    };
  }

  *#waitingEntries(): Generator<MemoryEntry> {
    for (const [key, p] of this.#pending) {
      const w: { -readonly [K in keyof WaitingSummary]: WaitingSummary[K] } = {};
      if (p.callType !== undefined) w.call_type = p.callType;
      if (p.summary !== undefined) w.summary = toSavedSummary(p.summary);
      yield [key, p.atMs, w];
    }
  }

  // The expired calls, and the held calls tracked again after their state expired (saved as what they are: calls
  // whose state is unknown, not as empty state a load would resume).
  *#expiredEntries(): Generator<readonly [string, number]> {
    this.#expireParked();
    for (const [accountSid, mine] of this.#expired) for (const [callSid, atMs] of mine) yield [parkKey(accountSid, callSid), atMs];
    const now = this.#now();
    for (const call of this.#calls.values()) if (call.exactlyOnceLost === true) yield [parkKey(call.accountSid, call.callSid), now];
  }

  /**
   * Records the call type a Call Summary of this account names: the edges with data no longer change it. For a call
   * not held yet (a pushed summary may come before the call's first metrics) it waits for this account's call of
   * the SID; a call held for another account is left alone.
   */
  setCallType(callSid: string, accountSid: string, callType: string): void {
    const holder = this.#summaryHolder(callSid, accountSid);
    if (holder === undefined) return;
    holder.callType = callType;
    if ('callSid' in holder) holder.callTypeNamed = true;
  }

  /**
   * Records a call summary of this account unless a more final one is kept (deliveries arrive in any order); for a
   * call not held yet it waits, as the call type does.
   */
  setSummary(callSid: string, accountSid: string, summary: CallSummaryInfo): void {
    const holder = this.#summaryHolder(callSid, accountSid);
    if (holder !== undefined && (holder.summary === undefined || holder.summary.rank <= summary.rank)) holder.summary = summary;
  }

  // The held call a summary is about, or what waits for it; undefined when the SID is held for another account.
  #summaryHolder(callSid: string, accountSid: string): CallState | { callType?: string; summary?: CallSummaryInfo } | undefined {
    const call = this.#calls.get(callSid);
    if (call) return call.accountSid === accountSid ? call : undefined;
    this.#pendingChanges++;
    return this.#pendingFor(parkKey(accountSid, callSid));
  }

  // What summaries said of calls not held yet, by account and SID (another account's call of the SID never takes
  // them): oldest first, as many and for as long as removed calls are kept.
  #pendingFor(key: string): { callType?: string; summary?: CallSummaryInfo } {
    let p = this.#pending.get(key);
    if (p) return p;
    const now = this.#now();
    dropOldest(this.#pending, this.#maxParked - 1, (old) => now - old.atMs <= this.#parkedRetentionMs);
    this.#pending.set(key, (p = { atMs: now }));
    return p;
  }

  /** The newest applied timestamp of a stream, or undefined when nothing was applied yet. */
  lastTimestamp(callSid: string, edge: Edge, direction: Direction): number | undefined {
    return this.#calls.get(callSid)?.streams.get(streamKey(edge, direction))?.lastTimestampMs;
  }

  /**
   * Applies a batch of samples, each at most once, oldest first; samples of calls not held are ignored
   * (the call was removed while its poll was in flight).
   */
  apply(samples: readonly Sample[]): ApplyResult {
    const result: ApplyResult = { applied: 0, observed: 0, duplicates: 0, tooLate: 0 };
    if (samples.length === 0) return result;
    const sorted = isSorted(samples) ? samples : [...samples].sort(byTimestamp);
    const nowMs = this.#now();
    const sampleListeners = this.#sampleListeners;
    const batch = this.#batchListeners.length > 0 ? this.#batch : undefined;
    let n = 0;
    for (const sample of sorted) {
      const call = this.#calls.get(sample.callSid);
      if (!call) continue;
      if (call.exactlyOnceLost === true) {
        result.tooLate++;
        continue;
      }
      const key = streamKey(sample.edge, sample.direction);
      let stream = call.streams.get(key);
      const t = sample.timestampMs;
      if (!stream) {
        stream = { edge: sample.edge, direction: sample.direction, lastTimestampMs: t, values: sample.values, seen: new SeenIntervals() };
        call.streams.set(key, stream);
        // Until a Summary names the call type (Twilio may serve none while the call runs), the edges that carry
        // data name it, so the label is never empty and a pushed call is labelled as a polled one.
        if (call.callTypeNamed !== true) call.callType = callTypeOfDataEdges(streamEdges(call.streams)) ?? call.callType;
      }
      const outcome = stream.seen.add(t, this.#latenessMs);
      if (outcome === 'duplicate') {
        result.duplicates++;
        continue;
      }
      if (outcome === 'too_late') {
        result.tooLate++;
        continue;
      }
      // A late sample counts once in the aggregates but never takes the gauges back in time.
      const newest = t >= stream.lastTimestampMs;
      if (newest) {
        // Updated in place: expositions cache per-stream label text by the stream object's identity.
        stream.lastTimestampMs = t;
        stream.values = sample.values;
        if (sample.codecName !== undefined) call.codecName = sample.codecName;
        if (sample.region !== undefined) call.mediaRegion = sample.region;
      }
      const observe = this.#backfill || t >= call.trackedAtMs - this.#historyWindowMs;
      call.lastAppliedAtMs = nowMs;
      result.applied++;
      if (observe) result.observed++;
      for (let i = 0; i < sampleListeners.length; i++) sampleListeners[i]!.onSample!(sample, call, observe, newest);
      if (batch) {
        batch.samples[n] = sample;
        batch.calls[n] = call;
        batch.streams[n] = stream;
        batch.observe[n] = observe;
        batch.newest[n] = newest;
        n++;
      }
    }
    this.#changes += result.applied;
    if (batch && n > 0) {
      if (batch.samples.length !== n) {
        batch.samples.length = n;
        batch.calls.length = n;
        batch.streams.length = n;
        batch.observe.length = n;
        batch.newest.length = n;
      }
      const batchListeners = this.#batchListeners;
      for (let i = 0; i < batchListeners.length; i++) batchListeners[i]!.onSamples!(batch);
    }
    return result;
  }

  /** Removes a call and its series from every exposition; its exactly-once state is kept for a while. */
  removeCall(callSid: string): boolean {
    const call = this.#calls.get(callSid);
    if (!call) return false;
    this.#calls.delete(callSid);
    // A call whose state is unknown (tracked again after it expired) has none to keep: it is remembered as expired.
    if (call.exactlyOnceLost === true) this.#expire(call.accountSid, call.callSid, this.#now());
    else this.#park(call, this.#now());
    for (const listener of this.#listeners) listener.onCallRemoved?.(call);
    return true;
  }

  /** Held calls, then removed calls whose state is still kept (with when they were removed), for the state file. */
  *entries(): IterableIterator<{ readonly call: Readonly<CallState>; readonly parkedAtMs: number | null }> {
    this.#expireParked();
    // A call whose state is unknown is saved with the expired ones (see expiredCalls).
    for (const call of this.#calls.values()) if (call.exactlyOnceLost !== true) yield { call, parkedAtMs: null };
    for (const p of this.#parked.values()) yield p;
  }

  /** Most calls restore() keeps: restored calls wait as removed ones, so the removed-call cap. */
  get maxRestored(): number {
    return this.#maxParked;
  }

  /**
   * Keeps saved calls (from the state file) as removed ones, so each resumes its state when it is
   * announced again; calls already held are left alone. `parkedAtMs` null means the call was live: its
   * wait starts now. Returns how many are kept: past the removed-call cap or its retention, the oldest are not.
   */
  restore(entries: Iterable<{ readonly call: CallState; readonly parkedAtMs: number | null }>): number {
    const now = this.#now();
    const restored: string[] = [];
    const byAge = [...entries].sort((a, b) => (a.parkedAtMs ?? now) - (b.parkedAtMs ?? now));
    for (const { call, parkedAtMs } of byAge) {
      if (this.#calls.has(call.callSid)) continue;
      this.#parked.delete(parkKey(call.accountSid, call.callSid));
      this.#park(call, Math.min(parkedAtMs ?? now, now));
      restored.push(parkKey(call.accountSid, call.callSid));
    }
    this.#expireParked();
    return restored.filter((key) => this.#parked.has(key)).length;
  }

  /** Forgets removed calls whose wait is over, so memory returns to its baseline after churn; returns how many. */
  sweep(): number {
    const before = this.#parked.size;
    this.#expireParked();
    return before - this.#parked.size;
  }

  #park(call: CallState, atMs: number): void {
    this.#parked.set(parkKey(call.accountSid, call.callSid), { call, parkedAtMs: atMs });
    this.#changes++;
    this.#expireParked();
  }

  // Oldest first: insertion order is removal order, except for restored calls, which the age test still catches.
  #expireParked(): void {
    const now = this.#now();
    const oldest = now - this.#parkedRetentionMs;
    // A call whose state goes is remembered as such, newest last.
    dropOldest(this.#parked, this.#maxParked, (p) => p.parkedAtMs >= oldest, (p) => this.#expire(p.call.accountSid, p.call.callSid, now));
    for (const [accountSid, mine] of this.#expired) {
      dropOldest(mine, this.#maxExpired, (at) => now - at <= this.#expiredMemoryMs);
      if (mine.size === 0) this.#expired.delete(accountSid);
    }
  }

  // Remembers that a removed call's exactly-once state is gone, newest last.
  #expire(accountSid: string, callSid: string, atMs: number): void {
    let mine = this.#expired.get(accountSid);
    if (mine === undefined) this.#expired.set(accountSid, (mine = new Map<string, number>()));
    mine.delete(callSid);
    mine.set(callSid, atMs);
    this.#expiredChanges++;
  }
}

// Drops a map's oldest entries (insertion order) while it holds more than `max` or its oldest is no longer `fresh`;
// `dropped` sees each value that goes.
function dropOldest<K, V>(map: Map<K, V>, max: number, fresh: (v: V) => boolean, dropped?: (v: V) => void): void {
  for (const [key, v] of map) {
    if (map.size <= max && fresh(v)) break;
    map.delete(key);
    dropped?.(v);
  }
}

function isSorted(samples: readonly Sample[]): boolean {
  for (let i = 1; i < samples.length; i++) {
    if (samples[i - 1]!.timestampMs > samples[i]!.timestampMs) return false;
  }
  return true;
}

function* streamEdges(streams: ReadonlyMap<string, StreamState>): Generator<Edge> {
  for (const s of streams.values()) yield s.edge;
}

// Removed calls are kept per account and SID: a SID one account tracks (an admin PUT naming the wrong account, say)
// never takes or overwrites the exactly-once state another account's call of that SID left.
function parkKey(accountSid: string, callSid: string): string {
  return `${accountSid}/${callSid}`;
}
