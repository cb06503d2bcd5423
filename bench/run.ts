// `npm run bench [-- NAME ...] [-- --markdown]`: runs each benchmark in its own child process (with
// --expose-gc, so heap figures can settle and one benchmark's garbage never lands in another's
// timings), then prints one table of exporter figures, baselines, ratios and goals.
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ROWS_PREFIX } from './lib/stats.ts';
import type { Row } from './lib/stats.ts';
import { markdownTable, textTable } from './lib/table.ts';

/** Every benchmark, in run order, with the longest it may take before it is killed and extra node flags. */
const BENCHMARKS: ReadonlyArray<{ name: string; what: string; limitMs: number; flags?: readonly string[] }> = [
  { name: 'requests', what: 'metrics requests per stream per poll vs a full re-read (list()); per call per poll without the Summary', limitMs: 300_000 },
  { name: 'ingest', what: 'ingest CPU per sample vs JSON.parse alone', limitMs: 90_000 },
  { name: 'render', what: '/metrics render time at 1,000 and 10,000 calls vs plain prom-client', limitMs: 120_000 },
  // V8 flushes the bytecode of functions idle for a few collections, which moves heapUsed by megabytes
  // at unpredictable points; the heap figures are about the exporter's data, so flushing is off there.
  { name: 'heap', what: 'heap per tracked call, and after 100,000 calls of churn', limitMs: 120_000, flags: ['--no-flush-bytecode'] },
  { name: 'capacity', what: 'calls one process keeps polling at 10 s on one core', limitMs: 180_000 },
  { name: 'auth-flood', what: 'authenticated /metrics p99 under a wrong-password basic-auth flood vs idle', limitMs: 180_000 },
  { name: 'otlp', what: 'one OTLP export of 10,000 calls (collect, encode, send)', limitMs: 120_000 },
  { name: 'status-page', what: 'status page CPU at 10,000 calls vs /metrics, both over HTTP', limitMs: 120_000 },
  { name: 'push', what: 'Event Streams webhook ingest, samples per CPU second, vs bare node:http + JSON.parse', limitMs: 180_000 },
  { name: 'state-load', what: 'peak RSS loading a state file far past the caps vs a file of the calls kept', limitMs: 180_000 },
];

const args = process.argv.slice(2);
const markdown = args.includes('--markdown');
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}
const selected = BENCHMARKS.filter((b) => names.length === 0 || names.includes(b.name));
const childPath = fileURLToPath(new URL('./child.ts', import.meta.url));

function runChild(name: string, limitMs: number, flags: readonly string[]): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout also ends the simulator a benchmark may have started.
    // Node flags given to this process reach every benchmark too (`node --single-threaded-gc bench/run.ts push`).
    const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', ...flags, childPath, name], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    const timer = setTimeout(() => {
      process.stderr.write(`${name}: over ${limitMs / 1000} s, stopping it\n`);
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, limitMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith(ROWS_PREFIX));
      if (code !== 0 || line === undefined) {
        reject(new Error(`${name} failed (${signal ?? `exit ${code}`})${out ? `:\n${out}` : ''}`));
        return;
      }
      resolve(JSON.parse(line.slice(ROWS_PREFIX.length)) as Row[]);
    });
  });
}

const started = Date.now();
process.stderr.write(`${new Date().toISOString()}  node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
const rows: Row[] = [];
let failed = false;
for (const b of selected) {
  process.stderr.write(`${b.name}: ${b.what}\n`);
  const t0 = Date.now();
  try {
    rows.push(...(await runChild(b.name, b.limitMs, b.flags ?? [])));
  } catch (err) {
    failed = true;
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.stderr.write(`${b.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
process.stdout.write(`\n${markdown ? markdownTable(rows) : textTable(rows)}\n`);
process.stderr.write(`\ndone in ${((Date.now() - started) / 1000).toFixed(0)} s, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
// Goals that miss are findings to report, not a failed run; a benchmark that could not run is.
process.exitCode = failed ? 1 : 0;
