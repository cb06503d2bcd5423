/** Options of the push tracker. */
export interface PushTrackerOptions {
  /** Clock, epoch ms. */
  readonly now?: () => number;
}

/**
 * When each call last had a sample pushed: hybrid mode polls a call only once its pushes stop for longer
 * than the gap. Entries leave with their call (`forget`), so memory follows the registry's cap.
 */
export class PushTracker {
  readonly #lastPushMs = new Map<string, number>();
  readonly #now: () => number;

  /** Creates an empty tracker. */
  constructor(options: PushTrackerOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Records that samples of these calls arrived by push now (one clock read for a delivery). */
  pushedAll(samples: Iterable<{ readonly callSid: string }>): void {
    const now = this.#now();
    for (const s of samples) this.#lastPushMs.set(s.callSid, now);
  }

  /** When the call's last sample arrived by push, epoch ms, or undefined when none did. */
  lastPushMs(callSid: string): number | undefined {
    return this.#lastPushMs.get(callSid);
  }

  /** Drops a call (it left the registry). */
  forget(callSid: string): void {
    this.#lastPushMs.delete(callSid);
  }
}
