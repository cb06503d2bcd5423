import { ValueType } from '@opentelemetry/api';
import type { Attributes, HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { otelAttributeName } from './definitions.ts';
import type { MetricDefinition } from './definitions.ts';
import type { MetricsWriter } from './store-walk.ts';
import type { FleetCellView, LabelValue, Subject } from './subject.ts';

/** Epoch milliseconds as an OTel HrTime. */
export function hrTimeFromMs(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

// Families with the same label list share one attributes object per subject key, as the SDK would.
interface Group {
  readonly values: readonly LabelValue[];
  readonly names: readonly string[];
  lastKey: object | undefined;
  last: Attributes;
}

function attributes(g: Group, s: Readonly<Subject>): Attributes {
  const out: Attributes = {};
  for (let i = 0; i < g.values.length; i++) {
    const v = g.values[i]!.read(s);
    // Unknown values are left out rather than sent as "".
    if (v !== undefined && v !== '') out[g.names[i]!] = v;
  }
  return out;
}

function metricData(def: MetricDefinition, dataPoints: Array<DataPoint<number>> | Array<DataPoint<Histogram>>): MetricData {
  const base = {
    descriptor: { name: def.otelName, description: def.help, unit: def.otelUnit, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
  };
  if (def.type === 'histogram') return { ...base, dataPointType: DataPointType.HISTOGRAM, dataPoints: dataPoints as Array<DataPoint<Histogram>> };
  const points = dataPoints as Array<DataPoint<number>>;
  return def.type === 'counter'
    ? { ...base, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: points }
    : { ...base, dataPointType: DataPointType.GAUGE, dataPoints: points };
}

/**
 * Writes the walked families as OTLP data points (cumulative): gauges, monotonic sums, and the fleet histograms
 * straight from the aggregator's cells. A series' start time is when its count started (the call's tracking time,
 * the cell's creation), so consumers that read start times see one uninterrupted series (no false resets).
 */
export class OtlpPointWriter implements MetricsWriter {
  readonly #families: readonly MetricDefinition[];
  readonly #now: () => number;
  readonly #points: Array<Array<DataPoint<unknown>>>;
  readonly #groupOf: readonly Group[];
  readonly #bounds: ReadonlyArray<readonly number[]>;
  #nowMs = 0;
  #endTime: HrTime = [0, 0];
  #startMs = Number.NaN;
  #startTime: HrTime = [0, 0];

  /** A writer for one collection of `families` (a walk plan's); `now` is read at each slice. */
  constructor(families: readonly MetricDefinition[], now: () => number) {
    this.#families = families;
    this.#now = now;
    this.#points = families.map(() => []);
    const groups = new Map<string, Group>();
    this.#groupOf = families.map((d) => {
      const id = d.labels.join(',');
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { values: d.labelValues ?? [], names: d.labels.map(otelAttributeName), lastKey: undefined, last: {} }));
      return g;
    });
    this.#bounds = families.map((d) => [...(d.buckets ?? [])]);
  }

  /** Reads the clock: points written from here on end now. */
  slice(): void {
    this.#nowMs = this.#now();
    this.#endTime = hrTimeFromMs(this.#nowMs);
    this.#startMs = Number.NaN;
  }

  #attributes(f: number, s: Readonly<Subject>): Attributes {
    const g = this.#groupOf[f]!;
    if (s.key === undefined || s.key !== g.lastKey) {
      g.last = attributes(g, s);
      g.lastKey = s.key;
    }
    return g.last;
  }

  #start(s: Readonly<Subject>): HrTime {
    const ms = Number.isNaN(s.startMs) ? this.#nowMs : Math.min(s.startMs, this.#nowMs);
    if (ms !== this.#startMs) {
      this.#startMs = ms;
      this.#startTime = ms === this.#nowMs ? this.#endTime : hrTimeFromMs(ms);
    }
    return this.#startTime;
  }

  /** One gauge or sum point. */
  value(f: number, s: Readonly<Subject>, value: number): void {
    this.#points[f]!.push({ attributes: this.#attributes(f, s), startTime: this.#start(s), endTime: this.#endTime, value });
  }

  /** One histogram point from a fleet cell. */
  histogram(f: number, s: Readonly<Subject>, cell: FleetCellView, h: number): void {
    const value: Histogram = {
      buckets: { boundaries: this.#bounds[f] as number[], counts: Array.from(cell.counts[h]!) },
      sum: cell.sums[h]!,
      count: cell.totals[h]!,
      min: cell.mins[h]!,
      max: cell.maxs[h]!,
    };
    this.#points[f]!.push({ attributes: this.#attributes(f, s), startTime: this.#start(s), endTime: this.#endTime, value });
  }

  /** The families that got at least one point, in table order. */
  metrics(): MetricData[] {
    const out: MetricData[] = [];
    for (let f = 0; f < this.#families.length; f++) {
      const points = this.#points[f]!;
      if (points.length > 0) out.push(metricData(this.#families[f]!, points as Array<DataPoint<number>>));
    }
    return out;
  }
}
