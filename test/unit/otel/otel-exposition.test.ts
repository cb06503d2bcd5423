import { metrics as otelApi } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram, MetricData, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CALL_INFO,
  CALL_METRICS,
  CALL_SAMPLE_TIMESTAMP,
  FLEET_ACTIVE_CALLS,
  FLEET_HISTOGRAMS,
  FLEET_SAMPLES,
  otelAttributeName,
} from '../../../src/metrics/definitions.ts';
import type { MetricDefinition } from '../../../src/metrics/definitions.ts';
import { createOtelExposition } from '../../../src/metrics/otel.ts';
import type { OtelExposition } from '../../../src/metrics/otel.ts';
import { MAX_POINTS_PER_REQUEST } from '../../../src/metrics/otel.ts';
import { FleetHistograms } from '../../../src/metrics/fleet-histograms.ts';
import { CALLS_PER_SLICE, createStoreProducer } from '../../../src/metrics/otel-store-producer.ts';
import { Secret } from '../../../src/config/index.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT, CALL_1, CALL_2, T0, allAttributeSets, callSid, harness, otlpConfig, sample } from './helpers.ts';
import type { Harness } from './helpers.ts';

const OVERFLOW = 'otel.metric.overflow';
const SID = otelAttributeName('call_sid');

const open: OtelExposition[] = [];
function track(h: Harness): Harness {
  open.push(h.exposition);
  return h;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.shutdown(1000)));
});

// One client call with an sdk_edge stream and a client_edge gateway stream: together they carry every value.
function clientCall(h: Harness, sid = CALL_1): void {
  h.store.addCall(sid, ACCOUNT, T0);
  h.store.setCallType(sid, ACCOUNT, 'client');
  h.store.apply([
    sample({
      callSid: sid,
      at: 10,
      codecName: 'opus',
      region: 'us1',
      values: {
        mos: 4.3,
        rttSeconds: 0.08,
        jitterSeconds: 0.004,
        packetLossRatio: 0.01,
        audioInLevel: 1200,
        audioOutLevel: 900,
        bytesSent: 64_000,
        bytesReceived: 63_000,
      },
    }),
    sample({
      callSid: sid,
      at: 10,
      edge: 'client_edge',
      direction: 'inbound',
      values: { jitterAvgSeconds: 0.003, jitterMaxSeconds: 0.02, packetsSent: 500, packetsReceived: 498, packetsLost: 2, packetLossRatio: 0.004 },
    }),
  ]);
  h.active.set(ACCOUNT, 1);
}

const EXPECTED_KIND: Record<MetricDefinition['type'], DataPointType> = {
  gauge: DataPointType.GAUGE,
  counter: DataPointType.SUM,
  histogram: DataPointType.HISTOGRAM,
};

function points(m: MetricData | undefined): Array<DataPoint<unknown>> {
  if (!m) throw new Error('metric missing');
  return m.dataPoints;
}

function pointFor(m: MetricData | undefined, attrs: Record<string, string>): DataPoint<unknown> | undefined {
  return points(m).find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
}

describe('OTel exposition: the same table as Prometheus', () => {
  it('exports every definition with its OTel name, unit, description, kind and attributes, and nothing else', async () => {
    const h = track(harness());
    clientCall(h);
    const metrics = await h.collect();

    const defs = [...CALL_METRICS, CALL_SAMPLE_TIMESTAMP, CALL_INFO, ...FLEET_HISTOGRAMS, FLEET_SAMPLES, FLEET_ACTIVE_CALLS];
    expect([...metrics.keys()].sort()).toEqual(defs.map((d) => d.otelName).sort());
    for (const def of defs) {
      const m = metrics.get(def.otelName)!;
      expect(m.descriptor.unit, def.key).toBe(def.otelUnit);
      expect(m.descriptor.description, def.key).toBe(def.help);
      expect(m.dataPointType, def.key).toBe(EXPECTED_KIND[def.type]);
      if (m.dataPointType === DataPointType.SUM) {
        expect(m.isMonotonic, def.key).toBe(true);
        expect(m.aggregationTemporality, def.key).toBe(AggregationTemporality.CUMULATIVE);
      }
      expect(points(m).length, def.key).toBeGreaterThan(0);
      for (const p of points(m)) {
        expect(Object.keys(p.attributes).sort(), def.key).toEqual(def.labels.map(otelAttributeName).sort());
      }
    }
  });

  it('exports the store values with the call attributes', async () => {
    const h = track(harness());
    clientCall(h);
    const metrics = await h.collect();
    const sdk = { [SID]: CALL_1, 'twilio.edge': 'sdk_edge', 'twilio.direction': 'both' };
    const client = { [SID]: CALL_1, 'twilio.edge': 'client_edge', 'twilio.direction': 'inbound' };
    expect(pointFor(metrics.get('twilio.call.mos'), sdk)?.value).toBe(4.3);
    expect(pointFor(metrics.get('twilio.call.rtt'), sdk)?.value).toBe(0.08);
    expect(pointFor(metrics.get('twilio.call.sent'), sdk)?.value).toBe(64_000);
    expect(pointFor(metrics.get('twilio.call.packets.lost'), client)?.value).toBe(2);
    expect(pointFor(metrics.get('twilio.call.jitter.max'), client)?.value).toBe(0.02);
    expect(pointFor(metrics.get('twilio.call.sample.timestamp'), sdk)?.value).toBe((T0 + 10_000) / 1000);
    // A stream without a value has no series, as in the Prometheus exposition.
    expect(pointFor(metrics.get('twilio.call.mos'), client)).toBeUndefined();
    expect(points(metrics.get('twilio.call.info'))).toEqual([
      expect.objectContaining({
        value: 1,
        attributes: {
          [SID]: CALL_1,
          'twilio.account.sid': ACCOUNT,
          'twilio.call.type': 'client',
          'twilio.codec.name': 'opus',
          'twilio.media.region': 'us1',
        },
      }),
    ]);
    expect(points(metrics.get('twilio.voice.active_calls'))).toEqual([
      expect.objectContaining({ value: 1, attributes: { 'twilio.account.sid': ACCOUNT } }),
    ]);
  });

  it('leaves unknown info attributes out instead of sending empty strings', async () => {
    const h = track(harness());
    h.store.addCall(CALL_1, ACCOUNT, T0);
    h.store.apply([sample({ at: 10 })]);
    const metrics = await h.collect();
    // No codec or region was sent; the call type comes from the edge with data (sdk_edge: a client call).
    expect(points(metrics.get('twilio.call.info'))[0]!.attributes).toEqual({ [SID]: CALL_1, 'twilio.account.sid': ACCOUNT, 'twilio.call.type': 'client' });
  });

  it('pins per-call counter start times to when the call was tracked, stable across collections', async () => {
    const h = track(harness());
    clientCall(h);
    const first = await h.collect();
    h.store.apply([sample({ at: 20, edge: 'client_edge', direction: 'inbound', values: { packetsSent: 900 } })]);
    const second = await h.collect();
    const attrs = { [SID]: CALL_1, 'twilio.edge': 'client_edge', 'twilio.direction': 'inbound' };
    const a = pointFor(first.get('twilio.call.packets.sent'), attrs)!;
    const b = pointFor(second.get('twilio.call.packets.sent'), attrs)!;
    expect(a.startTime).toEqual([T0 / 1000, 0]);
    expect(b.startTime).toEqual(a.startTime);
    expect([a.value, b.value]).toEqual([500, 900]);
  });
});

describe('OTel fleet histograms', () => {
  it('use the table bucket boundaries', async () => {
    const h = track(harness());
    clientCall(h);
    const metrics = await h.collect();
    for (const def of FLEET_HISTOGRAMS) {
      for (const p of points(metrics.get(def.otelName))) {
        expect((p.value as Histogram).buckets.boundaries, def.key).toEqual([...def.buckets!]);
      }
    }
  });

  it('observe each sample exactly once: re-reads and history add nothing, cumulative across exports', async () => {
    const h = track(harness());
    h.store.addCall(CALL_1, ACCOUNT, T0);
    h.store.addCall(CALL_2, ACCOUNT, T0);
    const batch = [10, 20, 30].map((at) => sample({ at, values: { mos: 4.3, rttSeconds: 0.12 } }));
    let observed = h.store.apply(batch).observed;
    observed += h.store.apply(batch).observed; // a page read twice
    observed += h.store.apply([sample({ callSid: CALL_2, at: -600 })]).observed; // history, not replayed
    observed += h.store.apply([sample({ at: 40, values: { rttSeconds: 0.5 } })]).observed; // no MOS in it
    expect(observed).toBe(4);

    for (let round = 0; round < 2; round++) {
      const metrics = await h.collect();
      const mos = points(metrics.get('twilio.voice.mos'));
      expect(mos).toHaveLength(1);
      const hist = mos[0]!.value as Histogram;
      expect(hist.count).toBe(3);
      // 4.3 falls in (4.2, 4.4]: the bucket after boundary index 7.
      expect(hist.buckets.counts[8]).toBe(3);
      expect((points(metrics.get('twilio.voice.rtt'))[0]!.value as Histogram).count).toBe(4);
      expect(mos[0]!.attributes).toEqual({ 'twilio.edge': 'sdk_edge', 'twilio.direction': 'both', 'twilio.account.sid': ACCOUNT });
      expect(points(metrics.get('twilio.voice.samples')).map((p) => p.value)).toEqual([observed]);
    }
  });
});

describe('ended calls leave the OTel export (opentelemetry-js #4096 workaround)', () => {
  it('pins the upstream bug: a plain SDK observable gauge keeps exporting an attribute set it stopped observing', async () => {
    // Why per-call series are not SDK observables. If this starts failing, the installed sdk-metrics fixed #4096.
    const memory = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter: memory, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const gauge = provider.getMeter('control').createObservableGauge('g');
    let calls = ['A', 'B'];
    gauge.addCallback((r) => {
      for (const c of calls) r.observe(1, { call: c });
    });
    await provider.forceFlush();
    calls = ['A'];
    memory.reset();
    await provider.forceFlush();
    const exported = memory.getMetrics()[0]!.scopeMetrics[0]!.metrics[0]!.dataPoints.map((p) => p.attributes['call']);
    await provider.shutdown();
    expect(exported.sort()).toEqual(['A', 'B']);
  });

  it('after removeCall the next collection has no data point for that call, and the other call stays', async () => {
    const h = track(harness());
    clientCall(h, CALL_1);
    clientCall(h, CALL_2);
    const before = await h.collect();
    expect(allAttributeSets(before).filter((a) => a[SID] === CALL_1).length).toBeGreaterThan(10);

    expect(h.store.removeCall(CALL_1)).toBe(true);
    const after = await h.collect();
    expect(allAttributeSets(after).filter((a) => a[SID] === CALL_1)).toEqual([]);
    expect(pointFor(after.get('twilio.call.mos'), { [SID]: CALL_2 })?.value).toBe(4.3);
    expect(points(after.get('twilio.call.info'))).toHaveLength(1);
    // The fleet aggregates keep what the ended call contributed.
    expect((points(after.get('twilio.voice.mos'))[0]!.value as Histogram).count).toBe(2);
  });

  it('leaves out a call removed while a collection is under way', async () => {
    const store = new SampleStore({ backfill: false });
    const n = CALLS_PER_SLICE * 2;
    for (let i = 0; i < n; i++) {
      store.addCall(callSid(i), ACCOUNT, T0);
      store.apply([sample({ callSid: callSid(i), at: 10 })]);
    }
    const producer = createStoreProducer({ store, fleet: new FleetHistograms(FLEET_HISTOGRAMS), perCallSeries: true, activeCalls: () => [], include: () => true, scopeName: 's', scopeVersion: '1' });
    const pending = producer.collect();
    // The first slice is read; the call removed now sits in the second.
    store.removeCall(callSid(n - 1));
    const mos = (await pending).resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === 'twilio.call.mos')!;
    expect(mos.dataPoints).toHaveLength(n - 1);
    expect(mos.dataPoints.some((p) => p.attributes[SID] === callSid(n - 1))).toBe(false);
  });

  it('drops a stream series when its newest sample no longer carries the value', async () => {
    const h = track(harness());
    h.store.addCall(CALL_1, ACCOUNT, T0);
    h.store.apply([sample({ at: 10, values: { mos: 4.1, rttSeconds: 0.1 } })]);
    expect(points((await h.collect()).get('twilio.call.mos'))).toHaveLength(1);
    h.store.apply([sample({ at: 20, values: { rttSeconds: 0.1 } })]);
    expect((await h.collect()).get('twilio.call.mos')).toBeUndefined();
  });

  it('survives churn of many times the live calls without overflow or leftover series', async () => {
    const maxCalls = 5;
    const h = track(harness());
    for (let i = 0; i < 60; i++) {
      const sid = callSid(i);
      h.store.addCall(sid, ACCOUNT, T0);
      h.store.apply([sample({ callSid: sid, at: 10 })]);
      if (i >= maxCalls) h.store.removeCall(callSid(i - maxCalls));
      const metrics = await h.collect();
      const sets = allAttributeSets(metrics);
      expect(sets.filter((a) => OVERFLOW in a)).toEqual([]);
      const live = new Set(sets.map((a) => a[SID]).filter((s) => s !== undefined));
      expect(live.size).toBe(Math.min(i + 1, maxCalls));
    }
  });
});

describe('OTel cardinality and size', () => {
  it('exports the fleet series of 150 accounts on every edge and direction (3000 sets) with no overflow set', async () => {
    const edges = ['carrier_edge', 'sip_edge', 'sdk_edge', 'client_edge', 'unknown_edge'] as const;
    const directions = ['inbound', 'outbound', 'both', 'unknown'] as const;
    const h = track(harness({ accounts: 150 }));
    for (let a = 0; a < 150; a++) {
      const sid = callSid(a);
      const account = `AC${a.toString(16).padStart(32, '0')}`;
      h.store.addCall(sid, account, T0);
      h.store.apply(edges.flatMap((edge) => directions.map((direction) => sample({ callSid: sid, accountSid: account, edge, direction, at: 10 }))));
    }
    const metrics = await h.collect();
    expect(allAttributeSets(metrics).filter((a) => OVERFLOW in a)).toEqual([]);
    expect(points(metrics.get('twilio.voice.samples'))).toHaveLength(3000);
    expect(points(metrics.get('twilio.voice.mos'))).toHaveLength(3000);
  });

  it('exports 3000 calls of 2 streams each (6000 series per metric) with no overflow, split into bounded requests', async () => {
    const h = track(harness());
    for (let i = 0; i < 3000; i++) {
      const sid = callSid(i);
      h.store.addCall(sid, ACCOUNT, T0);
      h.store.apply(
        (['inbound', 'outbound'] as const).map((direction) =>
          sample({ callSid: sid, at: 10, edge: 'carrier_edge', direction, values: { jitterAvgSeconds: 0.002, packetsSent: 100 } }),
        ),
      );
    }
    const metrics = await h.collect();
    expect(allAttributeSets(metrics).filter((a) => OVERFLOW in a)).toEqual([]);
    expect(points(metrics.get('twilio.call.jitter.avg'))).toHaveLength(6000);
    expect(points(metrics.get('twilio.call.packets.sent'))).toHaveLength(6000);
    expect(points(metrics.get('twilio.call.info'))).toHaveLength(3000);
    // 6000 x 3 stream series + 3000 info + fleet: more than one request's worth.
    const requests = h.exports();
    expect(requests.length).toBeGreaterThan(1);
    for (const rm of requests) {
      const n = rm.scopeMetrics.flatMap((sc) => sc.metrics).reduce((sum, m) => sum + m.dataPoints.length, 0);
      expect(n).toBeLessThanOrEqual(MAX_POINTS_PER_REQUEST);
    }
  }, 30_000);

  it('yields to the event loop between slices of calls while building a collection', async () => {
    const store = new SampleStore({ backfill: false });
    for (let i = 0; i < CALLS_PER_SLICE * 4; i++) {
      store.addCall(callSid(i), ACCOUNT, T0);
      store.apply([sample({ callSid: callSid(i), at: 10 })]);
    }
    const producer = createStoreProducer({
      store,
      perCallSeries: true,
      activeCalls: () => [],
      fleet: new FleetHistograms(FLEET_HISTOGRAMS),
      include: () => true,
      scopeName: 's',
      scopeVersion: '1',
    });
    // Without slicing the whole walk would finish before any other macrotask runs.
    let turns = 0;
    let spinning = true;
    const spin = (): void => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const result = await producer.collect();
    spinning = false;
    expect(turns).toBeGreaterThanOrEqual(3);
    expect(result.resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === 'twilio.call.mos')?.dataPoints).toHaveLength(
      CALLS_PER_SLICE * 4,
    );
  });
});

describe('OTel exposition options', () => {
  it('per_call_series false exports only the fleet aggregates', async () => {
    const h = track(harness({ perCallSeries: false }));
    clientCall(h);
    const metrics = await h.collect();
    expect([...metrics.keys()].sort()).toEqual(
      [...FLEET_HISTOGRAMS, FLEET_SAMPLES, FLEET_ACTIVE_CALLS].map((d) => d.otelName).sort(),
    );
    expect(allAttributeSets(metrics).filter((a) => SID in a)).toEqual([]);
  });

  it('is off without an endpoint in the config or the environment', () => {
    const base = {
      store: new SampleStore({ backfill: false }),
      perCallSeries: true,
      activeCalls: () => [],
      accounts: 1,
      version: '1',
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    };
    expect(createOtelExposition({ ...base, otlp: otlpConfig({ endpoint: '' }), env: {} })).toBeUndefined();
    const fromEnv = createOtelExposition({
      ...base,
      otlp: otlpConfig({ endpoint: '' }),
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
    });
    expect(fromEnv?.settings.endpoint).toBe('http://127.0.0.1:4318/v1/metrics');
    if (fromEnv) open.push(fromEnv);
  });

  it('include() drops definitions from the export', async () => {
    const h = track(harness({ include: (d) => d.key !== 'mos' && d.key !== 'voice_mos' }));
    clientCall(h);
    const metrics = await h.collect();
    expect(metrics.has('twilio.call.mos')).toBe(false);
    expect(metrics.has('twilio.voice.mos')).toBe(false);
    expect(metrics.has('twilio.call.rtt')).toBe(true);
  });

  it('exports one scope named after the exporter with its version', async () => {
    const h = track(harness());
    clientCall(h);
    await h.collect();
    const scopes = h.exports()[0]!.scopeMetrics.map((s) => s.scope);
    expect(scopes).toEqual([{ name: 'twilio-insights-exporter', version: '9.9.9-test', schemaUrl: undefined }]);
  });

  it('never registers a global MeterProvider', () => {
    track(harness());
    expect(otelApi.getMeterProvider()).not.toBeInstanceOf(MeterProvider);
  });
});

describe('OTel resource', () => {
  async function resourceOf(h: Harness): Promise<Record<string, unknown>> {
    clientCall(h);
    await h.collect();
    return h.exports()[0]!.resource.attributes;
  }

  it('carries service name and version, the SDK attributes and OTEL_RESOURCE_ATTRIBUTES', async () => {
    const attrs = await resourceOf(track(harness({ env: { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=voice%2Cops' } })));
    expect(attrs).toMatchObject({
      'service.name': 'twilio-insights-exporter',
      'service.version': '9.9.9-test',
      'telemetry.sdk.language': 'nodejs',
      'deployment.environment.name': 'prod',
      team: 'voice,ops',
    });
  });

  it('takes OTEL_SERVICE_NAME over the default service name, and a configured name over both', async () => {
    const env = { OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,service.version=0' };
    expect((await resourceOf(track(harness({ env }))))['service.name']).toBe('from-env');
    const configured = harness({ env, otlp: otlpConfig({ serviceName: 'from-config', exportIntervalMs: 3_600_000 }) });
    const attrs = await resourceOf(track(configured));
    expect(attrs['service.name']).toBe('from-config');
    // The running version is a fact, not a setting.
    expect(attrs['service.version']).toBe('9.9.9-test');
  });
});

interface FakeExporter extends PushMetricExporter {
  readonly exported: ResourceMetrics[];
}

function fakeExporter(answer: (n: number) => { code: number; error?: Error } | 'hang'): FakeExporter {
  const exported: ResourceMetrics[] = [];
  return {
    exported,
    export(metrics, done): void {
      exported.push(metrics);
      const a = answer(exported.length);
      if (a !== 'hang') done(a);
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

describe('OTel export outcomes and shutdown', () => {
  it('reports each finished export to onExportResult, failures with their error', async () => {
    const outcomes: Array<[boolean, unknown]> = [];
    const boom = new Error('collector said 400');
    const exporter = fakeExporter((n) => (n === 1 ? { code: 1, error: boom } : { code: 0 }));
    const h = track(harness({ exporter, onExportResult: (ok, err) => outcomes.push([ok, err]) }));
    clientCall(h);
    await h.exposition.forceFlush();
    await h.exposition.forceFlush();
    // The error passed on is the exporter's, its message redacted of the OTLP headers' secrets (see below).
    expect(outcomes).toEqual([
      [false, expect.objectContaining({ name: 'Error', message: boom.message })],
      [true, undefined],
    ]);
  });

  // Probe N F5: a collector (or a proxy) that echoed the Authorization header in its error put the header's secret in
  // the exporter's log, through the OTLP exporter error's message; Twilio errors were redacted, OTLP ones not.
  it('reports a failed export without the secret header values a collector echoed back', async () => {
    const token = 'OtlpHeaderSecret555';
    const echo = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(400, `Bad auth ${req.headers.authorization ?? ''}`, { 'content-type': 'text/plain' }).end(`bad auth ${req.headers.authorization ?? ''} x-key=${String(req.headers['x-key'])}`));
    });
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    try {
      const outcomes: Array<[boolean, string]> = [];
      const endpoint = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/v1/metrics`;
      const h = track(
        harness({
          exporter: undefined,
          otlp: otlpConfig({ endpoint, exportIntervalMs: 3_600_000, headers: { Authorization: new Secret(`Bearer ${token}`), 'X-Key': new Secret('key-value-777') } }),
          onExportResult: (ok, err) => outcomes.push([ok, String(err)]),
        }),
      );
      clientCall(h);
      await h.exposition.forceFlush();
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]![0]).toBe(false);
      // The collector's answer did reach the error, so the assertions below are not vacuous.
      expect(outcomes[0]![1]).toMatch(/Bad auth|bad auth/);
      expect(outcomes[0]![1]).not.toContain(token);
      expect(outcomes[0]![1]).not.toContain('key-value-777');
    } finally {
      echo.close();
    }
  });

  it('counts an exporter that throws as a failed export instead of breaking the reader', async () => {
    const outcomes: Array<[boolean, unknown]> = [];
    const exporter: PushMetricExporter = {
      export(): void {
        throw new Error('serializer blew up');
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const h = track(harness({ exporter, onExportResult: (ok, err) => outcomes.push([ok, err]) }));
    clientCall(h);
    await h.exposition.forceFlush();
    expect(outcomes).toEqual([[false, new Error('serializer blew up')]]);
  });

  it('sends nothing and counts nothing while there is nothing to export', async () => {
    const outcomes: boolean[] = [];
    const exporter = fakeExporter(() => ({ code: 0 }));
    const h = track(harness({ exporter, onExportResult: (ok) => outcomes.push(ok) }));
    await h.exposition.forceFlush();
    expect(exporter.exported).toEqual([]);
    expect(outcomes).toEqual([]);
  });

  it('shutdown exports exactly once, even when called twice', async () => {
    const h = harness();
    clientCall(h);
    await Promise.all([h.exposition.shutdown(), h.exposition.shutdown()]);
    expect(h.exports()).toHaveLength(1);
    expect(metricsNamed(h.exports()[0]!)).toContain('twilio.call.mos');
  });

  it('shutdown resolves within its timeout when the receiver never answers', async () => {
    const exporter = fakeExporter(() => 'hang');
    const h = harness({ exporter, otlp: otlpConfig({ exportIntervalMs: 3_600_000, exportTimeoutMs: 2000 }) });
    clientCall(h);
    const started = Date.now();
    await h.exposition.shutdown(200);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(exporter.exported).toHaveLength(1);
  });

  it('keeps header values secret in its settings', () => {
    const h = track(
      harness({ otlp: otlpConfig({ headers: { Authorization: new Secret('Bearer s3cr3t') } }), env: { OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=k3y' } }),
    );
    const dumped = JSON.stringify(h.exposition.settings);
    expect(dumped).not.toMatch(/s3cr3t|k3y/);
    expect(Object.keys(h.exposition.settings.headers).sort()).toEqual(['Authorization', 'x-api-key']);
  });
});

function metricsNamed(rm: ResourceMetrics): string[] {
  return rm.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
}
