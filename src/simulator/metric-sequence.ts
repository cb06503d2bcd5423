import type { Direction, Edge } from '../samples/sample.ts';
import type { ServedSample } from './ledger.ts';
import type { MetricRecord } from './metric-record.ts';
import type { StreamSpec } from './metric-stream.ts';
import { streamRecords } from './metric-stream.ts';
import type { StreamCheckpoints } from './stream-checkpoints.ts';
import type { StreamVisibility } from './visibility.ts';

const DIRECTION_RANK: Readonly<Record<Direction, number>> = { inbound: 0, both: 0, outbound: 1, unknown: 0 };

/** The records of one edge of one call, in ascending (timestamp, direction) order, addressed by key. */
export interface MetricSequence {
  /** Number of visible records. */
  readonly length: number;
  /** Sort key of the record at a position: `sampleIndex * 2 + directionRank`, stable as samples arrive. */
  readonly keyAt: (position: number) => number;
  /** The records at some positions, in the order given, with what the ledger needs to know. */
  readonly records: (positions: readonly number[]) => { records: MetricRecord[]; served: ServedSample[] };
}

/** One direction of an edge and which of its samples are visible. */
export interface VisibleStream {
  /** The direction. */
  readonly direction: Direction;
  /** Its visible sample indices. */
  readonly visibility: StreamVisibility;
}

/** Sequence settings that do not change which records exist. */
export interface SequenceOptions {
  /** Cache of running totals. */
  readonly checkpoints?: StreamCheckpoints;
  /** Window of one sample, ms. Default 10 000. */
  readonly intervalMs?: number;
}

/**
 * A lazy view of the visible samples of some directions of one edge, interleaved by time. Indices below
 * the common visible prefix are addressed by arithmetic; only the tail (where late samples leave holes)
 * is listed, so a long call costs no more than a short one. Nothing is generated until `records` is asked for.
 */
export function metricSequence(
  seed: number,
  call: StreamSpec['call'],
  edge: Edge,
  streams: readonly VisibleStream[],
  options: SequenceOptions = {},
): MetricSequence {
  const sorted = [...streams].sort((a, b) => DIRECTION_RANK[a.direction] - DIRECTION_RANK[b.direction]);
  const width = sorted.length;
  const prefix = width === 0 ? 0 : Math.min(...sorted.map((s) => s.visibility.prefix));
  const tail: Array<{ index: number; direction: Direction }> = [];
  for (const { direction, visibility } of sorted) {
    for (let index = prefix; index < visibility.prefix; index++) tail.push({ index, direction });
    for (const index of visibility.extra) tail.push({ index, direction });
  }
  const keyOf = (w: { index: number; direction: Direction }): number => w.index * 2 + DIRECTION_RANK[w.direction];
  tail.sort((a, b) => keyOf(a) - keyOf(b));
  const at = (position: number): { index: number; direction: Direction } => {
    if (position >= width * prefix) return tail[position - width * prefix] ?? { index: -1, direction: 'both' };
    return { index: Math.floor(position / width), direction: sorted[position % width]?.direction ?? 'both' };
  };
  return {
    length: width * prefix + tail.length,
    keyAt: (position) => keyOf(at(position)),
    records: (positions) => {
      const wanted = positions.map(at);
      const byDirection = new Map<Direction, Map<number, MetricRecord>>();
      for (const { direction } of sorted) {
        const indices = wanted.filter((w) => w.direction === direction).map((w) => w.index);
        if (indices.length === 0) continue;
        const from = Math.min(...indices);
        const spec: StreamSpec = { seed, call, edge, direction, ...options };
        const generated = streamRecords(spec, from, Math.max(...indices) + 1);
        byDirection.set(direction, new Map(generated.map((record, offset) => [from + offset, record])));
      }
      const records: MetricRecord[] = [];
      const served: ServedSample[] = [];
      for (const { index, direction } of wanted) {
        const record = byDirection.get(direction)?.get(index);
        if (record === undefined) continue;
        records.push(record);
        served.push({ callSid: call.sid, accountSid: call.accountSid, edge, direction, index, timestamp: record.timestamp });
      }
      return { records, served };
    },
  };
}
