// Benchmark 3: /metrics render time at 1,000 and 10,000 tracked client calls (3 streams each), the
// exporter's exposition against a plain prom-client Registry holding the same per-call series.
import { CALL_QUALITY_ISSUE, FLEET_QUALITY_ISSUES } from '../src/metrics/definitions.ts';
import type { Exporter } from '../src/exporter.ts';
import type { Sample } from '../src/samples/sample.ts';
import { ACCOUNT_SID, benchConfig, benchExporter, callSid } from './lib/exporter.ts';
import { addCalls, buildBaseline, buildExporter, templateSamples } from './lib/series.ts';
import { cpuMs, log, median } from './lib/stats.ts';
import type { Row } from './lib/stats.ts';

const SIZES = [1000, 10_000] as const;
const REPS: Record<number, number> = { 1000: 9, 10_000: 3 };

// A scrape as the /metrics route serves it: render, send the chunks, release them for the next render.
const scrape = async (exporter: Exporter, format: 'text' | 'openmetrics'): Promise<void> => (await exporter.prometheus.render(format)).release();

const perCallLines = (text: string): number => text.split('\n').filter((l) => l.startsWith('twilio_call_')).length;

interface Measured {
  cpu: number[];
  wall: number[];
}

async function time(m: Measured, work: () => Promise<unknown>): Promise<void> {
  const c0 = cpuMs();
  const w0 = performance.now();
  await work();
  m.wall.push(performance.now() - w0);
  m.cpu.push(cpuMs() - c0);
}

const VERDICT_CALLS = 10_000;
const RAISING_EVERY = 10;

// 10,000 calls of which every 10th raises low_mos (3 bad sdk_edge samples after the template's), in an exporter
// with the verdict families and in one that excludes them (metrics.exclude), rendered alternately.
function verdictExporter(template: readonly Sample[], exclude: readonly string[]): Exporter {
  const exporter = benchExporter(benchConfig('http://127.0.0.1:9', { max_calls: VERDICT_CALLS, metrics: { exclude } }));
  addCalls(exporter, 0, VERDICT_CALLS, template);
  const sdk = template.find((s) => s.edge === 'sdk_edge')!;
  for (let i = 0; i < VERDICT_CALLS; i += RAISING_EVERY) {
    const bad = [1, 2, 3].map((k) => ({ ...sdk, callSid: callSid(i), accountSid: ACCOUNT_SID, timestampMs: sdk.timestampMs + k * 1000, values: { ...sdk.values, mos: 3 } }));
    exporter.store.apply(bad);
  }
  return exporter;
}

async function verdictCost(template: readonly Sample[]): Promise<{ with: number; without: number; series: number }> {
  const names = [CALL_QUALITY_ISSUE, ...FLEET_QUALITY_ISSUES].map((d) => d.name);
  const withV = verdictExporter(template, []);
  const withoutV = verdictExporter(template, names);
  const text = (await withV.prometheus.render('text')).text();
  const series = text.split('\n').filter((l) => l.startsWith(`${CALL_QUALITY_ISSUE.name}{`)).length;
  if (series !== VERDICT_CALLS / RAISING_EVERY) throw new Error(`expected ${VERDICT_CALLS / RAISING_EVERY} raised verdict series, got ${series}`);
  const mw: Measured = { cpu: [], wall: [] };
  const mo: Measured = { cpu: [], wall: [] };
  for (let r = 0; r < 7; r++) {
    const contenders = [() => time(mw, () => scrape(withV, 'text')), () => time(mo, () => scrape(withoutV, 'text'))];
    for (let i = 0; i < contenders.length; i++) await contenders[(i + r) % contenders.length]!();
  }
  log(`render: verdicts: ${series} raised per-call verdict series; wall-clock medians with ${median(mw.wall).toFixed(1)} ms, without ${median(mo.wall).toFixed(1)} ms`);
  await Promise.all([withV.stop(), withoutV.stop()]);
  return { with: median(mw.cpu), without: median(mo.cpu), series };
}

function verdictRow(bench: string, r: { with: number; without: number; series: number }): Row {
  const name = `CPU ms per text render, ${VERDICT_CALLS.toLocaleString('en-US')} calls (${r.series.toLocaleString('en-US')} raising an issue), with vs without the verdict families`;
  return { bench, name, exporter: r.with, baseline: r.without, unit: 'ms', ratio: r.with / r.without, goal: 'none (reported)' };
}

/** Runs the benchmark. */
export async function run(): Promise<Row[]> {
  const bench = 'render';
  const template = await templateSamples();
  const results = new Map<number, { exporter: number; baseline: number; om: number; baselineBytes: number }>();
  for (const n of SIZES) {
    const exporter = buildExporter(n, template);
    const baseline = buildBaseline(n, template);
    const e = (await exporter.prometheus.render('text')).text();
    const b = await baseline.metrics();
    if (perCallLines(e) !== perCallLines(b)) throw new Error(`per-call series differ: exporter ${perCallLines(e)}, baseline ${perCallLines(b)}`);
    log(`render: ${n} calls: ${perCallLines(e)} per-call series; exporter ${(e.length / 1e6).toFixed(1)} MB, baseline ${(b.length / 1e6).toFixed(1)} MB`);
    const me: Measured = { cpu: [], wall: [] };
    const mb: Measured = { cpu: [], wall: [] };
    const mo: Measured = { cpu: [], wall: [] };
    const mbb: Measured = { cpu: [], wall: [] };
    const reps = REPS[n] ?? 5;
    for (let r = 0; r < reps; r++) {
      const contenders = [
        () => time(me, () => scrape(exporter, 'text')),
        () => time(mb, () => baseline.metrics()),
        () => time(mo, () => scrape(exporter, 'openmetrics')),
      ];
      for (let i = 0; i < contenders.length; i++) await contenders[(i + r) % contenders.length]!();
    }
    // What prom-client's text still costs before it can be sent: encoding it (express's res.send does), timed apart
    // from the loop above so the 30 MB it allocates never lands in another contender's time.
    for (let r = 0; r < reps; r++) {
      const text = await baseline.metrics();
      await time(mbb, () => Promise.resolve(Buffer.from(text, 'utf8')));
    }
    log(`render: ${n} calls: wall-clock medians exporter ${median(me.wall).toFixed(1)} ms, baseline ${median(mb.wall).toFixed(1)} ms`);
    results.set(n, { exporter: median(me.cpu), baseline: median(mb.cpu), om: median(mo.cpu), baselineBytes: median(mb.cpu) + median(mbb.cpu) });
    await exporter.stop();
  }
  const verdict = await verdictCost(template);
  const rows: Row[] = [];
  for (const n of SIZES) {
    const r = results.get(n)!;
    rows.push({ bench, name: `CPU ms per text render, ${n.toLocaleString('en-US')} calls vs prom-client`, exporter: r.exporter, baseline: r.baseline, unit: 'ms', ratio: r.exporter / r.baseline, goal: 'ratio <= 1.0', pass: r.exporter <= r.baseline });
  }
  for (const n of SIZES) {
    const r = results.get(n)!;
    rows.push({ bench, name: `CPU ms per scrape body as UTF-8 bytes, ${n.toLocaleString('en-US')} calls vs prom-client text + Buffer.from`, exporter: r.exporter, baseline: r.baselineBytes, unit: 'ms', ratio: r.exporter / r.baselineBytes, goal: 'none (reported)' });
  }
  for (const n of SIZES) {
    const r = results.get(n)!;
    rows.push({ bench, name: `CPU ms per OpenMetrics render, ${n.toLocaleString('en-US')} calls vs prom-client text`, exporter: r.om, baseline: r.baseline, unit: 'ms', ratio: r.om / r.baseline, goal: 'none (reported)' });
  }
  const small = results.get(SIZES[0])!;
  const large = results.get(SIZES[1])!;
  const scale = large.exporter / small.exporter;
  rows.push({ bench, name: 'linearity: text render 10k / 1k', exporter: large.exporter, baseline: small.exporter, unit: 'ms', ratio: scale, goal: 'ratio near 10 (<= 12)', pass: scale <= 12 });
  rows.push({ bench, name: 'linearity: prom-client baseline 10k / 1k', exporter: large.baseline, baseline: small.baseline, unit: 'ms', ratio: large.baseline / small.baseline, goal: 'none (reported)' });
  rows.push(verdictRow(bench, verdict));
  return rows;
}
