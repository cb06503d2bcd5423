import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { createExporter } from '../../src/exporter.ts';
import type { Exporter, ExporterDeps } from '../../src/exporter.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';

/** An exporter running in-process (on 127.0.0.1:0 unless told) against a simulator. */
export interface TestExporter {
  readonly url: string;
  readonly exporter: Exporter;
  /** The config file the exporter reads (and re-reads on reload). */
  readonly file: string;
  /** Fetches `/metrics` as Prometheus text. */
  scrape(accept?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts an exporter whose single (demo) account points at `simulatorUrl`; `extra` is merged into the YAML. It listens
 * on `listen` [127.0.0.1, a free port]: sharded tests give each replica its own loopback address and one shared port.
 */
export async function startTestExporter(
  simulatorUrl: string,
  extra: Record<string, unknown> = {},
  deps: Partial<Pick<ExporterDeps, 'shard' | 'webConfig' | 'logger' | 'now'>> = {},
  listen: { readonly host?: string; readonly port?: number } = {},
): Promise<TestExporter> {
  const dir = mkdtempSync(join(tmpdir(), 'tie-test-'));
  const file = join(dir, 'config.yaml');
  const { accounts: extraAccounts, ...rest } = extra;
  const doc = {
    accounts: extraAccounts ?? [
      {
        account_sid: DEMO_ACCOUNT.accountSid,
        auth_token: DEMO_ACCOUNT.authToken,
        insights_base_url: simulatorUrl,
        api_base_url: simulatorUrl,
      },
    ],
    poll_interval: '1s',
    request_timeout: '5s',
    log: { level: 'warn' },
    ...rest,
  };
  writeFileSync(file, stringify(doc));
  const config = loadConfig({ file, env: {} });
  const exporter = createExporter({ config, logger: pino({ level: 'silent' }), loadConfig: () => loadConfig({ file, env: {} }), ...deps });
  const server: Server = createServer(exporter.app);
  const host = listen.host ?? '127.0.0.1';
  server.listen(listen.port ?? 0, host);
  await once(server, 'listening');
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  const url = `http://${host}:${addr.port}`;
  await exporter.start();
  return {
    url,
    exporter,
    file,
    async scrape(accept?: string): Promise<string> {
      const res = await fetch(`${url}/metrics`, accept ? { headers: { accept } } : {});
      if (!res.ok) throw new Error(`scrape failed: ${res.status}`);
      return res.text();
    },
    async close(): Promise<void> {
      server.closeAllConnections();
      await Promise.all([exporter.stop(), new Promise<void>((done) => server.close(() => done()))]);
    },
  };
}

/**
 * After each test, closes what it left open, in the order `open()` lists it (an exporter before the simulator it
 * polls), then `forget()`s it: the one teardown of the tests that hold an exporter and a simulator per test.
 */
export function closeAfterEach(open: () => ReadonlyArray<{ close(): Promise<void> } | undefined>, forget: () => void): void {
  afterEach(async () => {
    for (const o of open()) await o?.close();
    forget();
  });
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Parses a Prometheus text exposition into `name{labels}` → value (comments skipped). */
export function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Series of one metric name as label maps with their values. */
export function seriesOf(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const [key, value] of parseExposition(text)) {
    const brace = key.indexOf('{');
    const metric = brace === -1 ? key : key.slice(0, brace);
    if (metric !== name) continue;
    const labels: Record<string, string> = {};
    if (brace !== -1) {
      for (const m of key.slice(brace + 1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    }
    out.push({ labels, value });
  }
  return out;
}
