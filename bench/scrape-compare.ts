// CPU per /metrics scrape body at 10,000 client calls, in the checkout at ROOT: the render plus what it still costs
// to have bytes to send (an older render returned a string that express's res.send encoded; the current one returns
// the bytes). Run it for two checkouts one after the other to compare them on the same machine:
//   git worktree add /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/node_modules
//   npx node bench/scrape-compare.ts /tmp/before && npx node bench/scrape-compare.ts "$PWD"
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Rendered {
  readonly body?: string | Uint8Array;
  readonly length?: number;
  release?(): void;
}
interface Series {
  templateSamples(): Promise<unknown>;
  buildExporter(n: number, template: unknown): { prometheus: { render(format: 'text'): Promise<Rendered> }; stop(): Promise<void> };
}

const root = resolve(process.argv[2] ?? '.');
const series = (await import(pathToFileURL(`${root}/bench/lib/series.ts`).href)) as Series;
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const exporter = series.buildExporter(10_000, await series.templateSamples());
const times: number[] = [];
for (let i = 0; i < 9; i++) {
  const c0 = cpuMs();
  const r = await exporter.prometheus.render('text');
  if (typeof r.body === 'string') Buffer.from(r.body, 'utf8');
  r.release?.();
  times.push(cpuMs() - c0);
}
times.sort((a, b) => a - b);
process.stdout.write(`${root}: CPU ms per /metrics scrape body, 10,000 calls, 9 scrapes: median ${times[4]!.toFixed(1)}, min ${times[0]!.toFixed(1)}\n`);
await exporter.stop();
