import { once } from 'node:events';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { generate } from 'selfsigned';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.ts';
import { createWebServer, HANDSHAKE_TIMEOUT_MS, IDLE_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../../src/http/web-config.ts';
import type { WebConfig } from '../../src/http/web-config.ts';
import { RenderedExposition } from '../../src/metrics/rendered.ts';
import { eventually } from '../helpers/exporter.ts';

// Probe A #1: a client that sent GET /metrics and never read the answer kept its connection, and the rendered
// exposition it pinned, for as long as it liked (60 of them took the RSS from 250 MB to 913 MB).
const MB = 1024 * 1024;
const IDLE_MS = 1000;

let tls: WebConfig['tls'];
beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], { keySize: 2048, algorithm: 'sha256' });
  tls = { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private), minVersion: 'TLSv1.2' };
});

let cleanup: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

interface Served {
  readonly port: number;
  readonly server: Server;
  /** Renders whose buffers were not handed back yet. */
  readonly held: () => number;
}

// The real app and server factory, with a render of `chunks` that counts what is still held.
async function serve(protocol: 'http' | 'https', chunks: readonly Uint8Array[]): Promise<Served> {
  let held = 0;
  const app = createApp({
    render: () => {
      held++;
      return Promise.resolve(new RenderedExposition('text/plain; version=0.0.4; charset=utf-8', chunks, () => held--));
    },
    telemetryPath: '/metrics',
    readiness: () => ({ ready: true }),
    version: 'test',
  });
  const server = createWebServer(app, protocol === 'https' ? { tls: tls!, users: new Map() } : undefined, { idleTimeoutMs: IDLE_MS });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => {
    server.closeAllConnections();
    return new Promise<void>((done) => server.close(() => done()));
  });
  return { port: (server.address() as { port: number }).port, server, held: () => held };
}

const connections = (server: Server): Promise<number> => new Promise((done, fail) => server.getConnections((err, n) => (err ? fail(err) : done(n))));

// A client that sends the request and then never reads: the server's sends fill the socket buffers and stop.
async function stalledClient(protocol: 'http' | 'https', port: number): Promise<Socket> {
  const socket =
    protocol === 'https' ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }) : netConnect({ host: '127.0.0.1', port });
  await once(socket, protocol === 'https' ? 'secureConnect' : 'connect');
  socket.pause();
  socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  cleanup.push(() => void socket.destroy());
  return socket;
}

function keepAliveAgent(protocol: 'http' | 'https'): HttpAgent {
  const agent = protocol === 'https' ? new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  cleanup.push(() => agent.destroy());
  return agent;
}

// The answer, and whether the agent sent the request on a connection it kept alive.
function get(protocol: 'http' | 'https', port: number, path: string, agent: HttpAgent): Promise<{ res: IncomingMessage; reused: boolean }> {
  const request = protocol === 'https' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => resolve({ res, reused: req.reusedSocket }));
    req.on('error', reject).end();
  });
}

// Reads the body at about `bytesPerSecond`, pausing after each piece for as long as that piece is worth.
function readSteadily(res: IncomingMessage, bytesPerSecond: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    res.on('data', (piece: Buffer) => {
      got += piece.length;
      res.pause();
      setTimeout(() => res.resume(), (piece.length / bytesPerSecond) * 1000);
    });
    res.on('end', () => resolve(got));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error(`aborted after ${got} bytes`)));
  });
}

describe.each(['http', 'https'] as const)('the idle timeout of the web server, /metrics (%s)', (protocol) => {
  it('closes the connection once it makes no progress for the idle timeout, and releases the render', { timeout: 30_000 }, async () => {
    // 32 MB is well past what loopback socket buffers absorb, so most of it is still the server's to send.
    const chunk = Buffer.alloc(8 * MB, 0x61);
    const s = await serve(protocol, [chunk, chunk, chunk, chunk]);
    const started = Date.now();
    await Promise.all([stalledClient(protocol, s.port), stalledClient(protocol, s.port)]);
    await eventually(() => (s.held() === 2 ? true : undefined), 5_000, 'both renders');
    await eventually(async () => (s.held() === 0 && (await connections(s.server)) === 0 ? true : undefined), 10_000, 'the stalled connections to close');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS);
    expect(elapsed).toBeLessThan(IDLE_MS + 5_000);
  });

  it('sends a large exposition whole to a slow but steady reader', { timeout: 60_000 }, async () => {
    // 8 MB read at 1 MB/s takes eight idle timeouts: progress, not the whole response, must keep it open. Written
    // whole, the chunk was one socket write that counted as progress only once done: cut mid-body, HTTP and TLS.
    const s = await serve(protocol, [Buffer.alloc(8 * MB, 0x62)]);
    const { res } = await get(protocol, s.port, '/metrics', keepAliveAgent(protocol));
    expect(res.statusCode).toBe(200);
    expect(await readSteadily(res, MB)).toBe(8 * MB);
    await eventually(() => (s.held() === 0 ? true : undefined), 5_000, 'the render to be released');
  });

  it('leaves idle keep-alive connections to Node keepAliveTimeout (5 s), longer than the idle timeout', { timeout: 30_000 }, async () => {
    const s = await serve(protocol, [Buffer.from('up 1\n')]);
    const agent = keepAliveAgent(protocol);
    const first = await get(protocol, s.port, '/metrics', agent);
    first.res.resume();
    await once(first.res, 'end');
    await new Promise((r) => setTimeout(r, IDLE_MS * 1.5));
    const again = await get(protocol, s.port, '/metrics', agent);
    again.res.resume();
    await once(again.res, 'end');
    expect({ status: again.res.statusCode, reused: again.reused }).toEqual({ status: 200, reused: true });
  });
});

describe('createWebServer', () => {
  it('bounds how long a connection may make no progress, by default IDLE_TIMEOUT_MS', () => {
    const server = createWebServer(() => undefined, undefined);
    expect(server.timeout).toBe(IDLE_TIMEOUT_MS);
    // Past Prometheus' default scrape timeout, and past the request timeout and its 1 s check: a request that
    // trickles in must get its 408 (process.test.ts) before the idle timeout closes the connection without a word.
    expect(IDLE_TIMEOUT_MS).toBeGreaterThan(Math.max(10_000, REQUEST_TIMEOUT_MS + 1_000));
  });
});

describe('a TLS client that never finishes its handshake', () => {
  // The idle and request timeouts start once the handshake is done: before, Node's own 120 s applied.
  it('is cut off after HANDSHAKE_TIMEOUT_MS', { timeout: HANDSHAKE_TIMEOUT_MS + 20_000 }, async () => {
    const server = createWebServer(createApp({ render: () => Promise.reject(new Error('unused')), telemetryPath: '/metrics', readiness: () => ({ ready: true }), version: 'test' }), { tls: tls!, users: new Map() });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanup.push(() => {
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    });
    const socket = netConnect({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
    cleanup.push(() => void socket.destroy());
    await once(socket, 'connect');
    const opened = Date.now();
    socket.resume();
    await once(socket, 'close');
    const heldMs = Date.now() - opened;
    expect(heldMs).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 1_000);
    expect(heldMs).toBeLessThan(HANDSHAKE_TIMEOUT_MS + 5_000);
  });
});
