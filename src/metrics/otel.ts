import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricProducer, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Registry } from 'prom-client';
import type { OtlpConfig } from '../config/index.ts';
import { redactor } from '../samples/redact.ts';
import type { SampleListener, SampleStore } from '../store/sample-store.ts';
import { FLEET_HISTOGRAMS } from './definitions.ts';
import type { MetricDefinition } from './definitions.ts';
import { FleetHistograms } from './fleet-histograms.ts';
import { createReportingExporter } from './otel-export.ts';
import type { ExportResultListener } from './otel-export.ts';
import { createSelfProducer } from './otel-self-producer.ts';
import { resolveOtelSettings } from './otel-settings.ts';
import type { OtelEnv, OtelSettings } from './otel-settings.ts';
import { createStoreProducer } from './otel-store-producer.ts';
import type { QualityView } from './store-walk.ts';

/** Instrumentation scope of everything this exporter sends. */
export const OTEL_SCOPE_NAME = 'twilio-insights-exporter';

/** Data points per OTLP request: about 3 MB of protobuf, under common receiver body limits (the Collector's is 20 MiB). */
export const MAX_POINTS_PER_REQUEST = 20_000;

type Compression = NonNullable<NonNullable<ConstructorParameters<typeof OTLPMetricExporter>[0]>['compression']>;

/** Options of the OpenTelemetry exposition. */
export interface OtelExpositionOptions {
  /** The store whose calls are read at collection time. */
  readonly store: SampleStore;
  /** Export per-call series [config `per_call_series`]; fleet aggregates are always exported. */
  readonly perCallSeries: boolean;
  /** Active (not ended) calls per account, read at collection time. */
  readonly activeCalls: () => Iterable<readonly [string, number]>;
  /** The `otlp` section of the config. */
  readonly otlp: OtlpConfig;
  /** Number of configured accounts (kept for callers; the fleet series come from the aggregator, with no SDK cardinality limit). */
  readonly accounts: number;
  /** The fleet aggregator to send (the Prometheus exposition's); without it the exposition keeps its own, fed by `listener`. */
  readonly fleet?: FleetHistograms;
  /** The registry of the exporter's own metrics, sent too when given. */
  readonly selfRegistry?: Registry;
  /** Exporter version: the `service.version` resource attribute and the scope version. */
  readonly version: string;
  /** Where the standard `OTEL_*` variables are read [process.env]. */
  readonly env?: OtelEnv;
  /** Which metric definitions to export (allow/deny lists); all by default. */
  readonly include?: (def: MetricDefinition) => boolean;
  /** Called once per finished OTLP request, after the SDK's retries: feed the exporter's own metrics. */
  readonly onExportResult?: ExportResultListener;
  /** Called once per ignored `OTEL_*` value at creation, with a message naming the variable (never a header value). */
  readonly onWarning?: (message: string) => void;
  /** Replaces the OTLP exporter (tests use an InMemoryMetricExporter). */
  readonly exporter?: PushMetricExporter;
  /** The live quality verdicts the verdict families read [none: those families are left out]. */
  readonly quality?: QualityView;
}

/** A running OTLP push of the store and the fleet aggregates. */
export interface OtelExposition {
  /** Feeds the exposition's own fleet aggregator: add it to the store; it does nothing when `fleet` was given (its owner feeds it). */
  readonly listener: SampleListener;
  /** The resolved push settings (headers stay secret). */
  readonly settings: OtelSettings;
  /** Collects and exports now; resolves even when the export failed (the outcome goes to `onExportResult`). */
  forceFlush(): Promise<void>;
  /** Stops the periodic export after one last export bounded by `timeoutMs` [the export timeout]; never rejects. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Builds the OpenTelemetry exposition from the same metrics table as Prometheus, or undefined when no endpoint is
 * configured (config `otlp.endpoint`, `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`).
 * Every store-read family, fleet histograms included, comes from one store walk (`createStoreProducer`) over the
 * same aggregator Prometheus renders, and the self metrics from their registry; a periodic reader pushes them over
 * OTLP http/protobuf in the background (no global MeterProvider, no SDK instruments), so polling and scraping never
 * wait for it.
 */
export function createOtelExposition(options: OtelExpositionOptions): OtelExposition | undefined {
  const settings = resolveOtelSettings(options.otlp, options.env ?? process.env);
  if (!settings) return undefined;
  for (const warning of settings.warnings) options.onWarning?.(warning);
  const include = options.include ?? (() => true);

  const inner =
    options.exporter ??
    new OTLPMetricExporter({
      url: settings.endpoint,
      // A factory, so header values are revealed per request and never kept in the exporter's configuration.
      headers: () => Promise.resolve(revealHeaders(settings)),
      timeoutMillis: settings.exportTimeoutMs,
      compression: settings.compression as Compression,
      userAgent: `${OTEL_SCOPE_NAME}/${options.version}`,
    });
  const fleet = options.fleet ?? new FleetHistograms(FLEET_HISTOGRAMS);
  const scope = { scopeName: OTEL_SCOPE_NAME, scopeVersion: options.version };
  const producers: MetricProducer[] = [
    createStoreProducer({
      store: options.store,
      fleet,
      perCallSeries: options.perCallSeries,
      activeCalls: options.activeCalls,
      include,
      ...scope,
      ...(options.quality && { quality: options.quality }),
    }),
  ];
  if (options.selfRegistry) producers.push(createSelfProducer({ registry: options.selfRegistry, include, ...scope }));
  const reader = new PeriodicExportingMetricReader({
    exporter: createReportingExporter(inner, options.onExportResult && reportRedacted(settings, options.onExportResult)),
    exportIntervalMillis: settings.exportIntervalMs,
    exportTimeoutMillis: settings.exportTimeoutMs,
    maxExportBatchSize: MAX_POINTS_PER_REQUEST,
    metricProducers: producers,
  });
  const resource = defaultResource()
    .merge(resourceFromAttributes(settings.resourceAttributes))
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName, [ATTR_SERVICE_VERSION]: options.version }));
  // No instruments: the provider only binds the reader and gives the export its resource.
  const provider = new MeterProvider({ resource, readers: [reader] });
  // With a shared fleet aggregator its owner feeds it; otherwise this one is fed as the Prometheus one is.
  const listener: SampleListener = options.fleet ? {} : { onSamples: (applied) => fleet.observeApplied(applied) };

  let stopped: Promise<void> | undefined;
  return {
    listener,
    settings,
    forceFlush: () => provider.forceFlush(),
    shutdown(timeoutMs = settings.exportTimeoutMs): Promise<void> {
      stopped ??= provider.shutdown({ timeoutMillis: timeoutMs }).catch(() => {
        // A timed-out or failed last export is already counted through onExportResult; exiting must not wait.
      });
      return stopped;
    },
  };
}

// Longest message of a failed export passed on (a collector's reason and body can be long).
const MAX_EXPORT_ERROR_CHARS = 500;

// A collector or proxy may echo a request's headers in its error, which the OTLP exporter's error message carries:
// each header value (and its credential after a scheme such as `Bearer `) is replaced, as in Twilio's errors.
function reportRedacted(settings: OtelSettings, onResult: ExportResultListener): ExportResultListener {
  const values = Object.values(settings.headers).map((v) => v.reveal());
  const redact = redactor([...values, ...values.map((v) => v.slice(v.indexOf(' ') + 1)).filter((v) => v.length >= 8)]);
  return (ok, error) => {
    if (error === undefined) return onResult(ok);
    const text = error instanceof Error ? error.message : typeof error === 'string' ? error : 'export failed';
    const redacted = new Error(redact(text).slice(0, MAX_EXPORT_ERROR_CHARS));
    if (error instanceof Error && error.name !== redacted.name) redacted.name = error.name;
    onResult(ok, redacted);
  };
}

function revealHeaders(settings: OtelSettings): Record<string, string> {
  return Object.fromEntries(Object.entries(settings.headers).map(([name, value]) => [name, value.reveal()]));
}
