/** A run of consecutive failures of one thing (a call's polls, an account's listings). */
export interface FailureEpisode {
  /** Failures so far. */
  failures: number;
  /** When the first of them happened, epoch ms. */
  readonly sinceMs: number;
}

/**
 * Tracks failure episodes per key, so that a failure is logged when an episode starts and once more,
 * with its count, when it ends, instead of once per attempt (an outage otherwise floods the log).
 */
export class FailureEpisodes {
  readonly #open = new Map<string, FailureEpisode>();
  readonly #now: () => number;

  /** Creates an empty tracker reading time from `now` [Date.now]. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Records a failure; true when it starts a new episode, which is the one to log. */
  failed(key: string): boolean {
    const open = this.#open.get(key);
    if (open) {
      open.failures++;
      return false;
    }
    this.#open.set(key, { failures: 1, sinceMs: this.#now() });
    return true;
  }

  /** Records a success; returns the episode it ends, if one was open. */
  succeeded(key: string): FailureEpisode | undefined {
    const open = this.#open.get(key);
    if (open) this.#open.delete(key);
    return open;
  }

  /** Forgets a key whose subject is gone (a removed call), so the tracker never outgrows what is tracked. */
  forget(key: string): void {
    this.#open.delete(key);
  }
}
