import { describe, expect, it } from 'vitest';
import { createAccountPolicy } from '../../../src/poller/account-policy.ts';
import { CALL_SID, fakeUpstream, sendJson, testClient } from '../twilio/fake-upstream.ts';

// Regression test for issue 11 item 10: the 401 hold was doubled once per in-flight request that got the
// 401, so eight requests in flight made the first retry wait 30 s × 2^7 instead of 30 s.

describe('account policy: 401 hold per failure episode', () => {
  it('eight requests refused together hold for authHoldMs once, and the next probe doubles it once', async () => {
    const pending: Array<() => void> = [];
    const upstream = await fakeUpstream((_req, res) => {
      // Answer only once all eight (the test client's connections) are in flight, so every one of them gets the 401.
      pending.push(() => sendJson(res, 401, { code: 20003, message: 'Authenticate', status: 401 }));
      if (pending.length === 8) for (const answer of pending.splice(0)) answer();
    });
    const { client } = testClient(upstream);
    let t = 1_000_000;
    const policy = createAccountPolicy({ maxConcurrent: 8, authHoldMs: 30_000, now: () => t });
    const fetch = () => policy.run((s) => client.fetchMetricsPage({ callSid: CALL_SID, edge: 'carrier_edge' }, s));

    const first = await Promise.allSettled(Array.from({ length: 8 }, fetch));
    expect(first.every((r) => r.status === 'rejected')).toBe(true);
    expect(upstream.requests).toHaveLength(8);

    // Within the hold: nothing reaches Twilio.
    t += 29_000;
    await expect(fetch()).rejects.toMatchObject({ code: 'auth' });
    expect(upstream.requests).toHaveLength(8);

    // After 30 s the probe goes out (answered at once now that only one is in flight).
    t += 1_001;
    const probe = fetch();
    probe.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(upstream.requests).toHaveLength(9);
    for (const answer of pending.splice(0)) answer();
    await expect(probe).rejects.toMatchObject({ code: 'auth', status: 401 });

    // That second failure doubles the hold once: 60 s, not more.
    t += 59_000;
    await expect(fetch()).rejects.toMatchObject({ code: 'auth' });
    expect(upstream.requests).toHaveLength(9);
    t += 1_001;
    const next = fetch();
    next.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(upstream.requests).toHaveLength(10);
    for (const answer of pending.splice(0)) answer();
    await expect(next).rejects.toMatchObject({ code: 'auth' });
  });
});
