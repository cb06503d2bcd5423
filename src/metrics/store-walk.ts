import type { CallQuality } from '../quality/call-quality.ts';
import type { IssueCellView } from '../quality/fleet-issues.ts';
import { ISSUES } from '../quality/thresholds.ts';
import { ISSUE_BIT } from '../quality/verdicts.ts';
import type { Direction, Edge, SampleValues } from '../samples/sample.ts';
import type { CallState, SampleStore, StreamState } from '../store/sample-store.ts';
import { SeenIntervals } from '../store/seen-intervals.ts';
import type { MetricDefinition } from './definitions.ts';
import type { FleetHistograms } from './fleet-histograms.ts';
import type { FleetCellView, Subject } from './subject.ts';

/**
 * Receives the series of one store walk. `family` indexes the plan's `families`; label values come from the
 * family's `labelValues` applied to `subject`, which the walk reuses, so a writer copies what it keeps.
 */
export interface MetricsWriter {
  /** One gauge or counter series. */
  value(family: number, subject: Readonly<Subject>, value: number): void;
  /** One histogram series: histogram `h` of the fleet aggregator's cell (at least one observation). */
  histogram(family: number, subject: Readonly<Subject>, cell: FleetCellView, h: number): void;
  /** Called before the first series and after each yield to the event loop (clocks may have moved). */
  slice?(): void;
}

/** A family list split by the walk loop that emits it, resolved once: every entry indexes `families`. */
export interface WalkPlan {
  readonly families: readonly MetricDefinition[];
  /** Per-stream families read by `value` alone (the sample time). */
  readonly stream: readonly number[];
  /** Per-stream families read from the stream's newest values: the walk calls their `extract` (`streamReads`) with them. */
  readonly streamValues: readonly number[];
  readonly streamReads: ReadonlyArray<(v: Readonly<SampleValues>) => number | undefined>;
  readonly call: readonly number[];
  readonly fleet: readonly number[];
  /** Fleet histogram families with the index of their histogram in the aggregator. */
  readonly histograms: ReadonlyArray<readonly [family: number, h: number]>;
  readonly account: readonly number[];
  /** Per-call verdict families: a series per issue a stream raises now. */
  readonly streamIssue: readonly number[];
  /** Fleet verdict families: a series per (issue, edge, account) cell. */
  readonly issue: readonly number[];
}

/** What the walk reads of the live quality verdicts (a CallQualityTracker). */
export interface QualityView {
  /** The verdicts of a call if it raises an issue now. */
  raising(callSid: string): Readonly<CallQuality> | undefined;
  /** The fleet verdict cells. */
  issueCells(): Iterable<IssueCellView>;
}

/** Whether a family is read from the live quality verdicts rather than the store (dropped when no tracker is given). */
export function readsVerdicts(def: MetricDefinition): boolean {
  return def.source === 'stream_issue' || def.source === 'issue';
}

/** What the walk reads: the store, the fleet aggregator and the active calls per account. */
export interface WalkInputs {
  readonly store: SampleStore;
  readonly fleet: FleetHistograms;
  readonly activeCalls: () => Iterable<readonly [string, number]>;
  /** The live quality verdicts, when the plan has verdict families. */
  readonly quality?: QualityView;
}

/** Splits families by walk loop; throws naming the family when it cannot be walked (no source, value or aggregator slot). */
export function planWalk(families: readonly MetricDefinition[], fleet: FleetHistograms): WalkPlan {
  const plan = {
    families,
    stream: [] as number[],
    streamValues: [] as number[],
    streamReads: [] as Array<(v: Readonly<SampleValues>) => number | undefined>,
    call: [] as number[],
    fleet: [] as number[],
    histograms: [] as Array<[number, number]>,
    account: [] as number[],
    streamIssue: [] as number[],
    issue: [] as number[],
  };
  families.forEach((def, f) => {
    if (!def.source || !def.labelValues) throw new Error(`metric ${def.name} is not read from the store (no source or labelValues)`);
    if (def.type === 'histogram') {
      const h = fleet.defs.indexOf(def);
      if (def.source !== 'fleet' || h < 0) throw new Error(`histogram ${def.name} is not one of the fleet aggregator's`);
      plan.histograms.push([f, h]);
      return;
    }
    if (!def.value) throw new Error(`metric ${def.name} has no value function`);
    if (def.source === 'stream' && def.extract) {
      // One call per series instead of two (`value` would call `extract`): most of a render's series are these.
      plan.streamValues.push(f);
      plan.streamReads.push(def.extract);
      return;
    }
    plan[def.source === 'stream_issue' ? 'streamIssue' : def.source].push(f);
  });
  return plan;
}

const NO_CALL: Readonly<CallState> = {
  callSid: '',
  accountSid: '',
  trackedAtMs: 0,
  callType: undefined,
  codecName: undefined,
  mediaRegion: undefined,
  streams: new Map(),
};
const NO_STREAM: Readonly<StreamState> = { edge: '' as Edge, direction: '' as Direction, lastTimestampMs: 0, values: {}, seen: new SeenIntervals() };
const NO_ISSUE_CELL: IssueCellView = { issue: 'high_rtt', edge: '' as Edge, accountSid: '', startMs: 0, raising: 0, raisedTotal: 0 };
const NO_CELL: FleetCellView = {
  edge: '' as Edge,
  direction: '' as Direction,
  accountSid: '',
  samples: 0,
  startMs: 0,
  counts: [],
  sums: new Float64Array(0),
  totals: new Float64Array(0),
  mins: new Float64Array(0),
  maxs: new Float64Array(0),
  exemplarCall: [],
  exemplarValue: [],
  exemplarTime: [],
};

function newSubject(): Subject {
  return { key: undefined, call: NO_CALL, stream: NO_STREAM, cell: NO_CELL, edge: '', direction: '', accountSid: '', startMs: Number.NaN, count: 0, issue: '', issueCell: NO_ISSUE_CELL };
}

function emitValues(families: readonly MetricDefinition[], list: readonly number[], s: Subject, writer: MetricsWriter): void {
  for (let i = 0; i < list.length; i++) {
    const f = list[i]!;
    const v = families[f]!.value!(s);
    if (v !== undefined) writer.value(f, s, v);
  }
}

// The issues each stream of the call raises now: one series per (stream, issue), keyed by the tracker's identities.
function emitIssues(plan: WalkPlan, q: Readonly<CallQuality>, s: Subject, writer: MetricsWriter): void {
  s.stream = NO_STREAM;
  for (const stream of q.streams.values()) {
    const raised = stream.verdicts.raised;
    if (raised === 0) continue;
    s.edge = stream.edge;
    s.direction = stream.direction;
    for (let i = 0; i < ISSUES.length; i++) {
      if ((raised & ISSUE_BIT[ISSUES[i]!]) === 0) continue;
      s.issue = ISSUES[i]!;
      s.key = stream.issueKeys?.[i];
      emitValues(plan.families, plan.streamIssue, s, writer);
    }
  }
  s.issue = '';
}

function emitCall(plan: WalkPlan, call: Readonly<CallState>, s: Subject, writer: MetricsWriter, quality: QualityView | undefined): void {
  s.call = call;
  s.accountSid = call.accountSid;
  s.startMs = call.trackedAtMs;
  s.key = call;
  s.stream = NO_STREAM;
  s.edge = '';
  s.direction = '';
  emitValues(plan.families, plan.call, s, writer);
  if (plan.stream.length > 0 || plan.streamValues.length > 0) {
    const { streamValues, streamReads } = plan;
    for (const stream of call.streams.values()) {
      s.key = stream;
      s.stream = stream;
      s.edge = stream.edge;
      s.direction = stream.direction;
      const values = stream.values;
      for (let i = 0; i < streamValues.length; i++) {
        const v = streamReads[i]!(values);
        if (v !== undefined) writer.value(streamValues[i]!, s, v);
      }
      emitValues(plan.families, plan.stream, s, writer);
    }
  }
  if (plan.streamIssue.length === 0 || !quality) return;
  const q = quality.raising(call.callSid);
  if (q) emitIssues(plan, q, s, writer);
}

const nextTurn = (): Promise<void> => new Promise<void>((resume) => setImmediate(resume));

function walkAllCalls(plan: WalkPlan, inputs: WalkInputs, s: Subject, writer: MetricsWriter): void {
  for (const call of inputs.store.calls()) emitCall(plan, call, s, writer, inputs.quality);
}

async function walkCalls(plan: WalkPlan, inputs: WalkInputs, s: Subject, writer: MetricsWriter, callsPerSlice: number | undefined): Promise<void> {
  if (callsPerSlice === undefined) {
    walkAllCalls(plan, inputs, s, writer);
    return;
  }
  const { store } = inputs;
  // A snapshot, so calls added or removed while this yields do not disturb the walk.
  const calls = [...store.calls()];
  for (let i = 0; i < calls.length; i++) {
    if (i > 0 && i % callsPerSlice === 0) {
      await nextTurn();
      writer.slice?.();
    }
    const call = calls[i]!;
    // Removed while the walk yielded: it is already gone from the other outputs, so from this one too.
    if (store.get(call.callSid) === call) emitCall(plan, call, s, writer, inputs.quality);
  }
}

function walkFleet(plan: WalkPlan, fleet: FleetHistograms, s: Subject, writer: MetricsWriter): void {
  if (plan.histograms.length === 0 && plan.fleet.length === 0) return;
  s.call = NO_CALL;
  s.stream = NO_STREAM;
  for (const cell of fleet.cells()) {
    s.key = cell;
    s.cell = cell;
    s.edge = cell.edge;
    s.direction = cell.direction;
    s.accountSid = cell.accountSid;
    s.startMs = cell.startMs;
    for (const [f, h] of plan.histograms) {
      // A label set exists for a histogram only once it observed a value (gateway samples carry no MOS).
      if (cell.totals[h]! > 0) writer.histogram(f, s, cell, h);
    }
    emitValues(plan.families, plan.fleet, s, writer);
  }
  s.cell = NO_CELL;
}

function walkIssueCells(plan: WalkPlan, quality: QualityView, s: Subject, writer: MetricsWriter): void {
  s.call = NO_CALL;
  s.stream = NO_STREAM;
  s.direction = '';
  for (const cell of quality.issueCells()) {
    s.key = cell;
    s.issueCell = cell;
    s.issue = cell.issue;
    s.edge = cell.edge;
    s.accountSid = cell.accountSid;
    s.startMs = cell.startMs;
    emitValues(plan.families, plan.issue, s, writer);
  }
  s.issueCell = NO_ISSUE_CELL;
  s.issue = '';
}

/**
 * Walks the store (with each call's raised issues), the fleet cells, the fleet verdict cells and the active calls once, handing each series of the plan's families to
 * `writer` without allocating per series. With `callsPerSlice` the call loop yields to the event loop after each
 * slice (a large store never stalls polling or scraping) and skips calls removed meanwhile.
 */
export async function walkStore(plan: WalkPlan, inputs: WalkInputs, writer: MetricsWriter, callsPerSlice?: number): Promise<void> {
  const s = newSubject();
  writer.slice?.();
  if (plan.stream.length > 0 || plan.streamValues.length > 0 || plan.call.length > 0 || plan.streamIssue.length > 0) await walkCalls(plan, inputs, s, writer, callsPerSlice);
  walkFleet(plan, inputs.fleet, s, writer);
  if (plan.issue.length > 0 && inputs.quality) walkIssueCells(plan, inputs.quality, s, writer);
  if (plan.account.length === 0) return;
  s.call = NO_CALL;
  s.stream = NO_STREAM;
  s.key = undefined;
  s.edge = '';
  s.direction = '';
  s.startMs = Number.NaN;
  for (const [accountSid, n] of inputs.activeCalls()) {
    s.accountSid = accountSid;
    s.count = n;
    emitValues(plan.families, plan.account, s, writer);
  }
}
