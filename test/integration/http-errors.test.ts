import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { RESERVED_ROUTES } from '../../src/config/schema.ts';
import { seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
const savedEnv = process.env['NODE_ENV'];
afterEach(async () => {
  if (savedEnv === undefined) delete process.env['NODE_ENV'];
  else process.env['NODE_ENV'] = savedEnv;
  await exp?.close();
  await sim?.close();
  exp = sim = undefined;
});

interface RawResponse {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

// fetch refuses to send a malformed Host header, so the request is written on a plain socket.
function rawRequest(baseUrl: string, head: string, body = ''): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${head}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (out += d));
    socket.on('error', reject);
    socket.on('end', () => {
      const split = out.indexOf('\r\n\r\n');
      const headers = out.slice(0, split);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0), headers, body: out.slice(split + 4) });
    });
  });
}

// A short body of JSON or plain text that says nothing about the code that produced it.
function expectSafeErrorBody(contentType: string | null, body: string): void {
  expect(contentType ?? '').toMatch(/^(application\/json|text\/plain)/);
  expect(body.length).toBeLessThan(200);
  expect(body).not.toMatch(/node_modules|\bat \w|<html|<pre|\/src\//i);
}

describe('error bodies', () => {
  it('a malformed Host header on the webhook route gets a short 400, never a stack trace, and is counted as bad_request', async () => {
    process.env['NODE_ENV'] = 'development';
    sim = await startSimulator({ lagSeconds: 0 });
    exp = await startTestExporter(sim.url);
    const body = new URLSearchParams({ CallSid: `CA${'a'.repeat(32)}`, AccountSid: DEMO_ACCOUNT.accountSid, CallStatus: 'in-progress' }).toString();
    for (const host of ['a b', '[zz']) {
      const r = await rawRequest(
        exp.url,
        `POST /webhooks/twilio/call-status HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: c2ln`,
        body,
      );
      expect(r.status).toBe(400);
      expectSafeErrorBody(/content-type: ([^\r\n]+)/i.exec(r.headers)?.[1] ?? null, r.body);
    }
    const counts = seriesOf(await exp.scrape(), 'twilio_insights_exporter_webhook_callbacks_total');
    expect(counts.find((s) => s.labels['outcome'] === 'bad_request')?.value).toBe(2);
  });

  it.each(['development', 'production'])('400, 404 and 413 bodies are short JSON or plain text without stack traces (NODE_ENV=%s)', async (env) => {
    process.env['NODE_ENV'] = env;
    sim = await startSimulator({ lagSeconds: 0 });
    exp = await startTestExporter(sim.url, { admin: { bearer_token: 'adm1n-t0ken' } });
    const auth = { authorization: 'Bearer adm1n-t0ken' };
    const cases: Array<[number, Promise<Response>]> = [
      [400, fetch(`${exp.url}/api/v1/calls/CA${'a'.repeat(32)}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '{"account_sid": ' })],
      [400, fetch(`${exp.url}/api/v1/calls/%E0%A4%A`, { method: 'PUT', headers: auth })],
      [413, fetch(`${exp.url}/api/v1/calls/CA${'a'.repeat(32)}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ x: 'y'.repeat(20_000) }) })],
      [413, fetch(`${exp.url}/webhooks/twilio/call-status`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `a=${'b'.repeat(70_000)}` })],
      [404, fetch(`${exp.url}/no/such/path`)],
    ];
    for (const [status, pending] of cases) {
      const res = await pending;
      expect(res.status).toBe(status);
      expectSafeErrorBody(res.headers.get('content-type'), await res.text());
    }
  });
});

describe('webhook outcomes', () => {
  it('an oversized or undecodable status-callback body is answered in short text and counted as bad_request', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    exp = await startTestExporter(sim.url);
    const url = `${exp.url}/webhooks/twilio/call-status`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const big = await fetch(url, { method: 'POST', headers: form, body: `a=${'b'.repeat(70_000)}` });
    expect(big.status).toBe(413);
    const badCharset = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=klingon' }, body: 'a=b' });
    expect(badCharset.status).toBe(415);
    expectSafeErrorBody(badCharset.headers.get('content-type'), await badCharset.text());
    const counts = seriesOf(await exp.scrape(), 'twilio_insights_exporter_webhook_callbacks_total');
    expect(counts.find((s) => s.labels['outcome'] === 'bad_request')?.value).toBe(2);
  });
});

describe('unsupported methods', () => {
  it('answer 405 with an Allow header on known paths, and 404 elsewhere', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    exp = await startTestExporter(sim.url, { admin: { bearer_token: 'adm1n-t0ken' } });
    const auth = { authorization: 'Bearer adm1n-t0ken' };
    const cases: Array<[string, string, string, Record<string, string>?]> = [
      ['DELETE', '/metrics', 'GET, HEAD'],
      ['POST', '/-/healthy', 'GET, HEAD'],
      ['PUT', '/-/ready', 'GET, HEAD'],
      ['GET', '/-/reload', 'POST'],
      ['POST', '/', 'GET, HEAD'],
      ['DELETE', `/calls/CA${'a'.repeat(32)}`, 'GET, HEAD'],
      ['GET', '/webhooks/twilio/event-streams/AC' + 'b'.repeat(32), 'POST'],
      ['GET', '/webhooks/twilio/call-status', 'POST'],
      ['POST', '/api/v1/calls', 'GET, HEAD', auth],
      ['GET', `/api/v1/calls/CA${'a'.repeat(32)}`, 'PUT, DELETE', auth],
    ];
    for (const [method, path, allow, headers] of cases) {
      const res = await fetch(`${exp.url}${path}`, { method, ...(headers && { headers }) });
      expect({ method, path, status: res.status, allow: res.headers.get('allow') }).toEqual({ method, path, status: 405, allow });
      expectSafeErrorBody(res.headers.get('content-type'), await res.text());
    }
    expect((await fetch(`${exp.url}/metricz`, { method: 'DELETE' })).status).toBe(404);
  });
});

// Probe F #5: a PUT naming another configured account than the one a call is tracked for answered 200 "known" with
// the account asked for, as if it were tracked for it.
describe('admin API PUT of a call tracked for another account', () => {
  it('answers 409 naming the account the call is tracked for, and changes nothing', async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const OTHER = `AC${'1'.repeat(32)}`;
    exp = await startTestExporter(sim.url, {
      accounts: [
        { account_sid: DEMO_ACCOUNT.accountSid, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url },
        { account_sid: OTHER, auth_token: 'other-token', insights_base_url: sim.url, api_base_url: sim.url },
      ],
      admin: { bearer_token: 'admin-token' },
    });
    const sid = `CA${'d'.repeat(32)}`;
    const put = (accountSid: string): Promise<Response> =>
      fetch(`${exp!.url}/api/v1/calls/${sid}`, {
        method: 'PUT',
        headers: { authorization: 'Bearer admin-token', 'content-type': 'application/json' },
        body: JSON.stringify({ account_sid: accountSid }),
      });
    expect((await put(OTHER)).status).toBe(201);
    const again = await put(DEMO_ACCOUNT.accountSid);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain(`tracked for account ${OTHER}`);
    expect(exp.exporter.registry.get(sid)?.accountSid).toBe(OTHER);
    expect([...exp.exporter.registry.get(sid)!.sources]).toEqual(['admin']);
    expect((await put(OTHER)).status).toBe(200);
  });
});

describe('the reserved routes', () => {
  // Probe L #4: web.telemetry_path refuses the paths of RESERVED_ROUTES; each must be a real route of the app.
  it('every route web.telemetry_path refuses is a route of the app', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    exp = await startTestExporter(sim.url, {
      accounts: [{ account_sid: DEMO_ACCOUNT.accountSid, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'hybrid' }],
      webhooks: { enabled: true },
      admin: { bearer_token: 'admin-token' },
    });
    const sample = (route: string): string =>
      route.replace('{CallSid}', `CA${'0'.repeat(32)}`).replace('{AccountSid}', DEMO_ACCOUNT.accountSid);
    const paths = RESERVED_ROUTES.flatMap((r) => ('exact' in r ? [r.exact] : r.routes.map(sample)));
    expect(paths).toHaveLength(9);
    for (const path of paths) {
      const res = await fetch(`${exp.url}${path}`, { method: 'OPTIONS' });
      expect(await res.text(), path).not.toBe('Not found\n');
    }
    expect(await (await fetch(`${exp.url}/no-such-route`, { method: 'OPTIONS' })).text()).toBe('Not found\n');
  });
});
