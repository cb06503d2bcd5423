import type { Attributes, BatchObservableResult, HrTime, Meter, Observable } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { CollectionResult, MetricCollectOptions, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import { CALL_INFO, CALL_METRICS, CALL_SAMPLE_TIMESTAMP, FLEET_ACTIVE_CALLS, otelAttributeName } from './definitions.ts';
import type { MetricDefinition } from './definitions.ts';
import type { CallState, SampleStore } from '../store/sample-store.ts';

/** Streams one call can have (sdk_edge/both alone, or a gateway edge pair such as carrier and sip in/out). */
export const MAX_STREAMS_PER_CALL = 4;

/** The cardinality limit the per-call instruments need: every stream of `maxCalls` calls, plus the SDK's overflow slot. */
export function callCardinalityLimit(maxCalls: number, seriesNow = 0): number {
  // The SDK keeps `limit - 1` attribute sets and folds the rest into `otel.metric.overflow`.
  return Math.max(maxCalls * MAX_STREAMS_PER_CALL, seriesNow) + 1;
}

/** Options of the producer of the observable (store-reading) instruments. */
export interface ObservablesProducerOptions {
  readonly store: SampleStore;
  /** Observe per-call series; the active-calls gauge is observed either way. */
  readonly perCallSeries: boolean;
  /** Active (not ended) calls per account. */
  readonly activeCalls: () => Iterable<readonly [string, number]>;
  /** The configured call cap, which sizes the cardinality limit. */
  readonly maxCalls: number;
  /** Which definitions to observe. */
  readonly include: (def: MetricDefinition) => boolean;
  /** Instrumentation scope name and version, shared with the fleet meter so the export has one scope. */
  readonly scopeName: string;
  readonly scopeVersion: string;
}

// A reader that only collects when asked: the producer drives it, nothing is pushed from here.
class CollectOnlyReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }

  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

const CALL_ATTRIBUTE_KEYS = {
  call_sid: otelAttributeName('call_sid'),
  edge: otelAttributeName('edge'),
  direction: otelAttributeName('direction'),
} as const;
const CALL_SID_ATTRIBUTE = otelAttributeName('call_sid');
const ACCOUNT_SID_ATTRIBUTE = otelAttributeName('account_sid');

/** OTel attributes of a call's info series: unknown values are left out rather than sent as "". */
export function callInfoAttributes(call: Readonly<CallState>): Attributes {
  const labels: Record<string, string | undefined> = {
    call_sid: call.callSid,
    account_sid: call.accountSid,
    call_type: call.callType,
    codec_name: call.codecName,
    media_region: call.mediaRegion,
  };
  const out: Attributes = {};
  for (const [label, value] of Object.entries(labels)) {
    if (value !== undefined && value !== '') out[otelAttributeName(label)] = value;
  }
  return out;
}

/**
 * A MetricProducer for every asynchronous instrument (per-call gauges and counters, active calls), added to the
 * periodic reader beside the fleet meter.
 *
 * Works around opentelemetry-js #4096 (open for sdk-metrics 3.1.x): under cumulative temporality an observable
 * instrument keeps reporting every attribute set it ever saw, so ended calls would be exported forever, and the
 * SDK's per-instrument memo of those sets never shrinks (unbounded memory, and after `limit` calls of churn
 * every new call lands in `otel.metric.overflow`; delta temporality does not help, as the memo is kept
 * either way). Each collection therefore observes into a fresh MeterProvider that is dropped afterwards:
 * nothing outlives a collection, so a call removed from the store is absent from the very next export.
 * The values are the store's own cumulative totals, so no SDK state is needed to keep them right.
 */
export function createObservablesProducer(options: ObservablesProducerOptions): MetricProducer {
  const { store } = options;
  return {
    async collect(collectOptions?: MetricCollectOptions): Promise<CollectionResult> {
      let streams = 0;
      for (const call of store.calls()) streams += call.streams.size;
      const limit = callCardinalityLimit(options.maxCalls, Math.max(streams, [...options.activeCalls()].length));
      const reader = new CollectOnlyReader({ cardinalitySelector: () => limit });
      const provider = new MeterProvider({ resource: emptyResource(), readers: [reader] });
      registerObservables(provider.getMeter(options.scopeName, options.scopeVersion), options);
      try {
        const result = await reader.collect(collectOptions);
        return withCallStartTimes(result, store);
      } finally {
        await provider.shutdown();
      }
    },
  };
}

function registerObservables(meter: Meter, options: ObservablesProducerOptions): void {
  const { store, include } = options;
  const perCall = options.perCallSeries;
  const gauge = (def: MetricDefinition): Observable =>
    meter.createObservableGauge(def.otelName, { description: def.help, unit: def.otelUnit });
  const streamMetrics = perCall
    ? CALL_METRICS.filter(include).map((def) => ({
        extract: def.extract!,
        instrument:
          def.type === 'counter'
            ? meter.createObservableCounter(def.otelName, { description: def.help, unit: def.otelUnit })
            : gauge(def),
      }))
    : [];
  const timestamp = perCall && include(CALL_SAMPLE_TIMESTAMP) ? gauge(CALL_SAMPLE_TIMESTAMP) : undefined;
  const info = perCall && include(CALL_INFO) ? gauge(CALL_INFO) : undefined;
  const active = include(FLEET_ACTIVE_CALLS) ? gauge(FLEET_ACTIVE_CALLS) : undefined;

  const instruments: Observable[] = streamMetrics.map((m) => m.instrument);
  for (const i of [timestamp, info, active]) if (i) instruments.push(i);
  if (instruments.length === 0) return;

  meter.addBatchObservableCallback((result: BatchObservableResult) => {
    if (perCall) {
      for (const call of store.calls()) {
        if (info) result.observe(info, 1, callInfoAttributes(call));
        for (const stream of call.streams.values()) {
          const attributes: Attributes = {
            [CALL_ATTRIBUTE_KEYS.call_sid]: stream.labels.call_sid,
            [CALL_ATTRIBUTE_KEYS.edge]: stream.labels.edge,
            [CALL_ATTRIBUTE_KEYS.direction]: stream.labels.direction,
          };
          for (const m of streamMetrics) {
            const value = m.extract(stream.values);
            if (value !== undefined) result.observe(m.instrument, value, attributes);
          }
          if (timestamp) result.observe(timestamp, stream.lastTimestampMs / 1000, attributes);
        }
      }
    }
    if (active) {
      for (const [accountSid, n] of options.activeCalls()) result.observe(active, n, { [ACCOUNT_SID_ATTRIBUTE]: accountSid });
    }
  }, instruments);
}

function hrTimeFromMs(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

// A fresh provider would stamp each cumulative point with the collection time as its start, which a
// cumulative consumer reads as a counter reset on every export. Twilio's counters run for the call's life,
// so the start is pinned to when the exporter began tracking the call: stable for the whole call.
function withCallStartTimes(result: CollectionResult, store: SampleStore): CollectionResult {
  const scopeMetrics = result.resourceMetrics.scopeMetrics.map((scope) => ({
    ...scope,
    metrics: scope.metrics.map((metric): MetricData => {
      if (metric.dataPointType !== DataPointType.SUM) return metric;
      return {
        ...metric,
        dataPoints: metric.dataPoints.map((point) => {
          const sid = point.attributes[CALL_SID_ATTRIBUTE];
          const call = typeof sid === 'string' ? store.get(sid) : undefined;
          return call ? { ...point, startTime: hrTimeFromMs(Math.min(call.trackedAtMs, Date.now())) } : point;
        }),
      };
    }),
  }));
  return { ...result, resourceMetrics: { ...result.resourceMetrics, scopeMetrics } };
}
