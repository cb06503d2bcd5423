import type { CallLifecycle, CallRegistry, TrackedCall } from '../../calls/registry.ts';
import type { PollDescription } from '../../poller/poller.ts';
import type { CallQualityTracker } from '../../quality/call-quality.ts';
import { ISSUES } from '../../quality/thresholds.ts';
import type { Issue, ThresholdRule } from '../../quality/thresholds.ts';
import { ISSUE_BIT, issuesOf } from '../../quality/verdicts.ts';
import type { Direction, Edge } from '../../samples/sample.ts';
import type { AccountView } from '../../status/account-activity.ts';
import type { PollLog } from '../../status/poll-log.ts';
import type { SampleHistory } from '../../status/sample-history.ts';
import type { TrackingLog } from '../../status/tracking-log.ts';
import type { SampleStore } from '../../store/sample-store.ts';

/** An account as the status page lists it. */
export interface AccountRow extends AccountView {
  readonly name: string;
  /** A reload changed the accounts, which takes a restart: `added` is not polled yet, `removed` still is. */
  readonly pending?: 'added' | 'removed';
  /** Requests in flight now, against `maxConcurrent`. */
  readonly inFlight: number;
  readonly maxConcurrent: number;
}

/** Everything the status page reads; it never calls Twilio. */
export interface StatusSources {
  readonly version: string;
  readonly telemetryPath: string;
  readonly now: () => number;
  readonly registry: CallRegistry;
  readonly store: SampleStore;
  readonly quality: CallQualityTracker;
  readonly history: SampleHistory;
  readonly polls: PollLog;
  readonly tracking: TrackingLog;
  readonly poller: { describe(callSid: string): PollDescription | undefined };
  readonly accounts: () => readonly AccountRow[];
  readonly maxCalls: number;
  readonly shard: { readonly ordinal: number; readonly total: number };
  /** Grafana base URL (`grafana.url`), empty when not configured. */
  readonly grafanaUrl: string;
  readonly rules: readonly ThresholdRule[];
}

/** The newest values of one stream with its raised issues. */
export interface StreamRow {
  readonly edge: Edge;
  readonly direction: Direction;
  readonly mos: number | undefined;
  readonly rttSeconds: number | undefined;
  /** Interval jitter (SDK) or cumulative average jitter (gateways). */
  readonly jitterSeconds: number | undefined;
  readonly packetLossRatio: number | undefined;
  readonly issues: readonly Issue[];
}

/** One tracked call as the status page lists it. */
export interface CallRow {
  readonly call: Readonly<TrackedCall>;
  readonly state: CallLifecycle;
  readonly callType: string | undefined;
  readonly ageSeconds: number;
  /** Age of the newest sample of any stream, undefined before the first. */
  readonly newestSampleAgeSeconds: number | undefined;
  readonly issues: readonly Issue[];
  readonly streams: readonly StreamRow[];
}

/** The filters and page of the calls list, from the query string. */
export interface CallsQuery {
  readonly state?: CallLifecycle;
  readonly issue?: Issue;
  readonly account?: string;
  /** 1-based. */
  readonly page: number;
}

/** Calls per page of the list. */
export const PAGE_SIZE = 100;
const STATES: readonly CallLifecycle[] = ['active', 'draining', 'ended'];

/** Reads the list's query string; an unknown value is an error naming the parameter and what it accepts. */
export function parseCallsQuery(query: Record<string, unknown>, accountSids: readonly string[]): CallsQuery | { error: string } {
  // A parameter given twice (?state=active&state=ended) is refused rather than silently ignored.
  const repeated = ['state', 'issue', 'account', 'page'].find((name) => typeof query[name] !== 'string' && query[name] !== undefined);
  if (repeated !== undefined) return { error: `${repeated}: give it at most once` };
  const one = (name: string): string | undefined => {
    const v = query[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const state = one('state');
  if (state !== undefined && !STATES.includes(state as CallLifecycle)) return { error: `state: must be one of ${STATES.join(', ')}` };
  const issue = one('issue');
  if (issue !== undefined && !ISSUES.includes(issue as Issue)) return { error: `issue: must be one of ${ISSUES.join(', ')}` };
  const account = one('account');
  if (account !== undefined && !accountSids.includes(account)) return { error: 'account: must be one of the configured account SIDs' };
  const pageText = one('page') ?? '1';
  const page = /^\d{1,6}$/.test(pageText) ? Number(pageText) : 0;
  if (page < 1) return { error: 'page: must be a whole number from 1' };
  return {
    page,
    ...(state !== undefined && { state: state as CallLifecycle }),
    ...(issue !== undefined && { issue: issue as Issue }),
    ...(account !== undefined && { account }),
  };
}

function streamRows(src: StatusSources, callSid: string): StreamRow[] {
  const state = src.store.get(callSid);
  if (!state) return [];
  const q = src.quality.get(callSid);
  const rows: StreamRow[] = [];
  for (const [key, s] of state.streams) {
    const v = s.values;
    rows.push({
      edge: s.edge,
      direction: s.direction,
      mos: v.mos,
      rttSeconds: v.rttSeconds,
      jitterSeconds: v.jitterSeconds ?? v.jitterAvgSeconds,
      packetLossRatio: v.packetLossRatio,
      issues: issuesOf(q?.streams.get(key)?.verdicts.raised ?? 0),
    });
  }
  return rows.sort((a, b) => (a.edge + a.direction).localeCompare(b.edge + b.direction));
}

/** The full row of one call. */
export function callRow(src: StatusSources, call: Readonly<TrackedCall>, nowMs: number): CallRow {
  const state = src.store.get(call.callSid);
  let newest: number | undefined;
  for (const s of state?.streams.values() ?? []) newest = Math.max(newest ?? 0, s.lastTimestampMs);
  return {
    call,
    state: src.registry.lifecycle(call, nowMs),
    callType: state?.callType,
    ageSeconds: (nowMs - call.trackedAtMs) / 1000,
    newestSampleAgeSeconds: newest === undefined ? undefined : (nowMs - newest) / 1000,
    issues: issuesOf(src.quality.get(call.callSid)?.raised ?? 0),
    streams: streamRows(src, call.callSid),
  };
}

// Worst first: more issues raised, then the lowest MOS, then the highest loss; SID order breaks ties.
function badness(src: StatusSources, call: Readonly<TrackedCall>): number {
  const raised = src.quality.get(call.callSid)?.raised ?? 0;
  let issues = 0;
  for (const issue of ISSUES) if ((raised & ISSUE_BIT[issue]) !== 0) issues++;
  let mos = 5;
  let loss = 0;
  for (const s of src.store.get(call.callSid)?.streams.values() ?? []) {
    if (s.values.mos !== undefined) mos = Math.min(mos, s.values.mos);
    if (s.values.packetLossRatio !== undefined) loss = Math.max(loss, s.values.packetLossRatio);
  }
  return issues * 100 + (5 - mos) * 10 + Math.min(loss, 1) * 9;
}

/** The page of calls matching the query (its last page when the query asks past it), worst first, and how many match in all. */
export function callsPage(src: StatusSources, query: CallsQuery): { rows: CallRow[]; total: number; page: number; pages: number } {
  const nowMs = src.now();
  const bit = query.issue === undefined ? 0 : ISSUE_BIT[query.issue];
  const matching: Array<{ call: Readonly<TrackedCall>; score: number }> = [];
  for (const call of src.registry.calls()) {
    if (query.account !== undefined && call.accountSid !== query.account) continue;
    if (query.state !== undefined && src.registry.lifecycle(call, nowMs) !== query.state) continue;
    if (bit !== 0 && ((src.quality.get(call.callSid)?.raised ?? 0) & bit) === 0) continue;
    matching.push({ call, score: badness(src, call) });
  }
  matching.sort((a, b) => b.score - a.score || (a.call.callSid < b.call.callSid ? -1 : 1));
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
  // A link kept from when more calls matched points past the end: the last page is what it was after.
  const page = Math.min(query.page, pages);
  const start = (page - 1) * PAGE_SIZE;
  return { rows: matching.slice(start, start + PAGE_SIZE).map((m) => callRow(src, m.call, nowMs)), total: matching.length, page, pages };
}
