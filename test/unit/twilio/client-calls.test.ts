import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BadRecordEvent, CallRecord } from '../../../src/twilio/client.ts';
import { TwilioError } from '../../../src/twilio/errors.ts';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  CALL_SID,
  basicAuth,
  caught,
  fakeUpstream,
  sendJson,
  testClient,
} from './fake-upstream.ts';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../fixtures/twilio/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
}

const CALLS_PATH = `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`;

/** A 2010 call record shaped like the spec's, with the given SID and status. */
function call(sid: string, status = 'in-progress'): Record<string, unknown> {
  const base = (fixture('calls-page-1.json')['calls'] as Record<string, unknown>[])[0]!;
  return { ...base, sid, account_sid: ACCOUNT_SID, status };
}

const sid = (n: number): string => `CA${n.toString(16).padStart(32, '0')}`;

describe('fetchCallsPage', () => {
  it('reads the spec example page and resolves the relative next_page_uri against the API base', async () => {
    const body = fixture('calls-page-1.json');
    const api = await fakeUpstream((_req, res) => sendJson(res, 200, body));
    const insights = await fakeUpstream((_req, res) => sendJson(res, 500, {}));
    const { client, events } = testClient(insights, { api });

    const page = await client.fetchCallsPage({ status: 'in-progress', pageSize: 2 });

    expect(api.requests).toHaveLength(1);
    expect(insights.requests).toHaveLength(0);
    expect(api.requests[0]!.url).toBe(`${CALLS_PATH}?Status=in-progress&PageSize=2`);
    expect(api.requests[0]!.headers.authorization).toBe(basicAuth(ACCOUNT_SID, AUTH_TOKEN));
    expect(page.nextPageUrl).toBe(`${api.baseUrl}${body['next_page_uri'] as string}`);
    expect(page.skipped).toBe(0);
    expect(page.calls).toHaveLength(2);
    expect(page.calls[0]).toEqual<CallRecord>({
      sid: 'CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      accountSid: 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      status: 'completed',
      direction: 'outbound-api',
      from: '+13051416799',
      to: '+13051913581',
      startTime: 'Fri, 18 Oct 2019 17:02:00 +0000',
      parentCallSid: 'CAdeadbeefdeadbeefdeadbeefdeadbeef',
      trunkSid: 'TKdeadbeefdeadbeefdeadbeefdeadbeef',
    });
    expect(events).toMatchObject([{ endpoint: 'calls', outcome: '200' }]);
  });

  it('keeps the path prefix of the API base when resolving next_page_uri', async () => {
    const api = await fakeUpstream((_req, res) =>
      sendJson(res, 200, { calls: [], next_page_uri: `${CALLS_PATH}?Page=1&PageToken=PA1` }),
    );
    const { client } = testClient(api, { apiBaseUrl: `${api.baseUrl}/twilio-api` });

    const page = await client.fetchCallsPage({});

    expect(api.requests[0]!.url).toBe(`/twilio-api${CALLS_PATH}`);
    expect(page.nextPageUrl).toBe(`${api.baseUrl}/twilio-api${CALLS_PATH}?Page=1&PageToken=PA1`);
  });

  it('skips malformed records, counts them and reports each without its content', async () => {
    const bad: BadRecordEvent[] = [];
    const api = await fakeUpstream((_req, res) =>
      sendJson(res, 200, {
        calls: [
          call(sid(1)),
          { ...call(sid(2)), sid: 'not-a-sid' },
          null,
          { ...call(sid(3)), from: 12345 },
          { ...call(sid(4)), status: undefined },
          { ...call(sid(5)), direction: null, parent_call_sid: null, from: undefined },
        ],
        next_page_uri: null,
      }),
    );
    const { client } = testClient(api, { onBadRecord: (e) => bad.push(e) });

    const page = await client.fetchCallsPage({});

    // An odd optional field (from: 12345) is read as absent: the record still names an in-progress call.
    expect(page.calls.map((c) => c.sid)).toEqual([sid(1), sid(3), sid(5)]);
    expect(page.calls[1]).toMatchObject({ from: null });
    expect(page.calls[2]).toMatchObject({ direction: null, parentCallSid: null, from: null });
    expect(page.skipped).toBe(3);
    expect(bad.map((b) => [b.endpoint, b.index])).toEqual([
      ['calls', 1],
      ['calls', 2],
      ['calls', 4],
    ]);
    expect(bad.map((b) => b.reason)).toEqual([
      '"sid" is not a Call SID',
      'record is null, expected an object',
      '"status" is not a non-empty string',
    ]);
    expect(JSON.stringify(bad)).not.toContain('+1305');
  });

  it.each([
    ['calls missing', { next_page_uri: null }, '"calls" is missing'],
    ['next_page_uri missing', { calls: [] }, '"next_page_uri" is missing'],
    ['next_page_uri a number', { calls: [], next_page_uri: 3 }, '"next_page_uri" is a number'],
  ])('rejects a page with %s as bad_payload', async (_name, body, problem) => {
    const api = await fakeUpstream((_req, res) => sendJson(res, 200, body));
    const { client } = testClient(api);

    const err = await caught(() => client.fetchCallsPage({}));

    expect((err as TwilioError).code).toBe('bad_payload');
    expect((err as TwilioError).endpoint).toBe('calls');
    expect((err as TwilioError).message).toContain(problem);
  });

  it('refuses a next-page URL on the Insights origin: credentials for 2010 go only to the API origin', async () => {
    const api = await fakeUpstream((_req, res) => sendJson(res, 200, { calls: [], next_page_uri: null }));
    const insights = await fakeUpstream((_req, res) => sendJson(res, 200, { calls: [], next_page_uri: null }));
    const { client } = testClient(insights, { api });

    const err = await caught(() => client.fetchCallsPage({ url: `${insights.baseUrl}${CALLS_PATH}?Page=1` }));

    expect((err as TwilioError).code).toBe('foreign_origin');
    expect(insights.requests).toHaveLength(0);
    expect(api.requests).toHaveLength(0);
  });

  it('rejects an invalid account SID without a request', async () => {
    const api = await fakeUpstream((_req, res) => sendJson(res, 200, { calls: [], next_page_uri: null }));
    const { client } = testClient(api, { accountSid: 'AC../../evil' });

    const err = await caught(() => client.fetchCallsPage({}));

    expect((err as TwilioError).code).toBe('bad_request');
    expect(api.requests).toHaveLength(0);
  });

  it('maps a 401 on the Calls list to auth', async () => {
    const api = await fakeUpstream((_req, res) =>
      sendJson(
        res,
        401,
        { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 },
        { 'www-authenticate': 'Basic realm="Twilio API"' },
      ),
    );
    const { client, events } = testClient(api);

    const err = await caught(() => client.fetchCallsPage({}));

    expect(err).toMatchObject({ code: 'auth', endpoint: 'calls', status: 401, twilioCode: 20003 });
    expect(events).toMatchObject([{ endpoint: 'calls', outcome: '401' }]);
  });
});

describe('listCalls', () => {
  it('yields every call across pages linked by relative next_page_uri', async () => {
    const pages = [
      { calls: [call(sid(1)), call(sid(2))], next_page_uri: `${CALLS_PATH}?Status=in-progress&PageSize=2&Page=1&PageToken=PA2` },
      { calls: [call(sid(3)), call(sid(4))], next_page_uri: `${CALLS_PATH}?Status=in-progress&PageSize=2&Page=2&PageToken=PA4` },
      { calls: [call(sid(5))], next_page_uri: null },
    ];
    const api = await fakeUpstream((req, res) => {
      const page = Number(new URL(req.url ?? '', 'http://x').searchParams.get('Page') ?? '0');
      sendJson(res, 200, { ...pages[page], page, page_size: 2, uri: req.url });
    });
    const { client, events } = testClient(api);

    const calls: CallRecord[] = [];
    for await (const c of client.listCalls({ status: 'in-progress', pageSize: 2 })) calls.push(c);

    expect(calls.map((c) => c.sid)).toEqual([1, 2, 3, 4, 5].map(sid));
    expect(api.requests.map((r) => r.url)).toEqual([
      `${CALLS_PATH}?Status=in-progress&PageSize=2`,
      `${CALLS_PATH}?Status=in-progress&PageSize=2&Page=1&PageToken=PA2`,
      `${CALLS_PATH}?Status=in-progress&PageSize=2&Page=2&PageToken=PA4`,
    ]);
    expect(events.map((e) => e.endpoint)).toEqual(['calls', 'calls', 'calls']);
  });
});

describe('fetchCallSummary', () => {
  it('asks for ProcessingState=partial and returns the label fields plus the raw body', async () => {
    const body = { ...fixture('summary-fetch.json'), processing_state: 'partial', call_state: 'answered' };
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, body));
    const { client, events } = testClient(fake);

    const summary = await client.fetchCallSummary(CALL_SID);

    expect(fake.requests[0]!.url).toBe(`/v1/Voice/${CALL_SID}/Summary?ProcessingState=partial`);
    expect(fake.requests[0]!.headers.authorization).toBe(basicAuth(ACCOUNT_SID, AUTH_TOKEN));
    expect(summary).toEqual({ callType: 'carrier', callState: 'answered', processingState: 'partial', raw: body });
    expect(events).toMatchObject([{ endpoint: 'summary', outcome: '200' }]);
  });

  it('returns nulls for absent fields', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, { call_sid: CALL_SID }));
    const { client } = testClient(fake);

    expect(await client.fetchCallSummary(CALL_SID)).toEqual({
      callType: null,
      callState: null,
      processingState: null,
      raw: { call_sid: CALL_SID },
    });
  });

  // Regression test (probe B, defect 2): call_type becomes a label of twilio_call_info and the state file.
  it.each([
    ['65 characters', 'x'.repeat(65)],
    ['a control character', 'carrier\n'],
  ])('reads a call_type of %s as absent', async (_what, odd) => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, { call_type: odd, processing_state: 'partial' }));
    const { client } = testClient(fake);

    expect(await client.fetchCallSummary(CALL_SID)).toMatchObject({ callType: null, processingState: 'partial' });
  });

  it('maps 17001 (complete summary not ready) with its Twilio code', async () => {
    const fake = await fakeUpstream((_req, res) =>
      sendJson(res, 404, { code: 17001, message: "Completed summary for this call wasn't found", status: 404 }),
    );
    const { client } = testClient(fake);

    const err = await caught(() => client.fetchCallSummary(CALL_SID));

    expect(err).toMatchObject({ code: 'not_found', endpoint: 'summary', twilioCode: 17001 });
  });

  it('rejects a bad CallSid without a request', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, {}));
    const { client } = testClient(fake);

    const err = await caught(() => client.fetchCallSummary('CA/../Settings'));

    expect(err).toBeInstanceOf(TwilioError);
    expect(err).toMatchObject({ code: 'bad_request', endpoint: 'summary' });
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects a wrongly typed field as bad_payload', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, { call_type: 7 }));
    const { client } = testClient(fake);

    const err = await caught(() => client.fetchCallSummary(CALL_SID));

    expect(err).toMatchObject({ code: 'bad_payload', endpoint: 'summary' });
  });
});

describe('fetchSettings', () => {
  it('reads advanced_features and voice_trace', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, fixture('settings-fetch.json')));
    const { client, events } = testClient(fake);

    const settings = await client.fetchSettings();

    expect(fake.requests[0]!.url).toBe('/v1/Voice/Settings');
    expect(settings).toEqual({ advancedFeatures: true, voiceTrace: true });
    expect(events).toMatchObject([{ endpoint: 'settings', outcome: '200' }]);
  });

  it('reports Advanced Features off as false and absent fields as null', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, { advanced_features: false }));
    const { client } = testClient(fake);

    expect(await client.fetchSettings()).toEqual({ advancedFeatures: false, voiceTrace: null });
  });

  it('rejects a non-boolean flag as bad_payload', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, { advanced_features: 'yes' }));
    const { client } = testClient(fake);

    const err = await caught(() => client.fetchSettings());

    expect(err).toMatchObject({ code: 'bad_payload', endpoint: 'settings' });
    expect((err as Error).message).toContain('"advanced_features" is a string');
  });
});
