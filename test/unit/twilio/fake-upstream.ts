import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { inspect } from 'node:util';
import { Agent } from 'undici';
import { onTestFinished } from 'vitest';
import { createTwilioClient } from '../../../src/twilio/client.ts';
import type { RequestEvent, TwilioClient, TwilioClientOptions, TwilioCredentials } from '../../../src/twilio/client.ts';

/** A request as the fake upstream saw it. */
export interface SeenRequest {
  method: string;
  /** Path and query, exactly as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Client port of the connection, to tell reused keep-alive connections from new ones. */
  remotePort: number | undefined;
}

/** A real HTTP server on 127.0.0.1 port 0, closed when the test finishes. */
export interface FakeUpstream {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** Every request received, in order. */
  requests: SeenRequest[];
}

/** Answers one request; may leave it hanging or destroy the socket to play a failure. */
export type Handler = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void;

/** Starts a fake upstream for the current test only (a fresh server per case, like blackbox's httptest). */
export async function fakeUpstream(handler: Handler): Promise<FakeUpstream> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const seen: SeenRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      remotePort: req.socket.remotePort,
    };
    requests.push(seen);
    handler(req, res, seen);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    // Hanging handlers never end their responses; destroy sockets so close() resolves at once.
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, requests };
}

/** Writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** An Account SID in the spec's shape. */
export const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
/** An Auth Token that must never show up in output. */
export const AUTH_TOKEN = 'tok3n5ecretdeadbeefcafe0000000001';
/** An API Key SID. */
export const API_KEY_SID = 'SKfedcba9876543210fedcba9876543210';
/** An API Key secret that must never show up in output. */
export const API_KEY_SECRET = 'k3ySecretXyZ0987654321abcdefABCDEF';
/** A Call SID in the spec's shape. */
export const CALL_SID = 'CA0123456789abcdef0123456789abcdef';

/** A Secret-like wrapper: prints `<secret>` and reveals only on request, like the config module's Secret. */
export function secret(value: string): { reveal(): string } {
  return {
    reveal: () => value,
    toString: () => '<secret>',
    toJSON: () => '<secret>',
    [inspect.custom]: () => '<secret>',
  } as { reveal(): string };
}

/** Account SID + Auth Token credentials. */
export const accountCredentials = (): TwilioCredentials => ({ username: ACCOUNT_SID, password: secret(AUTH_TOKEN) });

/** API Key SID + secret credentials. */
export const apiKeyCredentials = (): TwilioCredentials => ({ username: API_KEY_SID, password: secret(API_KEY_SECRET) });

/** The Authorization header Twilio expects for a username and password. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** A client plus the events it reported, wired to a keep-alive Agent that is closed when the test finishes. */
export interface TestClient {
  client: TwilioClient;
  events: RequestEvent[];
}

/** Builds a client pointed at fake upstreams (both bases default to `insights`). */
export function testClient(
  insights: FakeUpstream,
  overrides: Partial<TwilioClientOptions> & { api?: FakeUpstream } = {},
): TestClient {
  const events: RequestEvent[] = [];
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 8 });
  onTestFinished(() => dispatcher.destroy());
  const { api, ...rest } = overrides;
  const client = createTwilioClient({
    accountSid: ACCOUNT_SID,
    credentials: accountCredentials,
    insightsBaseUrl: insights.baseUrl,
    apiBaseUrl: (api ?? insights).baseUrl,
    dispatcher,
    userAgent: 'twilio-insights-exporter/test (linux x64) node/v24.0.0',
    requestTimeoutMs: 2_000,
    onRequest: (e) => events.push(e),
    ...rest,
  });
  return { client, events };
}

/** Runs `fn` and returns what it threw, failing if it did not throw. */
export async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** A Metrics page body with an absolute next_page_url (or null). */
export function metricsBody(records: unknown[], nextPageUrl: string | null, page = 0, pageSize = 50): unknown {
  return {
    metrics: records,
    meta: {
      page,
      page_size: pageSize,
      first_page_url: null,
      previous_page_url: null,
      next_page_url: nextPageUrl,
      key: 'metrics',
      url: null,
    },
  };
}
