import type { CallType, Edge } from '../samples/sample.ts';
import { EDGES_BY_CALL_TYPE } from '../samples/sample.ts';

/** Milliseconds between two samples of one stream (each sample covers the previous 10 s). */
export const SAMPLE_INTERVAL_MS = 10_000;

/** The 2010 call statuses the simulator produces over a call's life. */
export type CallStatus = 'ringing' | 'in-progress' | 'completed' | 'canceled';

/** One simulated call. Only these few fields are stored: every sample is computed from them on demand. */
export interface SimCall {
  /** `CA` + 32 hex. */
  readonly sid: string;
  /** The owning account. */
  readonly accountSid: string;
  /** Voice Insights call type; decides the edges. */
  readonly type: CallType;
  /** Creation order, the sort key of `Calls.json`. */
  readonly seq: number;
  /** When the call was created (2010 `date_created`), epoch ms. */
  readonly createdMs: number;
  /** When the call was answered; the first sample window starts here, epoch ms. */
  readonly startMs: number;
  /** When the call ends, epoch ms; undefined while it has no end yet. */
  endMs: number | undefined;
  /** Whether quality episodes are frequent and severe on this call. */
  readonly degraded: boolean;
  /** Calling party. */
  readonly from: string;
  /** Called party. */
  readonly to: string;
  /** Codec name that replaces the derived one, when the call was created with one. */
  readonly codecName?: string;
  /** Media region that replaces the derived one, when the call was created with one. */
  readonly region?: string;
}

/** The 2010 status of a call at an instant. */
export function callStatusAt(call: SimCall, nowMs: number): CallStatus {
  if (call.endMs !== undefined && nowMs >= call.endMs) {
    return call.endMs <= call.startMs ? 'canceled' : 'completed';
  }
  return nowMs < call.startMs ? 'ringing' : 'in-progress';
}

/** The timestamp of sample `index` (0-based): the end of its window (10 s unless the stream says otherwise). */
export function sampleTimestampMs(call: Pick<SimCall, 'startMs'>, index: number, intervalMs = SAMPLE_INTERVAL_MS): number {
  return call.startMs + (index + 1) * intervalMs;
}

/**
 * How many samples per stream are visible at `nowMs`: sample k is visible once `now >= ts + lag`,
 * and no sample lies after the end of the call, so the set freezes once the call is over.
 */
export function visibleSampleCount(call: SimCall, nowMs: number, lagMs: number): number {
  const cutoff = Math.min(nowMs - lagMs, call.endMs ?? Number.POSITIVE_INFINITY);
  const count = Math.floor((cutoff - call.startMs) / SAMPLE_INTERVAL_MS);
  return Math.max(0, count);
}

/** The edges with data for a call (the first is its default edge). */
export function callEdges(call: Pick<SimCall, 'type'>): readonly Edge[] {
  return EDGES_BY_CALL_TYPE[call.type];
}

/** The edge a metrics or events request reads when it names none. */
export function defaultEdge(call: Pick<SimCall, 'type'>): Edge {
  const edge = EDGES_BY_CALL_TYPE[call.type][0];
  if (edge === undefined) throw new Error(`call type ${call.type} has no edges`);
  return edge;
}
