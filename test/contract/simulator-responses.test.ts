import type { ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallType } from '../../src/samples/sample.ts';
import { CALL_TYPES, EDGES } from '../../src/samples/sample.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import type { TestSimulator } from '../helpers/simulator.ts';
import { startTestSimulator } from '../helpers/simulator.ts';
import { describeErrors, loadSpec, responseValidator } from './openapi-validator.ts';

const insights = loadSpec('twilio_insights_v1.json');
const api2010 = loadSpec('twilio_api_v2010_calls.json');
const strict = { exactProperties: true, relativeUris: false };
const validators = {
  metrics: responseValidator(insights, '/v1/Voice/{CallSid}/Metrics', strict),
  events: responseValidator(insights, '/v1/Voice/{CallSid}/Events', strict),
  summary: responseValidator(insights, '/v1/Voice/{CallSid}/Summary', strict),
  settings: responseValidator(insights, '/v1/Voice/Settings', strict),
  calls: responseValidator(api2010, '/2010-04-01/Accounts/{AccountSid}/Calls.json', { exactProperties: true, relativeUris: true }),
};

function expectValid(validate: ValidateFunction, body: unknown, what: string): void {
  const valid = validate(body);
  expect(valid, `${what}\n${describeErrors(validate)}`).toBe(true);
}

interface ListBody {
  meta: { next_page_url: string | null };
  metrics?: unknown[];
  events?: unknown[];
}

let s: TestSimulator;
const calls = new Map<CallType, string>();
let ended: string;
beforeAll(async () => {
  // Partial summaries of running calls are the `during_call` variant (the default serves none before the end).
  s = await startTestSimulator({ summaryDelaySeconds: 0, variant: { partialSummary: 'during_call' } });
  for (const type of CALL_TYPES) calls.set(type, s.simulator.createCall({ type, ageSeconds: 400, degraded: true }).sid);
  ended = s.simulator.createCall({ type: 'client', ageSeconds: 100, durationSeconds: 60 }).sid;
});
afterAll(() => s.close());

async function getJson(path: string): Promise<unknown> {
  const response = await s.api(path);
  expect(response.status, path).toBe(200);
  return response.json();
}

/** Every page of a v1 list, following next_page_url. */
async function allPages(path: string): Promise<ListBody[]> {
  const pages: ListBody[] = [];
  let url: string | null = path;
  while (url !== null) {
    const body = (await getJson(url)) as ListBody;
    pages.push(body);
    url = body.meta.next_page_url;
  }
  return pages;
}

describe('simulator responses validate against the OpenAPI 200 schemas', () => {
  it('ListMetric: every edge of every call type, every page (first, middle, last, previous)', async () => {
    for (const [type, sid] of calls) {
      for (const edge of [undefined, ...EDGES]) {
        const query = `PageSize=17${edge === undefined ? '' : `&Edge=${edge}`}`;
        const pages = await allPages(`/v1/Voice/${sid}/Metrics?${query}`);
        for (const [i, body] of pages.entries()) expectValid(validators.metrics, body, `${type} ${edge ?? 'default'} page ${i}`);
        if (edge === undefined) expect(pages.length).toBeGreaterThan(2);
      }
      const second = (await getJson(`/v1/Voice/${sid}/Metrics?PageSize=5`)) as ListBody;
      const third = (await getJson(second.meta.next_page_url ?? '')) as { meta: { previous_page_url: string } };
      expectValid(validators.metrics, await getJson(third.meta.previous_page_url), `${type} previous page`);
      expectValid(validators.metrics, await getJson(`/v1/Voice/${sid}/Metrics?Direction=outbound&Edge=carrier_edge`), `${type} direction`);
    }
  });

  it('ListEvent: default and explicit edges, paged', async () => {
    for (const [type, sid] of [...calls, ['client', ended] as const]) {
      for (const edge of [undefined, 'sdk_edge', 'carrier_edge']) {
        const pages = await allPages(`/v1/Voice/${sid}/Events?PageSize=2${edge === undefined ? '' : `&Edge=${edge}`}`);
        for (const body of pages) expectValid(validators.events, body, `${type} events`);
      }
    }
  });

  it('FetchSummary: partial for running calls, complete for an ended one', async () => {
    for (const [type, sid] of calls) {
      expectValid(validators.summary, await getJson(`/v1/Voice/${sid}/Summary?ProcessingState=partial`), `${type} partial`);
    }
    const complete = await getJson(`/v1/Voice/${ended}/Summary`);
    expect((complete as { processing_state: string }).processing_state).toBe('complete');
    expectValid(validators.summary, complete, 'complete');
  });

  it('FetchAccountSettings and UpdateAccountSettings', async () => {
    expectValid(validators.settings, await getJson('/v1/Voice/Settings'), 'settings');
    const update = responseValidator(insights, '/v1/Voice/Settings', strict, 'post');
    const response = await s.api('/v1/Voice/Settings', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'VoiceTrace=true',
    });
    expectValid(update, await response.json(), 'settings update');
  });

  it('ListCall: every status filter, every page', async () => {
    s.simulator.createCall({ type: 'sip', ringingSeconds: 600 });
    const base = `/2010-04-01/Accounts/${DEMO_ACCOUNT.accountSid}/Calls.json`;
    for (const status of [undefined, 'in-progress', 'completed', 'ringing', 'busy']) {
      let uri: string | null = `${base}?PageSize=2${status === undefined ? '' : `&Status=${status}`}`;
      while (uri !== null) {
        const body = (await getJson(uri)) as { next_page_uri: string | null };
        expectValid(validators.calls, body, `calls ${status ?? 'all'}`);
        uri = body.next_page_uri;
      }
    }
  });

  it('the validators are not vacuous: documented violations fail', async () => {
    const sid = calls.get('carrier') ?? '';
    const body = (await getJson(`/v1/Voice/${sid}/Metrics?PageSize=2`)) as { metrics: Array<Record<string, unknown>>; meta: Record<string, unknown> };
    const broken = (change: (b: typeof body) => void): unknown => {
      const copy = structuredClone(body);
      change(copy);
      return copy;
    };
    expect(validators.metrics(body)).toBe(true);
    expect(validators.metrics(broken((b) => (b.metrics[0] = { ...b.metrics[0], edge: 'mystery_edge' })))).toBe(false);
    expect(validators.metrics(broken((b) => (b.metrics[0] = { ...b.metrics[0], call_sid: 'CA123' })))).toBe(false);
    expect(validators.metrics(broken((b) => (b.metrics[0] = { ...b.metrics[0], extra: 1 })))).toBe(false);
    expect(validators.metrics(broken((b) => (b.meta.next_page_url = '/relative?Page=1')))).toBe(false);
    expect(validators.metrics(broken((b) => delete b.meta.key))).toBe(false);
    // Nullable enums written as $ref + nullable accept null.
    expect(validators.metrics(broken((b) => (b.metrics[0] = { ...b.metrics[0], edge: null, direction: null })))).toBe(true);
    const calls2010 = (await getJson(`/2010-04-01/Accounts/${DEMO_ACCOUNT.accountSid}/Calls.json`)) as { calls: Array<Record<string, unknown>> };
    const badDate = structuredClone(calls2010);
    if (badDate.calls[0] !== undefined) badDate.calls[0].date_created = '2026-11-27T10:00:00Z';
    expect(validators.calls(badDate)).toBe(false);
  });
});
