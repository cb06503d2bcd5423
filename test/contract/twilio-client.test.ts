import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type * as TwilioResponse from 'twilio/lib/http/response.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import type { MetricRecord } from '../../src/simulator/metric-record.ts';
import type { TestSimulator } from '../helpers/simulator.ts';
import { startTestSimulator } from '../helpers/simulator.ts';

/** twilio-node has no base-URL option: a RequestClient that sends Twilio's hosts to the simulator. */
class SimulatorRequestClient extends twilio.RequestClient {
  readonly requested: string[] = [];
  readonly #base: string;

  constructor(base: string, options: RequestClient.RequestClientOptions = {}) {
    super(options);
    this.#base = base;
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<TwilioResponse.default<TData>> {
    const uri = opts.uri.replace(/^https:\/\/(insights|api)\.twilio\.com/, this.#base);
    this.requested.push(uri);
    return super.request<TData>({ ...opts, uri });
  }
}

/** A twilio-node MetricInstance back in wire form. */
function toWire(m: { timestamp: string; callSid: string; accountSid: string; edge: unknown; direction: unknown; carrierEdge: unknown; sipEdge: unknown; sdkEdge: unknown; clientEdge: unknown }): unknown {
  return {
    timestamp: m.timestamp,
    call_sid: m.callSid,
    account_sid: m.accountSid,
    edge: m.edge,
    direction: m.direction,
    carrier_edge: m.carrierEdge,
    sip_edge: m.sipEdge,
    sdk_edge: m.sdkEdge,
    client_edge: m.clientEdge,
  };
}

let s: TestSimulator;
beforeAll(async () => {
  // Partial summaries of running calls are the `during_call` variant (the default serves none before the end).
  s = await startTestSimulator({ variant: { partialSummary: 'during_call' } });
});
afterAll(() => s.close());

function client(options: RequestClient.RequestClientOptions = {}): { api: twilio.Twilio; http: SimulatorRequestClient } {
  const http = new SimulatorRequestClient(s.url, options);
  const api = twilio(DEMO_ACCOUNT.apiKeySid, DEMO_ACCOUNT.apiKeySecret, { accountSid: DEMO_ACCOUNT.accountSid, httpClient: http });
  return { api, http };
}

describe('the official twilio-node client against the simulator', () => {
  it("lists a long call's metrics across many pages and gets exactly the simulator's samples", async () => {
    const call = await s.control.createCall({ type: 'trunking_originating', age_seconds: 1800, duration_seconds: 1200 });
    const { api, http } = client();
    const listed = await api.insights.v1.calls(call.sid).metrics.list({ pageSize: 50 });
    const expected: MetricRecord[] = await s.control.samples(call.sid, { edge: 'carrier_edge' });
    expect(expected).toHaveLength(120 * 2);
    expect(listed.map(toWire)).toEqual(expected);
    expect(http.requested.length).toBe(5);
    expect(http.requested.slice(1).every((uri) => uri.startsWith(`${s.url}/v1/Voice/${call.sid}/Metrics?`) && uri.includes('PageToken='))).toBe(true);

    const sip = await api.insights.v1.calls(call.sid).metrics.list({ edge: 'sip_edge', direction: 'inbound', pageSize: 7 });
    expect(sip.map(toWire)).toEqual(await s.control.samples(call.sid, { edge: 'sip_edge', direction: 'inbound' }));
  });

  it('keeps going through random 429s with autoRetry, because the 429 is a Twilio 20429', async () => {
    const call = await s.control.createCall({ type: 'client', age_seconds: 700, duration_seconds: 600 });
    await s.control.setFaults({ seed: 3, rate_429: 0.3 });
    try {
      const { api } = client({ autoRetry: true, maxRetries: 20, maxRetryDelay: 20 });
      const listed = await api.insights.v1.calls(call.sid).metrics.list({ pageSize: 9 });
      expect(listed.map(toWire)).toEqual(await s.control.samples(call.sid, { edge: 'sdk_edge' }));
      expect((await s.control.ledger()).requests.by_status['429']).toBeGreaterThan(0);
    } finally {
      await s.control.setFaults({});
    }
  });

  it('lists in-progress calls through Calls.json paging (relative next_page_uri)', async () => {
    for (let i = 0; i < 5; i++) await s.control.createCall({ type: 'sip', age_seconds: 30 });
    const { api } = client();
    const listed = await api.calls.list({ status: 'in-progress', pageSize: 2 });
    const expected = (await s.control.listCalls()).filter((c) => c.status === 'in-progress').map((c) => c.sid).reverse();
    expect(expected.length).toBeGreaterThanOrEqual(5);
    expect(listed.map((c) => c.sid)).toEqual(expected);
    expect(listed.every((c) => c.status === 'in-progress' && c.dateCreated instanceof Date && !Number.isNaN(c.dateCreated.getTime()))).toBe(true);
  });

  it('reads Summary and Settings, and surfaces Twilio errors as RestException with the code', async () => {
    const call = await s.control.createCall({ type: 'client', age_seconds: 60 });
    const { api } = client();
    const summary = await api.insights.v1.calls(call.sid).summary().fetch({ processingState: 'partial' });
    expect(summary).toMatchObject({ callSid: call.sid, callType: 'client', processingState: 'partial' });
    const settings = await api.insights.v1.settings().fetch();
    expect(settings.advancedFeatures).toBe(true);
    await expect(api.insights.v1.calls(call.sid).summary().fetch()).rejects.toMatchObject({ status: 404, code: 17001 });
    await expect(api.insights.v1.calls('CA00000000000000000000000000000000').metrics.list()).rejects.toMatchObject({ status: 404, code: 20404 });
    const wrong = twilio(DEMO_ACCOUNT.accountSid, 'wrong-token', { httpClient: new SimulatorRequestClient(s.url) });
    await expect(wrong.calls.list()).rejects.toMatchObject({ status: 401, code: 20003 });
  });
});
