import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { DataPoint, MetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { CALL_QUALITY_ISSUE, FLEET_QUALITY_ISSUES } from '../../../src/metrics/definitions.ts';
import type { OtelExposition } from '../../../src/metrics/otel.ts';
import { CallQualityTracker } from '../../../src/quality/call-quality.ts';
import { DEFAULT_RULES, DEFAULT_WINDOW } from '../../../src/quality/thresholds.ts';
import { compileRules } from '../../../src/quality/verdicts.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT, CALL_1, T0, harness, sample } from './helpers.ts';
import type { Harness } from './helpers.ts';

const [RAISING, RAISED] = FLEET_QUALITY_ISSUES as [typeof CALL_QUALITY_ISSUE, typeof CALL_QUALITY_ISSUE];

const open: OtelExposition[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.shutdown(1000)));
});

function withQuality(options: { perCallSeries?: boolean } = {}): Harness {
  const store = new SampleStore({ backfill: false });
  const quality = new CallQualityTracker(compileRules(DEFAULT_RULES, DEFAULT_WINDOW), { accountSids: [ACCOUNT], now: () => T0 });
  store.addListener(quality);
  const h = harness({ store, quality, perCallSeries: options.perCallSeries ?? true });
  open.push(h.exposition);
  return h;
}

function raiseLowMos(h: Harness): void {
  h.store.addCall(CALL_1, ACCOUNT, T0);
  h.store.apply([1, 2, 3].map((at) => sample({ callSid: CALL_1, at, values: { mos: 2.9 } })));
}

function pointFor(m: MetricData | undefined, attrs: Record<string, string>): DataPoint<unknown> | undefined {
  if (!m) throw new Error('metric missing');
  return m.dataPoints.find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
}

describe('OTLP: the live quality verdict families', () => {
  it('sends the per-call verdict gauge and the fleet gauge and monotonic sum with their table names and attributes', async () => {
    const h = withQuality();
    raiseLowMos(h);
    const metrics = await h.collect();

    const perCall = metrics.get(CALL_QUALITY_ISSUE.otelName);
    expect(perCall?.dataPointType).toBe(DataPointType.GAUGE);
    expect(perCall?.descriptor.unit).toBe('{issue}');
    expect(perCall?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'twilio.call.sid': CALL_1, 'twilio.edge': 'sdk_edge', 'twilio.direction': 'both', 'twilio.quality.issue': 'low_mos' }, 1],
    ]);

    const lowMos = { 'twilio.quality.issue': 'low_mos', 'twilio.edge': 'sdk_edge', 'twilio.account.sid': ACCOUNT };
    expect(metrics.get(RAISING.otelName)?.dataPointType).toBe(DataPointType.GAUGE);
    expect(pointFor(metrics.get(RAISING.otelName), lowMos)?.value).toBe(1);
    const raised = metrics.get(RAISED.otelName);
    expect(raised?.dataPointType === DataPointType.SUM && raised.isMonotonic).toBe(true);
    expect(pointFor(raised, lowMos)?.value).toBe(1);
    // The counters of the other issues start at 0, from the tracker's creation.
    const rtt = pointFor(raised, { ...lowMos, 'twilio.quality.issue': 'high_rtt' });
    expect(rtt?.value).toBe(0);
    expect(rtt?.startTime).toEqual([T0 / 1000, 0]);
  });

  it('sends no per-call verdict points with per_call_series off, and the fleet points still', async () => {
    const h = withQuality({ perCallSeries: false });
    raiseLowMos(h);
    const metrics = await h.collect();
    expect(metrics.has(CALL_QUALITY_ISSUE.otelName)).toBe(false);
    expect(pointFor(metrics.get(RAISED.otelName), { 'twilio.quality.issue': 'low_mos' })?.value).toBe(1);
  });

  it('drops a removed call\u2019s verdict points at the next collection', async () => {
    const h = withQuality();
    raiseLowMos(h);
    expect((await h.collect()).has(CALL_QUALITY_ISSUE.otelName)).toBe(true);
    h.store.removeCall(CALL_1);
    const metrics = await h.collect();
    expect(metrics.has(CALL_QUALITY_ISSUE.otelName)).toBe(false);
    expect(pointFor(metrics.get(RAISING.otelName), { 'twilio.quality.issue': 'low_mos', 'twilio.edge': 'sdk_edge' })?.value).toBe(0);
  });
});
