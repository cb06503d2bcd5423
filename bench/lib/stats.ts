// Small statistics and the row type every benchmark reports.

/** One line of the results table. */
export interface Row {
  /** Benchmark name as `npm run bench -- NAME` selects it. */
  readonly bench: string;
  /** What was measured. */
  readonly name: string;
  /** The exporter's figure. */
  readonly exporter: number;
  /** The baseline's figure, when there is one. */
  readonly baseline?: number;
  /** Unit of both figures (`req/stream/poll`, `ns/sample`, `ms`, `B/call`, `calls`). */
  readonly unit: string;
  /** exporter / baseline, or another ratio the goal is about. */
  readonly ratio?: number;
  /** The goal in words, e.g. `ratio <= 1.5`. */
  readonly goal: string;
  /** Whether the goal is met; undefined for figures reported without a goal. */
  readonly pass?: boolean;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The q-quantile (linear interpolation) of a non-empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('quantile of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** CPU time (user + system) of this process in milliseconds, all threads. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Forces a full collection when the process runs with `--expose-gc` (run.ts starts children that way). */
export function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (npm run bench starts each benchmark that way)');
  // Twice: the first pass can leave objects that only die once their finalizers have run.
  gc();
  gc();
}

/** `heapUsed` after full collections with event-loop turns between them, in bytes. */
export async function settledHeap(): Promise<number> {
  // Some garbage is only released by callbacks that run after a collection (FinalizationRegistry
  // cleanups such as AbortSignal.any's, undici's timers): let those run, then collect again.
  for (let i = 0; i < 3; i++) {
    collect();
    await sleep(20);
  }
  collect();
  return process.memoryUsage().heapUsed;
}

/** Promise-based sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Progress line on stderr (stdout carries the results). */
export function log(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

/** Marks the one stdout line of a benchmark child that carries its rows as JSON. */
export const ROWS_PREFIX = 'BENCH_ROWS ';
