// Runs one benchmark in this process and prints its rows as one JSON line (run.ts starts it with --expose-gc).
import { ROWS_PREFIX } from './lib/stats.ts';
import type { Row } from './lib/stats.ts';

const loaders: Record<string, () => Promise<{ run(): Promise<Row[]> }>> = {
  requests: () => import('./requests.ts'),
  ingest: () => import('./ingest.ts'),
  render: () => import('./render.ts'),
  heap: () => import('./heap.ts'),
  capacity: () => import('./capacity.ts'),
  'auth-flood': () => import('./auth-flood.ts'),
  otlp: () => import('./otlp.ts'),
  'status-page': () => import('./status-page.ts'),
  push: () => import('./push.ts'),
  'state-load': () => import('./state-load.ts'),
};

const name = process.argv[2] ?? '';
const load = Object.hasOwn(loaders, name) ? loaders[name] : undefined;
if (!load) {
  process.stderr.write(`unknown benchmark ${JSON.stringify(name)}; one of ${Object.keys(loaders).join(', ')}\n`);
  process.exit(2);
}
const rows = await (await load()).run();
process.stdout.write(`${ROWS_PREFIX}${JSON.stringify(rows)}\n`);
