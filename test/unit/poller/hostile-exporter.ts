import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { onTestFinished } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../../src/config/load.ts';
import { createExporter } from '../../../src/exporter.ts';
import type { Exporter } from '../../../src/exporter.ts';
import { seriesOf } from '../../helpers/exporter.ts';
import type { HostileInsights } from './hostile-insights.ts';

/** Two accounts the hostile fake serves; their tokens are never checked. */
export const ACCOUNT_1 = 'AC11111111111111111111111111111111';
export const ACCOUNT_2 = 'AC22222222222222222222222222222222';

/** One JSON log line as pino wrote it. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** An exporter started from a real config file against the hostile fake, with its log lines kept. */
export interface RunningExporter {
  readonly exporter: Exporter;
  readonly url: string;
  readonly logs: LogLine[];
  scrape(): Promise<string>;
  /** Sum of a metric's series whose labels include `match`. */
  total(name: string, match?: Record<string, string>): Promise<number>;
}

/** Starts an exporter whose two accounts point at `fake`; `extra` is merged into the YAML; stopped when the test ends. */
export async function startExporter(fake: HostileInsights, extra: Record<string, unknown> = {}, now?: () => number): Promise<RunningExporter> {
  const dir = mkdtempSync(join(tmpdir(), 'tie-hostile-'));
  const file = join(dir, 'config.yaml');
  const account = (sid: string) => ({ account_sid: sid, auth_token: 'token', insights_base_url: fake.baseUrl, api_base_url: fake.baseUrl });
  writeFileSync(
    file,
    stringify({ accounts: [account(ACCOUNT_1), account(ACCOUNT_2)], poll_interval: '1s', request_timeout: '2s', log: { level: 'info' }, ...extra }),
  );
  const config = loadConfig({ file, env: {} });
  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const exporter = createExporter({ config, logger, ...(now && { now }) });
  const server = createServer(exporter.app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  const url = `http://127.0.0.1:${addr.port}`;
  onTestFinished(async () => {
    server.closeAllConnections();
    await Promise.all([exporter.stop(), new Promise<void>((done) => server.close(() => done()))]);
  });
  await exporter.start();
  const scrape = async (): Promise<string> => {
    const res = await fetch(`${url}/metrics`);
    if (!res.ok) throw new Error(`scrape failed: ${res.status}`);
    return res.text();
  };
  const total = async (name: string, match: Record<string, string> = {}): Promise<number> =>
    seriesOf(await scrape(), name)
      .filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  return { exporter, url, logs, scrape, total };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
