import type { CallHints } from '../calls/registry.ts';
import { CALL_TYPES, EDGES, EDGES_BY_CALL_TYPE, SUMMARY_CALL_TYPE } from '../samples/sample.ts';
import type { Edge } from '../samples/sample.ts';
import { callTypeOfDataEdges } from '../samples/call-type.ts';

/** Every edge a call's metrics can be asked for. */
export const QUERYABLE_EDGES: readonly Edge[] = EDGES.filter((e) => e !== 'unknown_edge');

/**
 * Edges with data per Summary `call_type`, derived from the call types' edges (reference §2); `trunking` does not
 * say which way, so it has the edges of both directions, in the canonical edge order.
 */
export const EDGES_BY_SUMMARY_TYPE: Readonly<Record<string, readonly Edge[]>> = (() => {
  const bySummary = new Map<string, Set<Edge>>();
  for (const type of CALL_TYPES) {
    const key = SUMMARY_CALL_TYPE[type];
    const edges = bySummary.get(key) ?? new Set<Edge>();
    for (const edge of EDGES_BY_CALL_TYPE[type]) edges.add(edge);
    bySummary.set(key, edges);
  }
  return Object.fromEntries([...bySummary].map(([k, edges]) => [k, EDGES.filter((e) => edges.has(e))]));
})();

/** The edges a Summary `call_type` names, or undefined for a type without edges (own keys only). */
export function edgesOfSummaryType(callType: string | null | undefined): readonly Edge[] | undefined {
  return callType && Object.hasOwn(EDGES_BY_SUMMARY_TYPE, callType) ? EDGES_BY_SUMMARY_TYPE[callType] : undefined;
}

/**
 * The edges a call's parties suggest: a trunk means carrier and SIP, a `client:` party the SDK and the
 * client gateway, a `sip:` party the SIP gateway, and two plain numbers the carrier. Undefined when the
 * announcement named no party, so nothing is guessed.
 */
export function edgesFromHints(hints: CallHints | undefined): readonly Edge[] | undefined {
  if (hints === undefined) return undefined;
  const parties = [hints.from, hints.to].filter((p): p is string => typeof p === 'string' && p !== '');
  if (parties.length === 0 && !hints.trunkSid) return undefined;
  const edges = new Set<Edge>();
  if (hints.trunkSid) {
    edges.add('carrier_edge');
    edges.add('sip_edge');
  }
  const lower = parties.map((p) => p.toLowerCase());
  if (lower.some((p) => p.startsWith('client:'))) {
    edges.add('sdk_edge');
    edges.add('client_edge');
  }
  if (lower.some((p) => p.startsWith('sip:'))) edges.add('sip_edge');
  if (edges.size === 0) edges.add('carrier_edge');
  return QUERYABLE_EDGES.filter((e) => edges.has(e));
}

// Whether the edges with data are every edge of the call type they imply (carrier, sip, client, trunking).
function settled(data: readonly Edge[]): boolean {
  const type = callTypeOfDataEdges(data);
  const edges = type === undefined ? undefined : EDGES_BY_SUMMARY_TYPE[type];
  return edges !== undefined && edges.every((e) => data.includes(e));
}

// Whether `edge` would make the data edges a larger call type: carrier_edge alone may be half a trunking call,
// whose sip_edge data often starts later (and the other way round).
function completes(data: readonly Edge[], edge: Edge): boolean {
  return Object.values(EDGES_BY_SUMMARY_TYPE).some((edges) => edges.includes(edge) && data.every((e) => edges.includes(e)));
}

const SUMMARY_STRENGTH = 2;
// An edge the Summary names and that has no data yet is asked at least this often.
const SUMMARY_EDGE_MAX_GAP = 4;

/** Tuning of an edge plan, in polls (so the cost per poll does not depend on the poll interval). */
export interface EdgePlanOptions {
  /** While no edge has data, the expected edges are asked every poll for this many polls [30]. */
  readonly warmupPolls?: number;
  /** The longest gap between two probes of an edge that answered empty [64]. */
  readonly maxGapPolls?: number;
  /** The gap once the data edges make up a whole call type (the others are then very unlikely) [256]. */
  readonly settledMaxGapPolls?: number;
  /** The first gap of an edge found empty once another edge has data [16]. */
  readonly firstGapAfterDataPolls?: number;
  /** An edge no hint expects is first probed this many polls after it was ruled out [12]. */
  readonly unexpectedFirstProbePolls?: number;
}

/** How one query of an edge ended. */
export type EdgeOutcome = 'data' | 'empty' | 'failed';

interface EdgeState {
  hasData: boolean;
  /** The first poll at which the edge is due again. */
  nextPoll: number;
  /** Polls to wait after the next empty answer. */
  gap: number;
}

/**
 * Which edges of one call to ask on each poll, learned without the Call Summary. An edge that has
 * returned data is asked every poll. Before any edge has data, the edges the hints (Summary, or the
 * parties of the call) expect are asked every poll, all four when nothing is expected; the others, and
 * every edge that still answers empty once another has data, are probed again after growing gaps (16, 32, …
 * polls once another edge has data) up to `maxGapPolls`, because an edge can start late; once the data edges
 * make up a whole call type (carrier, sip, client, trunking) the others wait `settledMaxGapPolls`, except the edge
 * that would make it a larger one (sip_edge next to carrier_edge alone: a trunking call). An edge the Summary names
 * is asked at least every 4 polls until it has data. At steady state a call therefore costs its data edges
 * plus a few percent. Pure: it counts polls and knows no clock or I/O.
 */
export class EdgePlan {
  readonly #warmupPolls: number;
  readonly #maxGap: number;
  readonly #settledMaxGap: number;
  readonly #firstGapAfterData: number;
  readonly #firstProbe: number;
  readonly #edges = new Map<Edge, EdgeState>();
  #expected: ReadonlySet<Edge> = new Set(QUERYABLE_EDGES);
  #hintStrength = 0;
  #poll = -1;

  /** A plan that knows nothing yet: every edge is expected. */
  constructor(options: EdgePlanOptions = {}) {
    this.#warmupPolls = options.warmupPolls ?? 30;
    this.#maxGap = options.maxGapPolls ?? 64;
    this.#settledMaxGap = options.settledMaxGapPolls ?? 256;
    this.#firstGapAfterData = options.firstGapAfterDataPolls ?? 16;
    this.#firstProbe = options.unexpectedFirstProbePolls ?? 12;
    for (const edge of QUERYABLE_EDGES) this.#edges.set(edge, { hasData: false, nextPoll: 0, gap: 1 });
  }

  /**
   * Narrows the expected edges: `summary` (Twilio's call type) outranks `parties` (from/to/trunk), and a
   * weaker hint after a stronger one changes nothing. Edges no longer expected and without data are put
   * off to a later probe; newly expected ones are asked on the next poll.
   */
  expect(edges: readonly Edge[], source: 'parties' | 'summary'): void {
    const strength = source === 'summary' ? SUMMARY_STRENGTH : 1;
    if (strength <= this.#hintStrength || edges.length === 0) return;
    this.#hintStrength = strength;
    this.#expected = new Set(edges);
    const now = Math.max(0, this.#poll + 1);
    for (const [edge, state] of this.#edges) {
      if (state.hasData) continue;
      if (this.#expected.has(edge)) {
        state.nextPoll = Math.min(state.nextPoll, now);
      } else {
        state.nextPoll = Math.max(state.nextPoll, now + this.#firstProbe);
        state.gap = Math.max(state.gap, this.#firstProbe * 2);
      }
    }
  }

  /**
   * The next poll is the last of an ended call: the edges that would make its data edges a larger call type (the SIP
   * leg of a carrier call that may be trunking) are asked once more, whatever their gap, since their history is whole.
   */
  lastPoll(): void {
    const data = this.dataEdges();
    if (data.length === 0) return;
    for (const [edge, state] of this.#edges) {
      if (!state.hasData && completes(data, edge)) state.nextPoll = Math.min(state.nextPoll, this.#poll + 1);
    }
  }

  /** Starts the next poll and returns the edges to ask on it. */
  begin(): Edge[] {
    this.#poll += 1;
    return [...this.#edges].filter(([, s]) => s.nextPoll <= this.#poll).map(([edge]) => edge);
  }

  /** Records how an edge asked in the current poll answered. */
  report(edge: Edge, outcome: EdgeOutcome): void {
    const state = this.#edges.get(edge);
    if (state === undefined) return;
    const next = this.#poll + 1;
    if (outcome === 'data') {
      state.hasData = true;
    }
    if (outcome !== 'empty' || state.hasData) {
      // Data keeps an edge on every poll; a failure is simply asked again next poll.
      state.nextPoll = next;
      return;
    }
    if (this.#warmingUp() && this.#expected.has(edge)) {
      state.nextPoll = next;
      return;
    }
    // The Summary named the edge: its data comes, maybe later than another edge's, so it is asked again soon.
    if (this.#hintStrength === SUMMARY_STRENGTH && this.#expected.has(edge)) {
      state.nextPoll = Math.max(next, this.#poll + Math.min(state.gap, SUMMARY_EDGE_MAX_GAP));
      state.gap = Math.min(state.gap * 2, SUMMARY_EDGE_MAX_GAP);
      return;
    }
    const data = this.dataEdges();
    // The parties expect the edge and it would complete the call type of the data edges (client_edge next to
    // sdk_edge, sip_edge next to a trunk's carrier_edge): its samples may start a little after the other edge's, so
    // while the call is young it is asked at least every 4 polls, then backs off as any other.
    if (this.#hintStrength > 0 && this.#expected.has(edge) && this.#poll < this.#warmupPolls && completes(data, edge)) {
      state.nextPoll = Math.max(next, this.#poll + Math.min(state.gap, SUMMARY_EDGE_MAX_GAP));
      state.gap = Math.min(state.gap * 2, SUMMARY_EDGE_MAX_GAP);
      return;
    }
    const whole = settled(data) && !completes(data, edge);
    // Next to another edge's data an empty edge is most likely one the call does not have; next to a whole
    // call type's data it almost surely is, so it waits the longest gap at once.
    if (data.length > 0) state.gap = Math.max(state.gap, whole ? this.#settledMaxGap : this.#firstGapAfterData);
    state.nextPoll = Math.max(next, this.#poll + state.gap);
    state.gap = Math.min(state.gap * 2, whole ? this.#settledMaxGap : this.#maxGap);
  }

  /** Edges the hints point to (every edge before any hint), in the canonical edge order. */
  expectedEdges(): Edge[] {
    return QUERYABLE_EDGES.filter((e) => this.#expected.has(e));
  }

  /** Edges that have returned data, in the canonical edge order. */
  dataEdges(): Edge[] {
    return [...this.#edges].filter(([, s]) => s.hasData).map(([edge]) => edge);
  }

  // No edge has data yet and the call is young: its data may simply not be published yet.
  #warmingUp(): boolean {
    return this.#poll < this.#warmupPolls && this.dataEdges().length === 0;
  }
}
