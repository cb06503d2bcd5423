import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackForwarder, FORWARDED_HEADER, peerUrl } from '../../../src/http/callback-forward.ts';

const servers: Server[] = [];
const forwarders: CallbackForwarder[] = [];
afterEach(async () => {
  await Promise.all(forwarders.splice(0).map((f) => f.close()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((done) => s.close(() => done()));
  }
});

async function peer(handler: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks), res));
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return `http://127.0.0.1:${addr.port}`;
}

function forwarder(template: string, timeoutMs = 5000, retryForMs = 0) {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l) as (typeof lines)[number]) });
  const f = new CallbackForwarder({ ordinal: 2, peerTemplate: () => template, logger, timeoutMs, retryForMs });
  forwarders.push(f);
  return { f, lines };
}

const CALLBACK = {
  pathAndQuery: '/webhooks/twilio/call-status?x=1',
  body: Buffer.from('CallSid=CA1&CallStatus=in-progress'),
  contentType: 'application/x-www-form-urlencoded; charset=utf-8',
  signature: 'c2lnbmF0dXJl',
  authorization: undefined,
};

describe('CallbackForwarder', () => {
  it('puts the ordinal in the template', () => {
    expect(peerUrl('http://exporter-{ordinal}.exporter:9487', 4)).toBe('http://exporter-4.exporter:9487');
  });

  it('sends the callback unchanged, marked forwarded, and succeeds on a 2xx', async () => {
    let seen: { url?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    const base = await peer((req, body, res) => {
      seen = { url: req.url, headers: req.headers, body: body.toString() };
      res.writeHead(204).end();
    });
    const { f } = forwarder(base.replace('127.0.0.1', '127.0.0.{ordinal}'));
    // Ordinal 1 → 127.0.0.1.
    expect(await f.forward(1, CALLBACK)).toEqual({ ok: true });
    expect(seen.url).toBe('/webhooks/twilio/call-status?x=1');
    expect(seen.body).toBe('CallSid=CA1&CallStatus=in-progress');
    expect(seen.headers?.['content-type']).toBe(CALLBACK.contentType);
    expect(seen.headers?.['x-twilio-signature']).toBe(CALLBACK.signature);
    expect(seen.headers?.[FORWARDED_HEADER]).toBe('2');
  });

  it('answers 502 when the owner refuses, 504 when it does not answer in time, and logs each failing stretch once', async () => {
    let mode: 'refuse' | 'hang' | 'ok' = 'refuse';
    const base = await peer((_req, _body, res) => {
      if (mode === 'refuse') res.writeHead(403, { 'content-type': 'text/plain' }).end('invalid or missing X-Twilio-Signature\n');
      else if (mode === 'ok') res.writeHead(204).end();
      // hang: never answers
    });
    const { f, lines } = forwarder(base, 200);
    expect(await f.forward(0, CALLBACK)).toEqual({ ok: false, status: 502, text: 'the shard owning this call (0) answered 403\n' });
    expect(await f.forward(0, CALLBACK)).toMatchObject({ ok: false, status: 502 });
    mode = 'hang';
    expect(await f.forward(0, CALLBACK)).toEqual({ ok: false, status: 504, text: 'the shard owning this call (0) did not answer in time\n' });
    mode = 'ok';
    expect(await f.forward(0, CALLBACK)).toEqual({ ok: true });
    mode = 'refuse';
    expect(await f.forward(0, CALLBACK)).toMatchObject({ ok: false, status: 502 });
    const failed = lines.filter((l) => l.msg.startsWith('forwarding status callbacks to the owning shard failed'));
    const recovered = lines.filter((l) => l.msg.startsWith('forwarding status callbacks to the owning shard works again'));
    expect({ failed: failed.length, recovered: recovered.length }).toEqual({ failed: 2, recovered: 1 });
  });

  it('answers 502 without a stack when the owner cannot be reached', async () => {
    const base = await peer((_req, _body, res) => res.end());
    const s = servers.pop()!;
    await new Promise<void>((done) => s.close(() => done()));
    const { f } = forwarder(base);
    expect(await f.forward(0, CALLBACK)).toEqual({ ok: false, status: 502, text: 'the shard owning this call (0) could not be reached\n' });
  });

  it('keeps trying an owner that refuses connections (restarting) until it answers, within the retry window', async () => {
    // A port that is free now, where the owner starts listening a little later.
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((done) => probe.close(() => done()));
    const { f, lines } = forwarder(`http://127.0.0.1:${port}`, 1000, 5000);
    let received = 0;
    const answer = f.forward(0, CALLBACK);
    await new Promise((r) => setTimeout(r, 700));
    const owner = createServer((req, res) => {
      received++;
      req.resume().on('end', () => res.writeHead(204).end());
    });
    servers.push(owner);
    owner.listen(port, '127.0.0.1');
    expect(await answer).toEqual({ ok: true });
    expect(received).toBe(1);
    // A stretch that ended in success is no failure to warn about.
    expect(lines.filter((l) => l.msg.startsWith('forwarding status callbacks to the owning shard failed'))).toEqual([]);
  });

  it('does not retry an owner that answered, and gives up on an unreachable one once the window is over', async () => {
    let requests = 0;
    const base = await peer((_req, _body, res) => {
      requests++;
      res.writeHead(503, { 'content-type': 'text/plain' }).end('not owned\n');
    });
    const { f } = forwarder(base, 1000, 5000);
    expect(await f.forward(0, CALLBACK)).toMatchObject({ ok: false, status: 502 });
    expect(requests).toBe(1);
    const s = servers.pop()!;
    s.closeAllConnections();
    await new Promise<void>((done) => s.close(() => done()));
    const { f: g } = forwarder(base, 1000, 600);
    const t0 = Date.now();
    expect(await g.forward(0, CALLBACK)).toEqual({ ok: false, status: 502, text: 'the shard owning this call (0) could not be reached\n' });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(4000);
  });
});
