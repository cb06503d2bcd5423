import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CALL_METRICS, FLEET_HISTOGRAMS } from '../../../src/metrics/definitions.ts';
import type { MetricDefinition } from '../../../src/metrics/definitions.ts';
import { createPrometheusExposition } from '../../../src/metrics/prometheus.ts';
import { PROCESS_METRIC_NAMES, registerProcessMetrics } from '../../../src/metrics/process-metrics.ts';
import { parseMetricRecord } from '../../../src/samples/parse.ts';
import type { Sample } from '../../../src/samples/sample.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT_A, ACCOUNT_B, CALL_1, CALL_2, CALL_3, T0, sample } from '../store/sample-builder.ts';
import { find, parseExposition, valueOf } from './exposition-parser.ts';
import type { ExpositionSample } from './exposition-parser.ts';

function records(name: string): Sample[] {
  const raw = JSON.parse(readFileSync(new URL(`../../fixtures/records/${name}`, import.meta.url), 'utf8')) as unknown[];
  return raw.map((r) => {
    const result = parseMetricRecord(r);
    if (!result.ok) throw new Error(`fixture ${name}: ${result.detail}`);
    return result.sample;
  });
}

/** The spec's sdk_edge example (CALL_1) and the kb-go carrier_edge capture (CALL_2, 4 inbound + 4 outbound). */
const SDK = records('sdk-edge-spec-read.json');
const CARRIER = records('carrier-edge-kb-go.json');
/** Three more sdk_edge samples of CALL_3 (account B) with known MOS, RTT and loss. */
const CALL_3_SAMPLES = [
  sample({ callSid: CALL_3, accountSid: ACCOUNT_B, at: 3600, values: { mos: 3.0, rttSeconds: 0.35, packetLossRatio: 0.03 } }),
  sample({ callSid: CALL_3, accountSid: ACCOUNT_B, at: 3610, values: { mos: 4.5, rttSeconds: 0.05, packetLossRatio: 0 } }),
  sample({ callSid: CALL_3, accountSid: ACCOUNT_B, at: 3620, values: { mos: 4.6, rttSeconds: 2.5 } }),
];

interface SetupOptions {
  perCallSeries?: boolean;
  include?: (def: MetricDefinition) => boolean;
}

function setup(options: SetupOptions = {}) {
  const store = new SampleStore({ backfill: false });
  const active = new Map([[ACCOUNT_A, 2], [ACCOUNT_B, 1]]);
  const expo = createPrometheusExposition({
    store,
    perCallSeries: options.perCallSeries ?? true,
    activeCalls: () => active,
    version: '1.2.3',
    ...(options.include && { include: options.include }),
  });
  store.addListener(expo.listener);
  // Each call was tracked when its first sample was taken, so every sample is live, none history.
  store.addCall(CALL_1, ACCOUNT_A, SDK[0]!.timestampMs);
  store.addCall(CALL_2, ACCOUNT_A, CARRIER[0]!.timestampMs);
  store.addCall(CALL_3, ACCOUNT_B, T0 + 3_600_000);
  store.setCallType(CALL_1, ACCOUNT_A, 'client');
  store.setCallType(CALL_2, ACCOUNT_A, 'carrier');
  return { store, expo, active };
}

function applyAll(store: SampleStore): void {
  store.apply(SDK);
  store.apply(CARRIER);
  store.apply(CALL_3_SAMPLES);
}

async function text(expo: ReturnType<typeof setup>['expo']): Promise<{ body: string; samples: ExpositionSample[] }> {
  const r = await expo.render('text');
  expect(r.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  const body = r.text();
  return { body, samples: parseExposition(body) };
}

const sdkLabels = { call_sid: CALL_1, edge: 'sdk_edge', direction: 'both' };

describe('Prometheus exposition: per-call series', () => {
  it('renders each stream with labels call_sid, edge, direction and values in base units', async () => {
    const { store, expo } = setup();
    applyAll(store);
    const { samples } = await text(expo);

    expect(valueOf(samples, 'twilio_call_mos', sdkLabels)).toBe(4.39);
    expect(valueOf(samples, 'twilio_call_rtt_seconds', sdkLabels)).toBe(0.081);
    expect(valueOf(samples, 'twilio_call_jitter_seconds', sdkLabels)).toBe(0.009);
    expect(valueOf(samples, 'twilio_call_audio_in_level', sdkLabels)).toBe(81);
    expect(valueOf(samples, 'twilio_call_audio_out_level', sdkLabels)).toBe(5237);
    expect(valueOf(samples, 'twilio_call_packets_sent_total', sdkLabels)).toBe(3934);
    expect(valueOf(samples, 'twilio_call_packets_received_total', sdkLabels)).toBe(3900);
    expect(valueOf(samples, 'twilio_call_packets_lost_total', sdkLabels)).toBe(0);
    expect(valueOf(samples, 'twilio_call_sent_bytes_total', sdkLabels)).toBe(329425);
    expect(valueOf(samples, 'twilio_call_received_bytes_total', sdkLabels)).toBe(547788);
    expect(valueOf(samples, 'twilio_call_sample_timestamp_seconds', sdkLabels)).toBe(Date.UTC(2019, 9, 7, 22, 32, 6) / 1000);
    // The spec example has no loss percentage: no series rather than a made-up 0.
    expect(find(samples, 'twilio_call_packet_loss_ratio', { call_sid: CALL_1 })).toEqual([]);

    for (const s of samples.filter((x) => x.name.startsWith('twilio_call_') && x.name !== 'twilio_call_info')) {
      expect(Object.keys(s.labels).sort()).toEqual(['call_sid', 'direction', 'edge']);
    }
  });

  it('shows the newest sample of each gateway direction', async () => {
    const { store, expo } = setup();
    applyAll(store);
    const { samples } = await text(expo);
    const inbound = { call_sid: CALL_2, edge: 'carrier_edge', direction: 'inbound' };
    const outbound = { call_sid: CALL_2, edge: 'carrier_edge', direction: 'outbound' };

    expect(valueOf(samples, 'twilio_call_packets_received_total', inbound)).toBe(1926);
    expect(valueOf(samples, 'twilio_call_packets_sent_total', outbound)).toBe(1877);
    expect(valueOf(samples, 'twilio_call_jitter_avg_seconds', outbound)).toBeCloseTo(0.0000274644, 15);
    expect(valueOf(samples, 'twilio_call_jitter_max_seconds', inbound)).toBeCloseTo(0.0000136974, 15);
    expect(valueOf(samples, 'twilio_call_sample_timestamp_seconds', outbound)).toBe(Date.UTC(2020, 0, 6, 15, 22, 16, 6) / 1000);
    expect(find(samples, 'twilio_call_packets_sent_total', inbound)).toEqual([]);
  });

  it('renders one info series per call with its descriptive labels', async () => {
    const { store, expo } = setup();
    applyAll(store);
    const { samples } = await text(expo);

    expect(find(samples, 'twilio_call_info')).toEqual(
      expect.arrayContaining([
        { name: 'twilio_call_info', labels: { call_sid: CALL_1, account_sid: ACCOUNT_A, call_type: 'client', codec_name: '', media_region: '' }, value: 1 },
        { name: 'twilio_call_info', labels: { call_sid: CALL_2, account_sid: ACCOUNT_A, call_type: 'carrier', codec_name: 'pcmu', media_region: 'us1' }, value: 1 },
      ]),
    );
    expect(find(samples, 'twilio_call_info')).toHaveLength(3);
  });

  it('renders a call\'s info labels anew once its codec, region or call type changes (they are cached between renders)', async () => {
    const { store, expo } = setup();
    applyAll(store);
    const info = async (): Promise<Record<string, string> | undefined> => find((await text(expo)).samples, 'twilio_call_info', { call_sid: CALL_2 })[0]?.labels;
    expect(await info()).toMatchObject({ codec_name: 'pcmu', media_region: 'us1', call_type: 'carrier' });
    const last = CARRIER[CARRIER.length - 1]!;
    store.apply([{ ...last, timestampMs: last.timestampMs + 10_000, codecName: 'opus', region: 'de1' }]);
    expect(await info()).toMatchObject({ codec_name: 'opus', media_region: 'de1', call_type: 'carrier' });
    store.setCallType(CALL_2, ACCOUNT_A, 'sip');
    expect(await info()).toMatchObject({ codec_name: 'opus', media_region: 'de1', call_type: 'sip' });
    expect(await info()).toMatchObject({ codec_name: 'opus', media_region: 'de1', call_type: 'sip' });
  });

  it('drops every series of a removed call, including its poll-success gauge, and keeps the fleet aggregates', async () => {
    const { store, expo } = setup();
    applyAll(store);
    expo.self.callPollSuccess.set({ call_sid: CALL_2 }, 1);
    expo.self.callPollSuccess.set({ call_sid: CALL_1 }, 1);
    const before = await text(expo);
    expect(before.body).toContain(CALL_2);

    store.removeCall(CALL_2);
    const after = await text(expo);

    expect(after.body).not.toContain(CALL_2);
    expect(valueOf(after.samples, 'twilio_insights_exporter_call_poll_success', { call_sid: CALL_1 })).toBe(1);
    // Counters and histograms never go down when a call leaves.
    expect(valueOf(after.samples, 'twilio_voice_samples_total', { edge: 'carrier_edge', direction: 'inbound', account_sid: ACCOUNT_A })).toBe(4);
  });

  it('hides every per-call family with perCallSeries=false and keeps the fleet ones', async () => {
    const { store, expo } = setup({ perCallSeries: false });
    applyAll(store);
    const { body, samples } = await text(expo);

    expect(samples.filter((s) => s.name.startsWith('twilio_call_'))).toEqual([]);
    expect(body).not.toMatch(/^# (HELP|TYPE) twilio_call_/m);
    expect(samples.filter((s) => 'call_sid' in s.labels)).toEqual([]);
    expect(valueOf(samples, 'twilio_voice_mos_count', { edge: 'sdk_edge', direction: 'both', account_sid: ACCOUNT_B })).toBe(3);
    expect(valueOf(samples, 'twilio_voice_active_calls', { account_sid: ACCOUNT_A })).toBe(2);
  });

  it('leaves out the families the include filter rejects', async () => {
    const { store, expo } = setup({ include: (d) => d.key !== 'mos' && d.key !== 'voice_rtt' });
    applyAll(store);
    const { body, samples } = await text(expo);

    expect(find(samples, 'twilio_call_mos')).toEqual([]);
    expect(body).not.toContain('twilio_voice_rtt_seconds');
    expect(find(samples, 'twilio_call_rtt_seconds')).toHaveLength(2);
    expect(find(samples, 'twilio_voice_mos_count')).toHaveLength(2);
  });
});

describe('Prometheus exposition: fleet aggregates', () => {
  it('observes every live sample once into the histograms and the samples counter', async () => {
    const { store, expo } = setup();
    applyAll(store);
    const { samples } = await text(expo);
    const b = { edge: 'sdk_edge', direction: 'both', account_sid: ACCOUNT_B };

    expect(valueOf(samples, 'twilio_voice_mos_count', b)).toBe(3);
    expect(valueOf(samples, 'twilio_voice_mos_sum', b)).toBeCloseTo(12.1, 10);
    expect(valueOf(samples, 'twilio_voice_mos_bucket', { ...b, le: '3' })).toBe(1);
    expect(valueOf(samples, 'twilio_voice_mos_bucket', { ...b, le: '4.4' })).toBe(1);
    expect(valueOf(samples, 'twilio_voice_mos_bucket', { ...b, le: '4.5' })).toBe(2);
    expect(valueOf(samples, 'twilio_voice_mos_bucket', { ...b, le: '+Inf' })).toBe(3);
    expect(valueOf(samples, 'twilio_voice_rtt_seconds_bucket', { ...b, le: '0.4' })).toBe(2);
    // The third sample sent no loss: two loss observations, not three.
    expect(valueOf(samples, 'twilio_voice_packet_loss_ratio_count', b)).toBe(2);
    expect(valueOf(samples, 'twilio_voice_packet_loss_ratio_bucket', { ...b, le: '0' })).toBe(1);
    expect(valueOf(samples, 'twilio_voice_samples_total', b)).toBe(3);

    const a = { edge: 'sdk_edge', direction: 'both', account_sid: ACCOUNT_A };
    expect(valueOf(samples, 'twilio_voice_mos_bucket', { ...a, le: '4.4' })).toBe(1);
    expect(valueOf(samples, 'twilio_voice_mos_bucket', { ...a, le: '4.2' })).toBe(0);
    expect(valueOf(samples, 'twilio_voice_jitter_seconds_count', a)).toBe(1);
    for (const direction of ['inbound', 'outbound']) {
      expect(valueOf(samples, 'twilio_voice_samples_total', { edge: 'carrier_edge', direction, account_sid: ACCOUNT_A })).toBe(4);
    }
    // Gateway samples carry no MOS: no histogram series for them.
    expect(find(samples, 'twilio_voice_mos_count', { edge: 'carrier_edge' })).toEqual([]);
    expect(valueOf(samples, 'twilio_voice_active_calls', { account_sid: ACCOUNT_B })).toBe(1);
  });

  it('counts each sample once when the same batches are applied again', async () => {
    const { store, expo } = setup();
    applyAll(store);
    const once = await text(expo);
    applyAll(store);
    store.apply([...CALL_3_SAMPLES].reverse());
    const twice = await text(expo);

    const fleet = (s: ExpositionSample[]) => s.filter((x) => x.name.startsWith('twilio_voice_'));
    expect(fleet(twice.samples)).toEqual(fleet(once.samples));
  });

  it('does not observe history samples (older than tracking minus the window) unless backfilling', async () => {
    const store = new SampleStore({ backfill: false });
    const expo = createPrometheusExposition({ store, perCallSeries: true, activeCalls: () => [], version: 'x' });
    store.addListener(expo.listener);
    store.addCall(CALL_3, ACCOUNT_B, T0 + 3_600_000);
    store.apply([sample({ callSid: CALL_3, accountSid: ACCOUNT_B, at: 0 }), sample({ callSid: CALL_3, accountSid: ACCOUNT_B, at: 3600 })]);
    const { samples } = await text(expo);

    expect(valueOf(samples, 'twilio_voice_samples_total', { account_sid: ACCOUNT_B })).toBe(1);
    expect(valueOf(samples, 'twilio_voice_mos_count', { account_sid: ACCOUNT_B })).toBe(1);
    // The gauges still show the newest sample.
    expect(valueOf(samples, 'twilio_call_sample_timestamp_seconds', { call_sid: CALL_3 })).toBe(T0 / 1000 + 3600);
  });
});

describe('Prometheus exposition: OpenMetrics and counter names', () => {
  it('renders OpenMetrics with # EOF, counters typed without _total and sampled with it', async () => {
    const { store, expo } = setup();
    applyAll(store);
    expo.self.apiRequests.inc({ account_sid: ACCOUNT_A, endpoint: 'metrics', outcome: '200' });
    const rendered = await expo.render('openmetrics');
    const om = { contentType: rendered.contentType, body: rendered.text() };

    expect(om.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.body.endsWith('\n# EOF\n')).toBe(true);
    expect(om.body.match(/^# EOF$/gm)).toHaveLength(1);
    expect(om.body).toMatch(/^# TYPE twilio_voice_samples counter$/m);
    expect(om.body).toMatch(/^# TYPE twilio_call_packets_sent counter$/m);
    expect(om.body).toMatch(/^# TYPE twilio_insights_exporter_api_requests counter$/m);
    const samples = parseExposition(om.body);
    expect(valueOf(samples, 'twilio_voice_samples_total', { edge: 'sdk_edge', account_sid: ACCOUNT_A })).toBe(1);
    expect(valueOf(samples, 'twilio_call_packets_sent_total', sdkLabels)).toBe(3934);
    expect(valueOf(samples, 'twilio_insights_exporter_api_requests_total', { outcome: '200' })).toBe(1);
    expect(om.body).not.toContain('_total_total');
  });

  it('puts a call_sid exemplar on the histogram bucket each observation fell in', async () => {
    const { store, expo } = setup();
    applyAll(store);
    const samples = parseExposition((await expo.render('openmetrics')).text());

    const bucket = find(samples, 'twilio_voice_mos_bucket', { account_sid: ACCOUNT_A, le: '4.4' })[0]!;
    expect(bucket.exemplar).toMatchObject({ labels: { call_sid: CALL_1 }, value: 4.39 });
    expect(Number.isFinite(bucket.exemplar!.timestamp)).toBe(true);
    // CALL_3's MOS 4.6 is above the last bound: its exemplar is on +Inf.
    expect(find(samples, 'twilio_voice_mos_bucket', { account_sid: ACCOUNT_B, le: '+Inf' })[0]!.exemplar).toMatchObject({
      labels: { call_sid: CALL_3 },
      value: 4.6,
    });
    const withExemplar = samples.filter((s) => s.exemplar);
    expect(withExemplar.length).toBeGreaterThan(0);
    for (const s of withExemplar) {
      expect(s.name).toMatch(/_bucket$/);
      expect(Object.keys(s.exemplar!.labels)).toEqual(['call_sid']);
    }
  });

  it('keeps text counters named *_total after OpenMetrics renders (prom-client renames counters in OM mode)', async () => {
    const { store, expo } = setup();
    applyAll(store);
    expo.self.samplesRejected.inc({ reason: 'bad_value' });
    const first = await text(expo);
    await expo.render('openmetrics');
    await expo.render('openmetrics');
    const after = await text(expo);
    const om = (await expo.render('openmetrics')).text();

    for (const body of [after.body, om]) expect(body).not.toContain('_total_total');
    expect(after.body).toMatch(/^# TYPE twilio_voice_samples_total counter$/m);
    expect(after.body).toMatch(/^# TYPE twilio_call_sent_bytes_total counter$/m);
    expect(after.body).toMatch(/^# TYPE twilio_insights_exporter_samples_rejected_total counter$/m);
    expect(valueOf(after.samples, 'twilio_insights_exporter_samples_rejected_total', { reason: 'bad_value' })).toBe(1);
    expect(valueOf(after.samples, 'twilio_call_received_bytes_total', sdkLabels)).toBe(547788);
    // Every counter family keeps its _total in text, no matter how many OM renders ran.
    const counterTypes = [...after.body.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => m[1]!);
    expect(counterTypes.length).toBeGreaterThanOrEqual(CALL_METRICS.filter((d) => d.type === 'counter').length + 1);
    for (const name of counterTypes) expect(name).toMatch(/[a-z]_total$/);
    expect(stable(after.body)).toEqual(stable(first.body));
  });

  it('renders the text format parseably, with one HELP and TYPE per family', async () => {
    const { store, expo } = setup();
    applyAll(store);
    const { body } = await text(expo);

    const types = [...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!);
    expect(new Set(types).size).toBe(types.length);
    const helps = [...body.matchAll(/^# HELP (\S+) /gm)].map((m) => m[1]!);
    expect(helps).toEqual(types);
    for (const def of FLEET_HISTOGRAMS) expect(types).toContain(def.name);
  });
});

// ---- golden ----

const GOLDEN = fileURLToPath(new URL('../../fixtures/golden/exposition.prom', import.meta.url));

// Lines that differ between machines or runs: the Node version in build_info, render timings, and the process and
// runtime families (their values, and which of them exist, depend on the platform and the Node version; checked apart).
function stable(body: string): string[] {
  return body
    .split('\n')
    .filter((l) => l !== '')
    .filter((l) => !/^(# (HELP|TYPE) )?(process|nodejs)_/.test(l))
    .filter((l) => !/^twilio_insights_exporter_build_info\{/.test(l))
    .filter((l) => !/^twilio_insights_exporter_metrics_render_duration_seconds_(bucket|sum|count)\{/.test(l))
    .sort();
}

describe('Prometheus exposition golden file', () => {
  it('matches test/fixtures/golden/exposition.prom (UPDATE_GOLDEN=1 rewrites it)', async () => {
    const { store, expo } = setup();
    applyAll(store);
    expo.self.apiRequests.inc({ account_sid: ACCOUNT_A, endpoint: 'metrics', outcome: '200' }, 7);
    expo.self.apiRequests.inc({ account_sid: ACCOUNT_A, endpoint: 'metrics', outcome: 'rate_limited' });
    expo.self.cursorResets.inc({ account_sid: ACCOUNT_A });
    expo.self.samplesRejected.inc({ reason: 'bad_timestamp' }, 2);
    expo.self.trackedCalls.set({ account_sid: ACCOUNT_A, state: 'active' }, 2);
    expo.self.callPollSuccess.set({ call_sid: CALL_1 }, 1);
    const { body } = await text(expo);

    if (process.env['UPDATE_GOLDEN'] === '1') {
      mkdirSync(dirname(GOLDEN), { recursive: true });
      writeFileSync(GOLDEN, `${stable(body).join('\n')}\n`);
    }
    const golden = readFileSync(GOLDEN, 'utf8');
    expect(stable(body)).toEqual(stable(golden));
    expect(body).toMatch(/^twilio_insights_exporter_build_info\{version="1\.2\.3",nodejs_version="v\d+\.\d+\.\d+"\} 1$/m);
  });
});

describe('Prometheus exposition: render buffers', () => {
  // The memory the twilio_call_mos series of a render were written to.
  const bodyMemory = (r: { chunks: readonly Uint8Array[] }): ArrayBufferLike =>
    r.chunks.find((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString().startsWith('twilio_call_mos{'))!.buffer;

  it('reuses a released render\'s buffers for the next render, and never those of one still being sent', async () => {
    const { store, expo } = setup();
    applyAll(store);
    const first = await expo.render('text');
    const text = first.text();
    const overlapping = await expo.render('text');
    // Not released yet: the second render wrote elsewhere, and the first still reads as rendered.
    expect(bodyMemory(overlapping)).not.toBe(bodyMemory(first));
    expect(first.text()).toBe(text);
    first.release();
    const next = await expo.render('text');
    expect(bodyMemory(next)).toBe(bodyMemory(first));
    expect(stable(next.text())).toEqual(stable(overlapping.text()));
  });
});

describe('Prometheus exposition: process and runtime metrics', () => {
  const families = ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds'];

  it('adds prom-client default metrics with event-loop lag to the registry, in text and OpenMetrics', async () => {
    const { expo } = setup();
    const text = { body: (await expo.render('text')).text() };
    for (const name of families) expect(text.body, name).toMatch(new RegExp(`^# TYPE ${name} (gauge|counter)$`, 'm'));
    expect(valueOf(parseExposition(text.body), 'process_cpu_seconds_total', {})).toBeGreaterThan(0);
    expect(valueOf(parseExposition(text.body), 'nodejs_eventloop_lag_seconds', {})).toBeGreaterThanOrEqual(0);

    const om = (await expo.render('openmetrics')).text();
    expect(om).toMatch(/^# TYPE process_cpu_seconds counter$/m);
    expect(om).toMatch(/^process_cpu_seconds_total \S+$/m);
    expect(om.match(/^# EOF$/gm)).toHaveLength(1);
    // OpenMetrics renders must not rename the text registry's counters.
    expect((await expo.render('text')).text()).toMatch(/^# TYPE process_cpu_seconds_total counter$/m);
  });

  it('leaves them out with processMetrics: false', async () => {
    const store = new SampleStore({ backfill: false });
    const expo = createPrometheusExposition({ store, perCallSeries: true, activeCalls: () => [], version: 'x', processMetrics: false });
    const body = (await expo.render('text')).text();
    expect(body).not.toMatch(/^# TYPE (process|nodejs)_/m);
    expect(body).toMatch(/^# TYPE twilio_insights_exporter_build_info gauge$/m);
  });
});

describe('PROCESS_METRIC_NAMES', () => {
  it('lists exactly the runtime families prom-client registers here, so include/exclude can name each', () => {
    expect(registerProcessMetrics().map((m) => (m as unknown as { name: string }).name).sort()).toEqual([...PROCESS_METRIC_NAMES].sort());
  });
});
