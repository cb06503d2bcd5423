import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { trackRequests } from '../../../src/http/drain.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.closeAllConnections();
});

async function serve(answerAfterMs: number): Promise<{ server: Server; port: number; drain: ReturnType<typeof trackRequests> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (answerAfterMs >= 0) setTimeout(() => res.end('done\n'), answerAfterMs);
    });
  });
  // A long keep-alive: a drain that waited for it would take seconds.
  server.keepAliveTimeout = 30_000;
  const drain = trackRequests(server);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, drain };
}

// A kept-alive HTTP/1.1 request on a raw socket: what it was answered, and when the server closed the connection.
function post(port: number): { answer: () => string; closed: Promise<void> } {
  let answer = '';
  const s = connect(port, '127.0.0.1', () => s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi'));
  s.on('data', (d: Buffer) => (answer += d.toString()));
  s.on('error', () => undefined);
  return { answer: () => answer.split('\r\n')[0] ?? '', closed: once(s, 'close').then(() => undefined) };
}

describe('trackRequests', () => {
  it('lets a request in flight finish, then closes its kept-alive connection at once', async () => {
    const { port, drain } = await serve(300);
    const r = post(port);
    await new Promise((done) => setTimeout(done, 50));
    expect(drain.inFlight).toBe(1);
    const t0 = Date.now();
    await drain.drain(5000);
    await r.closed;
    expect(r.answer()).toBe('HTTP/1.1 200 OK');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(drain.inFlight).toBe(0);
  });

  it('cuts a request still unanswered when the drain time is up, without an answer', async () => {
    const { port, drain } = await serve(-1);
    const r = post(port);
    await new Promise((done) => setTimeout(done, 50));
    const t0 = Date.now();
    await drain.drain(300);
    await r.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(r.answer()).toBe('');
  });

  it('does not wait on a connection that never sent a request', async () => {
    const { port, drain } = await serve(0);
    const idle = connect(port, '127.0.0.1');
    await once(idle, 'connect');
    const closed = once(idle, 'close');
    const t0 = Date.now();
    await drain.drain(5000);
    await closed;
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
