import type { SavedEndedCall } from '../samples/ended-call.ts';

/** Where a tracked call was announced from. */
export const CALL_SOURCES = ['config', 'discovery', 'webhook', 'admin', 'event_streams', 'state_file'] as const;
/** A call source. */
export type CallSource = (typeof CALL_SOURCES)[number];

/** Lifecycle state of a tracked call. */
export type CallLifecycle = 'active' | 'draining' | 'ended';

/** What a call announcement says about the call's parties, from which the edges with data can be guessed. */
export interface CallHints {
  /** Caller (`client:…`, `sip:…`, a number). */
  readonly from?: string | undefined;
  /** Callee. */
  readonly to?: string | undefined;
  /** Elastic SIP Trunk SID of a trunking call. */
  readonly trunkSid?: string | undefined;
}

/** A call the exporter tracks. */
export interface TrackedCall {
  readonly callSid: string;
  readonly accountSid: string;
  /** Every source that announced the call; duplicates are harmless. */
  readonly sources: Set<CallSource>;
  /** When tracking started, epoch ms. */
  readonly trackedAtMs: number;
  /** When the call was reported ended, epoch ms. */
  endedAtMs: number | undefined;
  /** Party hints of the first source that gave any (the poller reads them at each poll). */
  hints: CallHints | undefined;
}

/** Receives registry changes (the poller and the store subscribe). */
export interface RegistryListener {
  /** A call started being tracked. */
  onTracked?(call: Readonly<TrackedCall>): void;
  /** A tracked call was reported ended (it keeps being polled for the drain period). */
  onEnded?(call: Readonly<TrackedCall>): void;
  /** A call was dropped: its series must disappear. */
  onRemoved?(call: Readonly<TrackedCall>): void;
  /** A call was announced but not tracked: the cap was reached, or another shard owns it. */
  onRefused?(callSid: string, source: CallSource, reason: 'max_calls' | 'not_owned'): void;
}

/** Options of the registry. */
export interface CallRegistryOptions {
  /** Cap on tracked calls; above it new calls are refused and counted. */
  readonly maxCalls: number;
  /** How long an ended call keeps being polled for late samples. */
  readonly drainPeriodMs: number;
  /** How long an ended call's series stay after it ended. */
  readonly retentionMs: number;
  /** Which calls this replica owns (sharding); all by default. */
  readonly owns?: (callSid: string) => boolean;
  /** Clock, epoch ms. */
  readonly now?: () => number;
  /** Called once per call refused because the cap is reached (not per re-announcement of that call). */
  readonly onRefused?: (source: CallSource) => void;
  /** How many refused Call SIDs are remembered so re-announcements are not counted again [10000]. */
  readonly refusedMemory?: number;
  /** How many ended calls that are not tracked are remembered per account, so a late announcement finds them ended [max(10000, maxCalls)]. */
  readonly endedMemory?: number;
  /** How long such an ended call is remembered [4 h: Twilio's Event Streams retry horizon]. */
  readonly endedMemoryMs?: number;
}

/** How long an ended, untracked call is remembered by default: Event Streams retries a delivery for up to 4 hours. */
export const ENDED_MEMORY_MS = 4 * 3600_000;

/** An ended call the registry does not track: when it ended, and since when it is remembered (for the horizon). */
interface EndedCall {
  readonly endedAtMs: number;
  readonly rememberedAtMs: number;
}

/** The outcome of announcing a call. */
export type TrackResult = 'tracked' | 'known' | 'refused' | 'not_owned' | 'ended' | 'other_account';

/**
 * The set of calls to poll, merged from every source, with the lifecycle
 * active → draining (ended, still polled) → ended (series kept) → removed.
 *
 * Ended calls it no longer tracks (removed after retention, or reported ended before any source announced them)
 * are remembered per (account, call) for {@link ENDED_MEMORY_MS}, at most `endedMemory` of them per account: Twilio delivers
 * late and out of order, and a call announced again while remembered is tracked ended at its remembered end time
 * (its samples still apply once; it is not active, not polled past the drain period, and removed after retention).
 */
export class CallRegistry {
  readonly #calls = new Map<string, TrackedCall>();
  readonly #listeners: RegistryListener[] = [];
  readonly #options: CallRegistryOptions;
  readonly #now: () => number;
  // Insertion-ordered, so the oldest refusal is forgotten first when the memory is full.
  readonly #refused = new Set<string>();
  // Per account, then by call, insertion-ordered by `rememberedAtMs`, so the oldest are forgotten first. Per account:
  // a call one account reports ended is never found ended when another account announces it, and one account's many
  // ends never push another account's out (each account has its own cap).
  readonly #ended = new Map<string, Map<string, EndedCall>>();
  readonly #endedMemory: number;
  readonly #endedMemoryMs: number;
  #endedChanges = 0;

  /** Creates an empty registry. */
  constructor(options: CallRegistryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#endedMemory = options.endedMemory ?? Math.max(10_000, options.maxCalls);
    this.#endedMemoryMs = options.endedMemoryMs ?? ENDED_MEMORY_MS;
  }

  /** Subscribes to changes. */
  addListener(listener: RegistryListener): void {
    this.#listeners.push(listener);
  }

  /** Whether this replica owns the call (sharding); always true unsharded. */
  owns(callSid: string): boolean {
    return this.#options.owns === undefined || this.#options.owns(callSid);
  }

  /**
   * Announces an in-progress call; idempotent across sources. A call remembered as ended for this account is
   * tracked ended at its remembered end time ('ended'), whatever the source says.
   */
  track(callSid: string, accountSid: string, source: CallSource, hints?: CallHints): TrackResult {
    if (this.#options.owns && !this.#options.owns(callSid)) {
      for (const l of this.#listeners) l.onRefused?.(callSid, source, 'not_owned');
      return 'not_owned';
    }
    const known = this.#calls.get(callSid);
    if (known) {
      // Tracked for one account: another naming it neither moves it nor joins its sources.
      if (known.accountSid !== accountSid) return 'other_account';
      known.sources.add(source);
      known.hints ??= hints;
      return known.endedAtMs === undefined ? 'known' : 'ended';
    }
    if (this.#calls.size >= this.#options.maxCalls) {
      this.#refuse(callSid, source);
      return 'refused';
    }
    this.#refused.delete(callSid);
    const ended = this.#rememberedEnd(callSid, accountSid);
    const call: TrackedCall = { callSid, accountSid, sources: new Set([source]), trackedAtMs: this.#now(), endedAtMs: ended?.endedAtMs, hints };
    // Tracked now: remembered again when it is removed.
    if (ended) this.#ended.get(accountSid)?.delete(callSid);
    this.#calls.set(callSid, call);
    for (const l of this.#listeners) l.onTracked?.(call);
    return ended ? 'ended' : 'tracked';
  }

  #rememberedEnd(callSid: string, accountSid: string): EndedCall | undefined {
    const mine = this.#ended.get(accountSid);
    if (mine === undefined || mine.size === 0) return undefined;
    this.#expireEnded(mine, this.#now());
    return mine.get(callSid);
  }

  // A call reported ended again keeps its first end time (and its place in the memory's order).
  #rememberEnded(callSid: string, accountSid: string, endedAtMs: number): void {
    let mine = this.#ended.get(accountSid);
    if (mine === undefined) this.#ended.set(accountSid, (mine = new Map<string, EndedCall>()));
    if (mine.has(callSid)) return;
    const now = this.#now();
    mine.set(callSid, { endedAtMs, rememberedAtMs: now });
    this.#endedChanges++;
    this.#expireEnded(mine, now);
  }

  #expireEnded(mine: Map<string, EndedCall>, nowMs: number): void {
    for (const [callSid, e] of mine) {
      if (mine.size <= this.#endedMemory && nowMs - e.rememberedAtMs < this.#endedMemoryMs) break;
      mine.delete(callSid);
    }
  }

  /**
   * Every call known to have ended, for the state file: tracked ended calls (remembered from now, as they would be
   * once removed) and the remembered ones, each with its first end time.
   */
  *endedCalls(): IterableIterator<SavedEndedCall> {
    const now = this.#now();
    for (const call of this.#calls.values()) {
      if (call.endedAtMs !== undefined) yield { callSid: call.callSid, accountSid: call.accountSid, endedAtMs: call.endedAtMs, rememberedAtMs: now };
    }
    for (const [accountSid, mine] of this.#ended) {
      this.#expireEnded(mine, now);
      for (const [callSid, e] of mine) yield { callSid, accountSid, endedAtMs: e.endedAtMs, rememberedAtMs: e.rememberedAtMs };
    }
  }

  /**
   * Remembers ended calls saved by an earlier run (the state file), so a late sample or a source announcing one
   * again after a restart finds it ended, as it would have before. Each keeps the time it was first remembered: a
   * restart does not stretch the memory's horizon. Tracked calls and calls already remembered are left alone, and
   * the per-account cap and horizon apply; returns how many ended calls are remembered now.
   */
  restoreEnded(saved: Iterable<SavedEndedCall>): number {
    const now = this.#now();
    const byAge = [...saved].sort((a, b) => a.rememberedAtMs - b.rememberedAtMs);
    const touched = new Set<Map<string, EndedCall>>();
    for (const e of byAge) {
      if (this.#calls.has(e.callSid) || now - e.rememberedAtMs >= this.#endedMemoryMs) continue;
      let mine = this.#ended.get(e.accountSid);
      if (mine === undefined) this.#ended.set(e.accountSid, (mine = new Map<string, EndedCall>()));
      if (mine.has(e.callSid)) continue;
      // Times past the clock (a hand-edited file, a clock that ran ahead) are now: an end in the future would keep
      // the call draining, and polled, until then.
      mine.set(e.callSid, { endedAtMs: Math.min(e.endedAtMs, now), rememberedAtMs: Math.min(e.rememberedAtMs, now) });
      touched.add(mine);
    }
    for (const mine of touched) this.#expireEnded(mine, now);
    return this.rememberedEnded;
  }

  /** Grows with every call reported ended or remembered as ended: the state file saves the ended calls when it moves. */
  get endedChanges(): number {
    return this.#endedChanges;
  }

  /** Most ended calls remembered per account (the memory's cap). */
  get endedMemory(): number {
    return this.#endedMemory;
  }

  /** How many ended calls that are not tracked are remembered, all accounts (each bounded by `endedMemory`). */
  get rememberedEnded(): number {
    let n = 0;
    for (const mine of this.#ended.values()) n += mine.size;
    return n;
  }

  // Discovery and callbacks announce a refused call again every run; the refusal counts calls, not announcements.
  #refuse(callSid: string, source: CallSource): void {
    for (const l of this.#listeners) l.onRefused?.(callSid, source, 'max_calls');
    if (this.#refused.has(callSid)) return;
    this.#refused.add(callSid);
    if (this.#refused.size > (this.#options.refusedMemory ?? 10_000)) {
      const oldest = this.#refused.values().next();
      if (oldest.done !== true) this.#refused.delete(oldest.value);
    }
    this.#options.onRefused?.(source);
  }

  /**
   * Reports a call ended; it is drained, then removed after the retention period. True when a tracked call ended
   * now. With `accountSid` (the account a signed callback or delivery proved), a call this replica owns but does
   * not track yet is remembered as ended for that account, so its later announcement does not make it active.
   */
  end(callSid: string, accountSid?: string): boolean {
    const call = this.#calls.get(callSid);
    if (!call) {
      if (accountSid !== undefined && this.owns(callSid)) this.#rememberEnded(callSid, accountSid, this.#now());
      return false;
    }
    if (call.endedAtMs !== undefined || (accountSid !== undefined && call.accountSid !== accountSid)) return false;
    call.endedAtMs = this.#now();
    this.#endedChanges++;
    for (const l of this.#listeners) l.onEnded?.(call);
    return true;
  }

  /**
   * Whether the call is tracked for an account other than `accountSid`. A signed callback or delivery proves its
   * account, not the call: such a call is not the signer's to feed, end or relabel.
   */
  trackedForAnother(callSid: string, accountSid: string): boolean {
    const known = this.#calls.get(callSid);
    return known !== undefined && known.accountSid !== accountSid;
  }

  /**
   * Drops a call at once (admin DELETE, or the sweep after retention); its series disappear now. An ended call is
   * remembered as ended; an active one is not (announced again, it is active again).
   */
  remove(callSid: string): boolean {
    const call = this.#calls.get(callSid);
    if (!call) return false;
    this.#calls.delete(callSid);
    if (call.endedAtMs !== undefined) this.#rememberEnded(callSid, call.accountSid, call.endedAtMs);
    for (const l of this.#listeners) l.onRemoved?.(call);
    return true;
  }

  /** The call, if tracked. */
  get(callSid: string): Readonly<TrackedCall> | undefined {
    return this.#calls.get(callSid);
  }

  /** Every tracked call. */
  calls(): IterableIterator<Readonly<TrackedCall>> {
    return this.#calls.values();
  }

  /** Number of tracked calls, in any state. */
  get size(): number {
    return this.#calls.size;
  }

  /** The lifecycle state of a call at a time. */
  lifecycle(call: Readonly<TrackedCall>, nowMs = this.#now()): CallLifecycle {
    if (call.endedAtMs === undefined) return 'active';
    return nowMs < call.endedAtMs + this.#options.drainPeriodMs ? 'draining' : 'ended';
  }

  /** Whether a call should still be polled. */
  isPollable(call: Readonly<TrackedCall>, nowMs = this.#now()): boolean {
    return this.lifecycle(call, nowMs) !== 'ended';
  }

  /** Active calls per account. */
  activeByAccount(): Map<string, number> {
    const out = new Map<string, number>();
    for (const call of this.#calls.values()) {
      if (call.endedAtMs === undefined) out.set(call.accountSid, (out.get(call.accountSid) ?? 0) + 1);
    }
    return out;
  }

  /** Counts per (account, lifecycle state). */
  countByState(nowMs = this.#now()): Map<string, Map<CallLifecycle, number>> {
    const out = new Map<string, Map<CallLifecycle, number>>();
    for (const call of this.#calls.values()) {
      let m = out.get(call.accountSid);
      if (!m) out.set(call.accountSid, (m = new Map<CallLifecycle, number>()));
      const s = this.lifecycle(call, nowMs);
      m.set(s, (m.get(s) ?? 0) + 1);
    }
    return out;
  }

  /** Removes calls whose retention has passed, and forgets ended calls past the memory horizon; returns how many calls it removed. */
  sweep(nowMs = this.#now()): number {
    for (const mine of this.#ended.values()) this.#expireEnded(mine, nowMs);
    let removed = 0;
    for (const call of this.#calls.values()) {
      if (call.endedAtMs !== undefined && nowMs >= call.endedAtMs + this.#options.retentionMs) {
        this.remove(call.callSid);
        removed++;
      }
    }
    return removed;
  }
}
