import { RenderedExposition } from '../../../src/metrics/rendered.ts';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
  server = undefined;
});

describe('createApp error answers', () => {
  it('a handler that throws gets a one-line plain-text 500 without the message or stack, and onError sees the error', async () => {
    const seen: unknown[] = [];
    const app = createApp({
      render: () => Promise.resolve(RenderedExposition.of('text/plain', '')),
      telemetryPath: '/metrics',
      readiness: () => {
        throw new Error('boom in /work/src/secret-place.ts');
      },
      version: 'test',
      onError: (err) => seen.push(err),
    });
    server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    const res = await fetch(`http://127.0.0.1:${addr.port}/-/ready`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('internal server error\n');
    expect(seen).toHaveLength(1);
  });
});
