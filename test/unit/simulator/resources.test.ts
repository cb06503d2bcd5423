import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../../src/simulator/demo-account.ts';
import type { TestSimulator } from '../../helpers/simulator.ts';
import { startTestSimulator } from '../../helpers/simulator.ts';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
let s: TestSimulator | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function start(options: Parameters<typeof startTestSimulator>[0] = {}): Promise<{ s: TestSimulator; advance: (seconds: number) => void }> {
  let now = T0;
  s = await startTestSimulator({ now: () => now, ...options });
  return { s, advance: (seconds) => (now += seconds * 1000) };
}

const json = async <T = Record<string, unknown>>(response: Response): Promise<T> => (await response.json()) as T;

describe('Summary', () => {
  it('is 17001 until summary_delay after the end, while ProcessingState=partial is always 200 (partial_summary during_call)', async () => {
    const { s, advance } = await start({ summaryDelaySeconds: 600, variant: { partialSummary: 'during_call' } });
    const call = s.simulator.createCall({ type: 'trunking_terminating', ageSeconds: 120 });
    const summary = (state?: string): Promise<Response> =>
      s.api(`/v1/Voice/${call.sid}/Summary${state === undefined ? '' : `?ProcessingState=${state}`}`);
    const notYet = await summary();
    expect(notYet.status).toBe(404);
    expect(await json(notYet)).toEqual({
      code: 17001,
      message: "Completed summary for this call wasn't found",
      more_info: 'https://www.twilio.com/docs/errors/17001',
      status: 404,
    });
    const partial = await json(await summary('partial'));
    expect(partial).toMatchObject({
      call_sid: call.sid,
      account_sid: DEMO_ACCOUNT.accountSid,
      call_type: 'trunking',
      call_state: 'answered',
      processing_state: 'partial',
      end_time: null,
      sdk_edge: null,
      client_edge: null,
      url: `${s.url}/v1/Voice/${call.sid}/Summary`,
    });
    expect(partial.sip_edge).toMatchObject({ metrics: { inbound: { packets_received: expect.any(Number) as number }, outbound: {} } });
    s.simulator.endCall(call.sid);
    advance(599);
    expect((await summary('complete')).status).toBe(404);
    advance(1);
    expect(await json(await summary())).toMatchObject({ processing_state: 'complete', call_state: 'completed', duration: 120 });
    expect(await json(await summary('partial'))).toMatchObject({ processing_state: 'complete' });
    await s.control.setVariant({ summary_not_ready_status: 400, summary_delay_seconds: 9999 });
    expect((await summary()).status).toBe(400);
  });

  it('serves no partial summary while the call runs by default (404/20404), and one as soon as it has ended', async () => {
    const { s, advance } = await start();
    const call = s.simulator.createCall({ type: 'carrier', ageSeconds: 120 });
    const partial = (): Promise<Response> => s.api(`/v1/Voice/${call.sid}/Summary?ProcessingState=partial`);
    const during = await partial();
    expect(during.status).toBe(404);
    expect(await json(during)).toMatchObject({ code: 20404, status: 404 });
    s.simulator.endCall(call.sid);
    advance(1);
    expect(await json(await partial())).toMatchObject({ processing_state: 'partial', call_type: 'carrier', call_state: 'completed' });
    await s.control.setVariant({ partial_summary: 'during_call' });
    const other = s.simulator.createCall({ type: 'sip', ageSeconds: 60 });
    expect((await s.api(`/v1/Voice/${other.sid}/Summary?ProcessingState=partial`)).status).toBe(200);
  });

  it('maps every call type to the spec enum (both trunking directions are "trunking")', async () => {
    const { s } = await start({ variant: { partialSummary: 'during_call' } });
    const types = { carrier: 'carrier', sip: 'sip', client: 'client', trunking_originating: 'trunking', trunking_terminating: 'trunking' } as const;
    for (const [type, wire] of Object.entries(types)) {
      const call = s.simulator.createCall({ type: type as keyof typeof types, ageSeconds: 30 });
      expect((await json(await s.api(`/v1/Voice/${call.sid}/Summary?ProcessingState=partial`))).call_type).toBe(wire);
    }
  });
});

describe('Settings', () => {
  it('shows and updates advanced_features and voice_trace; with Advanced Features off, per-call data is 403/17000', async () => {
    const { s } = await start();
    const call = s.simulator.createCall({ type: 'carrier', ageSeconds: 30 });
    expect(await json(await s.api('/v1/Voice/Settings'))).toEqual({
      account_sid: DEMO_ACCOUNT.accountSid,
      advanced_features: true,
      voice_trace: false,
      url: `${s.url}/v1/Voice/Settings`,
    });
    const off = await s.api('/v1/Voice/Settings', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'AdvancedFeatures=false&VoiceTrace=true',
    });
    expect(await json(off)).toMatchObject({ advanced_features: false, voice_trace: true });
    const refused = await s.api(`/v1/Voice/${call.sid}/Metrics`);
    expect(refused.status).toBe(403);
    expect(await json(refused)).toMatchObject({ code: 17000 });
    expect((await s.api('/v1/Voice/Settings?SubaccountSid=ACnope')).status).toBe(400);
    expect((await s.api('/v1/Voice/Settings?SubaccountSid=AC00000000000000000000000000000000')).status).toBe(404);
  });
});

describe('Events', () => {
  it('lists the lifecycle events of the default edge with the v1 meta block, and honours the lag', async () => {
    const { s, advance } = await start({ lagSeconds: 30 });
    const call = s.simulator.createCall({ type: 'carrier', ageSeconds: 60, timestampPrecision: 'seconds' });
    s.simulator.endCall(call.sid);
    const body = await json<{ events: Array<Record<string, unknown>>; meta: Record<string, unknown> }>(await s.api(`/v1/Voice/${call.sid}/Events`));
    expect(body.events.map((e) => e.name)).toEqual(['initiated', 'ringing', 'answered']);
    expect(body.meta).toMatchObject({ key: 'events', page: 0, page_size: 50, previous_page_url: null, next_page_url: null });
    advance(30);
    const later = await json<{ events: Array<Record<string, unknown>> }>(await s.api(`/v1/Voice/${call.sid}/Events?PageSize=2`));
    expect(later.events).toHaveLength(2);
    const all = await json<{ events: Array<Record<string, unknown>> }>(await s.api(`/v1/Voice/${call.sid}/Events`));
    expect(all.events.at(-1)).toMatchObject({ name: 'completed', level: 'INFO', edge: 'carrier_edge', sdk_edge: null, timestamp: '2026-11-27T10:00:00Z' });
    const degraded = s.simulator.createCall({ type: 'client', ageSeconds: 3600, degraded: true });
    const sdk = await json<{ events: Array<Record<string, unknown>> }>(await s.api(`/v1/Voice/${degraded.sid}/Events?PageSize=1000`));
    expect(sdk.events.some((e) => e.level === 'WARNING' && e.group === 'network-quality-warning-raised')).toBe(true);
    expect((await json<{ events: unknown[] }>(await s.api(`/v1/Voice/${degraded.sid}/Events?Edge=carrier_edge`))).events).toEqual([]);
  });
});

describe('Calls.json', () => {
  it('lists the account calls newest first with their status, filtered by Status, with 2010 flat paging', async () => {
    const { s, advance } = await start();
    const ringing = s.simulator.createCall({ type: 'carrier', ringingSeconds: 60 });
    const running = [1, 2, 3].map(() => s.simulator.createCall({ type: 'sip', ageSeconds: 10 }));
    const done = s.simulator.createCall({ type: 'trunking_originating', ageSeconds: 100, durationSeconds: 30 });
    advance(1);
    const base = `/2010-04-01/Accounts/${DEMO_ACCOUNT.accountSid}/Calls.json`;
    type Page = { calls: Array<Record<string, unknown>>; next_page_uri: string | null } & Record<string, unknown>;
    const first = await json<Page>(await s.api(`${base}?Status=in-progress&PageSize=2`));
    expect(first.calls.map((c) => c.sid)).toEqual([running[2]?.sid, running[1]?.sid]);
    expect(first).toMatchObject({
      page: 0,
      page_size: 2,
      start: 0,
      end: 1,
      previous_page_uri: null,
      first_page_uri: `${base}?Status=in-progress&PageSize=2&Page=0`,
      uri: `${base}?Status=in-progress&PageSize=2&Page=0`,
    });
    expect(first.next_page_uri).toMatch(new RegExp(`^${base.replace(/\./g, '\\.')}\\?Status=in-progress&PageSize=2&Page=1&PageToken=PA`));
    // A call created between pages does not shift the walk.
    s.simulator.createCall({ type: 'sip' });
    const second = await json<Page>(await s.api(`${s.url}${first.next_page_uri ?? ''}`));
    expect(second.calls.map((c) => c.sid)).toEqual([running[0]?.sid]);
    expect(second).toMatchObject({ page: 1, start: 2, end: 2, next_page_uri: null });
    expect(second.uri).toContain('PageToken=PA');

    const statuses = async (status: string): Promise<unknown[]> =>
      (await json<Page>(await s.api(`${base}?Status=${status}`))).calls.map((c) => c.sid);
    expect(await statuses('ringing')).toEqual([ringing.sid]);
    expect(await statuses('completed')).toEqual([done.sid]);
    const completed = (await json<Page>(await s.api(`${base}?Status=completed`))).calls[0];
    expect(completed).toMatchObject({ status: 'completed', duration: '30', direction: 'trunking-originating', api_version: '2010-04-01' });
    expect(completed?.trunk_sid).toMatch(/^TK[0-9a-f]{32}$/);
    expect(completed?.start_time).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect((await json<Page>(await s.api(base))).calls).toHaveLength(6);
  });
});
