// OTLP push checked against what receivers got: VictoriaMetrics (a real OTLP/HTTP receiver, queried over its
// Prometheus API) and a raw capture decoded with the official .proto files. Needs `bash test/e2e/setup.sh`
// (VictoriaMetrics) and `bash test/e2e/setup-otel-proto.sh` (the .proto files).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, Secret } from '../../src/config/index.ts';
import type { OtlpConfig } from '../../src/config/index.ts';
import {
  CALL_INFO,
  CALL_METRICS,
  CALL_SAMPLE_TIMESTAMP,
  FLEET_ACTIVE_CALLS,
  FLEET_HISTOGRAMS,
  FLEET_SAMPLES,
  otelAttributeName,
} from '../../src/metrics/definitions.ts';
import { createOtelExposition } from '../../src/metrics/otel.ts';
import type { OtelExposition } from '../../src/metrics/otel.ts';
import type { Sample, SampleValues } from '../../src/samples/sample.ts';
import { SampleStore } from '../../src/store/sample-store.ts';
import { eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { attributesOf, decodeExportRequest, metricsOf, startCaptureServer } from '../helpers/otlp-proto.ts';
import type { CaptureServer, ExportMetricsServiceRequest } from '../helpers/otlp-proto.ts';
import { startTestSimulator } from '../helpers/simulator.ts';
import type { TestSimulator } from '../helpers/simulator.ts';
import { startVictoriaMetrics } from '../helpers/victoria-metrics.ts';
import type { RunningVictoriaMetrics } from '../helpers/victoria-metrics.ts';

const ACCOUNT = 'AC998c10b68cbfda9f67277f7d8f4439c9';
const CALL = 'CA7569efe0253644fa4a88aa97beca3310';
const OTHER_CALL = 'CA0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7';
const VERSION = '0.0.0-e2e';

function otlp(endpoint: string, overrides: Partial<OtlpConfig> = {}): OtlpConfig {
  return {
    endpoint,
    headers: {},
    // Exports happen when the test flushes; the interval only has to stay out of the way.
    exportIntervalMs: 600_000,
    exportTimeoutMs: 5_000,
    serviceName: DEFAULTS.otlpServiceName,
    ...overrides,
  };
}

function sample(callSid: string, at: number, values: SampleValues, edge: Sample['edge'] = 'sdk_edge', direction: Sample['direction'] = 'both'): Sample {
  return { callSid, accountSid: ACCOUNT, edge, direction, timestampMs: at, codecName: 'opus', region: 'us1', values };
}

/** Adds a client call (sdk_edge + client_edge inbound) with `samples` sdk_edge samples, the last MOS 4.25. */
function addCall(store: SampleStore, callSid: string, samples = 3): void {
  const now = Date.now();
  store.addCall(callSid, ACCOUNT, now - 60_000);
  store.setCallType(callSid, ACCOUNT, 'client');
  const batch: Sample[] = [];
  for (let i = 0; i < samples; i++) {
    batch.push(sample(callSid, now - (samples - i) * 10_000, { mos: i === samples - 1 ? 4.25 : 4.4, rttSeconds: 0.09, jitterSeconds: 0.005, packetLossRatio: 0, audioInLevel: 1500, audioOutLevel: 800, bytesSent: 80_000 * (i + 1), bytesReceived: 79_000 * (i + 1) }));
  }
  batch.push(sample(callSid, now - 10_000, { jitterAvgSeconds: 0.004, jitterMaxSeconds: 0.03, packetsSent: 1500, packetsReceived: 1490, packetsLost: 10, packetLossRatio: 0.006 }, 'client_edge', 'inbound'));
  store.apply(batch);
}

const open: Array<{ shutdown(t?: number): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.shutdown(2000)));
});

function expose(store: SampleStore, config: OtlpConfig, onExportResult?: (ok: boolean) => void, env: Record<string, string> = {}): OtelExposition {
  const exposition = createOtelExposition({
    store,
    perCallSeries: true,
    activeCalls: () => [[ACCOUNT, store.size]],
    otlp: config,
    accounts: 1,
    version: VERSION,
    env,
    ...(onExportResult && { onExportResult }),
  });
  if (!exposition) throw new Error('exposition disabled');
  store.addListener(exposition.listener);
  open.push(exposition);
  return exposition;
}

describe('OTLP push into VictoriaMetrics (a real OTLP/HTTP receiver)', () => {
  let vm: RunningVictoriaMetrics;
  beforeAll(async () => {
    vm = await startVictoriaMetrics();
  });
  afterAll(async () => {
    await vm?.stop();
  });

  async function queryUntil(promql: string): Promise<Array<{ labels: Readonly<Record<string, string>>; value: number }>> {
    return eventually(
      async () => {
        await vm.forceFlush();
        const r = await vm.query(promql);
        return r.length > 0 ? r : undefined;
      },
      20_000,
      `${promql} in VictoriaMetrics (names held: ${(await vm.metricNames().catch(() => [])).join(', ')})`,
    );
  }

  it('stores the per-call MOS with the call attributes and the value from the store', async () => {
    const outcomes: boolean[] = [];
    const store = new SampleStore({ backfill: false });
    const exposition = expose(store, otlp(vm.otlpUrl), (ok) => outcomes.push(ok));
    addCall(store, CALL);
    await exposition.forceFlush();

    const [mos, ...rest] = await queryUntil(`{__name__=~"twilio_call_mos.*", twilio_call_sid="${CALL}"}`);
    expect(rest).toEqual([]);
    expect(mos!.value).toBe(4.25);
    expect(mos!.labels).toMatchObject({
      twilio_call_sid: CALL,
      twilio_edge: 'sdk_edge',
      twilio_direction: 'both',
      // VictoriaMetrics turns resource attributes into labels: the resource arrived too.
      service_name: 'twilio-insights-exporter',
      service_version: VERSION,
    });
    expect(outcomes).toContain(true);

    const info = await queryUntil(`{__name__=~"twilio_call_info.*", twilio_call_sid="${CALL}"}`);
    expect(info[0]!.labels).toMatchObject({ twilio_account_sid: ACCOUNT, twilio_call_type: 'client', twilio_codec_name: 'opus', twilio_media_region: 'us1' });
    // The fleet histogram arrives as Prometheus buckets: all three sdk_edge samples, once.
    const count = await queryUntil(`sum({__name__=~"twilio_voice_mos.*_count"})`);
    expect(count[0]!.value).toBe(3);
    const lost = await queryUntil(`{__name__=~"twilio_call_packets_lost.*", twilio_call_sid="${CALL}"}`);
    expect(lost[0]!.value).toBe(10);
  });
  it('names every series as the Prometheus exposition does, except the loss histogram', async () => {
    const store = new SampleStore({ backfill: false });
    const exposition = expose(store, otlp(vm.otlpUrl));
    addCall(store, OTHER_CALL);
    await exposition.forceFlush();
    const expected = [...CALL_METRICS, CALL_SAMPLE_TIMESTAMP, CALL_INFO, FLEET_SAMPLES, FLEET_ACTIVE_CALLS].map((d) => d.name);
    expected.push(...FLEET_HISTOGRAMS.map((d) => `${d.name}_count`));
    // OTLP-to-Prometheus naming never appends `_ratio` to a histogram, so the loss histogram (unit "1")
    // arrives without it; MOS, audio levels and info use braced units so their names survive the trip.
    const drift: Record<string, string> = {
      twilio_voice_packet_loss_ratio_count: 'twilio_voice_packet_loss_count',
    };
    const names = await eventually(async () => {
      await vm.forceFlush();
      const held = new Set(await vm.metricNames());
      return expected.every((n) => held.has(drift[n] ?? n)) ? held : undefined;
    }, 20_000, 'every table name in VictoriaMetrics');
    expect(expected.filter((n) => !names.has(drift[n] ?? n))).toEqual([]);
  });
});

describe('OTLP request decoded with the official .proto files', () => {
  let capture: CaptureServer;
  beforeAll(async () => {
    capture = await startCaptureServer();
  });
  afterAll(async () => {
    await capture?.close();
  });

  async function nextRequest(after: number): Promise<{ request: ExportMetricsServiceRequest; headers: Record<string, unknown> }> {
    const got = await eventually(() => capture.requests[after], 10_000, `OTLP request #${after + 1}`);
    expect(got.method).toBe('POST');
    expect(got.path).toBe('/v1/metrics');
    return { request: await decodeExportRequest(got.body), headers: got.headers };
  }

  it('carries every definition with its name, unit, description and attributes, the resource, and the headers', async () => {
    const store = new SampleStore({ backfill: false });
    const before = capture.requests.length;
    const exposition = expose(
      store,
      otlp(capture.url, { headers: { authorization: new Secret('Bearer e2e-token') } }),
      undefined,
      { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=e2e' },
    );
    addCall(store, CALL);
    await exposition.forceFlush();
    const { request, headers } = await nextRequest(before);

    expect(headers['content-type']).toBe('application/x-protobuf');
    expect(headers['content-encoding']).toBe('gzip');
    expect(headers['user-agent']).toMatch(new RegExp(`^twilio-insights-exporter/${VERSION} OTel-OTLP-Exporter-JavaScript/`));
    expect(headers['authorization']).toBe('Bearer e2e-token');
    expect(request.resourceMetrics).toHaveLength(1);
    expect(attributesOf(request.resourceMetrics![0]!.resource?.attributes)).toMatchObject({
      'service.name': 'twilio-insights-exporter',
      'service.version': VERSION,
      'deployment.environment.name': 'e2e',
    });
    expect(request.resourceMetrics![0]!.scopeMetrics!.map((s) => s.scope)).toEqual([{ name: 'twilio-insights-exporter', version: VERSION }]);

    const metrics = metricsOf(request);
    const defs = [...CALL_METRICS, CALL_SAMPLE_TIMESTAMP, CALL_INFO, ...FLEET_HISTOGRAMS, FLEET_SAMPLES, FLEET_ACTIVE_CALLS];
    expect([...metrics.keys()].sort()).toEqual(defs.map((d) => d.otelName).sort());
    for (const def of defs) {
      const m = metrics.get(def.otelName)!;
      expect(m.unit, def.key).toBe(def.otelUnit);
      expect(m.description, def.key).toBe(def.help);
      const kind = def.type === 'counter' ? m.sum : def.type === 'histogram' ? m.histogram : m.gauge;
      expect(kind?.dataPoints?.length, def.key).toBeGreaterThan(0);
      for (const p of kind!.dataPoints!) {
        expect(Object.keys(attributesOf(p.attributes)).sort(), def.key).toEqual(def.labels.map(otelAttributeName).sort());
      }
      if (def.type === 'counter') {
        expect(m.sum?.isMonotonic, def.key).toBe(true);
        expect(m.sum?.aggregationTemporality, def.key).toBe('AGGREGATION_TEMPORALITY_CUMULATIVE');
      }
      if (def.type === 'histogram') {
        for (const p of m.histogram!.dataPoints!) expect(p.explicitBounds, def.key).toEqual([...def.buckets!]);
      }
    }
    const mos = metrics.get('twilio.call.mos')!.gauge!.dataPoints!;
    expect(mos.map((p) => [attributesOf(p.attributes), p.asDouble])).toEqual([
      [{ 'twilio.call.sid': CALL, 'twilio.edge': 'sdk_edge', 'twilio.direction': 'both' }, 4.25],
    ]);
    expect(metrics.get('twilio.voice.mos')!.histogram!.dataPoints![0]!.count).toBe('3');
  });

  it('stops sending an ended call in the next request, on the wire', async () => {
    const store = new SampleStore({ backfill: false });
    const exposition = expose(store, otlp(capture.url));
    addCall(store, CALL);
    addCall(store, OTHER_CALL);

    const sidsIn = (r: ExportMetricsServiceRequest): Set<unknown> => {
      const out = new Set<unknown>();
      for (const m of metricsOf(r).values()) {
        for (const p of [...(m.gauge?.dataPoints ?? []), ...(m.sum?.dataPoints ?? [])]) out.add(attributesOf(p.attributes)['twilio.call.sid']);
      }
      out.delete(undefined);
      return out;
    };
    let before = capture.requests.length;
    await exposition.forceFlush();
    expect(sidsIn((await nextRequest(before)).request)).toEqual(new Set([CALL, OTHER_CALL]));

    store.removeCall(CALL);
    before = capture.requests.length;
    await exposition.forceFlush();
    expect(sidsIn((await nextRequest(before)).request)).toEqual(new Set([OTHER_CALL]));
  });
});

describe('OTLP export failures', () => {
  it('a 503 is retried by the SDK with the same payload, and the export is counted once, as a success', async () => {
    const capture = await startCaptureServer((n) => (n === 1 ? 503 : 200));
    const outcomes: boolean[] = [];
    const store = new SampleStore({ backfill: false });
    const exposition = expose(store, otlp(capture.url), (ok) => outcomes.push(ok));
    try {
      addCall(store, CALL);
      await exposition.forceFlush();
      await eventually(() => (outcomes.length > 0 ? true : undefined), 10_000, 'an export outcome');
      expect(capture.requests).toHaveLength(2);
      expect(capture.requests[1]!.body.equals(capture.requests[0]!.body)).toBe(true);
      expect(outcomes).toEqual([true]);
    } finally {
      // Stop pushing before the receiver goes, or the last export would retry into a closed port.
      await exposition.shutdown(2000);
      await capture.close();
    }
  });

  it('a 400 is not retried and is counted as a failure; polling data keeps flowing into the next export', async () => {
    const capture = await startCaptureServer((n) => (n === 1 ? 400 : 200));
    const outcomes: boolean[] = [];
    const store = new SampleStore({ backfill: false });
    const exposition = expose(store, otlp(capture.url), (ok) => outcomes.push(ok));
    try {
      addCall(store, CALL);
      await exposition.forceFlush();
      await exposition.forceFlush();
      await eventually(() => (outcomes.length === 2 ? true : undefined), 10_000, 'two export outcomes');
      expect(outcomes).toEqual([false, true]);
      expect(capture.requests).toHaveLength(2);
      const second = metricsOf(await decodeExportRequest(capture.requests[1]!.body));
      expect(second.get('twilio.call.mos')?.gauge?.dataPoints?.[0]?.asDouble).toBe(4.25);
    } finally {
      // Stop pushing before the receiver goes, or the last export would retry into a closed port.
      await exposition.shutdown(2000);
      await capture.close();
    }
  });
});

// Runs once the composition root creates the OTel exposition from `otlp.endpoint` (the lead wires it).

describe('the whole exporter tracking simulator calls pushes to VictoriaMetrics', () => {
  let vm: RunningVictoriaMetrics | undefined;
  let sim: TestSimulator | undefined;
  let exp: TestExporter | undefined;
  afterAll(async () => {
    await exp?.close();
    await sim?.close();
    await vm?.stop();
  });

  it('VictoriaMetrics holds the same per-call MOS as /metrics, with the call attributes', async () => {
    vm = await startVictoriaMetrics();
    sim = await startTestSimulator();
    const call = await sim.control.createCall({ type: 'client', age_seconds: 60 });
    exp = await startTestExporter(sim.url, {
      discovery: { enabled: true, interval: '1s' },
      otlp: { endpoint: vm.otlpUrl, export_interval: '1s', export_timeout: '1s' },
    });
    const promMos = await eventually(async () => {
      const s = seriesOf(await exp!.scrape(), 'twilio_call_mos').find((x) => x.labels['call_sid'] === call.sid && x.labels['edge'] === 'sdk_edge');
      return s?.value;
    }, 20_000, 'twilio_call_mos on /metrics');
    const otel = await eventually(async () => {
      await vm!.forceFlush();
      const r = await vm!.query(`{__name__=~"twilio_call_mos.*", twilio_call_sid="${call.sid}", twilio_edge="sdk_edge"}`);
      return r[0];
    }, 20_000, 'twilio_call_mos in VictoriaMetrics');
    expect(otel.labels).toMatchObject({ twilio_direction: 'both', twilio_call_sid: call.sid });
    // Both expositions read one store fed by the simulator: each value is one the simulator served for the stream.
    const served = (await sim.control.samples(call.sid, { edge: 'sdk_edge' })).map((r) => r.sdk_edge?.interval.mos.value);
    expect(served).toContain(otel.value);
    expect(served).toContain(promMos);
    // Export outcomes are the exporter's own metric.
    const outcomes = await eventually(async () => {
      const s = seriesOf(await exp!.scrape(), 'twilio_insights_exporter_otlp_exports_total').find((x) => x.labels['outcome'] === 'success');
      return s && s.value > 0 ? s : undefined;
    }, 10_000, 'a successful export counted on /metrics');
    expect(outcomes.value).toBeGreaterThan(0);
  });
});
