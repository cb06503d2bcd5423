import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { ValidateFunction } from 'ajv';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestSimulator } from '../helpers/simulator.ts';
import { startTestSimulator } from '../helpers/simulator.ts';
import { describeErrors, loadSpec, responseValidator } from './openapi-validator.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';

const spec = loadSpec('twilio_events_v1.json');
const strict = { exactProperties: true, relativeUris: false };
const v = (path: string, method = 'get', status = '200'): ValidateFunction => responseValidator(spec, path, strict, method, status);

function expectValid(validate: ValidateFunction, body: unknown, what: string): void {
  expect(validate(body), `${what}\n${describeErrors(validate)}\n${JSON.stringify(body)}`).toBe(true);
}

interface Received {
  readonly url: string;
  readonly signature: string;
  readonly body: string;
}

let sim: TestSimulator;
let sink: Server;
let sinkUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  sim = await startTestSimulator();
  // A bare sink that records every delivery as it came over the wire.
  sink = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ url: `${sinkUrl.slice(0, sinkUrl.indexOf('/', 8))}${req.url ?? ''}`, signature: String(req.headers['x-twilio-signature'] ?? ''), body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const addr = sink.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  sinkUrl = `http://127.0.0.1:${addr.port}/webhooks/twilio/event-streams/${DEMO_ACCOUNT.accountSid}`;
});
afterAll(async () => {
  await sim.close();
  sink.closeAllConnections();
  await new Promise<void>((done) => sink.close(() => done()));
});

async function form(path: string, params: Array<[string, string]>, method = 'POST'): Promise<{ status: number; body: unknown }> {
  const res = await sim.api(path, { method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
  return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
}

async function get(path: string): Promise<unknown> {
  const res = await sim.api(path);
  expect(res.status, path).toBe(200);
  return res.json();
}

async function waitFor<T>(check: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = check();
    if (r !== undefined) return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

describe('simulated Events API against twilio_events_v1.json', () => {
  it('creates, reads, tests, validates and subscribes a webhook sink with spec-valid responses', async () => {
    const created = await form('/v1/Sinks', [
      ['Description', 'exporter'],
      ['SinkType', 'webhook'],
      ['SinkConfiguration', JSON.stringify({ destination: sinkUrl, method: 'POST', batch_events: true })],
    ]);
    expect(created.status).toBe(201);
    expectValid(v('/v1/Sinks', 'post', '201'), created.body, 'POST /v1/Sinks');
    const sid = (created.body as { sid: string }).sid;
    expectValid(v('/v1/Sinks/{Sid}'), await get(`/v1/Sinks/${sid}`), 'GET /v1/Sinks/{Sid}');
    expectValid(v('/v1/Sinks'), await get('/v1/Sinks?PageSize=1'), 'GET /v1/Sinks');
    const updated = await form(`/v1/Sinks/${sid}`, [['Description', 'exporter sink']]);
    expectValid(v('/v1/Sinks/{Sid}', 'post'), updated.body, 'POST /v1/Sinks/{Sid}');

    const test = await form(`/v1/Sinks/${sid}/Test`, []);
    expect(test).toEqual({ status: 201, body: { result: 'submitted' } });
    expectValid(v('/v1/Sinks/{Sid}/Test', 'post', '201'), test.body, 'POST Test');
    const delivery = await waitFor(() => received.find((r) => r.body.includes('test_id')), 'the test event');
    const testId = (JSON.parse(delivery.body) as Array<{ data: { test_id: string } }>)[0]!.data.test_id;
    // Sinks are active from creation and Validate answers `valid` to any TestId (Twilio's docs); it still needs one.
    expect((await form(`/v1/Sinks/${sid}/Validate`, [])).status).toBe(400);
    expect(await form(`/v1/Sinks/${sid}/Validate`, [['TestId', 'wrong']])).toEqual({ status: 201, body: { result: 'valid' } });
    const validated = await form(`/v1/Sinks/${sid}/Validate`, [['TestId', testId]]);
    expectValid(v('/v1/Sinks/{Sid}/Validate', 'post', '201'), validated.body, 'POST Validate');
    expect((await get(`/v1/Sinks/${sid}`) as { status: string }).status).toBe('active');

    const sub = await form('/v1/Subscriptions', [
      ['Description', 'exporter'],
      ['SinkSid', sid],
      ['Types', JSON.stringify({ type: 'com.twilio.voice.insights.call-metrics.gateway', schema_version: 2 })],
    ]);
    expect(sub.status).toBe(201);
    expectValid(v('/v1/Subscriptions', 'post', '201'), sub.body, 'POST /v1/Subscriptions');
    const subSid = (sub.body as { sid: string }).sid;
    expectValid(v('/v1/Subscriptions'), await get(`/v1/Subscriptions?SinkSid=${sid}`), 'GET /v1/Subscriptions');
    expectValid(v('/v1/Subscriptions/{Sid}'), await get(`/v1/Subscriptions/${subSid}`), 'GET /v1/Subscriptions/{Sid}');
    expectValid(v('/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents'), await get(`/v1/Subscriptions/${subSid}/SubscribedEvents`), 'GET SubscribedEvents');
    const added = await form(`/v1/Subscriptions/${subSid}/SubscribedEvents`, [['Type', 'com.twilio.voice.insights.call-event.gateway'], ['SchemaVersion', '3']]);
    expectValid(v('/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents', 'post', '201'), added.body, 'POST SubscribedEvents');
    expectValid(
      v('/v1/Subscriptions/{SubscriptionSid}/SubscribedEvents/{Type}'),
      await get(`/v1/Subscriptions/${subSid}/SubscribedEvents/com.twilio.voice.insights.call-event.gateway`),
      'GET SubscribedEvents/{Type}',
    );

    // Deliveries of call metrics are signed so that the official twilio package validates them.
    const call = sim.simulator.createCall({ type: 'carrier', ageSeconds: 120 });
    const metrics = await waitFor(() => received.find((r) => r.body.includes(call.sid)), 'a call-metrics delivery');
    expect(new URL(metrics.url).searchParams.get('bodySHA256')).toMatch(/^[0-9a-f]{64}$/);
    for (const r of received) expect(twilio.validateRequestWithBody(DEMO_ACCOUNT.authToken, r.signature, r.url, r.body), r.url).toBe(true);
    expect(twilio.validateRequestWithBody('another-token', metrics.signature, metrics.url, metrics.body)).toBe(false);
    const events = JSON.parse(metrics.body) as Array<Record<string, unknown>>;
    expect(events[0]).toMatchObject({ specversion: '1.0', type: 'com.twilio.voice.insights.call-metrics.gateway', dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/2' });

    expect((await form(`/v1/Subscriptions/${subSid}`, [], 'DELETE')).status).toBe(204);
    expect((await form(`/v1/Sinks/${sid}`, [], 'DELETE')).status).toBe(204);
    expect((await sim.api(`/v1/Sinks/${sid}`)).status).toBe(404);
  });

  it('refuses another account\'s credentials and a sink type it does not play', async () => {
    const bad = await sim.api('/v1/Sinks', { headers: { authorization: `Basic ${Buffer.from('ACx:y').toString('base64')}` } });
    expect(bad.status).toBe(401);
    const kinesis = await form('/v1/Sinks', [['Description', 'k'], ['SinkType', 'kinesis'], ['SinkConfiguration', '{}']]);
    expect(kinesis.status).toBe(400);
  });
});
