import { bulkhead } from 'cockatiel';
import { TwilioError } from '../twilio/errors.ts';
import type { TwilioErrorCode } from '../twilio/errors.ts';

/** Options of one account's request policy. */
export interface AccountPolicyOptions {
  /** In-flight requests allowed to Twilio for the account (429 is about concurrency). */
  readonly maxConcurrent: number;
  /** Retries after the first attempt [3]. */
  readonly maxRetries?: number;
  /** Full-jitter base delay [250 ms]. */
  readonly baseDelayMs?: number;
  /** Full-jitter cap [10 s]. */
  readonly maxDelayMs?: number;
  /** Longest `Retry-After` honoured [60 s]: a larger value is capped so a poll cannot stall for hours. */
  readonly maxRetryAfterMs?: number;
  /** Random source in [0, 1) (tests pass a fixed one). */
  readonly random?: () => number;
  /** Called before each retry with the failure code. */
  readonly onRetry?: (code: TwilioErrorCode) => void;
}

/** Runs requests of one account within its concurrency limit, retrying retryable failures. */
export interface AccountPolicy {
  /** Runs `fn` with a concurrency slot, retrying with full-jitter backoff or `Retry-After`. */
  run<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Requests holding a slot now. */
  readonly inFlight: number;
}

/**
 * Builds the policy: a cockatiel bulkhead for the concurrency limit and a retry loop around it. The slot
 * is held only while a request is in flight, never during a backoff, so waiting retries do not starve
 * other calls; an abort ends a backoff at once, so shutdown never waits out a `Retry-After`.
 */
export function createAccountPolicy(options: AccountPolicyOptions): AccountPolicy {
  const random = options.random ?? Math.random;
  const base = options.baseDelayMs ?? 250;
  const cap = options.maxDelayMs ?? 10_000;
  const maxRetryAfter = options.maxRetryAfterMs ?? 60_000;
  const maxRetries = options.maxRetries ?? 3;
  const limiter = bulkhead(options.maxConcurrent, Number.POSITIVE_INFINITY);
  const delayFor = (err: TwilioError, attempt: number): number => {
    if (err.retryAfterMs !== undefined) return Math.min(err.retryAfterMs, maxRetryAfter);
    // Full jitter (AWS architecture blog), as twilio-node's autoRetry does.
    return Math.floor(random() * Math.min(cap, base * 2 ** attempt));
  };
  return {
    async run<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
      const s = signal ?? new AbortController().signal;
      for (let retries = 0; ; retries++) {
        try {
          // The signal also drops a request still queued for a slot when the caller gives up.
          return await limiter.execute(() => fn(s), s);
        } catch (err) {
          if (!(err instanceof TwilioError && err.retryable) || retries >= maxRetries || s.aborted) throw err;
          const delayMs = delayFor(err, retries + 1);
          options.onRetry?.(err.code);
          await sleep(delayMs, s);
          if (s.aborted) throw err;
        }
      }
    },
    get inFlight(): number {
      return options.maxConcurrent - limiter.executionSlots;
    },
  };
}

// Resolves after `ms`, or as soon as the signal aborts.
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
