import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAccountPolicy } from '../../../src/poller/account-policy.ts';
import type { AccountPolicyOptions } from '../../../src/poller/account-policy.ts';
import { TwilioError } from '../../../src/twilio/errors.ts';
import type { TwilioErrorCode, TwilioErrorInit } from '../../../src/twilio/errors.ts';

function twilioError(code: TwilioErrorCode, extra: Partial<TwilioErrorInit> = {}): TwilioError {
  return new TwilioError({ code, endpoint: 'metrics', ...extra });
}

// A function that fails with each error in turn, then returns 'ok'; counts its calls.
function failing(...errors: Error[]) {
  let calls = 0;
  const fn = (signal: AbortSignal): Promise<string> => {
    expect(signal).toBeInstanceOf(AbortSignal);
    const err = errors[calls++];
    return err ? Promise.reject(err) : Promise.resolve('ok');
  };
  return { fn, calls: () => calls };
}

// Immediate retries: full jitter with random() = 0 waits 0 ms.
function fastPolicy(extra: Partial<AccountPolicyOptions> = {}) {
  const retried: TwilioErrorCode[] = [];
  const policy = createAccountPolicy({ maxConcurrent: 4, random: () => 0, onRetry: (e) => retried.push(e.code), ...extra });
  return { policy, retried };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('AccountPolicy retries', () => {
  it.each([
    ['rate_limited (429)', twilioError('rate_limited', { status: 429, twilioCode: 20429 })],
    ['upstream 503', twilioError('upstream', { status: 503 })],
    ['upstream without a status', twilioError('upstream')],
    ['timeout', twilioError('timeout')],
    ['network', twilioError('network')],
    ['bad_payload', twilioError('bad_payload')],
  ])('retries %s until it succeeds', async (_name, err) => {
    const { policy, retried } = fastPolicy();
    const f = failing(err, err);

    await expect(policy.run(f.fn)).resolves.toBe('ok');
    expect(f.calls()).toBe(3);
    expect(retried).toEqual([err.code, err.code]);
  });

  it.each([
    ['auth', twilioError('auth', { status: 401, twilioCode: 20003 })],
    ['not_found', twilioError('not_found', { status: 404 })],
    ['bad_request', twilioError('bad_request', { status: 400 })],
    ['upstream 405', twilioError('upstream', { status: 405 })],
    ['foreign_origin', twilioError('foreign_origin')],
    ['aborted', twilioError('aborted')],
    ['a plain Error', new Error('bug')],
    ['a TypeError', new TypeError('bug')],
  ])('does not retry %s', async (_name, err) => {
    const { policy, retried } = fastPolicy();
    const f = failing(err);

    await expect(policy.run(f.fn)).rejects.toBe(err);
    expect(f.calls()).toBe(1);
    expect(retried).toEqual([]);
  });

  it('gives up after maxRetries retries with the last error', async () => {
    const { policy, retried } = fastPolicy({ maxRetries: 2 });
    const errors = [1, 2, 3, 4].map((i) => twilioError('upstream', { status: 500 + i }));
    const f = failing(...errors);

    await expect(policy.run(f.fn)).rejects.toBe(errors[2]);
    expect(f.calls()).toBe(3);
    expect(retried).toHaveLength(2);
  });

  it('retries 3 times by default', async () => {
    const { policy } = fastPolicy();
    const err = twilioError('rate_limited');
    const f = failing(err, err, err, err, err);

    await expect(policy.run(f.fn)).rejects.toBe(err);
    expect(f.calls()).toBe(4);
  });
});

describe('AccountPolicy backoff', () => {
  // Lets the policy's promise chains settle without moving the fake clock.
  const settle = async (): Promise<void> => {
    await vi.advanceTimersByTimeAsync(0);
  };

  it('waits full-jitter backoff: random() × min(cap, base × 2^attempt)', async () => {
    vi.useFakeTimers();
    const policy = createAccountPolicy({ maxConcurrent: 1, baseDelayMs: 100, maxDelayMs: 10_000, random: () => 0.5 });
    const err = twilioError('upstream', { status: 503 });
    const f = failing(err, err);
    const result = policy.run(f.fn);

    await settle();
    expect(f.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(99); // first retry after 0.5 × 200 ms
    expect(f.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.calls()).toBe(2);
    await vi.advanceTimersByTimeAsync(199); // second after 0.5 × 400 ms
    expect(f.calls()).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.calls()).toBe(3);
    await expect(result).resolves.toBe('ok');
  });

  it('caps the backoff at maxDelayMs', async () => {
    vi.useFakeTimers();
    const policy = createAccountPolicy({ maxConcurrent: 1, baseDelayMs: 1000, maxDelayMs: 300, random: () => 0.9 });
    const err = twilioError('timeout');
    const f = failing(err);
    const result = policy.run(f.fn);

    await vi.advanceTimersByTimeAsync(269);
    expect(f.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.calls()).toBe(2);
    await expect(result).resolves.toBe('ok');
  });

  it('honours Retry-After instead of the jittered delay', async () => {
    vi.useFakeTimers();
    const random = vi.fn(() => 0);
    const policy = createAccountPolicy({ maxConcurrent: 1, random });
    const f = failing(twilioError('rate_limited', { status: 429, retryAfterMs: 5000 }));
    const result = policy.run(f.fn);

    await vi.advanceTimersByTimeAsync(4999);
    expect(f.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.calls()).toBe(2);
    await expect(result).resolves.toBe('ok');
    expect(random).not.toHaveBeenCalled();
  });

  it('caps Retry-After at maxRetryAfterMs', async () => {
    vi.useFakeTimers();
    const policy = createAccountPolicy({ maxConcurrent: 1, maxRetryAfterMs: 2000 });
    const f = failing(twilioError('rate_limited', { status: 429, retryAfterMs: 3_600_000 }));
    const result = policy.run(f.fn);

    await vi.advanceTimersByTimeAsync(1999);
    expect(f.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.calls()).toBe(2);
    await expect(result).resolves.toBe('ok');
  });

  it('stops waiting at once when the signal aborts during a backoff, without another attempt', async () => {
    vi.useFakeTimers();
    const policy = createAccountPolicy({ maxConcurrent: 1 });
    const err = twilioError('rate_limited', { status: 429, retryAfterMs: 60_000 });
    const f = failing(err);
    const controller = new AbortController();
    let outcome: unknown = 'pending';
    policy.run(f.fn, controller.signal).then(
      (v) => (outcome = v),
      (e: unknown) => (outcome = e),
    );

    await settle();
    controller.abort();
    await settle();

    // Shutdown must not wait out a 60 s Retry-After.
    expect(outcome).toBe(err);
    expect(f.calls()).toBe(1);
  });

  it('passes the caller signal to each attempt', async () => {
    const { policy } = fastPolicy();
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    const err = twilioError('network');

    await policy.run((s) => {
      seen.push(s);
      return seen.length === 1 ? Promise.reject(err) : Promise.resolve(1);
    }, controller.signal);

    expect(seen).toHaveLength(2);
    controller.abort();
    expect(seen.every((s) => s.aborted)).toBe(true);
  });
});

describe('AccountPolicy concurrency', () => {
  it('never has more than maxConcurrent requests in flight, and uses all of them', async () => {
    const policy = createAccountPolicy({ maxConcurrent: 3, random: () => 0 });
    let inFlight = 0;
    let peak = 0;
    let peakReported = 0;
    const task = async (i: number): Promise<number> => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      peakReported = Math.max(peakReported, policy.inFlight);
      // A few turns of the event loop, different per task, so completions interleave.
      for (let k = 0; k < 1 + (i % 4); k++) await new Promise((r) => setImmediate(r));
      inFlight--;
      // Every fifth task fails once with a retryable error: retries must queue for a slot too.
      if (i % 5 === 0 && !retried.has(i)) {
        retried.add(i);
        throw twilioError('rate_limited');
      }
      return i;
    };
    const retried = new Set<number>();

    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => policy.run(() => task(i))));

    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(3);
    expect(peakReported).toBeLessThanOrEqual(3);
    expect(retried.size).toBe(4);
    expect(policy.inFlight).toBe(0);
  });

  it('never starts a request still queued for a slot once its signal aborted', async () => {
    const policy = createAccountPolicy({ maxConcurrent: 1 });
    let release!: () => void;
    const holding = policy.run(() => new Promise<void>((r) => (release = r)));
    const controller = new AbortController();
    const queued = vi.fn(() => Promise.resolve('late'));
    const waiting = policy.run(queued, controller.signal);

    controller.abort();
    release();
    await holding;

    await expect(waiting).rejects.toThrow();
    expect(queued).not.toHaveBeenCalled();
    expect(policy.inFlight).toBe(0);
  });

  it('does not hold a slot while waiting out a backoff', async () => {
    vi.useFakeTimers();
    const policy = createAccountPolicy({ maxConcurrent: 1 });
    const slow = failing(twilioError('rate_limited', { retryAfterMs: 10_000 }));
    const order: string[] = [];

    const a = policy.run(slow.fn).then(() => order.push('a'));
    await vi.advanceTimersByTimeAsync(0);
    const b = policy.run(() => Promise.resolve()).then(() => order.push('b'));
    await vi.advanceTimersByTimeAsync(0);

    expect(order).toEqual(['b']);
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all([a, b]);
    expect(order).toEqual(['b', 'a']);
  });
});
