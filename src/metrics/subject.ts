import type { Direction, Edge } from '../samples/sample.ts';
import type { IssueCellView } from '../quality/fleet-issues.ts';
import type { CallState, StreamState } from '../store/sample-store.ts';

/** A fleet aggregate cell as the store walk reads it: one (edge, direction, account) label set. */
export interface FleetCellView {
  readonly edge: Edge;
  readonly direction: Direction;
  readonly accountSid: string;
  /** Samples observed into the cell. */
  readonly samples: number;
  /** When the cell was created, epoch ms: the start of its cumulative series. */
  readonly startMs: number;
  /** Per histogram: observation counts per bucket (not cumulative; the last is +Inf). */
  readonly counts: readonly Float64Array[];
  readonly sums: Float64Array;
  readonly totals: Float64Array;
  readonly mins: Float64Array;
  readonly maxs: Float64Array;
  /** Per histogram and bucket: the call, value and time (epoch ms) of the newest observation ('' when none). */
  readonly exemplarCall: readonly (readonly string[])[];
  readonly exemplarValue: readonly Float64Array[];
  readonly exemplarTime: readonly Float64Array[];
}

/**
 * What one series is about, as the store walk presents it to label and value functions and to writers. The walk
 * overwrites one instance in place between series (no allocation per series), so never keep a reference to it.
 */
export interface Subject {
  /** The object the label set belongs to (stream, call or fleet cell), undefined when none; writers cache label text by it. */
  key: object | undefined;
  /** The call (a placeholder with empty fields for fleet and account series). */
  call: Readonly<CallState>;
  /** The stream (a placeholder outside stream series). */
  stream: Readonly<StreamState>;
  /** The fleet cell (a placeholder outside fleet series). */
  cell: FleetCellView;
  edge: string;
  direction: string;
  accountSid: string;
  /** Where the series' cumulative count starts, epoch ms (tracking time, cell creation), or NaN for "now". */
  startMs: number;
  /** A number the walk read for the series (the active calls of an account). */
  count: number;
  /** The quality issue of a verdict series ('' outside them). */
  issue: string;
  /** The fleet verdict cell (a placeholder outside fleet verdict series). */
  issueCell: IssueCellView;
}

/** Reads one label's value from a subject; undefined means unknown (Prometheus writes "", OTLP leaves it out). */
export interface LabelValue {
  readonly name: string;
  readonly read: (s: Readonly<Subject>) => string | undefined;
  /** True when the value never changes over the life of the subject's key, so writers may cache it. */
  readonly stable: boolean;
}

const label = (name: string, read: LabelValue['read'], stable: boolean): LabelValue => ({ name, read, stable });

/**
 * Every label a store-walked family may carry and where its value comes from. A family lists label names in its
 * row; adding a name that is here is the whole change (a new label kind is one entry here and one in `otelAttributeName`).
 */
export const LABEL_VALUES: Readonly<Record<string, LabelValue>> = {
  call_sid: label('call_sid', (s) => s.call.callSid, true),
  account_sid: label('account_sid', (s) => s.accountSid, true),
  edge: label('edge', (s) => s.edge, true),
  direction: label('direction', (s) => s.direction, true),
  call_type: label('call_type', (s) => s.call.callType, false),
  codec_name: label('codec_name', (s) => s.call.codecName, false),
  media_region: label('media_region', (s) => s.call.mediaRegion, false),
  issue: label('issue', (s) => s.issue, true),
  processing_state: label('processing_state', (s) => s.call.summary?.processingState, false),
};

/** The value readers of a label list, in order; throws naming the label when one is unknown, so a bad table row fails at load. */
export function labelValues(labels: readonly string[]): readonly LabelValue[] {
  return labels.map((name) => {
    if (!Object.hasOwn(LABEL_VALUES, name)) throw new Error(`metric label "${name}" has no value source in LABEL_VALUES`);
    return LABEL_VALUES[name]!;
  });
}
