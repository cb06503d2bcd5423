import type { Direction, Edge } from '../samples/sample.ts';
import { hashString, unitAt } from './hash.ts';
import type { SimCall } from './sim-call.ts';
import { SAMPLE_INTERVAL_MS } from './sim-call.ts';
import type { SimulatorVariant } from './variant.ts';

/** The sample indices of one stream visible at an instant: `[0, prefix)` and then `extra` (ascending, all ≥ prefix). */
export interface StreamVisibility {
  /** Every index below this is visible. */
  readonly prefix: number;
  /** Visible indices at or above `prefix`, ascending: late samples leave holes among them. */
  readonly extra: readonly number[];
}

/** The variant settings visibility depends on. */
export type VisibilityVariant = Pick<SimulatorVariant, 'lagSeconds' | 'sdkSampleSeconds' | 'latePublication' | 'lateSeconds' | 'lateFraction'>;

/** Milliseconds between two samples of a stream of `edge`: 10 s on gateways, 1 s or 10 s on the SDK. */
export function sampleIntervalMs(edge: Edge, variant: Pick<SimulatorVariant, 'sdkSampleSeconds'>): number {
  return edge === 'sdk_edge' ? variant.sdkSampleSeconds * 1000 : SAMPLE_INTERVAL_MS;
}

// The shortest delay of a late sample: later than that, a newer sample is visible before it.
const MIN_LATE_MS = 30_000;

/**
 * How much later than the normal lag sample `index` of a stream becomes visible: under `direction` every
 * outbound gateway sample by `lateSeconds`; under `samples` a `lateFraction` of samples by 30 s..`lateSeconds`.
 * A pure function of the stream and index, so the same sample is late on every read.
 */
export function lateDelayMs(
  seed: number,
  call: Pick<SimCall, 'sid'>,
  edge: Edge,
  direction: Direction,
  index: number,
  variant: VisibilityVariant,
): number {
  const longest = Math.max(MIN_LATE_MS, variant.lateSeconds * 1000);
  if (variant.latePublication === 'direction') return direction === 'outbound' ? longest : 0;
  if (variant.latePublication !== 'samples') return 0;
  const key = hashString(`${seed}|late|${call.sid}|${edge}|${direction}`);
  if (unitAt(key, index, 1) >= variant.lateFraction) return 0;
  return Math.round(MIN_LATE_MS + unitAt(key, index, 2) * (longest - MIN_LATE_MS));
}

// Samples whose window ends at or before `cutoffMs` (and not after the call's end).
function countBefore(call: Pick<SimCall, 'startMs' | 'endMs'>, cutoffMs: number, intervalMs: number): number {
  const cutoff = Math.min(cutoffMs, call.endMs ?? Number.POSITIVE_INFINITY);
  return Math.max(0, Math.floor((cutoff - call.startMs) / intervalMs));
}

/**
 * Which samples of one stream are visible at `nowMs`: sample k (stamped `start + (k+1)·interval`) once
 * `now ≥ timestamp + lag + lateDelay(k)`, and none after the call's end. Only the last `lateSeconds` can
 * hold late samples, so the work is bounded by that window, not by the call's length.
 */
export function streamVisibility(
  seed: number,
  call: Pick<SimCall, 'sid' | 'startMs' | 'endMs'>,
  edge: Edge,
  direction: Direction,
  nowMs: number,
  variant: VisibilityVariant,
): StreamVisibility {
  const intervalMs = sampleIntervalMs(edge, variant);
  const lagMs = variant.lagSeconds * 1000;
  const onTime = countBefore(call, nowMs - lagMs, intervalMs);
  if (variant.latePublication === 'none') return { prefix: onTime, extra: [] };
  const longest = Math.max(MIN_LATE_MS, variant.lateSeconds * 1000);
  const prefix = Math.min(onTime, countBefore(call, nowMs - lagMs - longest, intervalMs));
  const extra: number[] = [];
  for (let index = prefix; index < onTime; index++) {
    const timestamp = call.startMs + (index + 1) * intervalMs;
    if (timestamp + lagMs + lateDelayMs(seed, call, edge, direction, index, variant) <= nowMs) extra.push(index);
  }
  return { prefix, extra };
}

/** Every visible index of a stream, ascending (for small streams and tests). */
export function visibleIndices(visibility: StreamVisibility): number[] {
  return [...Array.from({ length: visibility.prefix }, (_, i) => i), ...visibility.extra];
}
