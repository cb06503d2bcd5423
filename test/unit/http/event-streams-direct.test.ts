import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { skippedTotal } from '../../../src/events/cloud-event.ts';
import { eventStreamsRoutes } from '../../../src/http/event-streams-routes.ts';
import type { DeliveryOutcome } from '../../../src/http/event-streams-routes.ts';
import { DEMO_ACCOUNT } from '../../../src/simulator/demo-account.ts';
import { signDelivery } from '../../../src/simulator/event-signing.ts';

const ACCOUNT = DEMO_ACCOUNT.accountSid;
const PATH = `/webhooks/twilio/event-streams/${ACCOUNT}`;
const MAX_BODY_BYTES = 2048;

let servers: Server[] = [];
afterEach(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  servers = [];
});

function metricEvent(id: string): Record<string, unknown> {
  return {
    specversion: '1.0',
    type: 'com.twilio.voice.insights.call-metrics.gateway',
    id,
    dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/2',
    data: {
      timestamp: '2024-01-01T00:00:10Z',
      call_sid: 'CA7569efe0253644fa4a88aa97beca3310',
      account_sid: ACCOUNT,
      edge: 'carrier_edge',
      direction: 'inbound',
      carrier_edge: { codec_name: 'pcmu' },
    },
  };
}

// One sink whose apply throws for a batch holding the event id `boom`, the way a failed store would.
function sink(outcomes: string[], errors: unknown[] = []): ReturnType<typeof eventStreamsRoutes> {
  return eventStreamsRoutes({
    authToken: (sid) => (sid === ACCOUNT ? DEMO_ACCOUNT.authToken : undefined),
    publicUrl: () => '',
    maxBodyBytes: MAX_BODY_BYTES,
    apply: (_sid, batch) => {
      if (batch.events.some((e) => e.id === 'boom')) throw new Error('store failed');
      return { applied: batch.events.length, duplicates: 0, too_late: 0, refused: 0, skipped: skippedTotal(batch), unknown_types: batch.unknownTypes };
    },
    onDelivery: (outcome: DeliveryOutcome, failure) => outcomes.push(failure ? `${outcome}/${failure}` : outcome),
    onError: (err) => errors.push(err),
  });
}

async function listen(listener: RequestListener): Promise<string> {
  const server = createServer(listener).listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('no address');
  return `http://127.0.0.1:${a.port}`;
}

interface Case {
  readonly name: string;
  readonly body: string;
  readonly signedBody?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly unsigned?: boolean;
  // Sent without Content-Length (chunked), so only the bytes read can be over the limit.
  readonly chunked?: boolean;
}

const good = JSON.stringify([metricEvent('EV1')]);
const big = JSON.stringify(Array.from({ length: 20 }, (_, i) => metricEvent(`EV${i}`)));
const CASES: readonly Case[] = [
  { name: 'accepted', body: good },
  { name: 'cloudevents-batch content type', body: good, headers: { 'content-type': 'application/cloudevents-batch+json; charset=utf-8' } },
  { name: 'body changed after signing', body: good.replace('pcmu', 'pcma'), signedBody: good },
  { name: 'unsigned', body: good, unsigned: true },
  { name: 'wrong content type', body: good, headers: { 'content-type': 'text/plain' } },
  { name: 'declared length over the limit', body: big },
  { name: 'chunked body over the limit', body: big, chunked: true },
  { name: 'not JSON', body: '[{' },
  { name: 'empty body', body: '' },
  { name: 'not an array', body: '{"events":[]}' },
  { name: 'a bad event among good ones', body: JSON.stringify([metricEvent('EV2'), { bad: 'event' }]) },
  { name: 'apply throws', body: JSON.stringify([metricEvent('boom')]) },
  { name: 'account without a token', body: good, path: `/webhooks/twilio/event-streams/AC${'b'.repeat(32)}` },
  { name: 'not an account SID', body: good, path: '/webhooks/twilio/event-streams/nope' },
];

function send(base: string, c: Case): Promise<string> {
  const path = c.path ?? PATH;
  const signed = signDelivery(DEMO_ACCOUNT.authToken, `${base}${path}`, c.signedBody ?? c.body);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...c.headers };
  if (!c.unsigned) headers['x-twilio-signature'] = signed.signature;
  if (!c.chunked) headers['content-length'] = String(Buffer.byteLength(c.body));
  return new Promise((resolve, reject) => {
    const req = request(signed.url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        const { date: _date, ...rest } = res.headers;
        resolve(`${res.statusCode} ${JSON.stringify(rest)} ${text}`);
      });
    });
    req.on('error', reject);
    if (c.chunked) for (let i = 0; i < c.body.length; i += 500) req.write(c.body.slice(i, i + 500));
    req.end(c.chunked ? undefined : c.body);
  });
}

describe('Event Streams sink answered straight from node:http (issue 14)', () => {
  it('answers every delivery exactly as the express route does: status, headers, body and outcome', async () => {
    const viaExpress: string[] = [];
    const errors: unknown[] = [];
    const app = express();
    app.disable('x-powered-by');
    app.use(sink(viaExpress, errors).router);
    const expressBase = await listen(app);
    const direct: string[] = [];
    const directSink = sink(direct, errors);
    const directBase = await listen((req, res) => {
      if (!directSink.direct(req, res)) res.writeHead(599).end();
    });
    for (const c of CASES) {
      const [e, d] = [await send(expressBase, c), await send(directBase, c)];
      expect({ name: c.name, answer: d }).toEqual({ name: c.name, answer: e });
      expect(d).not.toMatch(/^599/);
    }
    expect(direct).toEqual(viaExpress);
    // The one delivery answered 500 reports why, on both routes.
    expect(errors.map(String)).toEqual(['Error: store failed', 'Error: store failed']);
    expect(new Set(direct)).toEqual(new Set(['accepted', 'forbidden/bad_body_hash', 'forbidden/missing_signature', 'forbidden/bad_signature', 'unsupported_media_type', 'too_large', 'bad_request', 'error']));
  });

  it('leaves other methods, compressed bodies and spellings express normalises to express', () => {
    const directSink = sink([]);
    // Just enough of a request and a response for the route to decide, and to answer a refusal.
    const offer = (method: string, url: string, headers: Record<string, string> = {}): boolean => {
      const res = { writeHead: () => res, end: () => undefined, headersSent: false };
      const req = { method, url, headers, socket: {}, on: () => req };
      return directSink.direct(req as never, res as never);
    };
    expect(offer('POST', PATH)).toBe(true);
    expect(offer('GET', PATH)).toBe(false);
    expect(offer('OPTIONS', PATH)).toBe(false);
    expect(offer('POST', PATH, { 'content-encoding': 'gzip' })).toBe(false);
    expect(offer('POST', `${PATH}/`)).toBe(false);
    expect(offer('POST', PATH.replace('webhooks', 'WEBHOOKS'))).toBe(false);
    expect(offer('POST', PATH.replace(/AC/, '%41C'))).toBe(false);
    expect(offer('POST', `http://127.0.0.1${PATH}`)).toBe(false);
    expect(offer('POST', '/metrics')).toBe(false);
  });
});
