import { BrokenCircuitError } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { createAccountPolicy, isCircuitRefusal } from '../../../src/poller/account-policy.ts';
import { TwilioError } from '../../../src/twilio/errors.ts';

const err503 = () => new TwilioError({ code: 'upstream', endpoint: 'metrics', status: 503, twilioCode: 20503 });
const err401 = () => new TwilioError({ code: 'auth', endpoint: 'metrics', status: 401, twilioCode: 20003 });

describe('account policy: circuit breaker', () => {
  it('opens after consecutive upstream failures, fails fast without requests, and closes after a good probe', async () => {
    let t = 0;
    const states: boolean[] = [];
    const policy = createAccountPolicy({
      maxConcurrent: 2,
      maxRetries: 0,
      breakerThreshold: 3,
      halfOpenAfterMs: 500,
      random: () => 0,
      now: () => t,
      onCircuit: (open) => states.push(open),
    });
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(err503());
    };
    for (let i = 0; i < 3; i++) await expect(policy.run(failing)).rejects.toBeInstanceOf(TwilioError);
    expect(states).toEqual([true]);
    const before = calls;
    await expect(policy.run(failing)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(calls).toBe(before);

    await new Promise((r) => setTimeout(r, 600));
    t += 600;
    await expect(policy.run(() => Promise.resolve('ok'))).resolves.toBe('ok');
    expect(states).toEqual([true, false]);
  });

  // Probe N (a side note): the first "poll failed" warning of an episode often said only "Execution prevented because
  // the circuit breaker is open", hiding what Twilio answered, which was left in debug lines.
  it('refuses with an error that says the circuit is open and carries the last upstream failure', async () => {
    const policy = createAccountPolicy({ maxConcurrent: 1, maxRetries: 0, breakerThreshold: 2, halfOpenAfterMs: 60_000 });
    const failing = (): Promise<never> => Promise.reject(err503());
    for (let i = 0; i < 2; i++) await expect(policy.run(failing)).rejects.toBeInstanceOf(TwilioError);
    const refused = await policy.run(failing).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BrokenCircuitError);
    expect(isCircuitRefusal(refused)).toBe(true);
    expect(String(refused)).toMatch(/circuit is open after 2 upstream failures in a row; the last: .*HTTP 503/);
    expect((refused as Error).cause).toBeInstanceOf(TwilioError);
  });

  it('does not count per-call problems (404) toward opening', async () => {
    const policy = createAccountPolicy({ maxConcurrent: 1, maxRetries: 0, breakerThreshold: 2 });
    const notFound = () => Promise.reject(new TwilioError({ code: 'not_found', endpoint: 'metrics', status: 404 }));
    for (let i = 0; i < 5; i++) await expect(policy.run(notFound)).rejects.toMatchObject({ code: 'not_found' });
    await expect(policy.run(() => Promise.resolve(1))).resolves.toBe(1);
  });
});

describe('account policy: refused credentials', () => {
  it('after a 401, fails fast without reaching Twilio for the hold, reports once, then tries again', async () => {
    let t = 1_000;
    const reported: number[] = [];
    const policy = createAccountPolicy({ maxConcurrent: 2, authHoldMs: 1_000, now: () => t, onAuthFailure: (e) => reported.push(e.twilioCode ?? 0) });
    let calls = 0;
    const refused = () => {
      calls++;
      return Promise.reject(err401());
    };
    await expect(policy.run(refused)).rejects.toMatchObject({ code: 'auth' });
    expect(calls).toBe(1);
    for (let i = 0; i < 5; i++) await expect(policy.run(refused)).rejects.toMatchObject({ code: 'auth' });
    expect(calls).toBe(1);
    t += 1_001;
    await expect(policy.run(refused)).rejects.toMatchObject({ code: 'auth' });
    expect(calls).toBe(2);
    expect(reported).toEqual([20003]);
    // The hold doubles while the failure persists; a reload resets it at once.
    t += 1_500;
    await expect(policy.run(refused)).rejects.toMatchObject({ code: 'auth' });
    expect(calls).toBe(2);
    policy.resetAuth();
    await expect(policy.run(() => Promise.resolve('rotated'))).resolves.toBe('rotated');
  });
});

describe('account policy: timeouts', () => {
  it('keeps a timed-out request slot for the hold, so Twilio never sees more than the limit', async () => {
    // A hold far longer than the checks below, so a slow machine cannot end it early.
    const policy = createAccountPolicy({ maxConcurrent: 1, maxRetries: 0, timeoutSlotHoldMs: 1_000 });
    const timedOut = policy.run(() => Promise.reject(new TwilioError({ code: 'timeout', endpoint: 'metrics' })));
    await new Promise((r) => setTimeout(r, 10));
    expect(policy.inFlight).toBe(1);
    let started = false;
    const next = policy.run(() => {
      started = true;
      return Promise.resolve('next');
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toBe(false);
    await expect(timedOut).rejects.toMatchObject({ code: 'timeout' });
    await expect(next).resolves.toBe('next');
  });
});
