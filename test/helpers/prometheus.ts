import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port.ts';

/** The scrape job name of the exporter targets; the alert rules in config/prometheus select it. */
export const PROMETHEUS_JOB = 'twilio-insights-exporter';

/** Options of a throwaway Prometheus server. */
export interface PrometheusOptions {
  /** Exporters to scrape, as host:port, all in the job `PROMETHEUS_JOB`. */
  scrapeTargets: string[];
  /** Scrape (and rule evaluation) interval [1s]. */
  scrapeInterval?: string;
  /** More command-line flags, e.g. `--enable-feature=exemplar-storage`. */
  extraFlags?: string[];
}

/** One series of an instant query result. */
export interface InstantSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** One series' exemplars from `/api/v1/query_exemplars`. */
export interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

/** A running Prometheus. */
export interface RunningPrometheus {
  /** Base URL, http://127.0.0.1:PORT. */
  url: string;
  /** Instant query at the current time; a scalar result comes back as one series without labels. Throws on a query error. */
  query(promql: string): Promise<InstantSample[]>;
  /** Exemplars of the series a query selects, over the last `lookbackSeconds` [300]. */
  queryExemplars?(promql: string, lookbackSeconds?: number): Promise<ExemplarSeries[]>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and deletes its files. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;


interface ApiResponse<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as ApiResponse<T>;
  if (body.status !== 'success' || body.data === undefined) throw new Error(`Prometheus ${body.errorType ?? res.status}: ${body.error ?? 'no data'} (${url})`);
  return body.data;
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((done) => {
    timer = setTimeout(() => done(false), timeoutMs);
  });
  const exited = once(child, 'exit').then(() => true as const);
  try {
    return await Promise.race([exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts `prometheus` (from PATH; test/e2e/setup.sh installs it) on a free loopback port with its data in a
 * temporary directory, scraping `scrapeTargets`, and resolves once `/-/ready` answers. The first scrape
 * lands a few seconds later: poll `query` with a deadline.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const interval = options.scrapeInterval ?? '1s';
  const dir = mkdtempSync(join(tmpdir(), 'tie-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(
    configFile,
    stringify({
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      scrape_configs: [{ job_name: PROMETHEUS_JOB, static_configs: [{ targets: options.scrapeTargets }] }],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--log.level=warn',
      ...(options.extraFlags ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    log = (log + chunk).slice(-4000);
  });
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 5_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`could not start prometheus (run test/e2e/setup.sh): ${spawnError.message}`);
    }
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}:\n${log}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready after ${READY_TIMEOUT_MS} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    async query(promql: string): Promise<InstantSample[]> {
      const data = await api<{ resultType: string; result: unknown }>(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      if (data.resultType === 'vector') return data.result as InstantSample[];
      if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
      throw new Error(`query returned a ${data.resultType}, not an instant vector: ${promql}`);
    },
    async queryExemplars(promql: string, lookbackSeconds = 300): Promise<ExemplarSeries[]> {
      const end = Date.now() / 1000;
      const q = new URLSearchParams({ query: promql, start: String(end - lookbackSeconds), end: String(end) });
      return api<ExemplarSeries[]>(`${url}/api/v1/query_exemplars?${q.toString()}`);
    },
    stop,
  };
}
