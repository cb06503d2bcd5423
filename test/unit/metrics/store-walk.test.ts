import type { Histogram, MetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { CALL_LABELS, FLEET_HISTOGRAMS, STORE_FAMILIES, streamMetric } from '../../../src/metrics/definitions.ts';
import type { MetricDefinition } from '../../../src/metrics/definitions.ts';
import { FleetHistograms } from '../../../src/metrics/fleet-histograms.ts';
import { createStoreProducer } from '../../../src/metrics/otel-store-producer.ts';
import { createPrometheusExposition } from '../../../src/metrics/prometheus.ts';
import { planWalk } from '../../../src/metrics/store-walk.ts';
import { labelValues } from '../../../src/metrics/subject.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT_A, ACCOUNT_B, CALL_1, CALL_3, T0, sample } from '../store/sample-builder.ts';
import { find, parseExposition } from './exposition-parser.ts';

const MOS = STORE_FAMILIES.find((d) => d.key === 'mos')!;

// The one-row change: the MOS row with `account_sid` added to its labels; every other row as it is.
const TABLE: readonly MetricDefinition[] = STORE_FAMILIES.map((d) =>
  d === MOS ? streamMetric({ ...MOS, type: 'gauge', extract: MOS.extract!, labels: [...CALL_LABELS, 'account_sid'] }) : d,
);

function store(): SampleStore {
  const s = new SampleStore({ backfill: false });
  s.addCall(CALL_1, ACCOUNT_A, T0);
  s.addCall(CALL_3, ACCOUNT_B, T0);
  return s;
}

function fill(s: SampleStore): void {
  s.apply([sample({ callSid: CALL_1, at: 10, values: { mos: 4.3, rttSeconds: 0.08 } })]);
  s.apply([sample({ callSid: CALL_3, accountSid: ACCOUNT_B, at: 10, values: { mos: 3.9, rttSeconds: 0.2 } })]);
}

function metric(metrics: readonly MetricData[], name: string): MetricData {
  const m = metrics.find((x) => x.descriptor.name === name);
  if (!m) throw new Error(`${name} not exported`);
  return m;
}

describe('adding a label to a per-call family is one table row', () => {
  it('the Prometheus writer puts the extra label on that family only, in text and OpenMetrics', async () => {
    const s = store();
    const expo = createPrometheusExposition({ store: s, perCallSeries: true, activeCalls: () => [], version: 't', families: TABLE, processMetrics: false });
    s.addListener(expo.listener);
    fill(s);
    for (const format of ['text', 'openmetrics'] as const) {
      const samples = parseExposition((await expo.render(format)).text());
      expect(find(samples, 'twilio_call_mos')).toEqual(
        expect.arrayContaining([
          { name: 'twilio_call_mos', labels: { call_sid: CALL_1, edge: 'sdk_edge', direction: 'both', account_sid: ACCOUNT_A }, value: 4.3 },
          { name: 'twilio_call_mos', labels: { call_sid: CALL_3, edge: 'sdk_edge', direction: 'both', account_sid: ACCOUNT_B }, value: 3.9 },
        ]),
      );
      expect(find(samples, 'twilio_call_mos')).toHaveLength(2);
      for (const other of find(samples, 'twilio_call_rtt_seconds')) expect(Object.keys(other.labels).sort()).toEqual(['call_sid', 'direction', 'edge']);
    }
    // The label order is the row's: the text is exactly what the table says.
    expect((await expo.render('text')).text()).toContain(
      `twilio_call_mos{call_sid="${CALL_1}",edge="sdk_edge",direction="both",account_sid="${ACCOUNT_A}"} 4.3\n`,
    );
  });

  it('the OTLP writer sends the extra label as its attribute on that family only', async () => {
    const s = store();
    const fleet = new FleetHistograms(FLEET_HISTOGRAMS);
    fill(s);
    const producer = createStoreProducer({ store: s, fleet, perCallSeries: true, activeCalls: () => [], include: () => true, scopeName: 's', scopeVersion: '1', families: TABLE });
    const metrics = (await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics;

    expect(metric(metrics, 'twilio.call.mos').dataPoints.map((p) => [p.attributes, p.value])).toEqual(
      expect.arrayContaining([
        [{ 'twilio.call.sid': CALL_1, 'twilio.edge': 'sdk_edge', 'twilio.direction': 'both', 'twilio.account.sid': ACCOUNT_A }, 4.3],
        [{ 'twilio.call.sid': CALL_3, 'twilio.edge': 'sdk_edge', 'twilio.direction': 'both', 'twilio.account.sid': ACCOUNT_B }, 3.9],
      ]),
    );
    for (const p of metric(metrics, 'twilio.call.rtt').dataPoints) expect(Object.keys(p.attributes).sort()).toEqual(['twilio.call.sid', 'twilio.direction', 'twilio.edge']);
  });

  it('a label with no value source fails when the row is built, naming the label', () => {
    expect(() => labelValues(['call_sid', 'carrier'])).toThrow(/"carrier"/);
    expect(() => streamMetric({ ...MOS, type: 'gauge', extract: MOS.extract!, labels: ['constructor'] })).toThrow(/"constructor"/);
  });

  it('a histogram the aggregator does not keep cannot be walked', () => {
    const fleet = new FleetHistograms(FLEET_HISTOGRAMS.slice(1));
    expect(() => planWalk(STORE_FAMILIES, fleet)).toThrow(/twilio_voice_mos/);
  });
});

describe('one fleet aggregator for both outputs', () => {
  it('OTLP sends the histograms Prometheus renders, each sample observed once, with min and max', async () => {
    const s = store();
    const expo = createPrometheusExposition({ store: s, perCallSeries: true, activeCalls: () => [], version: 't', processMetrics: false });
    s.addListener(expo.listener);
    fill(s);
    s.apply([sample({ callSid: CALL_1, at: 20, values: { mos: 2.4 } })]);
    const producer = createStoreProducer({ store: s, fleet: expo.fleet, perCallSeries: false, activeCalls: () => [], include: () => true, scopeName: 's', scopeVersion: '1' });
    const metrics = (await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics;
    const prom = parseExposition((await expo.render('text')).text());

    const point = metric(metrics, 'twilio.voice.mos').dataPoints.find((p) => p.attributes['twilio.account.sid'] === ACCOUNT_A)!;
    const h = point.value as Histogram;
    expect(h.count).toBe(find(prom, 'twilio_voice_mos_count', { account_sid: ACCOUNT_A })[0]!.value);
    expect(h.count).toBe(2);
    expect(h.sum).toBeCloseTo(6.7, 10);
    expect([h.min, h.max]).toEqual([2.4, 4.3]);
    // Per-bucket counts add up to Prometheus' cumulative buckets.
    const cumulative = h.buckets.counts.map((_, i) => h.buckets.counts.slice(0, i + 1).reduce((a, b) => a + b, 0));
    const le = [...mosBounds(), '+Inf'];
    expect(cumulative).toEqual(le.map((b) => find(prom, 'twilio_voice_mos_bucket', { account_sid: ACCOUNT_A, le: b })[0]!.value));
    expect(metric(metrics, 'twilio.voice.samples').dataPoints.find((p) => p.attributes['twilio.account.sid'] === ACCOUNT_A)!.value).toBe(2);
  });
});

function mosBounds(): string[] {
  return FLEET_HISTOGRAMS[0]!.buckets!.map(String);
}

describe('the walk reads per-stream rows through their extract', () => {
  it('every per-stream row with an extract has a value that reads the same from the stream (the walk calls extract alone)', () => {
    const s = store();
    s.apply([sample({ callSid: CALL_1, at: 10, values: { mos: 4.3, rttSeconds: 0.08, jitterSeconds: 0.004, packetLossRatio: 0.01, packetsSent: 900, bytesSent: 1e6 } })]);
    const stream = [...s.get(CALL_1)!.streams.values()][0]!;
    const subject = { stream } as unknown as Parameters<NonNullable<MetricDefinition['value']>>[0];
    const rows = STORE_FAMILIES.filter((d) => d.source === 'stream' && d.extract);
    expect(rows.length).toBeGreaterThan(10);
    for (const d of rows) expect(d.value!(subject), d.name).toBe(d.extract!(stream.values));
    const plan = planWalk(STORE_FAMILIES, new FleetHistograms(FLEET_HISTOGRAMS));
    expect(plan.streamValues.map((f) => STORE_FAMILIES[f])).toEqual(rows);
    expect(plan.streamReads).toEqual(rows.map((d) => d.extract));
  });
});
