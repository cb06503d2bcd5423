import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../../src/simulator/demo-account.ts';
import type { TestSimulator } from '../../helpers/simulator.ts';
import { startTestSimulator } from '../../helpers/simulator.ts';

let s: TestSimulator | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('per-account concurrency limit', () => {
  it('answers 429/20429 without Retry-After once the account has `limit` requests in flight', async () => {
    s = await startTestSimulator({ concurrencyLimit: 3 });
    const sid = s.simulator.createCall({ type: 'carrier', ageSeconds: 60 }).sid;
    // Hold three slots in process: exactly what three slow requests in flight would do.
    const held = [1, 2, 3].map(() => s?.simulator.concurrency.acquire(DEMO_ACCOUNT.accountSid));
    const refused = await s.api(`/v1/Voice/${sid}/Metrics`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(refused.headers.get('twilio-concurrent-requests')).toBe('4');
    expect(await refused.json()).toEqual({
      code: 20429,
      message: 'Too many requests',
      more_info: 'https://www.twilio.com/docs/errors/20429',
      status: 429,
    });
    await s.control.setVariant({ concurrency_limit: 3, retry_after_seconds: 7 });
    const withRetry = await s.api('/v1/Voice/Settings');
    expect(withRetry.status).toBe(429);
    expect(withRetry.headers.get('retry-after')).toBe('7');
    for (const slot of held) slot?.release();
    const ok = await s.api(`/v1/Voice/${sid}/Metrics`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('twilio-concurrent-requests')).toBe('1');
    // The refused requests were in flight too: the peak shows what the client attempted.
    expect((await s.control.ledger()).peak_concurrency).toEqual({ [DEMO_ACCOUNT.accountSid]: 4 });
    expect((await s.control.ledger()).requests.by_status['429']).toBe(2);
  });

  it('records the peak of real concurrent requests per account, and resets it', async () => {
    s = await startTestSimulator();
    const sid = s.simulator.createCall({ type: 'sip', ageSeconds: 60 }).sid;
    await s.control.setFaults({ latency_ms: 1000 });
    const running = s;
    const responses = await Promise.all([1, 2, 3, 4].map(() => running.api(`/v1/Voice/${sid}/Metrics`)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const counts = responses.map((r) => Number(r.headers.get('twilio-concurrent-requests'))).sort();
    expect(counts).toEqual([1, 2, 3, 4]);
    expect((await s.control.ledger()).peak_concurrency[DEMO_ACCOUNT.accountSid]).toBe(4);
    expect(s.simulator.concurrency.inFlight(DEMO_ACCOUNT.accountSid)).toBe(0);
    await s.control.resetStats();
    expect((await s.control.ledger()).peak_concurrency).toEqual({});
  });
});

describe('what counts as in flight', () => {
  it('stops counting a held request once its client hangs up', async () => {
    s = await startTestSimulator();
    const running = s;
    const sid = running.simulator.createCall({ type: 'carrier', ageSeconds: 60 }).sid;
    await running.control.setFaults({ timeout_rate: 1, timeout_hold_ms: 5000, timeout_action: 'answer' });
    await expect(running.api(`/v1/Voice/${sid}/Metrics`, { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    const deadline = Date.now() + 3000;
    while (running.simulator.concurrency.inFlight(DEMO_ACCOUNT.accountSid) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(running.simulator.concurrency.inFlight(DEMO_ACCOUNT.accountSid)).toBe(0);
  });
});
