/** One admitted request: how many were in flight on its account when it arrived, and its release. */
export interface ConcurrencySlot {
  /** In-flight requests of the account including this one (the `Twilio-Concurrent-Requests` value). */
  readonly inFlight: number;
  /** Ends the request's share of the account's concurrency; safe to call twice. */
  readonly release: () => void;
}

/** Counts in-flight requests per account and remembers the highest count each account reached. */
export class ConcurrencyTracker {
  readonly #inFlight = new Map<string, number>();
  readonly #peak = new Map<string, number>();

  /** Registers a request of an account; the caller releases the slot when the response is over. */
  acquire(accountSid: string): ConcurrencySlot {
    const inFlight = (this.#inFlight.get(accountSid) ?? 0) + 1;
    this.#inFlight.set(accountSid, inFlight);
    this.#peak.set(accountSid, Math.max(this.#peak.get(accountSid) ?? 0, inFlight));
    let released = false;
    return {
      inFlight,
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight.set(accountSid, (this.#inFlight.get(accountSid) ?? 1) - 1);
      },
    };
  }

  /** Requests now in flight on an account. */
  inFlight(accountSid: string): number {
    return this.#inFlight.get(accountSid) ?? 0;
  }

  /** Highest in-flight count per account since start or the last reset, including refused requests. */
  peaks(): Record<string, number> {
    return Object.fromEntries(this.#peak);
  }

  /** Forgets the peaks (requests now in flight still count toward the next peak). */
  resetPeaks(): void {
    this.#peak.clear();
    for (const [account, count] of this.#inFlight) if (count > 0) this.#peak.set(account, count);
  }
}
