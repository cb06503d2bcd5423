import { RenderedExposition } from '../../../src/metrics/rendered.ts';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.ts';
import { basicAuth } from '../../../src/http/basic-auth.ts';
import { eventually } from '../../helpers/exporter.ts';

type Guard = ReturnType<typeof basicAuth> & { close?: () => Promise<void> };
let server: Server | undefined;
let guard: Guard | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
  await guard?.close?.();
  server = guard = undefined;
});

async function serve(g: Guard): Promise<string> {
  guard = g;
  const app = createApp({
    render: () => Promise.resolve(RenderedExposition.of('text/plain; version=0.0.4', 'up 1\n')),
    telemetryPath: '/metrics',
    readiness: () => ({ ready: true }),
    version: 'test',
    guard: g,
  });
  server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return `http://127.0.0.1:${addr.port}`;
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('basic auth (--web.config.file)', () => {
  it('checks a wrong password for an unknown user against a dummy hash of the configured cost, as for a known user', async () => {
    const compared: string[] = [];
    const compare = (password: string, hash: string) => {
      compared.push(hash);
      return Promise.resolve(bcrypt.compareSync(password, hash));
    };
    const url = await serve(basicAuth(new Map([['prom', bcrypt.hashSync('good', 5)]]), { compare }));
    expect((await fetch(`${url}/metrics`, { headers: basic('prom', 'wrong') })).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: basic('mallory', 'wrong') })).status).toBe(401);
    expect(compared).toHaveLength(2);
    expect(compared[1]).toMatch(/^\$2[aby]\$05\$/);
    expect(compared[1]).not.toBe(compared[0]);
  });

  it('refuses attempts beyond the concurrent-verification cap at once with 429, while cached credentials still pass', async () => {
    const held: Array<() => void> = [];
    let goodCompares = 0;
    const compare = (password: string) => {
      if (password === 'good') {
        goodCompares++;
        return Promise.resolve(true);
      }
      return new Promise<boolean>((resolve) => held.push(() => resolve(false)));
    };
    const url = await serve(basicAuth(new Map([['prom', bcrypt.hashSync('good', 4)]]), { compare, maxConcurrent: 2 }));
    expect((await fetch(`${url}/metrics`, { headers: basic('prom', 'good') })).status).toBe(200);
    const slow = [fetch(`${url}/metrics`, { headers: basic('prom', 'w1') }), fetch(`${url}/metrics`, { headers: basic('nobody', 'w2') })];
    await eventually(() => (held.length === 2 ? true : undefined), 5_000, 'two comparisons in flight');
    const excess = await fetch(`${url}/metrics`, { headers: basic('prom', 'w3') });
    expect(excess.status).toBe(429);
    expect(excess.headers.get('retry-after')).toBe('1');
    expect((await fetch(`${url}/metrics`, { headers: basic('prom', 'good') })).status).toBe(200);
    expect(goodCompares).toBe(1);
    for (const release of held) release();
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([401, 401]);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
  });

  it('compares off the event loop: a cached scrape is answered while a slow wrong-password comparison runs', { timeout: 30_000 }, async () => {
    // Cost 11 takes bcryptjs hundreds of milliseconds, far longer than a cached request needs.
    const url = await serve(basicAuth(new Map([['prom', bcrypt.hashSync('good', 11)]])));
    expect((await fetch(`${url}/metrics`, { headers: basic('prom', 'good') })).status).toBe(200);
    const finished: string[] = [];
    const wrong = fetch(`${url}/metrics`, { headers: basic('prom', 'wrong') }).then((r) => finished.push(`wrong ${r.status}`));
    await new Promise((r) => setTimeout(r, 50));
    const cached = fetch(`${url}/metrics`, { headers: basic('prom', 'good') }).then((r) => finished.push(`cached ${r.status}`));
    await Promise.all([wrong, cached]);
    expect(finished).toEqual(['cached 200', 'wrong 401']);
  });
});
