import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MetricRecord } from '../../../src/simulator/metric-record.ts';
import type { TestSimulator } from '../../helpers/simulator.ts';
import { startTestSimulator } from '../../helpers/simulator.ts';

let s: TestSimulator;
let sid: string;
let quiet: string;
beforeAll(async () => {
  s = await startTestSimulator();
  sid = s.simulator.createCall({ type: 'client', ageSeconds: 120 }).sid;
  quiet = s.simulator.createCall({ type: 'carrier', ageSeconds: 120 }).sid;
});
afterAll(() => s.close());
beforeEach(async () => {
  await s.control.setFaults({});
  await s.control.resetStats();
});

const metrics = (callSid = sid, query = ''): Promise<Response> => s.api(`/v1/Voice/${callSid}/Metrics${query}`);
const served = async (): Promise<number> => (await s.control.ledger()).streams.reduce((sum, line) => sum + line.served, 0);

describe('fault injection', () => {
  it('injects 429 with and without Retry-After, 500 and 503, as Twilio error bodies', async () => {
    await s.control.setFaults({ rate_429: 1 });
    const plain = await metrics();
    expect(plain.status).toBe(429);
    expect(plain.headers.get('retry-after')).toBeNull();
    expect(((await plain.json()) as { code: number }).code).toBe(20429);
    await s.control.setFaults({ rate_429: 1, retry_after_429_seconds: 3 });
    expect((await metrics()).headers.get('retry-after')).toBe('3');
    await s.control.setFaults({ rate_500: 1 });
    const five = await metrics();
    expect(five.status).toBe(500);
    expect(await five.json()).toEqual({ code: 20500, message: 'Internal Server Error', more_info: 'https://www.twilio.com/docs/errors/20500', status: 500 });
    await s.control.setFaults({ rate_503: 1 });
    expect(((await (await metrics()).json()) as { code: number; status: number })).toMatchObject({ code: 20503, status: 503 });
    expect(await served()).toBe(0);
  });

  it('replays the same fault sequence for the same seed', async () => {
    const statuses = async (): Promise<number[]> => {
      await s.control.setFaults({ seed: 99, rate_500: 0.5 });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await metrics()).status);
      return out;
    };
    const first = await statuses();
    expect(new Set(first)).toEqual(new Set([200, 500]));
    expect(await statuses()).toEqual(first);
  });

  it('resets the connection without an answer', async () => {
    await s.control.setFaults({ reset_rate: 1 });
    await expect(metrics()).rejects.toThrow();
    expect((await s.control.ledger()).requests.by_status.reset).toBe(1);
  });

  it('adds latency', async () => {
    await s.control.setFaults({ latency_ms: 250 });
    const started = performance.now();
    expect((await metrics()).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('holds a request past the client timeout, then drops it or answers it', async () => {
    await s.control.setFaults({ timeout_rate: 1, timeout_hold_ms: 400, timeout_action: 'drop' });
    const started = performance.now();
    await expect(metrics()).rejects.toThrow();
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);

    await s.control.setFaults({ timeout_rate: 1, timeout_hold_ms: 400, timeout_action: 'answer' });
    await expect(metrics().then(() => 'answered')).resolves.toBe('answered');
    expect(await served()).toBeGreaterThan(0);

    // A client that gave up is not counted as served, even though the simulator would answer.
    await s.control.resetStats();
    await expect(s.api(`/v1/Voice/${sid}/Metrics`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    const deadline = Date.now() + 5000;
    while ((await s.control.ledger()).requests.total < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await s.control.ledger()).requests.by_status).toEqual({ dropped: 1 });
    expect(await served()).toBe(0);
  });

  it('truncates a 200 body into invalid JSON, and then nothing counts as served', async () => {
    await s.control.setFaults({ truncate_rate: 1 });
    const response = await metrics();
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(() => JSON.parse(text) as unknown).toThrow();
    expect(text.startsWith('{')).toBe(true);
    expect(await served()).toBe(0);
  });

  it('corrupts single records in each documented way, and only clean records count as served', async () => {
    const clean = ((await (await metrics(sid, '?Edge=client_edge')).json()) as { metrics: MetricRecord[] }).metrics;
    await s.control.resetStats();
    const corrupted = async (kind: string): Promise<Array<Record<string, unknown>>> => {
      await s.control.setFaults({ corrupt_record_rate: 1, corrupt_kinds: [kind as 'nan_string'] });
      return ((await (await metrics(sid, '?Edge=client_edge')).json()) as { metrics: Array<Record<string, unknown>> }).metrics;
    };
    const nan = await corrupted('nan_string');
    expect(JSON.stringify(nan)).toMatch(/"(NaN|Infinity|-|n\/a)"/);
    const negative = await corrupted('negative_counter');
    for (const record of negative) {
      const cumulative = (record.client_edge as { cumulative: Record<string, unknown> }).cumulative;
      expect(Object.values(cumulative).some((v) => typeof v === 'number' && v < 0)).toBe(true);
    }
    const unknown = await corrupted('unknown_edge');
    expect(unknown.every((r) => r.edge === 'mystery_edge' && r.client_edge === null && r.mystery_edge !== null)).toBe(true);
    const badTime = await corrupted('bad_timestamp');
    expect(badTime.every((r) => Number.isNaN(Date.parse(String(r.timestamp))))).toBe(true);
    const wrongType = await corrupted('wrong_type');
    expect(wrongType).not.toEqual(clean);
    expect(await served()).toBe(0);
    expect((await s.control.ledger()).corrupted_records).toBe(5 * clean.length);

    await s.control.setFaults({ seed: 4, corrupt_record_rate: 0.5 });
    const mixed = ((await (await metrics(sid, '?Edge=client_edge')).json()) as { metrics: MetricRecord[] }).metrics;
    const intact = mixed.filter((record, i) => JSON.stringify(record) === JSON.stringify(clean[i])).length;
    expect(intact).toBeGreaterThan(0);
    expect(intact).toBeLessThan(clean.length);
    expect(await served()).toBe(intact);
  });

  it('limits faults to the chosen routes and calls', async () => {
    await s.control.setFaults({ rate_500: 1, routes: ['metrics'], call_sids: [sid] });
    expect((await metrics()).status).toBe(500);
    expect((await metrics(quiet)).status).toBe(200);
    expect((await s.api(`/v1/Voice/${sid}/Events`)).status).toBe(200);
    expect((await s.api('/v1/Voice/Settings')).status).toBe(200);
  });

  it('validates the fault body with clear 400 errors', async () => {
    const put = (body: unknown): Promise<Response> =>
      fetch(`${s.url}/_simulator/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const rate = await put({ rate_500: 2 });
    expect(rate.status).toBe(400);
    expect(((await rate.json()) as { message: string }).message).toMatch(/rate_500/);
    expect(((await (await put({ rate_50: 1 })).json()) as { message: string }).message).toMatch(/rate_50/);
    expect(((await (await put({ rate_500: 0.7, rate_503: 0.7 })).json()) as { message: string }).message).toMatch(/at most 1/);
    expect(((await (await put({ routes: ['metric'] })).json()) as { message: string }).message).toMatch(/routes/);
    const reset = await put({});
    expect(((await reset.json()) as { rate_500: number }).rate_500).toBe(0);
  });
});
