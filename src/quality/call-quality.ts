import { streamKey } from '../samples/sample.ts';
import type { Direction, Edge, Sample } from '../samples/sample.ts';
import type { AppliedSamples, CallState, SampleListener, StreamState } from '../store/sample-store.ts';
import { ISSUES } from './thresholds.ts';
import type { Issue } from './thresholds.ts';
import { ISSUE_BIT, StreamVerdicts } from './verdicts.ts';
import type { CompiledRules } from './verdicts.ts';
import { FleetIssues } from './fleet-issues.ts';
import type { IssueCellView } from './fleet-issues.ts';

/** The verdicts of one stream of a call. */
export interface StreamQuality {
  readonly edge: Edge;
  readonly direction: Direction;
  readonly verdicts: StreamVerdicts;
  /**
   * One identity per entry of ISSUES, made when the stream first raises an issue: outputs key per-series text on
   * them (the metrics writers cache label text by object), so a (stream, issue) series costs no lookup by string.
   * Set once, by the tracker.
   */
  issueKeys: readonly object[] | undefined;
}

/** A call's issues on one edge (both directions together), as masks. */
interface EdgeIssues {
  raised: number;
  everRaised: number;
}

/** The verdicts of one call. */
export interface CallQuality {
  /** By `edge/direction`. */
  readonly streams: Map<string, StreamQuality>;
  /** Issues raised now by any stream, as a mask. */
  raised: number;
  /** Issues raised at least once since tracking started, as a mask. */
  everRaised: number;
  /** Per edge: issues raised now and ever, the fleet cells' view of the call. */
  readonly edges: Map<Edge, EdgeIssues>;
  /** The call ended: it raises nothing now, and samples that come while it drains are not judged. */
  ended: boolean;
}

/** Options of the tracker. */
export interface CallQualityOptions {
  /** Accounts whose fleet cells exist from the start, at 0 [none: cells appear at an account's first raise]. */
  readonly accountSids?: readonly string[];
  /** Clock, epoch ms [Date.now]. */
  readonly now?: () => number;
  /** Removed calls whose raised-once issues are remembered, so a call that comes back is not counted again [10000]. */
  readonly maxRemembered?: number;
}

// What outlives a removed call: the issues it raised at least once, per edge and in all.
interface Remembered {
  readonly everRaised: number;
  readonly edges: ReadonlyMap<Edge, number>;
}

/** Receives verdict changes (the metrics subscribe). */
export interface QualityListener {
  /** A stream's raised issues changed (mask before and after). */
  onStreamChanged?(callSid: string, stream: StreamQuality, before: number, after: number): void;
  /** A call raised an issue for the first time. */
  onFirstRaised?(callSid: string, accountSid: string, issue: Issue): void;
}

/**
 * Live quality verdicts per call, fed by the sample store (a listener, so every sample is judged once, in
 * timestamp order per stream); keeps the fleet count of calls raising each issue up to date.
 */
export class CallQualityTracker implements SampleListener {
  readonly #rules: CompiledRules;
  readonly #calls = new Map<string, CallQuality>();
  // Each judged stream by the store's stream object, with its call's verdicts: one lookup in one table every sample
  // touches, instead of the call's map and then its stream map (per-call tables that are out of cache by the time
  // the call's next sample comes). Holds exactly the streams of #calls: both gain one in #stream and lose a call's
  // in onCallRemoved.
  readonly #byStream = new WeakMap<Readonly<StreamState>, { readonly q: CallQuality; readonly s: StreamQuality }>();
  // The calls raising an issue now: few, so the /metrics walk looks each call up here, in a table that stays in cache.
  readonly #raisingCalls = new Map<string, CallQuality>();
  readonly #fleet: FleetIssues;
  // Oldest first, bounded by #maxRemembered: insertion order is eviction order.
  readonly #removed = new Map<string, Remembered>();
  readonly #maxRemembered: number;
  readonly #raising = new Map<Issue, number>(ISSUES.map((i) => [i, 0]));
  readonly #listeners: QualityListener[] = [];

  /** Judges samples with the compiled rules. */
  constructor(rules: CompiledRules, options: CallQualityOptions = {}) {
    this.#rules = rules;
    this.#fleet = new FleetIssues(rules, options.accountSids ?? [], options.now ?? Date.now);
    this.#maxRemembered = options.maxRemembered ?? 10_000;
  }

  /** Subscribes to verdict changes. */
  addListener(listener: QualityListener): void {
    this.#listeners.push(listener);
  }

  /** The verdicts of a call, if it has samples. */
  get(callSid: string): Readonly<CallQuality> | undefined {
    return this.#calls.get(callSid);
  }

  /** The verdicts of a call if it raises an issue now. */
  raising(callSid: string): Readonly<CallQuality> | undefined {
    return this.#raisingCalls.size === 0 ? undefined : this.#raisingCalls.get(callSid);
  }

  /** Calls raising each issue now. */
  raisingCounts(): ReadonlyMap<Issue, number> {
    return this.#raising;
  }

  /** Calls raising, and calls that ever raised, each issue per edge and account (the fleet metrics read them). */
  issueCells(): Iterable<IssueCellView> {
    return this.#fleet.cells();
  }

  /** Judges the samples of one store batch, in the order applied. */
  onSamples(applied: AppliedSamples): void {
    const { samples, calls, streams } = applied;
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i]!;
      const call = calls[i]!;
      const judged = this.#byStream.get(streams[i]!) ?? this.#stream(sample, call, streams[i]!);
      this.#judge(sample, call, judged.q, judged.s);
    }
  }

  // The verdicts of a stream not judged since its call was tracked (or came back).
  #stream(sample: Sample, call: Readonly<CallState>, stream: Readonly<StreamState>): { readonly q: CallQuality; readonly s: StreamQuality } {
    let q = this.#calls.get(call.callSid);
    if (!q) this.#calls.set(call.callSid, (q = this.#newCall(call.callSid)));
    const key = streamKey(sample.edge, sample.direction);
    let s = q.streams.get(key);
    if (!s) {
      s = { edge: sample.edge, direction: sample.direction, verdicts: new StreamVerdicts(this.#rules, sample.edge), issueKeys: undefined };
      q.streams.set(key, s);
    }
    const judged = { q, s };
    this.#byStream.set(stream, judged);
    return judged;
  }

  #judge(sample: Sample, call: Readonly<CallState>, q: CallQuality, s: StreamQuality): void {
    if (!s.verdicts.judged || q.ended) return;
    const before = s.verdicts.raised;
    const after = s.verdicts.push(sample.values);
    if (before === after) return;
    s.issueKeys ??= ISSUES.map(() => ({}));
    for (const l of this.#listeners) l.onStreamChanged?.(call.callSid, s, before, after);
    let union = 0;
    let onEdge = 0;
    for (const other of q.streams.values()) {
      union |= other.verdicts.raised;
      if (other.edge === s.edge) onEdge |= other.verdicts.raised;
    }
    this.#setEdgeRaised(call.accountSid, q, s.edge, onEdge);
    this.#setRaised(call, q, union);
  }

  /**
   * A call ended (hung up, or silent past the timeout): a verdict says what a call suffers now, so it raises nothing
   * from here on. Its per-call verdicts go and the fleet's "now" counts drop it; what it raised once stays counted.
   * The call registry's listener hook, by shape: this stage does not depend on the registry.
   */
  onEnded(call: { readonly callSid: string; readonly accountSid: string }): void {
    let q = this.#calls.get(call.callSid);
    if (!q) this.#calls.set(call.callSid, (q = this.#newCall(call.callSid)));
    if (q.ended) return;
    for (const edge of q.edges.keys()) this.#setEdgeRaised(call.accountSid, q, edge, 0);
    this.#setRaised(call, q, 0);
    q.ended = true;
  }

  /** Forgets a removed call; the issues it raised stop counting. */
  onCallRemoved(call: Readonly<CallState>): void {
    const q = this.#calls.get(call.callSid);
    if (!q) return;
    for (const edge of q.edges.keys()) this.#setEdgeRaised(call.accountSid, q, edge, 0);
    this.#setRaised(call, q, 0);
    this.#calls.delete(call.callSid);
    for (const stream of call.streams.values()) this.#byStream.delete(stream);
    if (q.everRaised === 0) return;
    const edges = new Map<Edge, number>();
    for (const [edge, e] of q.edges) edges.set(edge, e.everRaised);
    this.#removed.set(call.callSid, { everRaised: q.everRaised, edges });
    if (this.#removed.size > this.#maxRemembered) this.#removed.delete(this.#removed.keys().next().value!);
  }

  // A call's verdicts start empty, but a call that comes back keeps what it raised before: it is counted once.
  #newCall(callSid: string): CallQuality {
    const q: CallQuality = { streams: new Map(), raised: 0, everRaised: 0, edges: new Map(), ended: false };
    const before = this.#removed.get(callSid);
    if (!before) return q;
    this.#removed.delete(callSid);
    q.everRaised = before.everRaised;
    for (const [edge, everRaised] of before.edges) q.edges.set(edge, { raised: 0, everRaised });
    return q;
  }

  #setEdgeRaised(accountSid: string, q: CallQuality, edge: Edge, mask: number): void {
    let e = q.edges.get(edge);
    if (!e) q.edges.set(edge, (e = { raised: 0, everRaised: 0 }));
    if (e.raised === mask) return;
    this.#fleet.change(accountSid, edge, e.raised, mask, mask & ~e.everRaised);
    e.raised = mask;
    e.everRaised |= mask;
  }

  #setRaised(call: { readonly callSid: string; readonly accountSid: string }, q: CallQuality, mask: number): void {
    const changed = q.raised ^ mask;
    if (changed === 0) return;
    for (const issue of ISSUES) {
      const bit = ISSUE_BIT[issue];
      if ((changed & bit) === 0) continue;
      this.#raising.set(issue, this.#raising.get(issue)! + ((mask & bit) !== 0 ? 1 : -1));
      if ((mask & bit) !== 0 && (q.everRaised & bit) === 0) {
        q.everRaised |= bit;
        for (const l of this.#listeners) l.onFirstRaised?.(call.callSid, call.accountSid, issue);
      }
    }
    if (q.raised === 0) this.#raisingCalls.set(call.callSid, q);
    else if (mask === 0) this.#raisingCalls.delete(call.callSid);
    q.raised = mask;
  }
}
