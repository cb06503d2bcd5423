import { DelegateBackoff, bulkhead, handleWhen, retry } from 'cockatiel';
import type { IRetryBackoffContext } from 'cockatiel';
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
 * Builds the policy from cockatiel's retry and bulkhead. The slot is held only while a request is in
 * flight, never during a backoff, so waiting retries do not starve other calls.
 */
export function createAccountPolicy(options: AccountPolicyOptions): AccountPolicy {
  const random = options.random ?? Math.random;
  const base = options.baseDelayMs ?? 250;
  const cap = options.maxDelayMs ?? 10_000;
  const maxRetryAfter = options.maxRetryAfterMs ?? 60_000;
  const limiter = bulkhead(options.maxConcurrent, Number.POSITIVE_INFINITY);
  const backoff = new DelegateBackoff<IRetryBackoffContext<unknown>>((ctx) => {
    const err = 'error' in ctx.result ? ctx.result.error : undefined;
    if (err instanceof TwilioError && err.retryAfterMs !== undefined) return Math.min(err.retryAfterMs, maxRetryAfter);
    // Full jitter (AWS architecture blog), as twilio-node's autoRetry does.
    return Math.floor(random() * Math.min(cap, base * 2 ** ctx.attempt));
  });
  const retrying = retry(
    handleWhen((e) => e instanceof TwilioError && e.retryable),
    { maxAttempts: options.maxRetries ?? 3, backoff },
  );
  retrying.onRetry((r) => {
    if ('error' in r && r.error instanceof TwilioError) options.onRetry?.(r.error.code);
  });
  return {
    run<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
      return retrying.execute(({ signal: s }) => limiter.execute(() => fn(s)), signal);
    },
    get inFlight(): number {
      return options.maxConcurrent - limiter.executionSlots;
    },
  };
}
