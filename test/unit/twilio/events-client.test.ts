import type { ServerResponse } from 'node:http';
import { Agent } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createEventsClient } from '../../../src/twilio/events-client.ts';
import type { EventsClient } from '../../../src/twilio/events-client.ts';
import { TwilioError } from '../../../src/twilio/errors.ts';
import { ACCOUNT_SID, AUTH_TOKEN, accountCredentials, basicAuth, caught, fakeUpstream, sendJson } from './fake-upstream.ts';
import type { FakeUpstream } from './fake-upstream.ts';

// The Events API client (used only by `event-streams setup|status`) against a real socket, one fake per case.
// Each case is named after a defect an outside probe found with a hostile fake Events API.

const SINK_SID = `DG${'a'.repeat(32)}`;
const SUB_SID = `DF${'b'.repeat(32)}`;
const DESTINATION = `https://exporter.example.com/webhooks/twilio/event-streams/${ACCOUNT_SID}`;
const TYPE = { type: 'com.twilio.voice.insights.call-metrics.gateway', schema_version: 2 };

const sinkJson = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  sid: SINK_SID,
  status: 'active',
  description: 'twilio-insights-exporter',
  sink_type: 'webhook',
  sink_configuration: { destination: DESTINATION, method: 'POST', batch_events: true },
  ...over,
});
const page = (key: string, items: unknown[]): unknown => ({ [key]: items, meta: { next_page_url: null, key } });

function client(fake: FakeUpstream, requestTimeoutMs = 2_000): EventsClient {
  const dispatcher = new Agent();
  onTestFinished(() => dispatcher.destroy());
  return createEventsClient({ baseUrl: fake.baseUrl, credentials: accountCredentials, dispatcher, requestTimeoutMs, userAgent: 'test' });
}

function asTwilioError(err: unknown): TwilioError {
  expect(err).toBeInstanceOf(TwilioError);
  return err as TwilioError;
}

describe('events client: redirects', () => {
  it('does not follow a 307 to another origin: the 3xx is an error naming the status, and the other host is never asked', async () => {
    const other = await fakeUpstream((_req, res) => sendJson(res, 200, page('sinks', [])));
    const fake = await fakeUpstream((req, res) => {
      res.writeHead(307, { location: `${other.baseUrl}${req.url ?? '/'}` });
      res.end();
    });

    for (const call of [() => client(fake).listSinks(), () => client(fake).createSink('d', DESTINATION)]) {
      const err = asTwilioError(await caught(call));
      expect(err).toMatchObject({ code: 'upstream', status: 307, endpoint: 'events' });
      expect(err.message).toContain('HTTP 307');
    }
    expect(other.requests).toHaveLength(0);
  });
});

describe('events client: response shapes', () => {
  // What each method reads, and a body in the wrong shape with the field its error must name.
  const cases: Array<{ name: string; run: (c: EventsClient) => Promise<unknown>; body: unknown; status?: number; field: string }> = [
    { name: 'createSink answering {"status":"ok"}', run: (c) => c.createSink('d', DESTINATION), body: { status: 'ok' }, status: 201, field: 'sid' },
    { name: 'updateSink answering a sink without a status', run: (c) => c.updateSink(SINK_SID, 'd'), body: sinkJson({ status: undefined }), field: 'status' },
    { name: 'createSubscription answering {"status":"ok"}', run: (c) => c.createSubscription(SINK_SID, 'd', [TYPE]), body: { status: 'ok' }, status: 201, field: 'sid' },
    { name: 'listSinks answering "sinks": "abc"', run: (c) => c.listSinks(), body: { sinks: 'abc', meta: { next_page_url: null } }, field: 'sinks' },
    { name: 'listSinks answering a sink whose sid is a path', run: (c) => c.listSinks(), body: page('sinks', [sinkJson({ sid: '../../2010-04-01/Accounts/ACx/Calls' })]), field: 'sinks[0].sid' },
    { name: 'listSinks answering a destination that is not a string', run: (c) => c.listSinks(), body: page('sinks', [sinkJson({ sink_configuration: { destination: 7 } })]), field: 'sinks[0].sink_configuration.destination' },
    { name: 'listSinks answering no meta', run: (c) => c.listSinks(), body: { sinks: [] }, field: 'meta' },
    { name: 'listSubscriptions answering a subscription without a sink_sid', run: (c) => c.listSubscriptions(SINK_SID), body: page('subscriptions', [{ sid: SUB_SID, description: 'd' }]), field: 'subscriptions[0].sink_sid' },
    { name: 'listSubscribedEvents answering a schema_version as a string', run: (c) => c.listSubscribedEvents(SUB_SID), body: page('types', [{ type: TYPE.type, schema_version: '2' }]), field: 'types[0].schema_version' },
    { name: 'addSubscribedEvent answering {"status":"ok"}', run: (c) => c.addSubscribedEvent(SUB_SID, TYPE), body: { status: 'ok' }, status: 201, field: 'type' },
    { name: 'updateSubscribedEvent answering an array', run: (c) => c.updateSubscribedEvent(SUB_SID, TYPE), body: [], field: 'body' },
    { name: 'a next_page_url that is not a string', run: (c) => c.listSinks(), body: { sinks: [], meta: { next_page_url: 5 } }, field: 'meta.next_page_url' },
  ];

  it.each(cases)('$name is a bad_payload naming $field', async ({ run, body, status, field }) => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, status ?? 200, body));

    const err = asTwilioError(await caught(() => run(client(fake))));

    expect(err).toMatchObject({ code: 'bad_payload', endpoint: 'events' });
    expect(err.message).toContain(field);
    expect(err.message).not.toContain('undefined');
  });

  it('a body that is not JSON is a bad_payload, not a SyntaxError', async () => {
    const fake = await fakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>gateway</html>');
    });

    expect(asTwilioError(await caught(() => client(fake).listSinks()))).toMatchObject({ code: 'bad_payload', status: 200 });
  });

  it('reads the shapes the Events API documents, paging to the end on the configured origin only', async () => {
    const fake = await fakeUpstream((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.searchParams.get('PageToken') === '1') return sendJson(res, 200, page('sinks', [sinkJson({ sid: `DG${'c'.repeat(32)}`, description: null, sink_configuration: null, status: 'initialized' })]));
      sendJson(res, 200, { sinks: [sinkJson()], meta: { page: 0, page_size: 1, key: 'sinks', next_page_url: `${fake.baseUrl}/v1/Sinks?PageSize=1&PageToken=1` } });
    });

    const sinks = await client(fake).listSinks();

    expect(sinks.map((s) => [s.sid, s.status, s.sink_configuration?.destination])).toEqual([
      [SINK_SID, 'active', DESTINATION],
      [`DG${'c'.repeat(32)}`, 'initialized', undefined],
    ]);
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual([basicAuth(ACCOUNT_SID, AUTH_TOKEN), basicAuth(ACCOUNT_SID, AUTH_TOKEN)]);
  });
  it('fails rather than return part of a list whose paging does not end (a partial list would make setup create a second sink)', async () => {
    const fake = await fakeUpstream((req, res) =>
      sendJson(res, 200, { sinks: [sinkJson({ sid: `DG${'d'.repeat(32)}`, sink_configuration: null })], meta: { next_page_url: `${fake.baseUrl}${req.url ?? '/'}` } }),
    );

    const err = asTwilioError(await caught(() => client(fake).listSinks()));

    expect(err).toMatchObject({ code: 'bad_payload', endpoint: 'events' });
    expect(err.message).toContain('next_page_url points back at a page already read');
    expect(fake.requests.length).toBe(1);
  });

  it('fails on a list that keeps paging to new pages past its cap of 20', async () => {
    let n = 0;
    const fake = await fakeUpstream((_req, res) =>
      sendJson(res, 200, { sinks: [sinkJson({ sid: `DG${'d'.repeat(32)}`, sink_configuration: null })], meta: { next_page_url: `${fake.baseUrl}/v1/Sinks?Page=${++n}` } }),
    );

    const err = asTwilioError(await caught(() => client(fake).listSinks()));

    expect(err).toMatchObject({ code: 'bad_payload', endpoint: 'events' });
    expect(err.message).toContain('next_page_url still leads on after 20 pages');
    expect(fake.requests.length).toBe(20);
  });
});

describe('events client: error text', () => {
  it('redacts echoed credentials and strips control characters from what the server says', async () => {
    const fake = await fakeUpstream((req, res) =>
      sendJson(res, 401, { code: 20003, message: `Authenticate: you sent ${req.headers.authorization ?? ''} (${AUTH_TOKEN}, ${AUTH_TOKEN.slice(0, 9)}\u0000${AUTH_TOKEN.slice(9)}) \u001b[31mRED\u001b[0m\r\nX-Injected: 1\u0007` }),
    );

    const err = (await caught(() => client(fake).listSinks())) as Error;

    expect(err.message).toContain('Authenticate: you sent');
    expect(err.message).toContain('RED');
    expect(err.message).not.toContain(AUTH_TOKEN);
    expect(err.message).not.toContain(basicAuth(ACCOUNT_SID, AUTH_TOKEN).slice('Basic '.length));
    // No C0 or C1 control character (ESC, CR, LF, BEL...) reaches a terminal.
    expect(err.message).not.toMatch(/\p{Cc}/u);
    expect(asTwilioError(err)).toMatchObject({ code: 'auth', status: 401, twilioCode: 20003 });
  });
});

describe('events client: bounds', () => {
  it('stops reading a body past a few MiB instead of buffering all of it', async () => {
    const total = 64 * 1024 * 1024;
    let sent = 0;
    const fake = await fakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"sinks":[],"meta":{"next_page_url":null},"x":"');
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const pump = (): void => {
        while (sent < total && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end('"}');
      };
      pump();
    });

    const err = asTwilioError(await caught(() => client(fake, 10_000).listSinks()));

    expect(err).toMatchObject({ code: 'bad_payload', status: 200 });
    expect(err.message).toContain('exceeds');
    // The socket buffers hold a few MiB beyond what was read; nowhere near the whole body.
    expect(sent).toBeLessThan(total / 2);
  });

  it('refuses a declared Content-Length over the cap before reading it', async () => {
    const fake = await fakeUpstream((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1024 * 1024 * 1024) });
      res.write('{');
    });

    const err = asTwilioError(await caught(() => client(fake).listSinks()));

    expect(err).toMatchObject({ code: 'bad_payload', status: 200 });
    expect(err.message).toContain('exceeds');
  });

  it('ends a body that trickles forever as a timeout within the request timeout', async () => {
    const fake = await fakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"sinks":[');
      const t = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(t));
    });
    const started = Date.now();

    const err = asTwilioError(await caught(() => client(fake, 300).listSinks()));

    expect(err).toMatchObject({ code: 'timeout', endpoint: 'events' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
