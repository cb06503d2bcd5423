import { AggregationTemporality, AggregationType } from '@opentelemetry/sdk-metrics';
import type { AggregationOption, PushMetricExporter, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';

type ExportResult = Parameters<Parameters<PushMetricExporter['export']>[1]>[0];

// `ExportResultCode.SUCCESS` and `.FAILED` of @opentelemetry/core, which is not a direct dependency.
const EXPORT_SUCCESS: ExportResult['code'] = 0;
const EXPORT_FAILED: ExportResult['code'] = 1;

/** Called once per finished OTLP request (after the SDK's own retries), with the error when it failed. */
export type ExportResultListener = (ok: boolean, error?: unknown) => void;

/**
 * Wraps the OTLP exporter so that every request is reported to `onResult`, the fleet meter's and the store
 * producer's scopes travel as one scope, and temporality is cumulative whatever
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` says: the per-call series are Twilio's own cumulative
 * totals, built afresh at each collection with no earlier point kept to take a delta from.
 */
export function createReportingExporter(inner: PushMetricExporter, onResult: ExportResultListener = () => {}): PushMetricExporter {
  return {
    export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
      const merged = mergeScopes(metrics);
      if (merged.scopeMetrics.length === 0) {
        // Nothing was observed yet: no request, and no outcome to count.
        resultCallback({ code: EXPORT_SUCCESS });
        return;
      }
      let settled = false;
      const done = (result: ExportResult): void => {
        if (settled) return;
        settled = true;
        try {
          onResult(result.code === EXPORT_SUCCESS, result.error);
        } finally {
          resultCallback(result);
        }
      };
      try {
        inner.export(merged, done);
      } catch (error) {
        done({ code: EXPORT_FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      }
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
    selectAggregation: (): AggregationOption => ({ type: AggregationType.DEFAULT }),
  };
}

/** Merges scope entries with the same name, version and schema URL, and drops scopes without metrics. */
export function mergeScopes(metrics: ResourceMetrics): ResourceMetrics {
  const byScope = new Map<string, ScopeMetrics>();
  for (const s of metrics.scopeMetrics) {
    if (s.metrics.length === 0) continue;
    const key = JSON.stringify([s.scope.name, s.scope.version ?? '', s.scope.schemaUrl ?? '']);
    const seen = byScope.get(key);
    if (seen) seen.metrics = [...seen.metrics, ...s.metrics];
    else byScope.set(key, { scope: s.scope, metrics: [...s.metrics] });
  }
  return { resource: metrics.resource, scopeMetrics: [...byScope.values()] };
}
