import { emptyResource } from '@opentelemetry/resources';
import type { CollectionResult, MetricProducer } from '@opentelemetry/sdk-metrics';
import { STORE_FAMILIES } from './definitions.ts';
import type { MetricDefinition } from './definitions.ts';
import type { FleetHistograms } from './fleet-histograms.ts';
import { OtlpPointWriter } from './otlp-writer.ts';
import { planWalk, readsVerdicts, walkStore } from './store-walk.ts';
import type { QualityView } from './store-walk.ts';
import type { SampleStore } from '../store/sample-store.ts';

/** Calls read between two yields to the event loop, so a large store never stalls polling or scraping. */
export const CALLS_PER_SLICE = 500;

/** Options of the producer of the series read from the store. */
export interface StoreProducerOptions {
  readonly store: SampleStore;
  /** The fleet aggregator whose histograms and sample counts are sent (the one the Prometheus exposition renders). */
  readonly fleet: FleetHistograms;
  /** Produce per-call series; the fleet aggregates and the active-calls gauge are produced either way. */
  readonly perCallSeries: boolean;
  /** Active (not ended) calls per account. */
  readonly activeCalls: () => Iterable<readonly [string, number]>;
  /** Which definitions to produce. */
  readonly include: (def: MetricDefinition) => boolean;
  /** Instrumentation scope name and version of the export. */
  readonly scopeName: string;
  readonly scopeVersion: string;
  /** The families to walk [STORE_FAMILIES]; tests pass a table with an extra label. */
  readonly families?: readonly MetricDefinition[];
  /** Clock, epoch ms [Date.now]. */
  readonly now?: () => number;
  /** The live quality verdicts the verdict families read [none: those families are left out]. */
  readonly quality?: QualityView;
}

/**
 * A MetricProducer, added to the periodic reader, that builds every store-read family (per-call gauges and counters,
 * fleet histograms and sample counts, active calls) with one store walk and the OTLP writer at each collection,
 * from the same table rows and the same aggregator as the Prometheus exposition.
 *
 * Why not SDK instruments: observable ones, under cumulative temporality, keep reporting every attribute set ever
 * observed (opentelemetry-js #4096, open for sdk-metrics 3.1.x), so ended calls would be exported forever, and their
 * per-instrument memo never shrinks (unbounded memory, then `otel.metric.overflow`); SDK histograms would observe
 * every sample a second time. The store already holds the exact values (gauges: the newest sample; counters:
 * Twilio's cumulative totals) and the aggregator the fleet histograms, so the points are built directly, a slice of
 * calls at a time with yields in between; nothing outlives a collection, so a removed call is absent from the next.
 */
export function createStoreProducer(options: StoreProducerOptions): MetricProducer {
  const { include } = options;
  const now = options.now ?? Date.now;
  const families = (options.families ?? STORE_FAMILIES).filter(
    (d) => include(d) && (options.perCallSeries || d.scope !== 'call') && (options.quality !== undefined || !readsVerdicts(d)),
  );
  const plan = planWalk(families, options.fleet);
  const inputs = { store: options.store, fleet: options.fleet, activeCalls: options.activeCalls, ...(options.quality && { quality: options.quality }) };

  return {
    async collect(): Promise<CollectionResult> {
      const writer = new OtlpPointWriter(families, now);
      await walkStore(plan, inputs, writer, CALLS_PER_SLICE);
      const metrics = writer.metrics();
      return {
        resourceMetrics: {
          // The reader replaces a producer's resource with the MeterProvider's.
          resource: emptyResource(),
          scopeMetrics: metrics.length === 0 ? [] : [{ scope: { name: options.scopeName, version: options.scopeVersion }, metrics }],
        },
        errors: [],
      };
    },
  };
}
