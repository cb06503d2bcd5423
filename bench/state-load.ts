// Benchmark 10: memory of loading a state file far past the caps (200,000 calls, about 160 MB, for a store that
// keeps 10,000), against loading a file of just the 10,000 calls it keeps. Both files are written by the exporter's
// own saver; each load runs in a fresh process with a 256 MiB heap (a 512Mi container, as the StatefulSet ships),
// so its peak RSS is its own. The goal is on the heap the load leaves behind; peak RSS is reported.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SampleStore } from '../src/store/sample-store.ts';
import { StateSaver } from '../src/store/state-saver.ts';
import { log, median } from './lib/stats.ts';
import type { Row } from './lib/stats.ts';
import type { Sample } from '../src/samples/sample.ts';

const CALLS = 200_000;
const KEEP = 10_000;
const REPS = 2;
// Memory bounded by the caps: what the big file's load holds may be at most this much more than the kept calls'.
const GOAL = 1.1;
const HEAP_MB = 256;
const NOW = Date.parse('2026-11-27T10:00:00Z');
const ACCOUNT = 'AC998c10b68cbfda9f67277f7d8f4439c9';
const silent = pino({ level: 'silent' });

// Calls `from..to-1`, live, each with two streams of 30 samples and one gap, saved by the real saver. A load keeps
// the last KEEP of equally new calls, so the big file's kept calls are the small file's.
async function saveCalls(path: string, from: number, to: number): Promise<void> {
  const store = new SampleStore({ backfill: false, now: () => NOW, maxParked: to });
  for (let i = from; i < to; i++) {
    const callSid = `CA${i.toString(16).padStart(32, '0')}`;
    store.addCall(callSid, ACCOUNT, NOW - 600_000);
    const samples: Sample[] = [];
    for (let s = 0; s < 30; s++) {
      const timestampMs = NOW - 400_000 + s * 10_000 + (s > 20 ? 5000 : 0);
      samples.push({ callSid, accountSid: ACCOUNT, edge: 'carrier_edge', direction: 'inbound', timestampMs, codecName: 'opus', region: 'us1', values: { mos: 4.2, rttSeconds: 0.08, jitterSeconds: 0.004, packetLossRatio: 0.001, packetsReceived: s * 50 } });
      samples.push({ callSid, accountSid: ACCOUNT, edge: 'carrier_edge', direction: 'outbound', timestampMs, values: { mos: 4.1, rttSeconds: 0.08, jitterSeconds: 0.005, packetLossRatio: 0, packetsSent: s * 50 } });
    }
    store.apply(samples);
  }
  // stop(), not flush(): it also gives up the file's lock, which the loading child would otherwise find held by a
  // live process (this one) and leave the file alone.
  await new StateSaver({ path, flushIntervalMs: 60_000, store, logger: silent, now: () => NOW }).stop();
}

const saverUrl = new URL('../src/store/state-saver.ts', import.meta.url).href;
const storeUrl = new URL('../src/store/sample-store.ts', import.meta.url).href;
const CHILD = `
  const { SampleStore } = await import(${JSON.stringify(storeUrl)});
  const { StateSaver } = await import(${JSON.stringify(saverUrl)});
  const { pino } = await import('pino');
  const [path, keep, now] = process.argv.slice(1);
  const store = new SampleStore({ backfill: false, maxParked: Number(keep), now: () => Number(now) });
  const t0 = performance.now();
  const restored = new StateSaver({ path, flushIntervalMs: 60000, store, logger: pino({ level: 'silent' }), now: () => Number(now) }).load();
  const ms = performance.now() - t0;
  globalThis.gc();
  globalThis.gc();
  process.stdout.write(JSON.stringify({ restored, ms, maxRssKb: process.resourceUsage().maxRSS, heap: process.memoryUsage().heapUsed }));
`;

// Peak RSS of a fresh process that loads `path` into a store keeping `keep` calls.
interface Loaded {
  readonly restored: number;
  readonly ms: number;
  readonly maxRssKb: number;
  /** heapUsed after the load and two full collections: what the load holds. */
  readonly heap: number;
}

function loadPeak(path: string): Promise<Loaded> {
  const child = spawn(process.execPath, ['--expose-gc', `--max-old-space-size=${HEAP_MB}`, '--input-type=module', '-e', CHILD, path, String(KEEP), String(NOW)], { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(JSON.parse(out) as Loaded) : fail(new Error(`load child exit ${code}`))));
  });
}

export async function run(): Promise<Row[]> {
  const bench = 'state-load';
  const dir = mkdtempSync(join(tmpdir(), 'tie-bench-state-'));
  try {
    const big = join(dir, 'big.jsonl');
    const kept = join(dir, 'kept.jsonl');
    await saveCalls(big, 0, CALLS);
    await saveCalls(kept, CALLS - KEEP, CALLS);
    const mb = (p: string): string => `${(statSync(p).size / 1e6).toFixed(0)} MB`;
    log(`state-load: ${CALLS.toLocaleString('en-US')} calls in ${mb(big)}, the ${KEEP.toLocaleString('en-US')} kept in ${mb(kept)}`);
    const bigRss: number[] = [];
    const keptRss: number[] = [];
    const bigHeap: number[] = [];
    const keptHeap: number[] = [];
    for (let r = 0; r < REPS; r++) {
      // Alternate which goes first.
      for (const which of r % 2 === 0 ? ['big', 'kept'] : ['kept', 'big']) {
        const m = await loadPeak(which === 'big' ? big : kept);
        if (m.restored !== KEEP) throw new Error(`${which}: ${m.restored} calls restored, not ${KEEP}`);
        log(`state-load: ${which} file loaded in ${m.ms.toFixed(0)} ms, peak RSS ${(m.maxRssKb / 1024).toFixed(0)} MiB, heap after ${(m.heap / 2 ** 20).toFixed(1)} MiB`);
        (which === 'big' ? bigRss : keptRss).push(m.maxRssKb / 1024);
        (which === 'big' ? bigHeap : keptHeap).push(m.heap / 2 ** 20);
      }
    }
    const ratio = median(bigHeap) / median(keptHeap);
    const what = `${CALLS.toLocaleString('en-US')} calls (${mb(big)}) kept ${KEEP.toLocaleString('en-US')} vs a file of those ${KEEP.toLocaleString('en-US')}`;
    return [
      { bench, name: `heap held after loading ${what}`, exporter: median(bigHeap), baseline: median(keptHeap), unit: 'MiB', ratio, goal: `ratio <= ${GOAL}`, pass: ratio <= GOAL },
      {
        bench,
        name: `peak RSS loading ${CALLS.toLocaleString('en-US')} calls (${mb(big)}) kept ${KEEP.toLocaleString('en-US')} vs a file of those ${KEEP.toLocaleString('en-US')}`,
        exporter: median(bigRss),
        baseline: median(keptRss),
        unit: 'MiB',
        ratio: median(bigRss) / median(keptRss),
        goal: 'none (reported)',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
