import { describe, expect, it } from 'vitest';
import { CALL_SID, caught, fakeUpstream, metricsBody, sendJson, testClient } from './fake-upstream.ts';

describe('fetchMetricsPage body limits', () => {
  it('reports the size of the body it read', async () => {
    const body = metricsBody([{ a: 1 }], null);
    const upstream = await fakeUpstream((_req, res) => sendJson(res, 200, body));
    const { client } = testClient(upstream);

    const page = await client.fetchMetricsPage({ callSid: CALL_SID });

    expect(page.bodyBytes).toBe(Buffer.byteLength(JSON.stringify(body)));
  });

  it('refuses a body declared longer than maxBodyBytes as bad_payload without reading it', async () => {
    let written = 0;
    const upstream = await fakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 10_000_000 });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (written < 10_000_000 && res.write(chunk)) written += chunk.length;
        if (written < 10_000_000) res.once('drain', pump);
      };
      pump();
    });
    const { client, events } = testClient(upstream);

    const err = await caught(() => client.fetchMetricsPage({ callSid: CALL_SID }, undefined, { maxBodyBytes: 100_000 }));

    expect(err).toMatchObject({ code: 'bad_payload', endpoint: 'metrics', status: 200 });
    expect((err as Error).message).toContain('body of 10000000 bytes exceeds 100000 bytes');
    expect(events.map((e) => e.outcome)).toEqual(['bad_payload']);
  });

  it('stops reading a chunked body at maxBodyBytes', async () => {
    const upstream = await fakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"metrics":[],"meta":{"pad":"${'x'.repeat(300_000)}`);
      // Never ends: only the limit can stop the read before the deadline.
    });
    const { client } = testClient(upstream);

    const err = await caught(() => client.fetchMetricsPage({ callSid: CALL_SID }, undefined, { maxBodyBytes: 100_000 }));

    expect(err).toMatchObject({ code: 'bad_payload' });
    expect((err as Error).message).toContain('body exceeds 100000 bytes');
  });
});
