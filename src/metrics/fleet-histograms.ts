import type { Direction, Edge, Sample } from '../samples/sample.ts';
import type { AppliedSamples } from '../store/sample-store.ts';
import type { MetricDefinition } from './definitions.ts';
import type { FleetCellView } from './subject.ts';

// One (edge, direction, account) label set: bucket counts (not cumulative), sum, count, min, max and the newest
// exemplar of each bucket, in flat typed arrays so observing a sample allocates nothing.
interface Cell extends FleetCellView {
  samples: number;
  readonly exemplarCall: string[][];
}

/**
 * The fleet histograms and the samples counter: the one aggregator both the Prometheus and the OTLP writer read.
 * Kept by hand rather than through prom-client or OTel SDK instruments: observing is on the ingest path of every
 * sample, and their label hashing and exemplar objects cost more than the rest of ingest together (bench/ingest.ts).
 */
export class FleetHistograms {
  /** The histogram definitions, in the order of each cell's arrays. */
  readonly defs: readonly MetricDefinition[];
  readonly #bounds: readonly (readonly number[])[];
  readonly #cells = new Map<Edge, Map<Direction, Map<string, Cell>>>();
  readonly #now: () => number;
  // The two cells observed last: a page alternates at most between the two directions of one edge and account.
  #recent: Cell | undefined;
  #before: Cell | undefined;

  /** Creates empty histograms for the given fleet definitions (each with `buckets` and `extract`). */
  constructor(defs: readonly MetricDefinition[], now: () => number = Date.now) {
    this.defs = defs;
    this.#bounds = defs.map((d) => d.buckets ?? []);
    this.#now = now;
  }

  #cell(edge: Edge, direction: Direction, accountSid: string): Cell {
    const recent = this.#recent;
    if (recent !== undefined && recent.edge === edge && recent.direction === direction && recent.accountSid === accountSid) return recent;
    const before = this.#before;
    this.#before = recent;
    if (before !== undefined && before.edge === edge && before.direction === direction && before.accountSid === accountSid) return (this.#recent = before);
    return (this.#recent = this.#lookup(edge, direction, accountSid));
  }

  #lookup(edge: Edge, direction: Direction, accountSid: string): Cell {
    let byDirection = this.#cells.get(edge);
    if (!byDirection) this.#cells.set(edge, (byDirection = new Map<Direction, Map<string, Cell>>()));
    let byAccount = byDirection.get(direction);
    if (!byAccount) byDirection.set(direction, (byAccount = new Map<string, Cell>()));
    let cell = byAccount.get(accountSid);
    if (!cell) {
      const n = this.defs.length;
      cell = {
        edge,
        direction,
        accountSid,
        samples: 0,
        startMs: this.#now(),
        counts: this.#bounds.map((b) => new Float64Array(b.length + 1)),
        sums: new Float64Array(n),
        totals: new Float64Array(n),
        mins: new Float64Array(n).fill(Number.POSITIVE_INFINITY),
        maxs: new Float64Array(n).fill(Number.NEGATIVE_INFINITY),
        exemplarCall: this.#bounds.map((b) => new Array<string>(b.length + 1).fill('')),
        exemplarValue: this.#bounds.map((b) => new Float64Array(b.length + 1)),
        exemplarTime: this.#bounds.map((b) => new Float64Array(b.length + 1)),
      };
      byAccount.set(accountSid, cell);
    }
    return cell;
  }

  /** Observes the samples of one store apply that belong in the fleet aggregates (`observe`): the fleet listener's work. */
  observeApplied(applied: AppliedSamples): void {
    const { samples, calls, observe } = applied;
    for (let i = 0; i < samples.length; i++) if (observe[i]) this.observe(samples[i]!, calls[i]!.accountSid);
  }

  /** Counts one sample and observes each of its values once, with the call as the bucket's exemplar. */
  observe(sample: Sample, accountSid: string): void {
    const cell = this.#cell(sample.edge, sample.direction, accountSid);
    cell.samples++;
    let now = 0;
    for (let h = 0; h < this.defs.length; h++) {
      const value = this.defs[h]!.extract!(sample.values);
      if (value === undefined) continue;
      const bounds = this.#bounds[h]!;
      let b = 0;
      while (b < bounds.length && value > bounds[b]!) b++;
      cell.counts[h]![b]!++;
      cell.sums[h]! += value;
      cell.totals[h]!++;
      if (value < cell.mins[h]!) cell.mins[h] = value;
      if (value > cell.maxs[h]!) cell.maxs[h] = value;
      if (now === 0) now = this.#now();
      cell.exemplarCall[h]![b] = sample.callSid;
      cell.exemplarValue[h]![b] = value;
      cell.exemplarTime[h]![b] = now;
    }
  }

  /** Every cell, by edge, direction and account in creation order. */
  *cells(): Generator<FleetCellView> {
    for (const byDirection of this.#cells.values()) {
      for (const byAccount of byDirection.values()) yield* byAccount.values();
    }
  }
}
