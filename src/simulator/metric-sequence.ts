import type { Direction, Edge } from '../samples/sample.ts';
import type { ServedSample } from './ledger.ts';
import type { MetricRecord } from './metric-record.ts';
import type { StreamSpec } from './metric-stream.ts';
import { streamRecords } from './metric-stream.ts';
import type { StreamCheckpoints } from './stream-checkpoints.ts';

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

/**
 * A lazy view of the first `count` samples of each of `directions` (all inbound/outbound/both of
 * `edge`), interleaved by time. Nothing is generated until `records` is asked for.
 */
export function metricSequence(
  seed: number,
  call: StreamSpec['call'],
  edge: Edge,
  directions: readonly Direction[],
  count: number,
  checkpoints?: StreamCheckpoints,
): MetricSequence {
  const sorted = [...directions].sort((a, b) => DIRECTION_RANK[a] - DIRECTION_RANK[b]);
  const width = sorted.length;
  const at = (position: number): { index: number; direction: Direction } => ({
    index: Math.floor(position / width),
    direction: sorted[position % width] ?? 'both',
  });
  return {
    length: width * count,
    keyAt: (position) => {
      const { index, direction } = at(position);
      return index * 2 + DIRECTION_RANK[direction];
    },
    records: (positions) => {
      const wanted = positions.map(at);
      const byDirection = new Map<Direction, Map<number, MetricRecord>>();
      for (const direction of sorted) {
        const indices = wanted.filter((w) => w.direction === direction).map((w) => w.index);
        if (indices.length === 0) continue;
        const from = Math.min(...indices);
        const spec: StreamSpec = { seed, call, edge, direction, ...(checkpoints === undefined ? {} : { checkpoints }) };
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
