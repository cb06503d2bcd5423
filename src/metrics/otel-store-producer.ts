import { ValueType } from '@opentelemetry/api';
import type { Attributes, HrTime } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { CollectionResult, DataPoint, MetricData, MetricDescriptor, MetricProducer } from '@opentelemetry/sdk-metrics';
import { CALL_INFO, CALL_METRICS, CALL_SAMPLE_TIMESTAMP, FLEET_ACTIVE_CALLS, otelAttributeName } from './definitions.ts';
import type { MetricDefinition } from './definitions.ts';
import type { CallState, SampleStore } from '../store/sample-store.ts';

/** Calls read between two yields to the event loop, so a large store never stalls polling or scraping. */
export const CALLS_PER_SLICE = 500;

/** Options of the producer of the series read from the store. */
export interface StoreProducerOptions {
  readonly store: SampleStore;
  /** Produce per-call series; the active-calls gauge is produced either way. */
  readonly perCallSeries: boolean;
  /** Active (not ended) calls per account. */
  readonly activeCalls: () => Iterable<readonly [string, number]>;
  /** Which definitions to produce. */
  readonly include: (def: MetricDefinition) => boolean;
  /** Instrumentation scope name and version, shared with the fleet meter so the export has one scope. */
  readonly scopeName: string;
  readonly scopeVersion: string;
  /** Clock, epoch ms [Date.now]. */
  readonly now?: () => number;
}

const CALL_SID = otelAttributeName('call_sid');
const EDGE = otelAttributeName('edge');
const DIRECTION = otelAttributeName('direction');
const ACCOUNT_SID = otelAttributeName('account_sid');

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

/** Epoch milliseconds as an OTel HrTime. */
export function hrTimeFromMs(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

function descriptor(def: MetricDefinition): MetricDescriptor {
  return { name: def.otelName, description: def.help, unit: def.otelUnit, valueType: ValueType.DOUBLE };
}

// One output metric: the definition's points, gathered while walking the store once.
interface Series {
  readonly def: MetricDefinition;
  readonly points: Array<DataPoint<number>>;
}

function toMetricData({ def, points }: Series): MetricData {
  const base = { descriptor: descriptor(def), aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: points };
  return def.type === 'counter'
    ? { ...base, dataPointType: DataPointType.SUM, isMonotonic: true }
    : { ...base, dataPointType: DataPointType.GAUGE };
}

/**
 * A MetricProducer, added to the periodic reader beside the fleet meter, that builds the per-call gauges and
 * counters and the active-calls gauge straight from the store at each collection, from the same table rows as
 * the Prometheus exposition.
 *
 * Why not SDK observable instruments: under cumulative temporality they keep reporting every attribute set
 * ever observed (opentelemetry-js #4096, open for sdk-metrics 3.1.x), so ended calls would be exported forever,
 * and their per-instrument memo never shrinks (unbounded memory; after `limit` calls of churn every new call
 * lands in `otel.metric.overflow`, with delta temporality too). A fresh MeterProvider per collection fixes
 * that, but the SDK's per-observation hashing then stalls the event loop for about 3 s per export at the
 * default 10,000 calls (290,000 points). The store already holds the exact values (gauges: the newest sample;
 * counters: Twilio's cumulative totals), so nothing needs aggregating: the points are built directly, a slice
 * of calls at a time with yields in between, and nothing outlives a collection, so a call removed from the
 * store is absent from the next export and there is no cardinality limit to overflow.
 */
export function createStoreProducer(options: StoreProducerOptions): MetricProducer {
  const { store, include } = options;
  const now = options.now ?? Date.now;
  const perStream = options.perCallSeries ? CALL_METRICS.filter(include).map((def) => ({ def, extract: def.extract! })) : [];
  const timestampDef = options.perCallSeries && include(CALL_SAMPLE_TIMESTAMP) ? CALL_SAMPLE_TIMESTAMP : undefined;
  const infoDef = options.perCallSeries && include(CALL_INFO) ? CALL_INFO : undefined;
  const activeDef = include(FLEET_ACTIVE_CALLS) ? FLEET_ACTIVE_CALLS : undefined;

  return {
    async collect(): Promise<CollectionResult> {
      const streamSeries = perStream.map(({ def, extract }) => {
        const series: Series = { def, points: [] };
        return { series, extract };
      });
      const timestamp: Series | undefined = timestampDef && { def: timestampDef, points: [] };
      const info: Series | undefined = infoDef && { def: infoDef, points: [] };
      const active: Series | undefined = activeDef && { def: activeDef, points: [] };

      if (streamSeries.length > 0 || timestamp || info) {
        // A snapshot, so calls added or removed while this yields do not disturb the walk.
        const calls = [...store.calls()];
        let nowMs = now();
        let endTime = hrTimeFromMs(nowMs);
        for (let i = 0; i < calls.length; i++) {
          if (i > 0 && i % CALLS_PER_SLICE === 0) {
            await new Promise<void>((resume) => setImmediate(resume));
            nowMs = now();
            endTime = hrTimeFromMs(nowMs);
          }
          const call = calls[i]!;
          // Removed while this collection yielded: it is already gone from Prometheus, so from here too.
          if (store.get(call.callSid) !== call) continue;
          // Twilio's counters run for the call's life: a start time fixed at tracking keeps them one
          // uninterrupted cumulative series for consumers that read start times (no false resets).
          const startTime = hrTimeFromMs(Math.min(call.trackedAtMs, nowMs));
          if (info) info.points.push({ attributes: callInfoAttributes(call), startTime, endTime, value: 1 });
          for (const stream of call.streams.values()) {
            const attributes: Attributes = {
              [CALL_SID]: call.callSid,
              [EDGE]: stream.edge,
              [DIRECTION]: stream.direction,
            };
            for (const { series, extract } of streamSeries) {
              const value = extract(stream.values);
              if (value !== undefined) series.points.push({ attributes, startTime, endTime, value });
            }
            timestamp?.points.push({ attributes, startTime, endTime, value: stream.lastTimestampMs / 1000 });
          }
        }
      }
      if (active) {
        const time = hrTimeFromMs(now());
        for (const [accountSid, n] of options.activeCalls()) {
          active.points.push({ attributes: { [ACCOUNT_SID]: accountSid }, startTime: time, endTime: time, value: n });
        }
      }

      const all = [...streamSeries.map((s) => s.series), timestamp, info, active];
      const metrics = all.filter((s): s is Series => s !== undefined && s.points.length > 0).map(toMetricData);
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
