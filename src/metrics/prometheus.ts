import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OpenMetricsContentType } from 'prom-client';
import {
  CALL_INFO,
  CALL_METRICS,
  CALL_SAMPLE_TIMESTAMP,
  FLEET_ACTIVE_CALLS,
  FLEET_HISTOGRAMS,
  FLEET_SAMPLES,
  SELF_METRICS,
} from './definitions.ts';
import type { MetricDefinition } from './definitions.ts';
import type { CallState, SampleListener, SampleStore } from '../store/sample-store.ts';
import type { Sample } from '../samples/sample.ts';

/** The exposition formats `/metrics` negotiates. */
export type ExpositionFormat = 'text' | 'openmetrics';

/** A rendered exposition with its content type. */
export interface RenderedExposition {
  readonly contentType: string;
  readonly body: string;
}

type SelfKey = keyof typeof SELF_METRICS;
type SelfMetricOf<K extends SelfKey> = (typeof SELF_METRICS)[K]['type'] extends 'counter'
  ? Counter<string>
  : (typeof SELF_METRICS)[K]['type'] extends 'histogram'
    ? Histogram<string>
    : Gauge<string>;

/** The exporter's own metrics as prom-client instruments, keyed like `SELF_METRICS`. */
export type SelfMetrics = { readonly [K in SelfKey]: SelfMetricOf<K> };

/** Options of the Prometheus exposition. */
export interface PrometheusExpositionOptions {
  /** The store whose calls are rendered at scrape time. */
  readonly store: SampleStore;
  /** Render per-call series [true]; fleet aggregates are always rendered. */
  readonly perCallSeries: boolean;
  /** Active (not ended) calls per account, read at scrape time. */
  readonly activeCalls: () => Iterable<readonly [string, number]>;
  /** Which metric definitions to expose (allow/deny lists); all by default. */
  readonly include?: (def: MetricDefinition) => boolean;
  /** Exporter version for build_info. */
  readonly version: string;
}

/** Prometheus exposition of the store and the exporter's own metrics, over dedicated registries. */
export interface PrometheusExposition {
  /** The Prometheus text registry (tests and lint read it). */
  readonly registry: Registry;
  /** Handles to the exporter's own metrics. */
  readonly self: SelfMetrics;
  /** Feeds the fleet aggregates: add it to the store. */
  readonly listener: SampleListener;
  /** Renders the whole exposition in a format. */
  render(format: ExpositionFormat): Promise<RenderedExposition>;
}

interface MetricValue {
  labels: Readonly<Record<string, string | number>>;
  value: number;
}

interface CollectedMetric {
  name: string;
  help: string;
  type: string;
  values: MetricValue[];
  aggregator: 'sum';
}

// A family computed from the store at scrape time, in the shape prom-client's Registry renders.
interface StoreFamily {
  name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: 'sum';
  get(): Promise<CollectedMetric>;
}

function storeFamily(def: MetricDefinition, collect: () => MetricValue[]): StoreFamily {
  const family: StoreFamily = {
    name: def.name,
    help: def.help,
    type: def.type,
    aggregator: 'sum',
    get: () => Promise.resolve({ name: family.name, help: def.help, type: def.type, values: collect(), aggregator: 'sum' }),
  };
  return family;
}

// prom-client strips `_total` off a counter's `name` in place when rendering OpenMetrics; a view per
// metric keeps the text registry's objects untouched.
interface RegistryMetric {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  get(): Promise<unknown>;
  getForPromString?: () => Promise<unknown>;
}

function openMetricsView(metric: RegistryMetric): RegistryMetric {
  const view: RegistryMetric = {
    name: metric.name,
    help: metric.help,
    type: metric.type,
    aggregator: metric.aggregator,
    get: async () => ({ ...(await (metric.getForPromString ?? metric.get).call(metric) as object), name: view.name }),
  };
  return view;
}

function createSelfMetrics(): SelfMetrics {
  const out: Record<string, Counter<string> | Gauge<string> | Histogram<string>> = {};
  for (const [key, def] of Object.entries(SELF_METRICS) as [SelfKey, MetricDefinition][]) {
    const common = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [] };
    if (def.type === 'counter') out[key] = new Counter(common);
    else if (def.type === 'histogram') out[key] = new Histogram({ ...common, buckets: [...(def.buckets ?? [])] });
    else out[key] = new Gauge(common);
  }
  return out as unknown as SelfMetrics;
}

/** Builds the Prometheus exposition: per-call families rendered from the store, fleet histograms observed once per sample. */
export function createPrometheusExposition(options: PrometheusExpositionOptions): PrometheusExposition {
  const include = options.include ?? (() => true);
  const { store } = options;
  const textRegistry = new Registry();
  const omRegistry = new Registry<OpenMetricsContentType>();
  omRegistry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const register = (metric: RegistryMetric, def: MetricDefinition): void => {
    if (!include(def)) return;
    textRegistry.registerMetric(metric as never);
    omRegistry.registerMetric(openMetricsView(metric) as never);
  };

  if (options.perCallSeries) {
    for (const def of CALL_METRICS) {
      const extract = def.extract!;
      register(
        storeFamily(def, () => {
          const values: MetricValue[] = [];
          for (const call of store.calls()) {
            for (const stream of call.streams.values()) {
              const value = extract(stream.values);
              if (value !== undefined) values.push({ labels: stream.labels, value });
            }
          }
          return values;
        }),
        def,
      );
    }
    register(
      storeFamily(CALL_SAMPLE_TIMESTAMP, () => {
        const values: MetricValue[] = [];
        for (const call of store.calls()) {
          for (const stream of call.streams.values()) {
            values.push({ labels: stream.labels, value: stream.lastTimestampMs / 1000 });
          }
        }
        return values;
      }),
      CALL_SAMPLE_TIMESTAMP,
    );
    register(
      storeFamily(CALL_INFO, () => {
        const values: MetricValue[] = [];
        for (const call of store.calls()) {
          values.push({ labels: infoLabels(call), value: 1 });
        }
        return values;
      }),
      CALL_INFO,
    );
  }

  const histograms = FLEET_HISTOGRAMS.map((def) => {
    const h = new Histogram({
      name: def.name,
      help: def.help,
      labelNames: [...def.labels],
      buckets: [...(def.buckets ?? [])],
      registers: [],
      enableExemplars: true,
    });
    register(h as unknown as RegistryMetric, def);
    return { def, h, extract: def.extract! };
  });
  const samples = new Counter({ name: FLEET_SAMPLES.name, help: FLEET_SAMPLES.help, labelNames: [...FLEET_SAMPLES.labels], registers: [] });
  register(samples as unknown as RegistryMetric, FLEET_SAMPLES);
  register(
    storeFamily(FLEET_ACTIVE_CALLS, () => [...options.activeCalls()].map(([account_sid, n]) => ({ labels: { account_sid }, value: n }))),
    FLEET_ACTIVE_CALLS,
  );

  const self = createSelfMetrics();
  for (const [key, def] of Object.entries(SELF_METRICS) as [SelfKey, MetricDefinition][]) {
    register(self[key] as unknown as RegistryMetric, def);
  }
  self.buildInfo.set({ version: options.version, nodejs_version: process.version }, 1);

  const listener: SampleListener = {
    onSample(sample: Sample, call: Readonly<CallState>, observe: boolean): void {
      if (!observe) return;
      const labels = { edge: sample.edge, direction: sample.direction, account_sid: call.accountSid };
      const exemplarLabels = { call_sid: call.callSid };
      for (const { h, extract } of histograms) {
        const value = extract(sample.values);
        if (value !== undefined) h.observe({ labels, value, exemplarLabels });
      }
      samples.inc(labels);
    },
    onCallRemoved(call: Readonly<CallState>): void {
      self.callPollSuccess.remove({ call_sid: call.callSid });
    },
  };

  return {
    registry: textRegistry,
    self,
    listener,
    async render(format: ExpositionFormat): Promise<RenderedExposition> {
      const end = self.renderDuration.startTimer({ format });
      const registry: Registry<OpenMetricsContentType> | Registry = format === 'openmetrics' ? omRegistry : textRegistry;
      const body = await registry.metrics();
      end();
      return { contentType: registry.contentType, body };
    },
  };
}

function infoLabels(call: Readonly<CallState>): Record<string, string> {
  return {
    call_sid: call.callSid,
    account_sid: call.accountSid,
    call_type: call.callType ?? '',
    codec_name: call.codecName ?? '',
    media_region: call.mediaRegion ?? '',
  };
}
