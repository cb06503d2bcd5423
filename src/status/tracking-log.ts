import type { CallSource, RegistryListener, TrackedCall } from '../calls/registry.ts';

/** Why a call is not (or no longer) tracked. */
export type UntrackedReason = 'max_calls' | 'not_owned' | 'removed';

/** The last word the registry said about a call it does not hold. */
export interface UntrackedCall {
  readonly reason: UntrackedReason;
  /** When it was refused or removed, epoch ms. */
  readonly atMs: number;
  /** The source that announced it (refusals). */
  readonly source?: CallSource;
  /** When it ended (removed calls). */
  readonly endedAtMs?: number;
}

/**
 * Remembers, for the status page, the latest calls the registry refused (max_calls, another shard's) or
 * removed, at most `limit` of them (oldest forgotten first).
 */
export class TrackingLog implements RegistryListener {
  readonly #limit: number;
  readonly #now: () => number;
  readonly #calls = new Map<string, UntrackedCall>();

  /** Keeps `limit` calls [1000]. */
  constructor(now: () => number, limit = 1000) {
    this.#now = now;
    this.#limit = limit;
  }

  #remember(callSid: string, entry: UntrackedCall): void {
    this.#calls.delete(callSid);
    this.#calls.set(callSid, entry);
    if (this.#calls.size > this.#limit) this.#calls.delete(this.#calls.keys().next().value!);
  }

  /** A call was announced but not tracked. */
  onRefused(callSid: string, source: CallSource, reason: 'max_calls' | 'not_owned'): void {
    this.#remember(callSid, { reason, atMs: this.#now(), source });
  }

  /** A tracked call was removed. */
  onRemoved(call: Readonly<TrackedCall>): void {
    this.#remember(call.callSid, { reason: 'removed', atMs: this.#now(), ...(call.endedAtMs !== undefined && { endedAtMs: call.endedAtMs }) });
  }

  /** A call tracked again is no longer "untracked". */
  onTracked(call: Readonly<TrackedCall>): void {
    this.#calls.delete(call.callSid);
  }

  /** Why a call the registry does not hold is untracked, if it was seen. */
  get(callSid: string): UntrackedCall | undefined {
    return this.#calls.get(callSid);
  }
}
