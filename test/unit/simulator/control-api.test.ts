import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../../src/simulator/demo-account.ts';
import type { TestSimulator } from '../../helpers/simulator.ts';
import { startTestSimulator } from '../../helpers/simulator.ts';

let s: TestSimulator;
beforeAll(async () => {
  s = await startTestSimulator({ lagSeconds: 0 });
});
afterAll(() => s.close());

const send = (method: string, path: string, body?: unknown): Promise<Response> =>
  fetch(`${s.url}/_simulator${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

async function expect400(response: Response, message: RegExp): Promise<void> {
  expect(response.status).toBe(400);
  const body = (await response.json()) as { status: number; message: string };
  expect(body.status).toBe(400);
  expect(body.message).toMatch(message);
}

describe('control API', () => {
  it('creates, lists, ends calls and shows their samples', async () => {
    const sid = 'CA0123456789abcdef0123456789abcdef';
    const created = await s.control.createCall({ type: 'client', sid, age_seconds: 40, degraded: true });
    expect(created).toMatchObject({
      sid,
      account_sid: DEMO_ACCOUNT.accountSid,
      type: 'client',
      status: 'in-progress',
      degraded: true,
      end_time: null,
      edges: ['sdk_edge', 'client_edge'],
      default_edge: 'sdk_edge',
      visible_samples_per_stream: 4,
    });
    expect((await s.control.listCalls()).map((c) => c.sid)).toContain(sid);
    const samples = await s.control.samples(sid);
    expect(samples).toHaveLength(4 * 3);
    expect(samples).toEqual(s.simulator.visibleSamples(sid));
    expect(await s.control.samples(sid, { edge: 'client_edge', direction: 'inbound' })).toHaveLength(4);
    const ended = await s.control.endCall(sid);
    expect(ended.status).toBe('completed');
    expect(ended.end_time).not.toBeNull();
    const again = await s.control.endCall(sid);
    expect(again.end_time).toBe(ended.end_time);
    const viaGet = (await (await send('GET', `/calls/${sid}`)).json()) as { sid: string };
    expect(viaGet.sid).toBe(sid);
  });

  it('rejects bad control input with a 400 that names the field', async () => {
    await expect400(await send('POST', '/calls', { type: 'pigeon' }), /type/);
    await expect400(await send('POST', '/calls', { type: 'sip', age_seconds: -5 }), /age_seconds/);
    await expect400(await send('POST', '/calls', { type: 'sip', colour: 'red' }), /colour/);
    await expect400(await send('POST', '/calls', { type: 'sip', sid: 'CAshort' }), /sid must match/);
    await expect400(await send('POST', '/calls', { type: 'sip', account_sid: 'AC00000000000000000000000000000000' }), /not a configured account/);
    await expect400(await send('POST', '/calls', '{not json'), /not valid JSON/);
    await expect400(await send('PUT', '/variant', { order: 'random' }), /order/);
    await expect400(await send('PUT', '/variant', { concurrency_limit: 0 }), /concurrency_limit/);
    await expect400(await send('PUT', '/variant', { lag_seconds: -1 }), /lag_seconds/);
    await expect400(await send('GET', '/calls/CA0123456789abcdef0123456789abcdef/samples?Edge=moon'), /Edge/);
    expect((await send('POST', '/calls/CA99999999999999999999999999999999/end')).status).toBe(404);
    expect((await send('GET', '/nothing')).status).toBe(404);
  });

  it('replaces the variant from the start options and shows it', async () => {
    const changed = await s.control.setVariant({ order: 'desc', page_token_ttl_ms: 5000, lag_seconds: 3 });
    expect(changed).toMatchObject({ order: 'desc', page_token_ttl_ms: 5000, lag_seconds: 3, concurrency_limit: 100, page_size_mode: 'reject' });
    expect(s.simulator.variant().order).toBe('desc');
    const restored = await s.control.setVariant({});
    expect(restored).toMatchObject({ order: 'asc', page_token_ttl_ms: null, lag_seconds: 0, retry_after_seconds: null });
    expect(await (await send('GET', '/variant')).json()).toEqual(restored);
  });

  it('invalidates tokens by bumping an epoch', async () => {
    const first = await s.control.invalidateTokens();
    const second = await s.control.invalidateTokens();
    expect(second.epoch).toBe(first.epoch + 1);
  });
});
