// Benchmark 6: the status page at 10,000 tracked client calls (3 streams each, one in ten with issues
// raised), rendered from memory as the route does, against a /metrics text render in the same run.
import { renderCallPage } from '../src/http/status-page/call-page.ts';
import { renderIndexPage } from '../src/http/status-page/index-page.ts';
import { buildExporter, samplesFor, templateSamples } from './lib/series.ts';
import { callSid } from './lib/exporter.ts';
import { cpuMs, log, median } from './lib/stats.ts';
import type { Row } from './lib/stats.ts';

const CALLS = 10_000;
const REPS = 9;

/** Runs the benchmark. */
export async function run(): Promise<Row[]> {
  const bench = 'status-page';
  const template = await templateSamples();
  const exporter = buildExporter(CALLS, template);
  // One call in ten gets five bad samples per stream after its first, so verdicts raise and the sort has work.
  for (let i = 0; i < CALLS; i += 10) {
    const sid = callSid(i);
    for (let k = 1; k <= 5; k++) {
      exporter.store.apply(
        samplesFor(sid, template).map((s) => ({ ...s, timestampMs: s.timestampMs + k * 1000, values: { ...s.values, packetLossRatio: 0.2, mos: 2.5, jitterAvgSeconds: 0.02, jitterMaxSeconds: 0.08 } })),
      );
    }
  }
  const src = exporter.status;
  const first = renderIndexPage(src, { page: 1 });
  const rows = (first.match(/<tr data-call=/g) ?? []).length;
  if (rows !== 100 || !first.includes(`${CALLS} matching`)) throw new Error(`status page lists ${rows} rows`);
  if (!first.includes('high_packet_loss</span>')) throw new Error('no issue badge on the first page');
  const pages: Record<string, () => unknown> = {
    'page 1': () => renderIndexPage(src, { page: 1 }),
    'page 50': () => renderIndexPage(src, { page: 50 }),
    'issue filter': () => renderIndexPage(src, { page: 1, issue: 'high_packet_loss', state: 'active' }),
    call: () => renderCallPage(src, callSid(10)),
  };
  const cpu = new Map<string, number[]>(Object.keys(pages).map((k) => [k, []]));
  const metricsCpu: number[] = [];
  for (let r = 0; r < REPS; r++) {
    for (const [name, render] of Object.entries(pages)) {
      const c0 = cpuMs();
      render();
      cpu.get(name)!.push(cpuMs() - c0);
    }
    const c0 = cpuMs();
    (await exporter.prometheus.render('text')).release();
    metricsCpu.push(cpuMs() - c0);
  }
  await exporter.stop();
  const baseline = median(metricsCpu);
  log(`status-page: ${CALLS} calls, /metrics text render ${baseline.toFixed(1)} ms CPU`);
  return Object.keys(pages).map((name) => {
    const ms = median(cpu.get(name)!);
    return { bench, name: `CPU ms per status page (${name}), ${CALLS.toLocaleString('en-US')} calls vs /metrics render`, exporter: ms, baseline, unit: 'ms', ratio: ms / baseline, goal: 'exporter < 50 ms', pass: ms < 50 };
  });
}
