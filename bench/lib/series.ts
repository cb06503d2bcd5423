// The per-call series both the render and the heap benchmarks hold: N client calls, 3 streams each.
import { Counter, Gauge, Registry } from 'prom-client';
import { CALL_INFO, CALL_METRICS, CALL_SAMPLE_TIMESTAMP } from '../../src/metrics/definitions.ts';
import { parseMetricRecord } from '../../src/samples/parse.ts';
import type { Sample } from '../../src/samples/sample.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { Exporter } from '../../src/exporter.ts';
import { ACCOUNT_SID, benchConfig, benchExporter, callSid } from './exporter.ts';

/** One real sample per stream of a client call (sdk_edge/both, client_edge/inbound and outbound), parsed from simulator records. */
export async function templateSamples(): Promise<Sample[]> {
  const sim = await startSimulator({ lagSeconds: 0, seed: 5 });
  try {
    const call = sim.simulator.createCall({ type: 'client', ageSeconds: 600 });
    const out = new Map<string, Sample>();
    for (const record of sim.simulator.visibleSamples(call.sid)) {
      const r = parseMetricRecord(record);
      if (!r.ok) throw new Error(`simulator record rejected: ${r.detail}`);
      out.set(`${r.sample.edge}/${r.sample.direction}`, r.sample);
    }
    if (out.size !== 3) throw new Error(`expected 3 streams, got ${out.size}`);
    return [...out.values()];
  } finally {
    await sim.close();
  }
}

/** The template samples re-addressed to another call (fresh objects). */
export function samplesFor(sid: string, template: readonly Sample[]): Sample[] {
  return template.map((s) => ({ ...s, callSid: sid, values: { ...s.values } }));
}

/** The exporter: createExporter (not started), N calls tracked through the registry, their samples applied to the store. */
export function buildExporter(n: number, template: readonly Sample[]): Exporter {
  const exporter = benchExporter(benchConfig('http://127.0.0.1:9', { max_calls: Math.max(n, 1) }));
  addCalls(exporter, 0, n, template);
  return exporter;
}

/** Tracks calls `from`..`from + n - 1` and applies one sample per stream to each, as a first poll would. */
export function addCalls(exporter: Exporter, from: number, n: number, template: readonly Sample[], timestampMs?: number): void {
  for (let i = from; i < from + n; i++) {
    const sid = callSid(i);
    exporter.registry.track(sid, ACCOUNT_SID, 'config');
    exporter.store.setCallType(sid, ACCOUNT_SID, 'client');
    const samples = samplesFor(sid, template);
    exporter.store.apply(timestampMs === undefined ? samples : samples.map((s) => ({ ...s, timestampMs })));
  }
}

/** The baseline: the same per-call families as plain prom-client Gauges and Counters, set per sample. */
export function buildBaseline(n: number, template: readonly Sample[]): Registry {
  const registry = new Registry();
  const families = CALL_METRICS.map((def) => {
    const common = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] };
    return { extract: def.extract!, metric: def.type === 'counter' ? new Counter(common) : new Gauge(common) };
  });
  const timestamp = new Gauge({ name: CALL_SAMPLE_TIMESTAMP.name, help: CALL_SAMPLE_TIMESTAMP.help, labelNames: [...CALL_SAMPLE_TIMESTAMP.labels], registers: [registry] });
  const info = new Gauge({ name: CALL_INFO.name, help: CALL_INFO.help, labelNames: [...CALL_INFO.labels], registers: [registry] });
  for (let i = 0; i < n; i++) {
    const sid = callSid(i);
    let codec = '';
    let region = '';
    for (const s of samplesFor(sid, template)) {
      const labels = { call_sid: sid, edge: s.edge, direction: s.direction };
      for (const { extract, metric } of families) {
        const v = extract(s.values);
        if (v === undefined) continue;
        if (metric instanceof Counter) metric.inc(labels, v);
        else metric.set(labels, v);
      }
      timestamp.set(labels, s.timestampMs / 1000);
      codec = s.codecName ?? codec;
      region = s.region ?? region;
    }
    info.set({ call_sid: sid, account_sid: ACCOUNT_SID, call_type: 'client', codec_name: codec, media_region: region }, 1);
  }
  return registry;
}

