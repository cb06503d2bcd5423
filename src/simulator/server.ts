import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimulatorAccount } from './accounts.ts';
import { createSimulatorApp } from './app.ts';
import type { SortOrder } from './page-selection.ts';
import { Simulator } from './simulator.ts';
import type { SimulatorVariant } from './variant.ts';

/** Options of `startSimulator`. Every field is optional. */
export interface SimulatorOptions {
  /** Listen address. Default `127.0.0.1`. */
  host?: string;
  /** Listen port; 0 picks a free one. Default 0. */
  port?: number;
  /** Accounts served. Default: DEMO_ACCOUNT with its API key. */
  accounts?: SimulatorAccount[];
  /** Seed of every generated value and of the fault dice. Default 1. */
  seed?: number;
  /** Visibility lag of samples, seconds. Default 90. */
  lagSeconds?: number;
  /** Metrics sort order. Default `asc`. */
  order?: SortOrder;
  /** Page token lifetime, ms; absent or null: no expiry. */
  pageTokenTtlMs?: number | null;
  /** In-flight requests per account before 429/20429. Default 100. */
  concurrencyLimit?: number;
  /** `Retry-After` seconds on concurrency 429s; absent or null: none. */
  retryAfterSeconds?: number | null;
  /** PageSize outside 1..1000: `reject` (400, default) or `clamp`. */
  pageSizeMode?: SimulatorVariant['pageSizeMode'];
  /** Delay from call end to a complete summary, seconds. Default 1800. */
  summaryDelaySeconds?: number;
  /** Any other variant setting at start, e.g. `{ partialSummary: 'during_call' }`. */
  variant?: Partial<SimulatorVariant>;
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Absolute base URL used in v1 paging links; absent: derived from each request's Host header. */
  publicUrl?: string;
}

/** A listening simulator. */
export interface RunningSimulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The in-process model (create and end calls, read the ledger, change faults). */
  readonly simulator: Simulator;
  /** Stops listening, ends held requests and closes every connection. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Starts the simulator over a real HTTP socket. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const simulator = new Simulator(options);
  const shutdown = new AbortController();
  const app = createSimulatorApp(simulator, {
    shutdown: shutdown.signal,
    ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
  });
  const server = createServer(app);
  // Clients such as twilio-node keep connections alive; keep ours a little longer than theirs.
  server.keepAliveTimeout = 10_000;
  const host = options.host ?? '127.0.0.1';
  const address = await listen(server, options.port ?? 0, host);
  // A wildcard address is not something a client can connect to; name loopback instead.
  const reachable = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  const urlHost = reachable.includes(':') ? `[${reachable}]` : reachable;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    simulator,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        shutdown.abort();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
