import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OpenMetricsContentType } from 'prom-client';
import { FLEET_HISTOGRAMS, SELF_METRICS, STORE_FAMILIES } from './definitions.ts';
import type { MetricDefinition } from './definitions.ts';
import { FleetHistograms } from './fleet-histograms.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { LabelTextCache, PrometheusTextWriter } from './prometheus-writer.ts';
import { RenderedExposition } from './rendered.ts';
import { planWalk, readsVerdicts, walkStore } from './store-walk.ts';
import type { QualityView } from './store-walk.ts';
import type { ExpositionFormat } from './text-format.ts';
import type { AppliedSamples, CallState, SampleListener, SampleStore } from '../store/sample-store.ts';

export type { ExpositionFormat } from './text-format.ts';


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
  /** Add prom-client's process and Node.js runtime metrics, event-loop lag included, to the registry [true]. */
  readonly processMetrics?: boolean;
  /** Which of those runtime families, by name, to expose (allow/deny lists); all by default. */
  readonly includeProcessMetric?: (name: string) => boolean;
  /** The families read from the store [STORE_FAMILIES]; tests pass a table with an extra label. */
  readonly families?: readonly MetricDefinition[];
  /** The live quality verdicts the verdict families read [none: those families are left out]. */
  readonly quality?: QualityView;
}

/** Prometheus exposition of the store and the exporter's own metrics, over dedicated registries. */
export interface PrometheusExposition {
  /** The Prometheus text registry (tests and lint read it). */
  readonly registry: Registry;
  /** Handles to the exporter's own metrics. */
  readonly self: SelfMetrics;
  /** Feeds the fleet aggregates: add it to the store. */
  readonly listener: SampleListener;
  /** The fleet aggregator the listener feeds; the OTLP exposition sends the same one. */
  readonly fleet: FleetHistograms;
  /** Renders the whole exposition in a format. */
  render(format: ExpositionFormat): Promise<RenderedExposition>;
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

  // The store-read families are written as text by the exporter itself (hot paths), from one walk of the store;
  // the exporter's own metrics go through prom-client's registries.
  const fleet = new FleetHistograms(FLEET_HISTOGRAMS);
  const families = (options.families ?? STORE_FAMILIES).filter(
    (d) => include(d) && (options.perCallSeries || d.scope !== 'call') && (options.quality !== undefined || !readsVerdicts(d)),
  );
  const plan = planWalk(families, fleet);
  const inputs = { store, fleet, activeCalls: options.activeCalls, ...(options.quality && { quality: options.quality }) };
  const labelCache = new LabelTextCache();
  const renderOwn = async (format: ExpositionFormat): Promise<ReturnType<PrometheusTextWriter['chunks']>> => {
    const writer = new PrometheusTextWriter(families, format, labelCache);
    await walkStore(plan, inputs, writer);
    return writer.chunks();
  };

  const self = createSelfMetrics();
  for (const [key, def] of Object.entries(SELF_METRICS) as [SelfKey, MetricDefinition][]) {
    register(self[key] as unknown as RegistryMetric, def);
  }
  self.buildInfo.set({ version: options.version, nodejs_version: process.version }, 1);
  if (options.processMetrics ?? true) {
    const includeProcess = options.includeProcessMetric ?? (() => true);
    for (const metric of registerProcessMetrics()) {
      if (!includeProcess((metric as unknown as RegistryMetric).name)) continue;
      textRegistry.registerMetric(metric);
      omRegistry.registerMetric(openMetricsView(metric as unknown as RegistryMetric) as never);
    }
  }

  // A batch listener: the store calls it once per apply, and its loop over the batch stays monomorphic.
  const listener: SampleListener = {
    onSamples: (applied: AppliedSamples): void => fleet.observeApplied(applied),
    onCallRemoved(call: Readonly<CallState>): void {
      self.callPollSuccess.remove({ call_sid: call.callSid });
    },
  };

  return {
    registry: textRegistry,
    self,
    listener,
    fleet,
    async render(format: ExpositionFormat): Promise<RenderedExposition> {
      const end = self.renderDuration.startTimer({ format });
      const registry: Registry<OpenMetricsContentType> | Registry = format === 'openmetrics' ? omRegistry : textRegistry;
      // The registry's text ends with OpenMetrics' `# EOF`, so the exporter's own families go first.
      const own = await renderOwn(format);
      const chunks = [...own.chunks, Buffer.from(await registry.metrics(), 'utf8')];
      end();
      return new RenderedExposition(registry.contentType, chunks, own.release);
    },
  };
}
