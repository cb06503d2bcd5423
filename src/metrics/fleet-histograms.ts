import type { Direction, Edge, Sample } from '../samples/sample.ts';
import type { MetricDefinition } from './definitions.ts';
import type { ExpositionFormat } from './prometheus.ts';
import { escapeLabelValue, familyHeader, formatValue } from './text-format.ts';

// One (edge, direction, account) label set: bucket counts (not cumulative) and the newest exemplar of
// each bucket, in flat typed arrays so observing a sample allocates nothing.
interface Cell {
  readonly labels: string;
  samples: number;
  readonly counts: Float64Array[];
  readonly sums: Float64Array;
  readonly totals: Float64Array;
  readonly exemplarCall: string[][];
  readonly exemplarValue: Float64Array[];
  readonly exemplarTime: Float64Array[];
}

/**
 * The fleet histograms and the samples counter, kept by hand rather than through prom-client: observing
 * is on the ingest path of every sample, and prom-client's label hashing and exemplar objects cost more
 * than the rest of ingest together (bench/ingest.ts).
 */
export class FleetHistograms {
  readonly #defs: readonly MetricDefinition[];
  readonly #bounds: readonly (readonly number[])[];
  readonly #cells = new Map<Edge, Map<Direction, Map<string, Cell>>>();
  readonly #now: () => number;

  /** Creates empty histograms for the given fleet definitions (each with `buckets` and `extract`). */
  constructor(defs: readonly MetricDefinition[], now: () => number = Date.now) {
    this.#defs = defs;
    this.#bounds = defs.map((d) => d.buckets ?? []);
    this.#now = now;
  }

  #cell(edge: Edge, direction: Direction, accountSid: string): Cell {
    let byDirection = this.#cells.get(edge);
    if (!byDirection) this.#cells.set(edge, (byDirection = new Map<Direction, Map<string, Cell>>()));
    let byAccount = byDirection.get(direction);
    if (!byAccount) byDirection.set(direction, (byAccount = new Map<string, Cell>()));
    let cell = byAccount.get(accountSid);
    if (!cell) {
      const n = this.#defs.length;
      cell = {
        labels: `edge="${edge}",direction="${direction}",account_sid="${escapeLabelValue(accountSid)}"`,
        samples: 0,
        counts: this.#bounds.map((b) => new Float64Array(b.length + 1)),
        sums: new Float64Array(n),
        totals: new Float64Array(n),
        exemplarCall: this.#bounds.map((b) => new Array<string>(b.length + 1).fill('')),
        exemplarValue: this.#bounds.map((b) => new Float64Array(b.length + 1)),
        exemplarTime: this.#bounds.map((b) => new Float64Array(b.length + 1)),
      };
      byAccount.set(accountSid, cell);
    }
    return cell;
  }

  /** Counts one sample and observes each of its values once, with the call as the bucket's exemplar. */
  observe(sample: Sample, accountSid: string): void {
    const cell = this.#cell(sample.edge, sample.direction, accountSid);
    cell.samples++;
    let now = 0;
    for (let h = 0; h < this.#defs.length; h++) {
      const value = this.#defs[h]!.extract!(sample.values);
      if (value === undefined) continue;
      const bounds = this.#bounds[h]!;
      let b = 0;
      while (b < bounds.length && value > bounds[b]!) b++;
      cell.counts[h]![b]!++;
      cell.sums[h]! += value;
      cell.totals[h]!++;
      if (now === 0) now = this.#now();
      cell.exemplarCall[h]![b] = sample.callSid;
      cell.exemplarValue[h]![b] = value;
      cell.exemplarTime[h]![b] = now;
    }
  }

  /** Renders histogram `h` (index into the definitions) in a format; OpenMetrics carries the exemplars. */
  renderHistogram(h: number, format: ExpositionFormat): string {
    const def = this.#defs[h]!;
    const bounds = this.#bounds[h]!;
    const le = [...bounds.map((b) => formatValue(b)), '+Inf'];
    let out = familyHeader(def, format);
    for (const cell of this.#each()) {
      // A label set exists for a histogram only once it observed a value (gateway samples carry no MOS).
      if (cell.totals[h] === 0) continue;
      let cumulative = 0;
      const counts = cell.counts[h]!;
      for (let b = 0; b <= bounds.length; b++) {
        cumulative += counts[b]!;
        out += `${def.name}_bucket{le="${le[b]!}",${cell.labels}} ${cumulative}`;
        const call = cell.exemplarCall[h]![b]!;
        if (format === 'openmetrics' && call !== '') {
          out += ` # {call_sid="${escapeLabelValue(call)}"} ${formatValue(cell.exemplarValue[h]![b]!)} ${(cell.exemplarTime[h]![b]! / 1000).toFixed(3)}`;
        }
        out += '\n';
      }
      out += `${def.name}_sum{${cell.labels}} ${formatValue(cell.sums[h]!)}\n${def.name}_count{${cell.labels}} ${cell.totals[h]!}\n`;
    }
    return out;
  }

  /** Renders the samples counter under its definition. */
  renderSamples(def: MetricDefinition, format: ExpositionFormat): string {
    let out = familyHeader(def, format);
    for (const cell of this.#each()) out += `${def.name}{${cell.labels}} ${cell.samples}\n`;
    return out;
  }

  *#each(): Generator<Cell> {
    for (const byDirection of this.#cells.values()) {
      for (const byAccount of byDirection.values()) yield* byAccount.values();
    }
  }
}
