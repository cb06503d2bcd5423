import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { SELF_METRICS } from '../../../src/metrics/definitions.ts';
import type { MetricDefinition } from '../../../src/metrics/definitions.ts';
import { metricsTableMarkdown } from '../../../src/metrics/docs.ts';
import { createPrometheusExposition } from '../../../src/metrics/prometheus.ts';
import type { OtelExposition } from '../../../src/metrics/otel.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT, harness } from './helpers.ts';

const open: OtelExposition[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.shutdown(1000)));
});

describe('OTel exposition: the exporter\'s own metrics', () => {
  it('pushes the self metrics of the registry under their OTel names, units and attributes', async () => {
    const store = new SampleStore({ backfill: false });
    const prom = createPrometheusExposition({ store, perCallSeries: true, activeCalls: () => [], version: '9', processMetrics: true });
    prom.self.apiRequests.inc({ account_sid: ACCOUNT, endpoint: 'metrics', outcome: '200' }, 3);
    prom.self.pollDuration.observe({ account_sid: ACCOUNT }, 0.07);
    prom.self.pollDuration.observe({ account_sid: ACCOUNT }, 3);
    prom.self.up.set({ account_sid: ACCOUNT }, 1);
    const h = harness({ store, fleet: prom.fleet, selfRegistry: prom.registry });
    open.push(h.exposition);
    const metrics = await h.collect();

    const requests = metrics.get(SELF_METRICS.apiRequests.otelName)!;
    expect(requests.dataPointType).toBe(DataPointType.SUM);
    expect(requests.descriptor.unit).toBe(SELF_METRICS.apiRequests.otelUnit);
    expect(requests.dataPoints).toEqual([
      expect.objectContaining({ value: 3, attributes: { 'twilio.account.sid': ACCOUNT, endpoint: 'metrics', outcome: '200' } }),
    ]);
    const up = metrics.get(SELF_METRICS.up.otelName)!;
    expect(up.dataPointType).toBe(DataPointType.GAUGE);
    expect(up.dataPoints.map((p) => p.value)).toEqual([1]);
    const poll = metrics.get(SELF_METRICS.pollDuration.otelName)!;
    expect(poll.dataPointType).toBe(DataPointType.HISTOGRAM);
    const hist = poll.dataPoints[0]!.value as Histogram;
    expect(hist.buckets.boundaries).toEqual([...SELF_METRICS.pollDuration.buckets!]);
    // Per-bucket counts: 0.07 in (0.05, 0.1], 3 in (2.5, 5].
    expect(hist.buckets.counts).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect([hist.count, hist.sum]).toEqual([2, 3.07]);
    // Process and runtime metrics stay Prometheus-only.
    expect([...metrics.keys()].filter((n) => n.startsWith('process_') || n.startsWith('nodejs_'))).toEqual([]);
  });

  // Probe J #6: the README table showed no attributes for any twilio_insights_exporter_* metric, while their OTLP
  // points carry the labels renamed (account_sid as twilio.account.sid, call_sid as twilio.call.sid).
  it('sends each self metric with the attributes the README table documents for it', async () => {
    const store = new SampleStore({ backfill: false });
    const prom = createPrometheusExposition({ store, perCallSeries: true, activeCalls: () => [], version: '9', processMetrics: false });
    const defs = Object.entries(SELF_METRICS) as Array<[keyof typeof SELF_METRICS, MetricDefinition]>;
    for (const [key, def] of defs) {
      const labels = Object.fromEntries(def.labels.map((l) => [l, 'x']));
      const m = prom.self[key] as { inc?: (l: object, v: number) => void; set?: (l: object, v: number) => void; observe?: (l: object, v: number) => void };
      if (def.type === 'counter') m.inc!(labels, 1);
      else if (def.type === 'histogram') m.observe!(labels, 1);
      else m.set!(labels, 1);
    }
    const h = harness({ store, fleet: prom.fleet, selfRegistry: prom.registry });
    open.push(h.exposition);
    const metrics = await h.collect();
    const table = metricsTableMarkdown();
    for (const [, def] of defs) {
      const cell = `\`${def.otelName}\` (${def.otelUnit})`;
      const row = table.split('\n').find((r) => r.startsWith(`| \`${def.name}\` |`));
      expect(row, def.name).toContain(cell);
      const documented = [...row!.slice(row!.indexOf(cell) + cell.length).split(' | ')[0]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!);
      const sent = Object.keys(metrics.get(def.otelName)!.dataPoints[0]!.attributes);
      expect(documented.sort(), def.name).toEqual(sent.sort());
    }
  });

  it('sends no self metrics without a registry', async () => {
    const h = harness();
    open.push(h.exposition);
    h.store.addCall('CA7569efe0253644fa4a88aa97beca3310', ACCOUNT, 0);
    h.active.set(ACCOUNT, 1);
    const metrics = await h.collect();
    expect([...metrics.keys()].filter((n) => n.startsWith('twilio_insights_exporter.'))).toEqual([]);
  });
});
