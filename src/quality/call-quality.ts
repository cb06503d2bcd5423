import { streamKey } from '../samples/sample.ts';
import type { Direction, Edge, Sample } from '../samples/sample.ts';
import type { CallState, SampleListener } from '../store/sample-store.ts';
import { ISSUES } from './thresholds.ts';
import type { Issue } from './thresholds.ts';
import { ISSUE_BIT, StreamVerdicts } from './verdicts.ts';
import type { CompiledRules } from './verdicts.ts';

/** The verdicts of one stream of a call. */
export interface StreamQuality {
  readonly edge: Edge;
  readonly direction: Direction;
  readonly verdicts: StreamVerdicts;
}

/** The verdicts of one call. */
export interface CallQuality {
  /** By `edge/direction`. */
  readonly streams: Map<string, StreamQuality>;
  /** Issues raised now by any stream, as a mask. */
  raised: number;
  /** Issues raised at least once since tracking started, as a mask. */
  everRaised: number;
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
  readonly #raising = new Map<Issue, number>(ISSUES.map((i) => [i, 0]));
  readonly #listeners: QualityListener[] = [];

  /** Judges samples with the compiled rules. */
  constructor(rules: CompiledRules) {
    this.#rules = rules;
  }

  /** Subscribes to verdict changes. */
  addListener(listener: QualityListener): void {
    this.#listeners.push(listener);
  }

  /** The verdicts of a call, if it has samples. */
  get(callSid: string): Readonly<CallQuality> | undefined {
    return this.#calls.get(callSid);
  }

  /** Calls raising each issue now. */
  raisingCounts(): ReadonlyMap<Issue, number> {
    return this.#raising;
  }

  /** Judges one applied sample. */
  onSample(sample: Sample, call: Readonly<CallState>): void {
    let q = this.#calls.get(call.callSid);
    if (!q) this.#calls.set(call.callSid, (q = { streams: new Map(), raised: 0, everRaised: 0 }));
    const key = streamKey(sample.edge, sample.direction);
    let s = q.streams.get(key);
    if (!s) q.streams.set(key, (s = { edge: sample.edge, direction: sample.direction, verdicts: new StreamVerdicts(this.#rules, sample.edge) }));
    if (!s.verdicts.judged) return;
    const before = s.verdicts.raised;
    const after = s.verdicts.push(sample.values);
    if (before === after) return;
    for (const l of this.#listeners) l.onStreamChanged?.(call.callSid, s, before, after);
    let union = 0;
    for (const other of q.streams.values()) union |= other.verdicts.raised;
    this.#setRaised(call, q, union);
  }

  /** Forgets a removed call; the issues it raised stop counting. */
  onCallRemoved(call: Readonly<CallState>): void {
    const q = this.#calls.get(call.callSid);
    if (!q) return;
    this.#setRaised(call, q, 0);
    this.#calls.delete(call.callSid);
  }

  #setRaised(call: Readonly<CallState>, q: CallQuality, mask: number): void {
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
    q.raised = mask;
  }
}
