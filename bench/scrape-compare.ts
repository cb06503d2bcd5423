// CPU per /metrics scrape body in the checkout at ROOT, against a plain prom-client registry holding the same
// per-call series, both timed until there are bytes to send: the exporter's render plus what it still costs to have
// those bytes (an older render returned a string that express's res.send encoded; the current one returns the
// bytes), and prom-client's `metrics()` plus `Buffer.from`. Run it for two checkouts one after the other to compare
// them on the same machine:
//   git worktree add /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/node_modules
//   npx node bench/scrape-compare.ts /tmp/before 1000 && npx node bench/scrape-compare.ts "$PWD" 1000
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuMs, median } from './lib/stats.ts';

interface Rendered {
  readonly body?: string | Uint8Array;
  release?(): void;
}
interface Series {
  templateSamples(): Promise<unknown>;
  buildExporter(n: number, template: unknown): { prometheus: { render(format: 'text'): Promise<Rendered> }; stop(): Promise<void> };
  buildBaseline(n: number, template: unknown): { metrics(): Promise<string> };
}

const root = resolve(process.argv[2] ?? '.');
const calls = Number(process.argv[3] ?? 10_000);
if (!Number.isInteger(calls) || calls < 1) throw new Error(`calls must be a positive integer, got ${process.argv[3]}`);
const reps = calls >= 10_000 ? 9 : 41;
const series = (await import(pathToFileURL(`${root}/bench/lib/series.ts`).href)) as Series;
const template = await series.templateSamples();
const exporter = series.buildExporter(calls, template);
const baseline = series.buildBaseline(calls, template);

// Each returns nothing, so the text is garbage by the time the next contender runs, as after a real scrape.
async function exporterScrape(): Promise<void> {
  const r = await exporter.prometheus.render('text');
  if (typeof r.body === 'string') Buffer.from(r.body, 'utf8');
  r.release?.();
}
async function baselineScrape(): Promise<void> {
  Buffer.from(await baseline.metrics(), 'utf8');
}
async function timed(work: () => Promise<void>, into: number[]): Promise<void> {
  const c0 = cpuMs();
  await work();
  into.push(cpuMs() - c0);
}

const e: number[] = [];
const b: number[] = [];
for (let i = 0; i < 3; i++) await exporterScrape();
for (let i = 0; i < reps; i++) {
  // Alternated, so whoever's garbage is collected during the other's time evens out.
  if (i % 2 === 0) {
    await timed(exporterScrape, e);
    await timed(baselineScrape, b);
  } else {
    await timed(baselineScrape, b);
    await timed(exporterScrape, e);
  }
}
process.stdout.write(
  `${root}: CPU ms per /metrics scrape body, ${calls.toLocaleString('en-US')} calls, ${reps} scrapes each: ` +
    `exporter median ${median(e).toFixed(2)}, prom-client + Buffer.from median ${median(b).toFixed(2)}, ratio ${(median(e) / median(b)).toFixed(4)}\n`,
);
await exporter.stop();
