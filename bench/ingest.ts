// Benchmark 2: CPU per ingested sample (JSON.parse, parse, de-duplicate, store, observe) against
// JSON.parse alone of the same response bytes, on real 1000-record pages from the simulator.
import { createPrometheusExposition } from '../src/metrics/prometheus.ts';
import type { PrometheusExposition } from '../src/metrics/prometheus.ts';
import { newCursor, readQuery } from '../src/poller/cursor.ts';
import { parseMetricRecord } from '../src/samples/parse.ts';
import type { Edge, Sample } from '../src/samples/sample.ts';
import { startSimulator } from '../src/simulator/server.ts';
import { DEMO_ACCOUNT } from '../src/simulator/demo-account.ts';
import { SampleStore } from '../src/store/sample-store.ts';
import { CallQualityTracker } from '../src/quality/call-quality.ts';
import { DEFAULT_RULES, DEFAULT_WINDOW } from '../src/quality/thresholds.ts';
import { compileRules } from '../src/quality/verdicts.ts';
import { SampleHistory } from '../src/status/sample-history.ts';
import { decodeJson, parseMetricsEnvelope } from '../src/twilio/envelope.ts';
import { basicAuth } from '../test/helpers/simulator.ts';
import { profile } from './lib/profile.ts';
import { cpuMs, log, median } from './lib/stats.ts';
import type { Row } from './lib/stats.ts';

// Iterations per timed batch (each iteration ingests every page once), and batches per contender.
const PER_BATCH = 4;
const BATCHES = 31;
const WARMUP_BATCHES = 5;
const GOAL = 1.5;

interface Page {
  readonly label: Edge;
  readonly callSid: string;
  readonly url: string;
  readonly text: string;
}

// Real response bodies: a full 1000-record page of sdk_edge (client call) and of carrier_edge; with `sdkSeconds`
// 1, the simulator samples the SDK edge every second, as the Voice SDK may.
async function fetchPages(sdkSeconds: 1 | 10 = 10): Promise<Page[]> {
  const sim = await startSimulator({ lagSeconds: 0, seed: 3, variant: { sdkSampleSeconds: sdkSeconds } });
  try {
    const pages: Page[] = [];
    const client = sim.simulator.createCall({ type: 'client', ageSeconds: 3 * 3600 });
    const carrier = sim.simulator.createCall({ type: 'carrier', ageSeconds: 3 * 3600 });
    for (const [label, callSid, edge] of [
      ['sdk_edge', client.sid, 'sdk_edge'],
      ['carrier_edge', carrier.sid, 'carrier_edge'],
    ] as const) {
      const url = `${sim.url}/v1/Voice/${callSid}/Metrics?Edge=${edge}&PageSize=1000`;
      const res = await fetch(url, { headers: { authorization: basicAuth(DEMO_ACCOUNT.accountSid, DEMO_ACCOUNT.authToken) } });
      const text = await res.text();
      if (!res.ok) throw new Error(`${label}: ${res.status} ${text}`);
      const n = (JSON.parse(text) as { metrics: unknown[] }).metrics.length;
      if (n !== 1000) throw new Error(`${label}: ${n} records, expected 1000`);
      pages.push({ label, callSid, url, text });
    }
    return pages;
  } finally {
    await sim.close();
  }
}

let sink = 0;

/** Fresh state for one iteration: an empty store, fed to the one (long-lived) exposition. */
function freshStore(pages: readonly Page[], listener: PrometheusExposition['listener'] | undefined): SampleStore {
  const store = new SampleStore({ backfill: false });
  if (listener) store.addListener(listener);
  // Tracked at epoch 0: every sample counts as live, so every one is observed into the fleet histograms.
  for (const p of pages) store.addCall(p.callSid, DEMO_ACCOUNT.accountSid, 0);
  return store;
}

// The exporter's ingest as the issue defines it: JSON.parse, parseMetricRecord per record, apply, listener.
function ingest(text: string, store: SampleStore): void {
  const body = JSON.parse(text) as { metrics: unknown[] };
  const samples: Sample[] = [];
  for (const record of body.metrics) {
    const r = parseMetricRecord(record);
    if (r.ok) samples.push(r.sample);
  }
  sink += store.apply(samples).applied;
}

// The same, the way the poller really does it: envelope checks and the cursor's bookkeeping included.
async function ingestViaCursor(page: Page, store: SampleStore): Promise<void> {
  const url = new URL(page.url);
  // As the poller reads: the edge asked for, and every record checked against the call, account and clock.
  const read = await readQuery(
    newCursor(),
    { callSid: page.callSid, edge: page.label, pageSize: 1000 },
    () => Promise.resolve({ requestUrl: url.href, ...parseMetricsEnvelope(decodeJson(page.text), url), nextPageUrl: null, bodyBytes: page.text.length }),
    { accountSid: DEMO_ACCOUNT.accountSid, notAfterMs: Date.now() + 300_000 },
  );
  sink += store.apply(read.samples).applied;
}

interface Timing {
  cpu: number[];
  wall: number[];
}

async function timed(t: Timing, work: () => void | Promise<void>): Promise<void> {
  const c0 = cpuMs();
  const w0 = performance.now();
  await work();
  t.wall.push(performance.now() - w0);
  t.cpu.push(cpuMs() - c0);
}

/** Runs the benchmark. */
export async function run(): Promise<Row[]> {
  const bench = 'ingest';
  const pages = await fetchPages();
  // The 1 s SDK cadence (issue 13): the same SDK page shape, ten times as dense in time.
  const sdk1s = (await fetchPages(1)).filter((p) => p.label === 'sdk_edge');
  const records = pages.length * 1000;
  const bytes = pages.reduce((n, p) => n + Buffer.byteLength(p.text), 0);
  log(`ingest: ${pages.map((p) => `${p.label} ${(Buffer.byteLength(p.text) / 1024).toFixed(0)} KiB`).join(', ')}`);
  // One exposition for the whole run: fleet label sets are few and long-lived, as in a running exporter.
  const exposition = createPrometheusExposition({
    store: new SampleStore({ backfill: false }),
    perCallSeries: true,
    activeCalls: () => [],
    version: 'bench',
  });
  // Pre-parsed inputs for the stage break-down.
  const parsed = pages.map((p) => (JSON.parse(p.text) as { metrics: unknown[] }).metrics);
  const samples = parsed.map((recs) => recs.map((r) => parseMetricRecord(r)).flatMap((r) => (r.ok ? [r.sample] : [])));

  const t = {
    baseline: { cpu: [], wall: [] } as Timing,
    exporter: { cpu: [], wall: [] } as Timing,
    cursor: { cpu: [], wall: [] } as Timing,
    records: { cpu: [], wall: [] } as Timing,
    applyBare: { cpu: [], wall: [] } as Timing,
    applyObserved: { cpu: [], wall: [] } as Timing,
    applyQuality: { cpu: [], wall: [] } as Timing,
    applyStatus: { cpu: [], wall: [] } as Timing,
    baseline1s: { cpu: [], wall: [] } as Timing,
    exporter1s: { cpu: [], wall: [] } as Timing,
  };
  type Key = keyof typeof t;
  const contenders: Array<[Key, () => Promise<void>]> = [
    ['baseline', () => timed(t.baseline, () => {
      for (let k = 0; k < PER_BATCH; k++) for (const p of pages) sink += (JSON.parse(p.text) as { metrics: unknown[] }).metrics.length;
    })],
    ['exporter', async () => {
      const stores = Array.from({ length: PER_BATCH }, () => freshStore(pages, exposition.listener));
      await timed(t.exporter, () => {
        for (const store of stores) for (const p of pages) ingest(p.text, store);
      });
    }],
    ['baseline1s', () => timed(t.baseline1s, () => {
      for (let k = 0; k < PER_BATCH; k++) for (const p of sdk1s) sink += (JSON.parse(p.text) as { metrics: unknown[] }).metrics.length;
    })],
    ['exporter1s', async () => {
      const stores = Array.from({ length: PER_BATCH }, () => freshStore(sdk1s, exposition.listener));
      await timed(t.exporter1s, () => {
        for (const store of stores) for (const p of sdk1s) ingest(p.text, store);
      });
    }],
    ['cursor', async () => {
      const stores = Array.from({ length: PER_BATCH }, () => freshStore(pages, exposition.listener));
      await timed(t.cursor, async () => {
        for (const store of stores) for (const p of pages) await ingestViaCursor(p, store);
      });
    }],
    ['records', () => timed(t.records, () => {
      for (let k = 0; k < PER_BATCH; k++) for (const recs of parsed) for (const r of recs) sink += parseMetricRecord(r).ok ? 1 : 0;
    })],
    ['applyBare', async () => {
      const stores = Array.from({ length: PER_BATCH }, () => freshStore(pages, undefined));
      await timed(t.applyBare, () => {
        for (const store of stores) for (const s of samples) sink += store.apply(s).applied;
      });
    }],
    ['applyObserved', async () => {
      const stores = Array.from({ length: PER_BATCH }, () => freshStore(pages, exposition.listener));
      await timed(t.applyObserved, () => {
        for (const store of stores) for (const s of samples) sink += store.apply(s).applied;
      });
    }],
    ['applyQuality', async () => {
      // Prometheus plus the live verdicts.
      const stores = Array.from({ length: PER_BATCH }, () => {
        const store = freshStore(pages, exposition.listener);
        store.addListener(new CallQualityTracker(compileRules(DEFAULT_RULES, DEFAULT_WINDOW), { accountSids: [DEMO_ACCOUNT.accountSid] }));
        return store;
      });
      await timed(t.applyQuality, () => {
        for (const store of stores) for (const s of samples) sink += store.apply(s).applied;
      });
    }],
    ['applyStatus', async () => {
      // Prometheus plus the status page's sample ring.
      const stores = Array.from({ length: PER_BATCH }, () => {
        const store = freshStore(pages, exposition.listener);
        store.addListener(new SampleHistory());
        return store;
      });
      await timed(t.applyStatus, () => {
        for (const store of stores) for (const s of samples) sink += store.apply(s).applied;
      });
    }],
  ];
  for (let b = 0; b < WARMUP_BATCHES + BATCHES; b++) {
    // Rotate the order every batch so no contender always runs right after the same one.
    const order = contenders.map((_, i) => contenders[(i + b) % contenders.length]!);
    const lengthsBefore = Object.values(t).map((x) => x.cpu.length);
    for (const [, go] of order) await go();
    if (b < WARMUP_BATCHES) Object.values(t).forEach((x, i) => { x.cpu.length = lengthsBefore[i]!; x.wall.length = lengthsBefore[i]!; });
  }
  const perSample = (x: Timing, which: 'cpu' | 'wall'): number => (median(x[which]) * 1e6) / (PER_BATCH * records);
  const ns = (k: Key): number => perSample(t[k], 'cpu');
  const perSample1s = (x: Timing): number => (median(x.cpu) * 1e6) / (PER_BATCH * sdk1s.length * 1000);
  const base = ns('baseline');
  const exp = ns('exporter');
  const ratio = exp / base;
  log(`ingest: ${(bytes / records).toFixed(0)} bytes per record; wall-clock medians: exporter ${perSample(t.exporter, 'wall').toFixed(0)} ns/sample, JSON.parse ${perSample(t.baseline, 'wall').toFixed(0)} ns/sample, ratio ${(perSample(t.exporter, 'wall') / perSample(t.baseline, 'wall')).toFixed(2)}`);
  const rows: Row[] = [
    { bench, name: 'CPU/sample: parse+dedupe+store+observe vs JSON.parse', exporter: exp, baseline: base, unit: 'ns', ratio, goal: `ratio <= ${GOAL}`, pass: ratio <= GOAL },
    {
      bench,
      name: 'CPU/sample: SDK edge sampled every 1 s vs JSON.parse',
      exporter: perSample1s(t.exporter1s),
      baseline: perSample1s(t.baseline1s),
      unit: 'ns',
      ratio: perSample1s(t.exporter1s) / perSample1s(t.baseline1s),
      goal: `ratio <= ${GOAL}`,
      pass: perSample1s(t.exporter1s) / perSample1s(t.baseline1s) <= GOAL,
    },
    { bench, name: 'CPU/sample: same through readQuery (cursor) vs JSON.parse', exporter: ns('cursor'), baseline: base, unit: 'ns', ratio: ns('cursor') / base, goal: 'none (reported)' },
    { bench, name: 'stage: parseMetricRecord', exporter: ns('records'), baseline: base, unit: 'ns', ratio: ns('records') / base, goal: 'none (reported)' },
    { bench, name: 'stage: SampleStore.apply, no listener', exporter: ns('applyBare'), baseline: base, unit: 'ns', ratio: ns('applyBare') / base, goal: 'none (reported)' },
    {
      bench,
      name: 'stage: verdicts listener, share of ingest CPU',
      exporter: ns('applyQuality') - ns('applyObserved'),
      baseline: exp,
      unit: 'ns',
      ratio: (ns('applyQuality') - ns('applyObserved')) / exp,
      goal: 'ratio <= 0.10',
      pass: (ns('applyQuality') - ns('applyObserved')) / exp <= 0.1,
    },
    { bench, name: 'stage: status page sample ring listener, share of ingest CPU', exporter: ns('applyStatus') - ns('applyObserved'), baseline: exp, unit: 'ns', ratio: (ns('applyStatus') - ns('applyObserved')) / exp, goal: 'none (reported)' },
    { bench, name: 'stage: Prometheus listener (apply with - without)', exporter: ns('applyObserved') - ns('applyBare'), baseline: base, unit: 'ns', ratio: (ns('applyObserved') - ns('applyBare')) / base, goal: 'none (reported)' },
  ];
  // Where the exporter's ingest spends its CPU. JSON.parse is a builtin V8 inlines into its caller, so
  // its time shows as the self time of this file's loop.
  const lines = await profile(
    () => {
      const end = performance.now() + 1500;
      while (performance.now() < end) {
        const store = freshStore(pages, exposition.listener);
        for (const p of pages) ingest(p.text, store);
      }
    },
    (url) => (url.endsWith('/bench/ingest.ts') ? 'JSON.parse (self time of the bench loop that calls it)' : undefined),
  );
  for (const line of lines) log(`ingest profile: ${line}`);
  if (sink === 0) throw new Error('nothing was ingested');
  return rows;
}
