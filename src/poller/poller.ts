import { EDGES } from '../samples/sample.ts';
import type { Edge } from '../samples/sample.ts';
import type { CallRegistry, TrackedCall } from '../calls/registry.ts';
import { fnv1a32 } from '../calls/shard.ts';
import type { ApplyResult, SampleStore } from '../store/sample-store.ts';
import type { TwilioClient } from '../twilio/client.ts';
import { TwilioError } from '../twilio/errors.ts';
import type { AccountPolicy } from './account-policy.ts';
import { newCursor, readQuery } from './cursor.ts';
import type { EdgeCursor, Rejection } from './cursor.ts';

/** One account as the poller sees it. */
export interface PollerAccount {
  readonly accountSid: string;
  readonly client: TwilioClient;
  readonly policy: AccountPolicy;
  /** Polls of this account in flight at most [`maxPollsPerAccount`]. */
  readonly maxPolls?: number;
}

/** The outcome of one poll of one call. */
export interface PollEvent {
  readonly accountSid: string;
  readonly callSid: string;
  readonly ok: boolean;
  readonly durationSeconds: number;
  /** How late the poll started after it was due. */
  readonly lagSeconds: number;
  /** Requests the poll made (pages, not retries). */
  readonly requests: number;
  /** Streams the poll's successful edge queries cover. */
  readonly streams: number;
  /** The first failure, when not ok. */
  readonly error?: unknown;
}

/** Receives what the poller does, for self-metrics and logs; the poller knows no exposition. */
export interface PollObserver {
  pollFinished(e: PollEvent): void;
  applied(accountSid: string, result: ApplyResult): void;
  cursorReset(accountSid: string, callSid: string): void;
  rejected(accountSid: string, callSid: string, r: Rejection): void;
  /** Twilio answered 404 for a call: it is ended rather than retried forever. */
  callNotFound(accountSid: string, callSid: string): void;
}

/** Options of the poller. */
export interface PollerOptions {
  readonly accounts: ReadonlyMap<string, PollerAccount>;
  readonly registry: CallRegistry;
  readonly store: SampleStore;
  readonly observer: PollObserver;
  /** Time between two polls of a call. */
  readonly pollIntervalMs: number;
  /** `PageSize` of metrics requests (1..1000). */
  readonly pageSize: number;
  /** Polls in flight per account at most [4 × the account's request concurrency is a good value; default 40]. */
  readonly maxPollsPerAccount?: number;
  /** Clock, epoch ms. */
  readonly now?: () => number;
  /** How long to wait before asking again for a call type Twilio did not give [60 s]. */
  readonly summaryRetryMs?: number;
  /** Calls to leave alone now, such as calls whose samples arrive by push [none]. */
  readonly skip?: (call: Readonly<TrackedCall>, nowMs: number) => boolean;
}

// Edges with data per Summary `call_type` (reference §2); `trunking` does not say which way, so both.
const EDGES_BY_SUMMARY_TYPE: Readonly<Record<string, readonly Edge[]>> = {
  carrier: ['carrier_edge'],
  sip: ['sip_edge'],
  client: ['sdk_edge', 'client_edge'],
  trunking: ['carrier_edge', 'sip_edge'],
};
const ALL_EDGES: readonly Edge[] = EDGES.filter((e) => e !== 'unknown_edge');

interface PollState {
  readonly call: Readonly<TrackedCall>;
  readonly cursors: Map<Edge, EdgeCursor>;
  edges: readonly Edge[] | null;
  summaryRetryAtMs: number;
  dueMs: number;
  firstPoll: boolean;
  readonly phaseMs: number;
  running: Promise<void> | null;
}

// 404, or 403 for this call's data (another account's call, Advanced Features off when it ran).
function isMetricsNotFound(err: unknown): boolean {
  if (!(err instanceof TwilioError) || err.endpoint !== 'metrics') return false;
  return err.code === 'not_found' || (err.code === 'auth' && err.status === 403);
}

// A stable spread of calls over the interval, so polls do not all fire together.
function phaseFraction(callSid: string): number {
  return fnv1a32(callSid) / 0x1_0000_0000;
}

/**
 * Polls every tracked call once per interval, spread over the interval, never overlapping a call's
 * previous poll, within each account's concurrency limit; one call's failure never touches another.
 */
export class Poller {
  readonly #o: PollerOptions;
  readonly #now: () => number;
  readonly #states = new Map<string, PollState>();
  readonly #inFlightByAccount = new Map<string, number>();
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** Creates a poller and subscribes it to the registry. */
  constructor(options: PollerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    options.registry.addListener({
      onTracked: (call) => this.#add(call),
      onRemoved: (call) => {
        this.#states.delete(call.callSid);
      },
    });
    for (const call of options.registry.calls()) this.#add(call);
  }

  #add(call: Readonly<TrackedCall>): void {
    if (this.#states.has(call.callSid)) return;
    const now = this.#now();
    const frac = phaseFraction(call.callSid);
    this.#states.set(call.callSid, {
      call,
      cursors: new Map(),
      edges: null,
      summaryRetryAtMs: 0,
      // The first poll comes quickly (a newly seen call should show up within a second or so);
      // later polls keep a per-call phase spread over the whole interval.
      dueMs: now + frac * Math.min(this.#o.pollIntervalMs, 1000),
      firstPoll: true,
      phaseMs: frac * this.#o.pollIntervalMs,
      running: null,
    });
  }

  /** Starts the scheduling loop. */
  start(): void {
    if (this.#timer || this.#stopped) return;
    const tickMs = Math.min(250, Math.max(20, this.#o.pollIntervalMs / 20));
    const loop = (): void => {
      if (this.#stopped) return;
      this.#tick();
      this.#timer = setTimeout(loop, tickMs);
    };
    loop();
  }

  /** Stops scheduling, aborts in-flight polls and waits for them to settle. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#abort.abort();
    await Promise.allSettled([...this.#states.values()].map((s) => s.running).filter((p) => p !== null));
  }

  /** Polls one call now (tests and admin); resolves when the poll is done. */
  async pollNow(callSid: string): Promise<void> {
    const state = this.#states.get(callSid);
    if (!state) return;
    // A loop, not an if: several waiters wake together and only the first may start the next poll.
    while (state.running) await state.running;
    if (this.#states.get(callSid) !== state) return;
    await this.#start(state, this.#now());
  }

  /** Calls with a poll in flight. */
  get inFlight(): number {
    let n = 0;
    for (const v of this.#inFlightByAccount.values()) n += v;
    return n;
  }

  #tick(): void {
    const now = this.#now();
    const fallback = this.#o.maxPollsPerAccount ?? 40;
    for (const state of this.#states.values()) {
      if (state.running || now < state.dueMs) continue;
      if (!this.#o.registry.isPollable(state.call, now)) continue;
      if (this.#o.skip?.(state.call, now)) continue;
      const maxPolls = this.#o.accounts.get(state.call.accountSid)?.maxPolls ?? fallback;
      if ((this.#inFlightByAccount.get(state.call.accountSid) ?? 0) >= maxPolls) continue;
      // #poll reports every failure itself; nothing may escape as an unhandled rejection.
      this.#start(state, now).catch(() => undefined);
    }
  }

  #start(state: PollState, now: number): Promise<void> {
    const lagMs = Math.max(0, now - state.dueMs);
    const interval = this.#o.pollIntervalMs;
    if (state.firstPoll) {
      state.firstPoll = false;
      state.dueMs = state.call.trackedAtMs + state.phaseMs + interval;
    } else {
      state.dueMs += interval;
    }
    // Fell behind (overload or a long outage): skip the missed slots rather than bursting to catch up.
    if (state.dueMs <= now) state.dueMs = now + interval;
    const account = state.call.accountSid;
    this.#inFlightByAccount.set(account, (this.#inFlightByAccount.get(account) ?? 0) + 1);
    const run = this.#poll(state, lagMs).finally(() => {
      state.running = null;
      this.#inFlightByAccount.set(account, (this.#inFlightByAccount.get(account) ?? 1) - 1);
    });
    state.running = run;
    return run;
  }

  async #poll(state: PollState, lagMs: number): Promise<void> {
    const started = performance.now();
    const { callSid, accountSid } = state.call;
    const account = this.#o.accounts.get(accountSid);
    const signal = this.#abort.signal;
    let requests = 0;
    let streams = 0;
    let error: unknown;
    let callGone = false;
    if (!account) {
      error = new Error(`account ${accountSid} is not configured`);
    } else {
      try {
        const edges = await this.#edges(state, account, signal);
        const reads = await Promise.allSettled(
          edges.map(async (edge) => {
            let cursor = state.cursors.get(edge);
            if (!cursor) state.cursors.set(edge, (cursor = newCursor()));
            const read = await readQuery(cursor, { callSid, edge, pageSize: this.#o.pageSize }, (req) =>
              account.policy.run((s) => account.client.fetchMetricsPage(req, s), signal),
            );
            // The cursor already tracks each stream of the query it has seen: no need to recount samples.
            return { read, streams: cursor.highWater.size };
          }),
        );
        for (const r of reads) {
          if (r.status === 'rejected') {
            error ??= r.reason;
            continue;
          }
          const { read } = r.value;
          requests += read.requests;
          streams += r.value.streams;
          if (read.reset) this.#notify(() => this.#o.observer.cursorReset(accountSid, callSid));
          for (const rej of read.rejected) this.#notify(() => this.#o.observer.rejected(accountSid, callSid, rej));
          const result = this.#o.store.apply(read.samples);
          this.#notify(() => this.#o.observer.applied(accountSid, result));
        }
        // Only a 404 on every edge ends the call: while the call type is unknown all four edges are
        // asked, and one the call does not have may well answer 404 while another has data.
        callGone = reads.length > 0 && reads.every((r) => r.status === 'rejected' && isMetricsNotFound(r.reason));
      } catch (err) {
        error ??= err;
      }
    }
    if (callGone) {
      this.#notify(() => this.#o.observer.callNotFound(accountSid, callSid));
      this.#o.registry.end(callSid);
    }
    const event: PollEvent = {
      accountSid,
      callSid,
      ok: error === undefined,
      durationSeconds: (performance.now() - started) / 1000,
      lagSeconds: lagMs / 1000,
      requests,
      streams,
      ...(error !== undefined && { error }),
    };
    this.#notify(() => this.#o.observer.pollFinished(event));
  }

  // A throwing observer is the observer's bug: it must not fail the poll, skip applying the other
  // edges' reads (their cursors have already moved on), or reject a scheduled poll and crash the process.
  #notify(report: () => void): void {
    try {
      report();
    } catch {
      // Deliberately ignored, see above.
    }
  }

  // The call type decides which edges hold data; it comes once from the partial Call Summary. Until
  // Twilio gives it, every edge is asked explicitly so no stream is missed.
  async #edges(state: PollState, account: PollerAccount, signal: AbortSignal): Promise<readonly Edge[]> {
    if (state.edges) return state.edges;
    const now = this.#now();
    if (now >= state.summaryRetryAtMs) {
      try {
        const summary = await account.policy.run((s) => account.client.fetchCallSummary(state.call.callSid, s), signal);
        // Own keys only: a call type such as `constructor` must not find Object.prototype's members.
        const edges =
          summary.callType && Object.hasOwn(EDGES_BY_SUMMARY_TYPE, summary.callType)
            ? EDGES_BY_SUMMARY_TYPE[summary.callType]
            : undefined;
        if (summary.callType) this.#o.store.setCallType(state.call.callSid, summary.callType);
        if (edges) {
          state.edges = edges;
          return edges;
        }
      } catch (err) {
        if (signal.aborted) throw err;
      }
      state.summaryRetryAtMs = now + (this.#o.summaryRetryMs ?? 60_000);
    }
    return ALL_EDGES;
  }
}
