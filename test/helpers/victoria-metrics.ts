import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './exporter.ts';
import { freePort } from './free-port.ts';

/** Where test/e2e/setup.sh unpacks the VictoriaMetrics binary (Debian trixie package, not installed). */
export const VICTORIA_METRICS_BIN = fileURLToPath(new URL('../../.cache/vm/usr/bin/victoria-metrics', import.meta.url));

/** One series of an instant query: its labels (with `__name__`) and value. */
export interface VmSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A VictoriaMetrics single-node process on 127.0.0.1, used as a real OTLP/HTTP receiver. */
export interface RunningVictoriaMetrics {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The OTLP http/protobuf metrics endpoint to push to. */
  readonly otlpUrl: string;
  /** Makes everything ingested so far queryable at once (`/internal/force_flush`). */
  forceFlush(): Promise<void>;
  /** Instant query over the Prometheus API. */
  query(promql: string): Promise<VmSample[]>;
  /** Every metric name VictoriaMetrics holds. */
  metricNames(): Promise<string[]>;
  /** Stops the process (SIGTERM, then SIGKILL after a deadline) and removes its data directory. */
  stop(): Promise<void>;
}


function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once('exit', () => done()));
}

/**
 * Starts VictoriaMetrics with the flags TOOLS.md gives (no query latency offset or cache, so a pushed point is
 * queryable right after a force flush; Prometheus naming of OTLP metrics), on a free loopback port, and waits
 * for `/health` with a deadline. Retries once on a port taken between probing and binding.
 */
export async function startVictoriaMetrics(extraFlags: readonly string[] = []): Promise<RunningVictoriaMetrics> {
  if (!existsSync(VICTORIA_METRICS_BIN)) throw new Error(`${VICTORIA_METRICS_BIN} missing: run bash test/e2e/setup.sh`);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'tie-vm-'));
    let output = '';
    const child = spawn(
      VICTORIA_METRICS_BIN,
      [
        `-httpListenAddr=127.0.0.1:${port}`,
        `-storageDataPath=${dataDir}`,
        '-search.latencyOffset=0s',
        '-search.disableCache',
        '-opentelemetry.usePrometheusNaming',
        '-loggerLevel=WARN',
        ...extraFlags,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const url = `http://127.0.0.1:${port}`;
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited(child);
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    };
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`victoria-metrics exited ${child.exitCode}: ${output}`);
          const res = await fetch(`${url}/health`);
          return res.ok ? true : undefined;
        },
        15_000,
        'victoria-metrics /health',
      );
    } catch (err) {
      lastError = err;
      await stop();
      continue;
    }
    return {
      url,
      otlpUrl: `${url}/opentelemetry/v1/metrics`,
      async forceFlush(): Promise<void> {
        const res = await fetch(`${url}/internal/force_flush`);
        if (!res.ok) throw new Error(`force_flush: ${res.status}`);
      },
      async query(promql: string): Promise<VmSample[]> {
        const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
        const body = (await res.json()) as {
          status: string;
          error?: string;
          data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
        };
        if (body.status !== 'success' || !body.data) throw new Error(`query ${promql}: ${body.error ?? res.status}`);
        return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
      },
      async metricNames(): Promise<string[]> {
        const res = await fetch(`${url}/api/v1/label/__name__/values`);
        const body = (await res.json()) as { data: string[] };
        return body.data;
      },
      stop,
    };
  }
  throw new Error(`could not start victoria-metrics: ${String(lastError)}`);
}
