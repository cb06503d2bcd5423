import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, bulkhead, circuitBreaker, handleWhen } from 'cockatiel';
import { TwilioError } from '../twilio/errors.ts';

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
  readonly onRetry?: (err: TwilioError) => void;
  /** Consecutive upstream failures (5xx, 429, timeouts, network, bad bodies) that open the circuit [10]. */
  readonly breakerThreshold?: number;
  /** How long an open circuit fails fast before one probe request may go [15 s]. */
  readonly halfOpenAfterMs?: number;
  /** After a 401, how long requests fail fast without reaching Twilio; doubles while it persists, up to 10 min [30 s]. */
  readonly authHoldMs?: number;
  /** How long a timed-out request keeps its slot: Twilio may still be working on it [0]. */
  readonly timeoutSlotHoldMs?: number;
  /** Called when the circuit opens (true) or closes again (false). */
  readonly onCircuit?: (open: boolean) => void;
  /** Called once when Twilio starts refusing the credentials (not for each fast failure after it). */
  readonly onAuthFailure?: (err: TwilioError) => void;
  /** Clock, epoch ms. */
  readonly now?: () => number;
}

/** Runs requests of one account within its concurrency limit, retrying retryable failures. */
export interface AccountPolicy {
  /** Runs `fn` with a concurrency slot, retrying with full-jitter backoff or `Retry-After`. */
  run<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Requests holding a slot now. */
  readonly inFlight: number;
  /** Forgets a credentials failure (after a reload rotated them). */
  resetAuth(): void;
}

/**
 * The open circuit's refusal, saying what opened it: the last upstream failure, also as `cause` (a log line or the
 * status page then shows what Twilio answered, not only that requests are held back).
 */
export class CircuitOpenError extends BrokenCircuitError {
  constructor(failures: number, last: unknown) {
    super(`the account's circuit is open after ${failures} upstream failures in a row; the last: ${last instanceof Error ? last.message : 'unknown'}`);
    this.name = 'CircuitOpenError';
    if (last !== undefined) this.cause = last;
  }
}

/** Whether a failure is the open circuit refusing the request: it never reached Twilio, so it says nothing new about it. */
export function isCircuitRefusal(err: unknown): boolean {
  return err instanceof BrokenCircuitError;
}

/** Whether a failure says the account cannot be reached at all: no connection, no answer in time, a server error, or an open circuit. */
export function isUnreachable(err: unknown): boolean {
  if (isCircuitRefusal(err)) return true;
  if (!(err instanceof TwilioError)) return false;
  return err.code === 'timeout' || err.code === 'network' || (err.code === 'upstream' && (err.status === undefined || err.status >= 500));
}

/** Whether a request outcome (an HTTP status or an error code, as `RequestEvent.outcome` gives it) says the account cannot be reached. */
export function isUnreachableOutcome(outcome: string): boolean {
  return outcome === 'timeout' || outcome === 'network' || /^5\d\d$/.test(outcome);
}

// Failures that say Twilio (or the way to it) is unwell, as opposed to a problem with one call.
function isUpstreamFailure(err: unknown): boolean {
  return err instanceof TwilioError && ['upstream', 'rate_limited', 'timeout', 'network', 'bad_payload'].includes(err.code);
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
  const now = options.now ?? Date.now;
  const breaker = circuitBreaker(handleWhen(isUpstreamFailure), {
    halfOpenAfter: options.halfOpenAfterMs ?? 15_000,
    breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 10),
  });
  breaker.onStateChange((state) => {
    if (state === CircuitState.Open) options.onCircuit?.(true);
    else if (state === CircuitState.Closed) options.onCircuit?.(false);
  });
  // What opened the circuit, for its refusals to say.
  let lastUpstreamFailure: unknown;
  const explainRefusal = (err: unknown): never => {
    if (err instanceof BrokenCircuitError && !(err instanceof CircuitOpenError)) throw new CircuitOpenError(options.breakerThreshold ?? 10, lastUpstreamFailure);
    throw err;
  };
  const authHold = options.authHoldMs ?? 30_000;
  let authError: TwilioError | undefined;
  let authBlockedUntil = 0;
  let authStreak = 0;
  // Bumped each time a 401 sets the hold: requests that were already in flight when it was set carry an
  // older value, and their own 401s belong to the same episode, so they must not double the hold again.
  let authEpoch = 0;
  const timeoutHold = options.timeoutSlotHoldMs ?? 0;
  // One attempt: fails fast while the credentials are known bad or the circuit is open.
  const attempt = <T>(fn: (signal: AbortSignal) => Promise<T>, s: AbortSignal): Promise<T> => {
    if (authError && now() < authBlockedUntil) return Promise.reject(authError);
    return breaker.execute(
      () =>
        limiter.execute(async () => {
          const epoch = authEpoch;
          try {
            const result = await fn(s);
            if (authError) {
              authError = undefined;
              authStreak = 0;
            }
            return result;
          } catch (err) {
            if (err instanceof TwilioError && err.code === 'auth' && err.status === 401) {
              if (!authError) options.onAuthFailure?.(err);
              authError = err;
              if (epoch === authEpoch) {
                authEpoch++;
                authBlockedUntil = now() + Math.min(600_000, authHold * 2 ** authStreak++);
              }
            } else if (err instanceof TwilioError && err.code === 'timeout' && timeoutHold > 0) {
              await sleep(timeoutHold, s);
            }
            if (isUpstreamFailure(err)) lastUpstreamFailure = err;
            throw err;
          }
        }, s),
      s,
    ).catch(explainRefusal);
  };
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
          return await attempt(fn, s);
        } catch (err) {
          if (!(err instanceof TwilioError && err.retryable) || retries >= maxRetries || s.aborted) throw err;
          const delayMs = delayFor(err, retries + 1);
          options.onRetry?.(err);
          await sleep(delayMs, s);
          if (s.aborted) throw err;
        }
      }
    },
    get inFlight(): number {
      return options.maxConcurrent - limiter.executionSlots;
    },
    resetAuth(): void {
      authEpoch++;
      authError = undefined;
      authBlockedUntil = 0;
      authStreak = 0;
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
