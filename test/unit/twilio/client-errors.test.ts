import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { Agent } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TwilioError } from '../../../src/twilio/errors.ts';
import type { TwilioErrorCode } from '../../../src/twilio/errors.ts';
import {
  ACCOUNT_SID,
  API_KEY_SECRET,
  API_KEY_SID,
  AUTH_TOKEN,
  CALL_SID,
  accountCredentials,
  apiKeyCredentials,
  basicAuth,
  caught,
  fakeUpstream,
  metricsBody,
  sendJson,
  testClient,
} from './fake-upstream.ts';

function asTwilioError(err: unknown): TwilioError {
  expect(err).toBeInstanceOf(TwilioError);
  return err as TwilioError;
}

describe('HTTP status to error code', () => {
  const cases: {
    status: number;
    body: string;
    code: TwilioErrorCode;
    twilioCode?: number;
    retryable: boolean;
    message?: string;
  }[] = [
    {
      status: 401,
      body: '{"status":401,"message":"Authenticate","code":20003,"more_info":"http://www.twilio.com/docs/errors/20003"}',
      code: 'auth',
      twilioCode: 20003,
      retryable: false,
      message: 'Authenticate',
    },
    {
      status: 403,
      body: '{"status":403,"message":"Forbidden to access data","code":17000}',
      code: 'auth',
      twilioCode: 17000,
      retryable: false,
    },
    {
      status: 404,
      body: '{"status":404,"message":"The requested resource was not found"}',
      code: 'not_found',
      retryable: false,
      message: 'The requested resource was not found',
    },
    {
      status: 400,
      body: '{"status":400,"message":"Invalid query parameter","code":17400}',
      code: 'bad_request',
      twilioCode: 17400,
      retryable: false,
    },
    {
      status: 429,
      body: '{"code":20429,"message":"Too many requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}',
      code: 'rate_limited',
      twilioCode: 20429,
      retryable: true,
    },
    {
      status: 500,
      body: '{"code":17009,"message":"Internal Server Error","status":500}',
      code: 'upstream',
      twilioCode: 17009,
      retryable: true,
    },
    { status: 503, body: '<html><body>Service Unavailable</body></html>', code: 'upstream', retryable: true },
    { status: 502, body: '', code: 'upstream', retryable: true },
    { status: 405, body: '{"status":405,"message":"Method not allowed"}', code: 'upstream', retryable: false },
    { status: 302, body: '', code: 'upstream', retryable: false },
  ];

  it.each(cases)('$status → $code', async ({ status, body, code, twilioCode, retryable, message }) => {
    const fake = await fakeUpstream((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', location: 'http://127.0.0.1:1/elsewhere' });
      res.end(body);
    });
    const { client, events } = testClient(fake);

    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID })));

    expect(err.code).toBe(code);
    expect(err.status).toBe(status);
    expect(err.twilioCode).toBe(twilioCode);
    expect(err.retryable).toBe(retryable);
    expect(err.endpoint).toBe('metrics');
    expect(err.message).toContain('metrics');
    expect(err.message).toContain(`HTTP ${status}`);
    if (twilioCode !== undefined) expect(err.message).toContain(String(twilioCode));
    if (message !== undefined) {
      expect(err.twilioMessage).toBe(message);
      expect(err.message).toContain(message);
    }
    // Redirects are not followed: one request, one event.
    expect(fake.requests).toHaveLength(1);
    expect(events).toMatchObject([{ endpoint: 'metrics', outcome: String(status) }]);
  });

  // Probe N F7: any three-digit status an upstream answered became an `outcome` label value (777, 999 were seen).
  it.each([777, 999, 599])('counts a status HTTP does not define (%i) as outcome other, a closed set', async (status) => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, status, { code: 20500, message: 'odd', status }));
    const { client, events } = testClient(fake);
    await caught(() => client.fetchMetricsPage({ callSid: CALL_SID }));
    expect(events.map((e) => e.outcome)).toEqual(['other']);
  });

  it('keeps more_info from the error body', async () => {
    const fake = await fakeUpstream((_req, res) =>
      sendJson(res, 404, {
        code: 20404,
        message: `The requested resource /v1/Voice/${CALL_SID}/Metrics was not found`,
        more_info: 'https://www.twilio.com/docs/errors/20404',
        status: 404,
      }),
    );
    const { client } = testClient(fake);

    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID })));

    expect(err).toMatchObject({ code: 'not_found', twilioCode: 20404, moreInfo: 'https://www.twilio.com/docs/errors/20404' });
  });

  it('classifies by Twilio code 20429 even under an unexpected status', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 503, { code: 20429, message: 'Too many requests' }));
    const { client } = testClient(fake);

    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID })));

    expect(err.code).toBe('rate_limited');
  });
});

describe('connection reuse after failures', () => {
  it('reads error and unusable bodies to the end so one keep-alive connection serves every request', async () => {
    const answers = [
      (res: ServerResponse) => sendJson(res, 404, { code: 20404, message: 'x'.repeat(50_000), status: 404 }),
      (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"metrics": oops');
      },
      (res: ServerResponse) => sendJson(res, 429, { code: 20429, status: 429 }),
      (res: ServerResponse) => sendJson(res, 200, metricsBody([1], null)),
    ];
    const fake = await fakeUpstream((_req, res) => answers[fake.requests.length - 1]!(res));
    // One connection: a failure path that left it busy or broken would stall or fail the next request.
    const dispatcher = new Agent({ connections: 1, keepAliveTimeout: 10_000 });
    onTestFinished(() => dispatcher.destroy());
    const { client, events } = testClient(fake, { dispatcher, requestTimeoutMs: 1_000 });

    for (let i = 0; i < 3; i++) await caught(() => client.fetchMetricsPage({ callSid: CALL_SID }));
    const page = await client.fetchMetricsPage({ callSid: CALL_SID });

    expect(page.records).toEqual([1]);
    expect(events.map((e) => e.outcome)).toEqual(['404', 'bad_payload', '429', '200']);
    expect(new Set(fake.requests.map((r) => r.remotePort)).size).toBe(1);
  });
});

describe('Retry-After', () => {
  it('reads delta seconds', async () => {
    const fake = await fakeUpstream((_req, res) =>
      sendJson(res, 429, { code: 20429, message: 'Too many requests', status: 429 }, { 'retry-after': '7' }),
    );
    const { client } = testClient(fake);

    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID })));

    expect(err.code).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(7000);
  });

  it('reads an HTTP-date', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const fake = await fakeUpstream((_req, res) => sendJson(res, 503, { status: 503 }, { 'retry-after': at }));
    const { client } = testClient(fake);

    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID })));

    expect(err.code).toBe('upstream');
    // HTTP-dates have one-second resolution.
    expect(err.retryAfterMs).toBeGreaterThan(28_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('is absent when Twilio sends none, as is usual', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 429, { code: 20429, status: 429 }));
    const { client } = testClient(fake);

    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID })));

    expect(err.retryAfterMs).toBeUndefined();
    expect(err).not.toHaveProperty('retryAfterMs');
  });
});

describe('failures without a usable response', () => {
  it('times out on a server that never answers, within a bounded time', async () => {
    const fake = await fakeUpstream(() => {
      // never answers
    });
    const { client, events } = testClient(fake, { requestTimeoutMs: 150 });

    const started = Date.now();
    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID })));

    expect(err.code).toBe('timeout');
    expect(err.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(events).toMatchObject([{ endpoint: 'metrics', outcome: 'timeout' }]);
    expect(events[0]!.durationSeconds).toBeGreaterThanOrEqual(0.1);
  });

  it('times out on a body that stalls after the headers', async () => {
    const fake = await fakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"metrics":[');
    });
    const { client, events } = testClient(fake, { requestTimeoutMs: 150 });

    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID })));

    expect(err.code).toBe('timeout');
    expect(events).toMatchObject([{ outcome: 'timeout' }]);
  });

  it('maps a connection reset to network', async () => {
    const fake = await fakeUpstream((req) => req.socket.destroy());
    const { client, events } = testClient(fake);

    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID })));

    expect(err.code).toBe('network');
    expect(err.retryable).toBe(true);
    expect(err.status).toBeUndefined();
    expect(events).toMatchObject([{ outcome: 'network' }]);
  });

  it('maps a reset in the middle of the body to network', async () => {
    const fake = await fakeUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"metrics":[', () => req.socket.destroy());
    });
    const { client } = testClient(fake);

    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID })));

    expect(err.code).toBe('network');
  });

  it('maps a refused connection to network', async () => {
    // Bind a port, then free it, so nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const dead = { baseUrl: `http://127.0.0.1:${port}`, requests: [] };
    const { client, events } = testClient(dead);

    const err = asTwilioError(await caught(() => client.fetchSettings()));

    expect(err.code).toBe('network');
    expect(err.message).toContain('ECONNREFUSED');
    expect(events).toMatchObject([{ endpoint: 'settings', outcome: 'network' }]);
  });

  it("maps the caller's abort to aborted, not timeout", async () => {
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    const fake = await fakeUpstream(() => arrived());
    const { client, events } = testClient(fake, { requestTimeoutMs: 5_000 });
    const controller = new AbortController();

    const pending = caught(() => client.fetchMetricsPage({ callSid: CALL_SID }, controller.signal));
    await requestArrived;
    controller.abort();
    const err = asTwilioError(await pending);

    expect(err.code).toBe('aborted');
    expect(err.retryable).toBe(false);
    expect(events).toMatchObject([{ outcome: 'aborted' }]);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null)));
    const { client, events } = testClient(fake);

    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID }, AbortSignal.abort())));

    expect(err.code).toBe('aborted');
    expect(fake.requests).toHaveLength(0);
    expect(events).toHaveLength(0);
  });
});

describe('bad payloads', () => {
  const cases: [string, string, string][] = [
    ['malformed JSON', '{"metrics": [', 'not JSON'],
    ['an HTML page', '<html>maintenance</html>', 'not JSON'],
    ['an array body', '[]', 'body is an array'],
    ['no metrics', '{"meta":{"next_page_url":null}}', '"metrics" is missing'],
    ['metrics not an array', '{"metrics":{},"meta":{"next_page_url":null}}', '"metrics" is an object, expected an array'],
    ['no meta', '{"metrics":[]}', '"meta" is missing'],
    ['meta null', '{"metrics":[],"meta":null}', '"meta" is null'],
    ['next_page_url missing', '{"metrics":[],"meta":{}}', '"meta.next_page_url" is missing'],
    ['next_page_url a number', '{"metrics":[],"meta":{"next_page_url":2}}', '"meta.next_page_url" is a number'],
    ['next_page_url relative', '{"metrics":[],"meta":{"next_page_url":"/v1/x"}}', 'not an absolute URL'],
  ];

  it.each(cases)('rejects %s as bad_payload', async (_name, body, problem) => {
    const fake = await fakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const { client, events } = testClient(fake);

    const err = asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID })));

    expect(err.code).toBe('bad_payload');
    expect(err.status).toBe(200);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(problem);
    expect(events).toMatchObject([{ outcome: 'bad_payload' }]);
  });

  it('does not validate the records themselves', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([null, 'x', { edge: 42 }], null)));
    const { client } = testClient(fake);

    expect((await client.fetchMetricsPage({ callSid: CALL_SID })).records).toEqual([null, 'x', { edge: 42 }]);
  });
});

describe('onRequest', () => {
  it('reports one event per attempt with duration and Twilio-Concurrent-Requests', async () => {
    let n = 0;
    const fake = await fakeUpstream((_req, res) => {
      n += 1;
      if (n === 1) sendJson(res, 200, metricsBody([], null), { 'twilio-concurrent-requests': '3' });
      else sendJson(res, 429, { code: 20429, status: 429 }, { 'twilio-concurrent-requests': '101' });
    });
    const { client, events } = testClient(fake);

    await client.fetchMetricsPage({ callSid: CALL_SID });
    await caught(() => client.fetchMetricsPage({ callSid: CALL_SID }));

    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ endpoint: 'metrics', outcome: '200', concurrentRequests: 3 });
    expect(events[1]).toMatchObject({ endpoint: 'metrics', outcome: '429', concurrentRequests: 101 });
    for (const e of events) {
      expect(e.durationSeconds).toBeGreaterThan(0);
      expect(e.durationSeconds).toBeLessThan(2);
    }
  });

  it('omits concurrentRequests when the header is absent', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null)));
    const { client, events } = testClient(fake);

    await client.fetchMetricsPage({ callSid: CALL_SID });

    expect(events[0]).not.toHaveProperty('concurrentRequests');
  });

  it('a throwing hook neither fails a good response nor masks a real error', async () => {
    let n = 0;
    const fake = await fakeUpstream((_req, res) => {
      n += 1;
      if (n === 1) sendJson(res, 200, metricsBody([1], null));
      else sendJson(res, 404, { code: 20404, status: 404 });
    });
    const { client } = testClient(fake, {
      onRequest: () => {
        throw new Error('hook broke');
      },
    });

    expect((await client.fetchMetricsPage({ callSid: CALL_SID })).records).toEqual([1]);
    expect(asTwilioError(await caught(() => client.fetchMetricsPage({ callSid: CALL_SID }))).code).toBe('not_found');
  });
});

describe('secrets never leak', () => {
  const kinds = [
    { name: 'Account SID + Auth Token', credentials: accountCredentials, password: AUTH_TOKEN, username: ACCOUNT_SID },
    { name: 'API Key SID + secret', credentials: apiKeyCredentials, password: API_KEY_SECRET, username: API_KEY_SID },
  ];

  function expectClean(err: unknown, password: string, username: string): void {
    const text = [
      inspect(err, { depth: 10, showHidden: true }),
      String(err),
      (err as Error).stack ?? '',
      JSON.stringify(err),
    ].join('\n');
    expect(text).not.toContain(password);
    expect(text).not.toContain(basicAuth(username, password).slice('Basic '.length));
    // Nor split by an invisible character, nor behind a bidi override.
    expect(text.replace(/[\u200b\u2060\u202e]/gu, '')).not.toContain(password);
    expect(text).not.toMatch(/[\u200b\u2060\u202e]/u);
  }

  it.each([
    [
      'a 401 that echoes the credentials back',
      (req: IncomingMessage, res: ServerResponse) =>
        sendJson(res, 401, {
          code: 20003,
          message: `Authenticate: bad password ${AUTH_TOKEN} ${API_KEY_SECRET} in ${req.headers.authorization ?? ''}`,
          more_info: `https://example.test/?t=${AUTH_TOKEN}&k=${API_KEY_SECRET}`,
          status: 401,
        }),
    ],
    [
      // Probe N F8: a zero-width space inside the token kept it whole on the status page (only controls were removed
      // before matching), and a right-to-left override reached it too.
      'a message that splits the secret with invisible characters',
      (_req: IncomingMessage, res: ServerResponse) =>
        sendJson(res, 500, {
          code: 20500,
          message: `zw=${AUTH_TOKEN.slice(0, 5)}\u200b${AUTH_TOKEN.slice(5)} rlo=\u202e${API_KEY_SECRET.slice(0, 4)}\u2060${API_KEY_SECRET.slice(4)}`,
          status: 500,
        }),
    ],
    ['a connection reset', (req: IncomingMessage) => req.socket.destroy()],
    [
      'a bad payload that contains the secret',
      (req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200);
        res.end(`not json ${AUTH_TOKEN} ${API_KEY_SECRET} ${req.headers.authorization ?? ''}`);
      },
    ],
    ['a timeout', () => undefined],
  ])('in the error for %s', async (_name, handler) => {
    const fake = await fakeUpstream(handler);
    for (const kind of kinds) {
      const { client } = testClient(fake, { requestTimeoutMs: 100, credentials: kind.credentials });
      const err = await caught(() => client.fetchMetricsPage({ callSid: CALL_SID }));
      expect(err).toBeInstanceOf(TwilioError);
      expectClean(err, kind.password, kind.username);
    }
    // The server did receive the credentials, so the assertions above are not vacuous.
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual(
      kinds.map((k) => basicAuth(k.username, k.password)),
    );
  });

  it('in a foreign-origin refusal', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null)));
    const { client } = testClient(fake);

    const err = await caught(() => client.fetchMetricsPage({ url: `https://user:${AUTH_TOKEN}@evil.example/x` }));

    expect((err as TwilioError).code).toBe('foreign_origin');
    expectClean(err, AUTH_TOKEN, ACCOUNT_SID);
  });
});
