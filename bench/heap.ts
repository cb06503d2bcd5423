// Benchmark 4: heap bytes per tracked call (against a plain prom-client registry holding the same
// series), per really polled call, and the heap after 100,000 calls of churn against before.
import { createCalls, startChildSimulator } from './lib/child-simulator.ts';
import { ACCOUNT_SID, benchConfig, benchExporter } from './lib/exporter.ts';
import { addCalls, buildBaseline, templateSamples } from './lib/series.ts';
import { log, median, settledHeap } from './lib/stats.ts';
import type { Row } from './lib/stats.ts';
import type { Exporter } from '../src/exporter.ts';

const TRACKED = 10_000;
const REPS = 2;
const POLLED = 1000;
const CHURN_ROUNDS = 100;
const CHURN_PER_ROUND = 1000;
const CHURN_GOAL = 1.1;

// Keeps measured structures reachable until their heap has been read.
const keep: unknown[] = [];

// A scrape as the /metrics route serves it; returns the body's size.
async function renderedBytes(e: Exporter): Promise<number> {
  const out = await e.prometheus.render('text');
  out.release();
  return out.length;
}

const seconds = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

async function perTrackedCall(): Promise<{ exporter: number; baseline: number }> {
  const template = await templateSamples();
  const exporter: number[] = [];
  const baseline: number[] = [];
  for (let r = 0; r < REPS; r++) {
    // Alternate which is measured first; each starts from a settled heap with the other freed.
    for (const which of r % 2 === 0 ? ['exporter', 'baseline'] : ['baseline', 'exporter']) {
      if (which === 'exporter') {
        const e = benchExporter(benchConfig('http://127.0.0.1:9', { max_calls: TRACKED }));
        const h0 = await settledHeap();
        addCalls(e, 0, TRACKED, template);
        keep.push(e);
        exporter.push((await settledHeap() - h0) / TRACKED);
        await e.stop();
      } else {
        const h0 = await settledHeap();
        keep.push(buildBaseline(TRACKED, template));
        baseline.push((await settledHeap() - h0) / TRACKED);
      }
      keep.length = 0;
    }
  }
  log(`heap: bytes per tracked call, exporter ${exporter.map((x) => x.toFixed(0)).join(' ')}, prom-client ${baseline.map((x) => x.toFixed(0)).join(' ')}`);
  return { exporter: median(exporter), baseline: median(baseline) };
}

// Calls really polled (twice) against the simulator in its own process: cursors and self-metrics
// included. Measured as the slope between two fleet sizes polled with the same concurrency, so the
// connection pool (the process's, not the calls') is the same size at both points.
async function perPolledCall(): Promise<number> {
  const sim = await startChildSimulator(['--concurrency-limit=1000']);
  try {
    const sids = await createCalls(sim, POLLED, 600);
    const exporter = benchExporter(benchConfig(sim.url, { max_calls: POLLED, poll_interval: '10s' }, { max_concurrent_requests: 50 }));
    const pollTracked = async (): Promise<void> => {
      const tracked = [...exporter.registry.calls()].map((c) => c.callSid);
      let next = 0;
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (next < tracked.length) await exporter.poller.pollNow(tracked[next++]!);
        }),
      );
    };
    const trackAndPoll = async (upTo: number): Promise<number> => {
      for (const sid of sids.slice(0, upTo)) exporter.registry.track(sid, ACCOUNT_SID, 'config');
      // Twice: the first poll reads the history and the summary, the second is steady state.
      await pollTracked();
      await pollTracked();
      return settledHeap();
    };
    const step = POLLED / 5;
    // The first pass also releases start-up garbage and lets V8 settle its code spaces: not counted.
    await trackAndPoll(step);
    // Least squares over five fleet sizes: one stray collection-timing effect cannot flip the sign.
    const points: Array<[number, number]> = [];
    for (let n = step; n <= POLLED; n += step) points.push([n, await trackAndPoll(n)]);
    log(`heap: polled fleet size -> settled heap MB: ${points.map(([n, h]) => `${n} ${(h / 1e6).toFixed(2)}`).join(', ')}`);
    const held = [...exporter.store.calls()].reduce((n, c) => n + c.streams.size, 0);
    if (held < POLLED * 2) throw new Error(`only ${held} streams after polling ${POLLED} calls`);
    await exporter.stop();
    return slope(points);
  } finally {
    await sim.close();
  }
}

function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length;
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxy / sxx;
}

async function churn(): Promise<{ before: number; after: number; peak: number; trend: number[] }> {
  const template = await templateSamples();
  let now = Date.parse('2026-11-27T10:00:00Z');
  const config = benchConfig('http://127.0.0.1:9', { max_calls: CHURN_PER_ROUND });
  const e = benchExporter(config, () => now);
  const round = async (r: number): Promise<number> => {
    addCalls(e, r * CHURN_PER_ROUND, CHURN_PER_ROUND, template, now);
    // Scrapes now and then while calls are held, as Prometheus would.
    const rendered = r % 10 === 0 ? await renderedBytes(e) : 0;
    for (const call of [...e.registry.calls()]) e.registry.end(call.callSid);
    now += Math.max(config.callRetentionMs, config.drainPeriodMs) + 1;
    e.registry.sweep(now);
    if (e.registry.size !== 0 || e.store.size !== 0) throw new Error(`round ${r}: ${e.registry.size} calls still tracked after the sweep`);
    return rendered;
  };
  // One round first, so fleet label sets and compiled code exist before the baseline is read.
  await round(0);
  (await e.prometheus.render('text')).release();
  const before = await settledHeap();
  let peak = 0;
  // Settled heap every quarter: a leak grows with the churn, a one-off allocation does not.
  const trend: number[] = [];
  for (let r = 1; r <= CHURN_ROUNDS; r++) {
    await round(r);
    if (r % (CHURN_ROUNDS / 4) === 0) {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
      trend.push(await settledHeap());
    }
  }
  (await e.prometheus.render('text')).release();
  const after = await settledHeap();
  await e.stop();
  return { before, after, peak, trend };
}

/** Runs the benchmark. */
export async function run(): Promise<Row[]> {
  const bench = 'heap';
  let t0 = performance.now();
  const tracked = await perTrackedCall();
  log(`heap: per tracked call measured in ${seconds(t0)}`);
  t0 = performance.now();
  const polled = await perPolledCall();
  log(`heap: per polled call measured in ${seconds(t0)}`);
  t0 = performance.now();
  const c = await churn();
  const churned = CHURN_ROUNDS * CHURN_PER_ROUND;
  log(`heap: churn measured in ${seconds(t0)}`);
  log(`heap: churn of ${churned.toLocaleString('en-US')} calls: before ${(c.before / 1e6).toFixed(2)} MB, after ${(c.after / 1e6).toFixed(2)} MB, peak seen ${(c.peak / 1e6).toFixed(1)} MB; settled every 25,000 calls: ${c.trend.map((h) => (h / 1e6).toFixed(2)).join(', ')} MB`);
  const ratio = c.after / c.before;
  return [
    { bench, name: `heap/tracked call, ${TRACKED.toLocaleString('en-US')} client calls vs prom-client`, exporter: tracked.exporter, baseline: tracked.baseline, unit: 'B', ratio: tracked.exporter / tracked.baseline, goal: 'none (reported)' },
    { bench, name: `heap/polled call, ${POLLED.toLocaleString('en-US')} mixed calls, real polls`, exporter: polled, unit: 'B', goal: 'none (reported)' },
    { bench, name: `heap after ${churned.toLocaleString('en-US')} calls of churn vs before`, exporter: c.after / 1e6, baseline: c.before / 1e6, unit: 'MB', ratio, goal: `ratio <= ${CHURN_GOAL}`, pass: ratio <= CHURN_GOAL },
    { bench, name: 'heap growth per churned call, 25k -> 100k calls', exporter: (c.trend.at(-1)! - c.trend[0]!) / (churned * 0.75), unit: 'B', goal: 'none (reported)' },
  ];
}
