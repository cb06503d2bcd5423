import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TwilioError } from '../../../src/twilio/errors.ts';
import type { MetricsPage } from '../../../src/twilio/client.ts';
import {
  ACCOUNT_SID,
  API_KEY_SECRET,
  API_KEY_SID,
  AUTH_TOKEN,
  CALL_SID,
  apiKeyCredentials,
  basicAuth,
  caught,
  fakeUpstream,
  metricsBody,
  sendJson,
  testClient,
} from './fake-upstream.ts';

const specRead = JSON.parse(
  readFileSync(new URL('../../fixtures/twilio/metrics-page-read.json', import.meta.url), 'utf8'),
) as { metrics: unknown[] };

describe('fetchMetricsPage', () => {
  it('sends Account SID + Auth Token as HTTP Basic with the exporter headers', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, specRead));
    const { client } = testClient(fake, { userAgent: 'twilio-insights-exporter/1.2.3 (linux x64) node/v24.1.0' });

    const page = await client.fetchMetricsPage({ callSid: CALL_SID });

    expect(fake.requests).toHaveLength(1);
    const seen = fake.requests[0]!;
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe(`/v1/Voice/${CALL_SID}/Metrics`);
    expect(seen.headers.authorization).toBe(basicAuth(ACCOUNT_SID, AUTH_TOKEN));
    expect(seen.headers.authorization).toBe(
      `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`, 'utf8').toString('base64')}`,
    );
    expect(seen.headers['user-agent']).toBe('twilio-insights-exporter/1.2.3 (linux x64) node/v24.1.0');
    expect(seen.headers.accept).toBe('application/json');
    expect(seen.headers['accept-charset']).toBe('utf-8');
    expect(page.records).toEqual(specRead.metrics);
    expect(page.nextPageUrl).toBeNull();
    expect(page.page).toBe(0);
    expect(page.pageSize).toBe(50);
    expect(page.requestUrl).toBe(`${fake.baseUrl}/v1/Voice/${CALL_SID}/Metrics`);
  });

  it('sends API Key SID + secret as HTTP Basic', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null)));
    const { client } = testClient(fake, { credentials: apiKeyCredentials });

    await client.fetchMetricsPage({ callSid: CALL_SID });

    expect(fake.requests[0]!.headers.authorization).toBe(basicAuth(API_KEY_SID, API_KEY_SECRET));
  });

  it('reads credentials per request so a rotated secret is used on the next request', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null)));
    let token = 'first-token';
    const { client } = testClient(fake, {
      credentials: () => ({ username: ACCOUNT_SID, password: { reveal: () => token } }),
    });

    await client.fetchMetricsPage({ callSid: CALL_SID });
    token = 'second-token';
    await client.fetchMetricsPage({ callSid: CALL_SID });

    expect(fake.requests.map((r) => r.headers.authorization)).toEqual([
      basicAuth(ACCOUNT_SID, 'first-token'),
      basicAuth(ACCOUNT_SID, 'second-token'),
    ]);
  });

  it('sends Edge, Direction, PageSize, Page and PageToken with their exact names', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null, 3, 100)));
    const { client } = testClient(fake);

    const page = await client.fetchMetricsPage({
      callSid: CALL_SID,
      edge: 'carrier_edge',
      direction: 'inbound',
      pageSize: 100,
      page: 3,
      pageToken: 'PT a/b+c',
    });

    const sent = new URL(fake.requests[0]!.url, fake.baseUrl);
    expect(sent.pathname).toBe(`/v1/Voice/${CALL_SID}/Metrics`);
    expect([...sent.searchParams.keys()]).toEqual(['Edge', 'Direction', 'PageSize', 'Page', 'PageToken']);
    expect(Object.fromEntries(sent.searchParams)).toEqual({
      Edge: 'carrier_edge',
      Direction: 'inbound',
      PageSize: '100',
      Page: '3',
      PageToken: 'PT a/b+c',
    });
    // The page can be fetched again from requestUrl alone, token included.
    expect(page.requestUrl).toBe(new URL(fake.requests[0]!.url, fake.baseUrl).href);
    expect(page.page).toBe(3);
    expect(page.pageSize).toBe(100);
  });

  it('keeps the path prefix of the Insights base URL', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null)));
    const { client } = testClient(fake, { insightsBaseUrl: `${fake.baseUrl}/twilio/` });

    await client.fetchMetricsPage({ callSid: CALL_SID });

    expect(fake.requests[0]!.url).toBe(`/twilio/v1/Voice/${CALL_SID}/Metrics`);
  });

  it('fetches a same-origin next_page_url exactly as given', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([{ n: 2 }], null, 1, 5)));
    const { client } = testClient(fake);
    const url = `${fake.baseUrl}/v1/Voice/${CALL_SID}/Metrics?Edge=sdk_edge&PageSize=5&Page=1&PageToken=PT1`;

    const page = await client.fetchMetricsPage({ url });

    expect(fake.requests[0]!.url).toBe(`/v1/Voice/${CALL_SID}/Metrics?Edge=sdk_edge&PageSize=5&Page=1&PageToken=PT1`);
    expect(page.requestUrl).toBe(url);
    expect(page.records).toEqual([{ n: 2 }]);
    expect(page.page).toBe(1);
  });

  it('treats an empty next_page_url as the last page, like twilio-node', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], '')));
    const { client } = testClient(fake);

    expect((await client.fetchMetricsPage({ callSid: CALL_SID })).nextPageUrl).toBeNull();
  });

  it('falls back to the request for page and page size when meta omits them', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, { metrics: [1, 2], meta: { next_page_url: null } }));
    const { client } = testClient(fake);

    const page = await client.fetchMetricsPage({ callSid: CALL_SID, page: 4, pageSize: 7 });

    expect(page.page).toBe(4);
    expect(page.pageSize).toBe(7);
  });

  it.each([
    ['a lower-case prefix', 'ca0123456789abcdef0123456789abcdef'],
    ['too short', 'CA0123'],
    ['a path traversal', `CA0123456789abcdef0123456789abcde/../Settings`],
    ['a query injection', 'CA0123456789abcdef0123456789abcdef?Edge=x'],
    ['an empty string', ''],
  ])('rejects a CallSid that is %s without sending a request', async (_name, callSid) => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null)));
    const { client, events } = testClient(fake);

    const err = await caught(() => client.fetchMetricsPage({ callSid }));

    expect(err).toBeInstanceOf(TwilioError);
    expect((err as TwilioError).code).toBe('bad_request');
    expect((err as TwilioError).endpoint).toBe('metrics');
    expect((err as TwilioError).retryable).toBe(false);
    expect((err as TwilioError).status).toBeUndefined();
    expect(fake.requests).toHaveLength(0);
    expect(events).toHaveLength(0);
  });

  it.each([
    ['pageSize 0', { pageSize: 0 }],
    ['pageSize 1001', { pageSize: 1001 }],
    ['pageSize 1.5', { pageSize: 1.5 }],
    ['page -1', { page: -1 }],
    ['an unknown edge', { edge: 'moon_edge' as never }],
    ['an unknown direction', { direction: 'sideways' as never }],
  ])('rejects %s without sending a request', async (_name, extra) => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null)));
    const { client } = testClient(fake);

    const err = await caught(() => client.fetchMetricsPage({ callSid: CALL_SID, ...extra }));

    expect((err as TwilioError).code).toBe('bad_request');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('listMetrics', () => {
  it('follows absolute next_page_url across three pages', async () => {
    const fake = await fakeUpstream((req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      const page = Number(url.searchParams.get('Page') ?? '0');
      const next =
        page < 2
          ? `${base}/v1/Voice/${CALL_SID}/Metrics?Edge=sdk_edge&PageSize=2&Page=${page + 1}&PageToken=PT${page + 1}`
          : null;
      sendJson(res, 200, metricsBody([{ i: page * 2 }, { i: page * 2 + 1 }], next, page, 2));
    });
    const base = fake.baseUrl;
    // One connection: a body left unread would hold it and the next page would time out.
    const dispatcher = new Agent({ connections: 1, keepAliveTimeout: 10_000 });
    onTestFinished(() => dispatcher.destroy());
    const { client, events } = testClient(fake, { dispatcher });

    const pages: MetricsPage[] = [];
    for await (const page of client.listMetrics({ callSid: CALL_SID, edge: 'sdk_edge', pageSize: 2 })) pages.push(page);

    expect(pages.map((p) => p.page)).toEqual([0, 1, 2]);
    expect(pages.flatMap((p) => p.records)).toEqual([0, 1, 2, 3, 4, 5].map((i) => ({ i })));
    expect(fake.requests.map((r) => r.url)).toEqual([
      `/v1/Voice/${CALL_SID}/Metrics?Edge=sdk_edge&PageSize=2`,
      `/v1/Voice/${CALL_SID}/Metrics?Edge=sdk_edge&PageSize=2&Page=1&PageToken=PT1`,
      `/v1/Voice/${CALL_SID}/Metrics?Edge=sdk_edge&PageSize=2&Page=2&PageToken=PT2`,
    ]);
    expect(pages[2]!.nextPageUrl).toBeNull();
    expect(events.map((e) => e.outcome)).toEqual(['200', '200', '200']);
    // Bodies are fully consumed, so the one keep-alive connection serves all three pages.
    expect(new Set(fake.requests.map((r) => r.remotePort)).size).toBe(1);
  });

  it('refuses a next_page_url on another origin and sends nothing there', async () => {
    const other = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null)));
    const fake = await fakeUpstream((_req, res) =>
      sendJson(res, 200, metricsBody([{ i: 0 }], `${other.baseUrl}/v1/Voice/${CALL_SID}/Metrics?Page=1&PageToken=PT1`)),
    );
    const { client, events } = testClient(fake);

    const pages: MetricsPage[] = [];
    const err = await caught(async () => {
      for await (const page of client.listMetrics({ callSid: CALL_SID })) pages.push(page);
    });

    expect(err).toBeInstanceOf(TwilioError);
    expect((err as TwilioError).code).toBe('foreign_origin');
    expect((err as TwilioError).retryable).toBe(false);
    expect((err as TwilioError).message).toContain(other.baseUrl);
    // The first page's records are kept; only the step to the foreign host is refused.
    expect(pages).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
    expect(other.requests).toHaveLength(0);
    expect(events).toHaveLength(1);
  });

  it.each([
    ['another port', (base: string) => base.replace(/:(\d+)$/, (_m, p: string) => `:${Number(p) + 1}`)],
    ['another scheme', (base: string) => base.replace('http:', 'https:')],
    ['another host', (base: string) => base.replace('127.0.0.1', 'localhost')],
    ['userinfo on the same origin', (base: string) => base.replace('http://', 'http://user:pass@')],
  ])('refuses a url with %s before sending', async (_name, mutate) => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null)));
    const { client } = testClient(fake);

    const err = await caught(() => client.fetchMetricsPage({ url: `${mutate(fake.baseUrl)}/v1/Voice/${CALL_SID}/Metrics` }));

    expect((err as TwilioError).code).toBe('foreign_origin');
    expect((err as TwilioError).message).not.toContain('pass@');
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a url that does not parse as bad_request', async () => {
    const fake = await fakeUpstream((_req, res) => sendJson(res, 200, metricsBody([], null)));
    const { client } = testClient(fake);

    const err = await caught(() => client.fetchMetricsPage({ url: '/v1/Voice/relative' }));

    expect((err as TwilioError).code).toBe('bad_request');
    expect(fake.requests).toHaveLength(0);
  });

  it('stops with bad_payload when a page points at itself', async () => {
    const fake = await fakeUpstream((req, res) => sendJson(res, 200, metricsBody([], `${base}${req.url ?? ''}`)));
    const base = fake.baseUrl;
    const { client } = testClient(fake);

    const err = await caught(async () => {
      for await (const _page of client.listMetrics({ callSid: CALL_SID, pageSize: 5 })) {
        // drain
      }
    });

    expect((err as TwilioError).code).toBe('bad_payload');
    expect(fake.requests).toHaveLength(1);
  });
});
