// Child of bench/scrape-http-compare.ts: the exporter of the checkout at ROOT with CALLS client calls, its HTTP app
// listening on 127.0.0.1 (a free port, printed on stdout); answers 'cpu' on the IPC channel with its CPU ms so far.
import { createServer } from 'node:http';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { cpuMs } from './stats.ts';

interface Series {
  templateSamples(): Promise<unknown>;
  buildExporter(n: number, template: unknown): { app: RequestListener };
}

const [root, callsText] = process.argv.slice(2);
const series = (await import(pathToFileURL(`${root}/bench/lib/series.ts`).href)) as Series;
const exporter = series.buildExporter(Number(callsText), await series.templateSamples());
const server = createServer(exporter.app).listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('message', (m) => {
  if (m === 'cpu') process.send?.(cpuMs());
});
process.on('disconnect', () => process.exit(0));
