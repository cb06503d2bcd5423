import type { Attributes } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import type { CollectionResult, DataPoint, Histogram, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import { ValueType } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { SELF_METRICS, otelAttributeName } from './definitions.ts';
import type { MetricDefinition } from './definitions.ts';
import { hrTimeFromMs } from './otlp-writer.ts';

/** Options of the producer of the exporter's own metrics. */
export interface SelfProducerOptions {
  /** The prom-client registry holding the self metrics (the Prometheus exposition's). */
  readonly registry: Registry;
  /** Which definitions to produce. */
  readonly include: (def: MetricDefinition) => boolean;
  readonly scopeName: string;
  readonly scopeVersion: string;
  /** Clock, epoch ms [Date.now]. */
  readonly now?: () => number;
}

interface PromValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName?: string;
}

function attributesOf(labels: Record<string, string | number>, skip?: string): Attributes {
  const out: Attributes = {};
  for (const [name, value] of Object.entries(labels)) if (name !== skip) out[otelAttributeName(name)] = String(value);
  return out;
}

// prom-client reports a histogram as cumulative `_bucket` rows per label set plus `_sum` and `_count`.
function histogramPoints(def: MetricDefinition, values: readonly PromValue[], start: DataPoint<unknown>['startTime'], end: DataPoint<unknown>['endTime']): Array<DataPoint<Histogram>> {
  const bounds = [...(def.buckets ?? [])];
  const byLabels = new Map<string, { attributes: Attributes; cumulative: number[]; sum: number; count: number }>();
  for (const v of values) {
    const attributes = attributesOf(v.labels, 'le');
    const id = JSON.stringify(attributes);
    let s = byLabels.get(id);
    if (!s) byLabels.set(id, (s = { attributes, cumulative: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 }));
    if (v.metricName?.endsWith('_bucket')) {
      const le = v.labels['le'];
      const i = le === '+Inf' ? bounds.length : bounds.indexOf(Number(le));
      if (i >= 0) s.cumulative[i] = v.value;
    } else if (v.metricName?.endsWith('_sum')) s.sum = v.value;
    else if (v.metricName?.endsWith('_count')) s.count = v.value;
  }
  return [...byLabels.values()].map((s) => ({
    attributes: s.attributes,
    startTime: start,
    endTime: end,
    value: { buckets: { boundaries: bounds, counts: s.cumulative.map((c, i) => c - (i === 0 ? 0 : s.cumulative[i - 1]!)) }, sum: s.sum, count: s.count },
  }));
}

function toMetricData(def: MetricDefinition, values: readonly PromValue[], start: DataPoint<unknown>['startTime'], end: DataPoint<unknown>['endTime']): MetricData | undefined {
  if (values.length === 0) return undefined;
  const base = {
    descriptor: { name: def.otelName, description: def.help, unit: def.otelUnit, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
  };
  if (def.type === 'histogram') return { ...base, dataPointType: DataPointType.HISTOGRAM, dataPoints: histogramPoints(def, values, start, end) };
  // Gauges are a reading of now; counters count from when the exporter started.
  const dataPoints = values.map((v) => ({ attributes: attributesOf(v.labels), startTime: def.type === 'counter' ? start : end, endTime: end, value: v.value }));
  return def.type === 'counter'
    ? { ...base, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints }
    : { ...base, dataPointType: DataPointType.GAUGE, dataPoints };
}

/**
 * A MetricProducer that sends the exporter's own metrics (the `SELF_METRICS` rows, read from the prom-client
 * registry at each collection) under their OTel names and units, so an OTLP-only deployment sees the exporter's
 * health too. Process and runtime metrics stay Prometheus-only: OTel has its own runtime instrumentations.
 */
export function createSelfProducer(options: SelfProducerOptions): MetricProducer {
  const now = options.now ?? Date.now;
  const startTime = hrTimeFromMs(now());
  const byName = new Map<string, MetricDefinition>();
  for (const def of Object.values(SELF_METRICS) as MetricDefinition[]) if (options.include(def)) byName.set(def.name, def);
  return {
    async collect(): Promise<CollectionResult> {
      const endTime = hrTimeFromMs(now());
      const metrics: MetricData[] = [];
      for (const m of await options.registry.getMetricsAsJSON()) {
        const def = byName.get(m.name);
        const data = def && toMetricData(def, m.values as unknown as PromValue[], startTime, endTime);
        if (data) metrics.push(data);
      }
      return {
        resourceMetrics: {
          resource: emptyResource(),
          scopeMetrics: metrics.length === 0 ? [] : [{ scope: { name: options.scopeName, version: options.scopeVersion }, metrics }],
        },
        errors: [],
      };
    },
  };
}
