import type { Edge } from '../samples/sample.ts';
import type { CallRegistry, TrackedCall } from '../calls/registry.ts';
import { fnv1a32 } from '../calls/shard.ts';
import type { ApplyResult, SampleStore } from '../store/sample-store.ts';
import type { CallSummary, TwilioClient } from '../twilio/client.ts';
import { TwilioError } from '../twilio/errors.ts';
import type { AccountPolicy } from './account-policy.ts';
import { EdgePlan, edgesFromHints, edgesOfSummaryType } from './edge-plan.ts';
import { endCheckDue, summarySaysEnded } from './end-check.ts';
import { DEFAULT_MAX_LATENESS_MS, DESC_LOOKBACK_MS, newCursor, readQuery } from './cursor.ts';
import type { EdgeCursor, PagingStop, Rejection } from './cursor.ts';
import { readBudget } from './read-budget.ts';
import type { ReadBudget } from './read-budget.ts';

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
  /** A read of one edge query stopped before its last page (budget, refused origin, failed page); what it read is kept. */
  pagingStopped?(accountSid: string, callSid: string, stop: PagingStop): void;
  /** The Call Summary of a silent call says it ended: the call is ended. */
  endedBySummary?(accountSid: string, callSid: string, summary: CallSummary): void;
}

/** How one call is polled, for display. */
export interface PollDescription {
  /** Whether the edges with data are known (from the data itself; until then `edges` are the expected ones). */
  readonly edgesKnown: boolean;
  readonly edges: readonly Edge[];
  /** When the next poll is due, epoch ms. */
  readonly dueMs: number;
  readonly running: boolean;
  readonly cursors: ReadonlyArray<{ edge: Edge; order: string; resumable: boolean; streams: number; newestMs: number | undefined }>;
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
  /** Samples published up to this long after newer ones of their stream are still read [10 min]. */
  readonly maxSampleLatenessMs?: number;
  /** How long to wait before asking again for a call type Twilio did not give; doubles per miss, up to 16× [60 s]. */
  readonly summaryRetryMs?: number;
  /** How far ahead of the clock a sample may be dated before it is rejected as `future_timestamp` [5 min]. */
  readonly maxClockSkewMs?: number;
  /** Calls to leave alone now, such as calls whose samples arrive by push [none]. */
  readonly skip?: (call: Readonly<TrackedCall>, nowMs: number) => boolean;
  /**
   * How long an active call may go without a new sample before a poll asks its Call Summary whether it ended, then
   * at most once per this long; 0 never asks [0]. Nothing else ends a call listed by hand whose end no source reports.
   */
  readonly endCheckAfterMs?: number;
}

// The Summary is asked again at most this many base retry intervals apart.
const MAX_SUMMARY_BACKOFF = 16;

interface PollState {
  readonly call: Readonly<TrackedCall>;
  readonly cursors: Map<Edge, EdgeCursor>;
  /** Which edges to ask on each poll (learned from hints and from the data itself). */
  readonly plan: EdgePlan;
  /** The Summary gave a call type: it is not asked again. */
  summaryKnown: boolean;
  summaryMisses: number;
  summaryRetryAtMs: number;
  dueMs: number;
  firstPoll: boolean;
  readonly phaseMs: number;
  running: Promise<void> | null;
  /** Twilio answered 404 on every edge: the call is ended and never asked again. */
  gone: boolean;
  /** The last poll of the ended call read back the whole lateness window. */
  readBackDone: boolean;
  /** The Summary is not asked whether the call ended before this time, epoch ms. */
  endCheckAtMs: number;
  /** What the Summary answered this poll (null: the request failed), so a poll asks it at most once. */
  summaryThisPoll: CallSummary | null | undefined;
}

/**
 * How long a call whose metrics answer 404 on every edge asked is still polled before it is ended: Twilio publishes
 * samples about 90 s late and may answer 404 until the first one is (not documented), so twice that.
 */
export const NOT_FOUND_GRACE_MS = 3 * 60_000;

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
  // Enough pages per poll for every record the cursor reads back plus one interval's worth, and no more.
  readonly #budget: ReadBudget;

  /** Creates a poller and subscribes it to the registry. */
  constructor(options: PollerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    // Enough for the read-back of a late sample (1.5 × max_sample_lateness) plus one interval, in either order.
    const lookbackMs = Math.max(DESC_LOOKBACK_MS, 1.5 * (options.maxSampleLatenessMs ?? DEFAULT_MAX_LATENESS_MS));
    this.#budget = readBudget(options.pageSize, lookbackMs + options.pollIntervalMs);
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
      plan: new EdgePlan(),
      summaryKnown: false,
      summaryMisses: 0,
      summaryRetryAtMs: 0,
      // The first poll comes quickly (a newly seen call should show up within a second or so);
      // later polls keep a per-call phase spread over the whole interval.
      dueMs: now + frac * Math.min(this.#o.pollIntervalMs, 1000),
      firstPoll: true,
      phaseMs: frac * this.#o.pollIntervalMs,
      running: null,
      gone: false,
      readBackDone: false,
      endCheckAtMs: 0,
      summaryThisPoll: undefined,
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
    if (this.#states.get(callSid) !== state || state.gone) return;
    await this.#start(state, this.#now());
  }

  /** How a call is being polled (status page): edges asked, cursors, next due time; undefined when it is not. */
  describe(callSid: string): PollDescription | undefined {
    const s = this.#states.get(callSid);
    if (!s) return undefined;
    const data = s.plan.dataEdges();
    return {
      edgesKnown: data.length > 0,
      edges: data.length > 0 ? data : s.plan.expectedEdges(),
      dueMs: s.dueMs,
      running: s.running !== null,
      cursors: [...s.cursors].map(([edge, c]) => ({
        edge,
        order: c.order,
        resumable: c.resumeUrl !== null,
        streams: c.highWater.size,
        newestMs: c.highWater.size === 0 ? undefined : Math.max(...c.highWater.values()),
      })),
    };
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
      if (state.running || state.gone || now < state.dueMs) continue;
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
        state.summaryThisPoll = undefined;
        // The read-back follows data time, which stops with the call: the last poll of an ended call reaches back
        // the whole lateness window once, for samples published late in its last minutes, and asks once more an edge
        // that may have started after its last probe (a trunking call's SIP leg).
        const readBack = !state.readBackDone && state.call.endedAtMs !== undefined && !this.#o.registry.isPollable(state.call, this.#now() + this.#o.pollIntervalMs);
        if (readBack) {
          state.readBackDone = true;
          state.plan.lastPoll();
        }
        const edges = await this.#edges(state, account, signal);
        const reads = await Promise.allSettled(
          edges.map(async (edge) => {
            let cursor = state.cursors.get(edge);
            if (!cursor) state.cursors.set(edge, (cursor = newCursor()));
            const read = await readQuery(
              cursor,
              { callSid, edge, pageSize: this.#o.pageSize },
              (req, limits) => account.policy.run((s) => account.client.fetchMetricsPage(req, s, limits), signal),
              {
                accountSid,
                notAfterMs: this.#now() + (this.#o.maxClockSkewMs ?? 300_000),
                budget: this.#budget,
                ...(this.#o.maxSampleLatenessMs !== undefined && { maxLatenessMs: this.#o.maxSampleLatenessMs }),
                readBack,
              },
            );
            // The cursor already tracks each stream of the query it has seen: no need to recount samples.
            return { read, streams: cursor.highWater.size };
          }),
        );
        reads.forEach((r, i) => {
          const outcome = r.status === 'rejected' ? 'failed' : r.value.streams > 0 ? 'data' : 'empty';
          state.plan.report(edges[i]!, outcome);
        });
        for (const r of reads) {
          if (r.status === 'rejected') {
            error ??= r.reason;
            continue;
          }
          const { read } = r.value;
          requests += read.requests;
          streams += r.value.streams;
          if (read.reset) this.#notify(() => this.#o.observer.cursorReset(accountSid, callSid));
          const stop = read.stopped;
          if (stop) {
            this.#notify(() => this.#o.observer.pagingStopped?.(accountSid, callSid, stop));
            // The budget is a normal stop; a refused or failed page leaves the poll incomplete.
            if (stop.error !== undefined) error ??= stop.error;
          }
          for (const rej of read.rejected) this.#notify(() => this.#o.observer.rejected(accountSid, callSid, rej));
          const result = this.#o.store.apply(read.samples);
          this.#notify(() => this.#o.observer.applied(accountSid, result));
        }
        // Only a 404 on every edge asked ends the call: while the data edges are unknown several edges are
        // asked, and one the call does not have may well answer 404 while another has data.
        // Twilio may answer 404 before a call's first samples are published (undocumented): only a 404 that outlasts
        // the grace since the call was tracked ends it, and never once an edge has had data. Nor while discovery
        // still lists the call in progress: the call is live and Twilio's lag only "typical", and an ended call is
        // remembered as ended, so ending it here would lose it whole.
        callGone =
          reads.length > 0 &&
          reads.every((r) => r.status === 'rejected' && isMetricsNotFound(r.reason)) &&
          state.plan.dataEdges().length === 0 &&
          this.#now() - state.call.trackedAtMs >= NOT_FOUND_GRACE_MS &&
          !(state.call.endedAtMs === undefined && state.call.sources.has('discovery'));
        if (!callGone) await this.#endCheck(state, account, signal);
      } catch (err) {
        error ??= err;
      }
    }
    // A poll the stop cut short (in flight, waiting out a Retry-After or still queued for a slot) did not fail.
    if (error !== undefined && signal.aborted && !(error instanceof TwilioError && error.code === 'aborted')) {
      error = new TwilioError({ code: 'aborted', endpoint: 'metrics', detail: 'the exporter is stopping', cause: error });
    }
    if (callGone) {
      state.gone = true;
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

  // A call no source reports ended (listed by hand, or its final status callback lost) would be polled for as long as
  // Twilio serves its metrics, days: once its samples stop for `endCheckAfterMs`, its Summary is asked whether it
  // ended, at most once per that long. A call with steady samples is never asked. Only a Summary that says so ends
  // the call: not served yet (404), not final, or failed, the call goes on being polled.
  async #endCheck(state: PollState, account: PollerAccount, signal: AbortSignal): Promise<void> {
    const { call } = state;
    const now = this.#now();
    const lastSampleMs = this.#o.store.get(call.callSid)?.lastAppliedAtMs ?? call.trackedAtMs;
    // A call tracked again from the state file may have ended while the exporter was down, which no source says any
    // more: its first poll asks at once (one Summary request per such call and restart).
    const restored = call.sources.has('state_file') && state.endCheckAtMs === 0 && (this.#o.endCheckAfterMs ?? 0) > 0;
    if (call.endedAtMs !== undefined || !(restored || endCheckDue({ nowMs: now, afterMs: this.#o.endCheckAfterMs ?? 0, lastSampleMs, nextCheckMs: state.endCheckAtMs }))) return;
    state.endCheckAtMs = now + (this.#o.endCheckAfterMs ?? 0);
    // The edge hint may have asked it this very poll: one request serves both.
    let summary = state.summaryThisPoll;
    if (summary === undefined) {
      try {
        summary = await account.policy.run((s) => account.client.fetchCallSummary(call.callSid, s), signal);
      } catch (err) {
        if (signal.aborted) throw err;
        summary = null;
      }
      state.summaryThisPoll = summary;
      // The answer serves the edge hint too, which would otherwise ask again at its own next time.
      if (!state.summaryKnown && state.plan.dataEdges().length === 0) this.#learnEdges(state, summary, now);
    }
    // Twilio may serve a call's Summary only after the call: the type it names outranks the edges seen with data.
    if (summary?.callType) this.#o.store.setCallType(call.callSid, call.accountSid, summary.callType);
    if (summary === null || !summarySaysEnded(summary) || !this.#o.registry.end(call.callSid, call.accountSid)) return;
    this.#notify(() => this.#o.observer.endedBySummary?.(call.accountSid, call.callSid, summary));
  }

  // Which edges to ask this poll: the plan learns them from the data; the call's parties and the partial
  // Call Summary (when Twilio serves one; it may not before the call ends) are hints that narrow its first guess.
  async #edges(state: PollState, account: PollerAccount, signal: AbortSignal): Promise<readonly Edge[]> {
    const parties = edgesFromHints(state.call.hints);
    if (parties) state.plan.expect(parties, 'parties');
    const now = this.#now();
    // Once the data has shown the edges, the Summary could only confirm them: it is not asked any more.
    if (!state.summaryKnown && state.plan.dataEdges().length === 0 && now >= state.summaryRetryAtMs) {
      let summary: CallSummary | null;
      try {
        summary = await account.policy.run((s) => account.client.fetchCallSummary(state.call.callSid, s), signal);
      } catch (err) {
        if (signal.aborted) throw err;
        summary = null;
      }
      state.summaryThisPoll = summary;
      this.#learnEdges(state, summary, now);
    }
    return state.plan.begin();
  }

  // What a Summary answer (null: not served or failed), asked for the hint or the end check, says of the call's edges:
  // the edges of the type it names, or else the next time the hint may ask, later after each miss.
  #learnEdges(state: PollState, summary: CallSummary | null, now: number): void {
    const edges = edgesOfSummaryType(summary?.callType);
    if (summary?.callType) this.#o.store.setCallType(state.call.callSid, state.call.accountSid, summary.callType);
    if (edges) {
      state.plan.expect(edges, 'summary');
      state.summaryKnown = true;
      return;
    }
    const backoff = Math.min(2 ** state.summaryMisses, MAX_SUMMARY_BACKOFF);
    state.summaryMisses += 1;
    state.summaryRetryAtMs = now + (this.#o.summaryRetryMs ?? 60_000) * backoff;
  }
}
