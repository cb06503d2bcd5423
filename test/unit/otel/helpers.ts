import { AggregationTemporality, InMemoryMetricExporter } from '@opentelemetry/sdk-metrics';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { DEFAULTS } from '../../../src/config/index.ts';
import type { OtlpConfig } from '../../../src/config/index.ts';
import { createOtelExposition } from '../../../src/metrics/otel.ts';
import type { OtelExposition, OtelExpositionOptions } from '../../../src/metrics/otel.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';

// The same SIDs, clock and sample builder as the store, poller and Prometheus tests.
export { ACCOUNT_A as ACCOUNT, CALL_1, CALL_2, T0, sample } from '../store/sample-builder.ts';

/** A call SID numbered `i` (unique, valid shape). */
export function callSid(i: number): string {
  return `CA${i.toString(16).padStart(32, '0')}`;
}

/** The `otlp` config section, defaults as the schema gives them, overridable. */
export function otlpConfig(overrides: Partial<OtlpConfig> = {}): OtlpConfig {
  return {
    endpoint: 'http://127.0.0.1:9/v1/metrics',
    headers: {},
    exportIntervalMs: 15_000,
    exportTimeoutMs: 10_000,
    serviceName: DEFAULTS.otlpServiceName,
    ...overrides,
  };
}


/** An exposition over a fresh store, exporting into memory; collections happen only through `collect`. */
export interface Harness {
  readonly store: SampleStore;
  readonly exposition: OtelExposition;
  readonly memory: InMemoryMetricExporter;
  /** Active calls the `activeCalls` callback reports. */
  readonly active: Map<string, number>;
  /** Flushes once and returns its metrics by OTel name, requests of one flush joined (earlier exports are dropped). */
  collect(): Promise<Map<string, MetricData>>;
  /** The raw exports since the last `collect`. */
  exports(): ResourceMetrics[];
}

/** Builds a {@link Harness}; the store tracks calls from {@link T0}. */
export function harness(options: Partial<OtelExpositionOptions> = {}): Harness {
  const store = options.store ?? new SampleStore({ backfill: false });
  const memory = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const active = new Map<string, number>();
  const exposition = createOtelExposition({
    store,
    perCallSeries: true,
    activeCalls: () => active.entries(),
    // Long enough that only `collect` exports.
    otlp: otlpConfig({ exportIntervalMs: 3_600_000 }),
    accounts: 1,
    version: '9.9.9-test',
    env: {},
    exporter: memory,
    ...options,
  });
  if (!exposition) throw new Error('exposition disabled');
  store.addListener(exposition.listener);
  return {
    store,
    exposition,
    memory,
    active,
    exports: () => memory.getMetrics(),
    async collect(): Promise<Map<string, MetricData>> {
      memory.reset();
      await exposition.forceFlush();
      const all = memory.getMetrics();
      if (all.length === 0) throw new Error('nothing exported');
      return metricsByName(...all);
    },
  };
}

/** Metrics by name, the data points of a metric split over several requests joined; fails on a name twice in one request. */
export function metricsByName(...requests: ResourceMetrics[]): Map<string, MetricData> {
  const out = new Map<string, MetricData>();
  for (const rm of requests) {
    const seen = new Set<string>();
    for (const scope of rm.scopeMetrics) {
      for (const m of scope.metrics) {
        if (seen.has(m.descriptor.name)) throw new Error(`duplicate metric ${m.descriptor.name}`);
        seen.add(m.descriptor.name);
        const prior = out.get(m.descriptor.name);
        out.set(m.descriptor.name, prior ? ({ ...prior, dataPoints: [...prior.dataPoints, ...m.dataPoints] } as MetricData) : m);
      }
    }
  }
  return out;
}

/** Every data point's attributes in an export, over all metrics. */
export function allAttributeSets(metrics: Map<string, MetricData>): Array<Record<string, unknown>> {
  return [...metrics.values()].flatMap((m) => (m.dataPoints as Array<{ attributes: Record<string, unknown> }>).map((p) => p.attributes));
}
