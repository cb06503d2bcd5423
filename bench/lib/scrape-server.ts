// Child of bench/scrape-http-compare.ts: the exporter of the checkout at ROOT with CALLS client calls, its HTTP app
// served as every server child is (server-child.ts).
import type { RequestListener } from 'node:http';
import { pathToFileURL } from 'node:url';
import { serveForParent } from './server-child.ts';

interface Series {
  templateSamples(): Promise<unknown>;
  buildExporter(n: number, template: unknown): { app: RequestListener };
}

const [root, callsText] = process.argv.slice(2);
const series = (await import(pathToFileURL(`${root}/bench/lib/series.ts`).href)) as Series;
serveForParent(series.buildExporter(Number(callsText), await series.templateSamples()).app);
