import { describe, expect, it } from 'vitest';
import { EdgePlan, QUERYABLE_EDGES, edgesFromHints, edgesOfSummaryType } from '../../../src/poller/edge-plan.ts';
import { callTypeOfDataEdges } from '../../../src/samples/call-type.ts';
import type { Edge } from '../../../src/samples/sample.ts';

// Drives a plan for `polls` polls against a call whose data edges are `data` (from poll `dataFrom` on);
// returns the edges asked per poll.
function drive(plan: EdgePlan, data: readonly Edge[], polls: number, dataFrom = 0): Edge[][] {
  const asked: Edge[][] = [];
  for (let poll = 0; poll < polls; poll++) {
    const edges = plan.begin();
    asked.push(edges);
    for (const edge of edges) plan.report(edge, poll >= dataFrom && data.includes(edge) ? 'data' : 'empty');
  }
  return asked;
}

const perPoll = (asked: Edge[][], from: number): number => asked.slice(from).reduce((n, a) => n + a.length, 0) / (asked.length - from);

describe('edgesFromHints', () => {
  it.each([
    [{ from: '+15550100', to: '+15550101' }, ['carrier_edge']],
    [{ from: '+15550100', to: 'sip:desk@example.com' }, ['sip_edge']],
    [{ from: 'client:alice', to: '+15550101' }, ['sdk_edge', 'client_edge']],
    [{ from: '+15550100', to: 'Client:bob' }, ['sdk_edge', 'client_edge']],
    [{ from: '+15550100', to: '+15550101', trunkSid: 'TK0123' }, ['carrier_edge', 'sip_edge']],
    [{ from: 'client:alice', to: 'sip:desk@example.com' }, ['sip_edge', 'sdk_edge', 'client_edge']],
  ] as const)('%j suggests %j', (hints, edges) => {
    expect(edgesFromHints(hints)).toEqual(edges);
  });

  it('guesses nothing without a party', () => {
    expect(edgesFromHints(undefined)).toBeUndefined();
    expect(edgesFromHints({})).toBeUndefined();
    expect(edgesFromHints({ from: '', to: undefined })).toBeUndefined();
  });
});

describe('call types', () => {
  it('maps Summary types to edges, own keys only', () => {
    expect(edgesOfSummaryType('trunking')).toEqual(['carrier_edge', 'sip_edge']);
    expect(edgesOfSummaryType('constructor')).toBeUndefined();
    expect(edgesOfSummaryType(null)).toBeUndefined();
  });

  it.each([
    [['carrier_edge'], 'carrier'],
    [['sip_edge'], 'sip'],
    [['sdk_edge'], 'client'],
    [['sdk_edge', 'client_edge'], 'client'],
    [['carrier_edge', 'sip_edge'], 'trunking'],
    [[], undefined],
  ] as const)('data on %j means a %s call', (edges, type) => {
    expect(callTypeOfDataEdges(edges)).toBe(type);
  });
});

describe('EdgePlan', () => {
  it('asks all four edges while nothing has data, then only the data edge and rare probes of the others', () => {
    const plan = new EdgePlan();
    const asked = drive(plan, ['carrier_edge'], 1000, 9);
    for (let poll = 0; poll < 9; poll++) expect(asked[poll]).toEqual(QUERYABLE_EDGES);
    expect(asked.slice(9).every((edges) => edges.includes('carrier_edge'))).toBe(true);
    expect(plan.dataEdges()).toEqual(['carrier_edge']);
    // Steady state: the data edge, sip_edge every 64 polls (carrier_edge alone may be half a trunking call), the
    // client edges every 256.
    expect(perPoll(asked, 200)).toBeLessThanOrEqual(1 + 1 / 64 + 2 / 256 + 0.01);
    expect(perPoll(asked, 200)).toBeGreaterThan(1);
  });

  it('asks only the edges the parties suggest while nothing has data, and probes the others later', () => {
    const plan = new EdgePlan();
    plan.expect(['carrier_edge'], 'parties');
    const asked = drive(plan, ['carrier_edge'], 60, 9);
    expect(asked.slice(0, 12).every((edges) => edges.length === 1 && edges[0] === 'carrier_edge')).toBe(true);
    expect(asked[12]).toEqual(QUERYABLE_EDGES);
    // Ten minutes of a new carrier call at 10 s: at most 1.1 requests per poll from the start.
    expect(perPoll(asked, 0)).toBeLessThanOrEqual(1.1);
  });

  it('finds an edge that starts late, and data that the hint did not expect', () => {
    const plan = new EdgePlan();
    plan.expect(['carrier_edge'], 'parties');
    // The hint was wrong: the call is a SIP call whose data begins at poll 20.
    const asked = drive(plan, ['sip_edge'], 200, 20);
    const firstSip = asked.findIndex((edges, poll) => poll >= 20 && edges.includes('sip_edge'));
    expect(firstSip).toBeGreaterThanOrEqual(20);
    expect(firstSip).toBeLessThan(20 + 64);
    expect(plan.dataEdges()).toEqual(['sip_edge']);
    expect(asked.slice(firstSip).every((edges) => edges.includes('sip_edge'))).toBe(true);
    // The wrong hint is asked ever more rarely.
    expect(asked.slice(150).filter((edges) => edges.includes('carrier_edge')).length).toBeLessThanOrEqual(1);
  });

  it('lets the Summary outrank the parties, and not the other way round', () => {
    const plan = new EdgePlan();
    plan.expect(['carrier_edge'], 'summary');
    plan.expect(['sdk_edge', 'client_edge'], 'parties');
    expect(plan.begin()).toEqual(['carrier_edge']);
  });

  it('keeps probing every 64 polls while the data edges are not a whole call type yet', () => {
    const plan = new EdgePlan();
    // client_edge never shows data: sdk_edge alone is half a client call.
    const asked = drive(plan, ['sdk_edge'], 1000, 5);
    const clientProbes = asked.slice(200).filter((edges) => edges.includes('client_edge')).length;
    expect(clientProbes).toBeGreaterThanOrEqual(12);
    expect(clientProbes).toBeLessThanOrEqual(13);
  });

  it('finds the sip_edge of a trunking call that starts after its carrier_edge, well within a short call', () => {
    const plan = new EdgePlan();
    // carrier_edge from poll 3, sip_edge from poll 7 (40 s later at 10 s a poll).
    const asked: Edge[][] = [];
    for (let poll = 0; poll < 60; poll++) {
      const edges = plan.begin();
      asked.push(edges);
      for (const edge of edges) plan.report(edge, (edge === 'carrier_edge' && poll >= 3) || (edge === 'sip_edge' && poll >= 7) ? 'data' : 'empty');
    }
    const firstSip = asked.findIndex((edges, poll) => poll >= 7 && edges.includes('sip_edge'));
    expect(firstSip).toBeLessThanOrEqual(7 + 16);
    expect(plan.dataEdges()).toEqual(['carrier_edge', 'sip_edge']);
  });

  it('on the last poll of an ended call asks once more the edge that would complete its call type, not the others', () => {
    const plan = new EdgePlan();
    drive(plan, ['carrier_edge'], 40, 2);
    plan.lastPoll();
    expect(plan.begin()).toEqual(['carrier_edge', 'sip_edge']);
    const whole = new EdgePlan();
    drive(whole, ['carrier_edge', 'sip_edge'], 40, 2);
    whole.lastPoll();
    expect(whole.begin()).toEqual(['carrier_edge', 'sip_edge']);
  });

  it('asks an edge the Summary names at least every 4 polls until it has data', () => {
    const plan = new EdgePlan();
    plan.expect(['carrier_edge', 'sip_edge'], 'summary');
    const asked: Edge[][] = [];
    for (let poll = 0; poll < 100; poll++) {
      const edges = plan.begin();
      asked.push(edges);
      for (const edge of edges) plan.report(edge, (edge === 'carrier_edge' && poll >= 2) || (edge === 'sip_edge' && poll >= 50) ? 'data' : 'empty');
    }
    const sipPolls = asked.flatMap((edges, poll) => (edges.includes('sip_edge') ? [poll] : []));
    for (let i = 1; i < sipPolls.length; i++) expect(sipPolls[i]! - sipPolls[i - 1]!).toBeLessThanOrEqual(4);
    expect(sipPolls.find((p) => p >= 50)).toBeLessThanOrEqual(54);
  });

  it('repeats a failed query on the next poll without growing its back-off', () => {
    const plan = new EdgePlan();
    plan.expect(['sip_edge'], 'summary');
    expect(plan.begin()).toEqual(['sip_edge']);
    plan.report('sip_edge', 'failed');
    expect(plan.begin()).toEqual(['sip_edge']);
  });

  it('backs off every edge of a call that never has data, once the warm-up is over', () => {
    const plan = new EdgePlan({ warmupPolls: 10 });
    const asked = drive(plan, [], 1000);
    expect(asked.slice(0, 10).every((edges) => edges.length === 4)).toBe(true);
    expect(perPoll(asked, 200)).toBeLessThanOrEqual(4 / 64 + 0.01);
  });
});

// Probe O F5: on a `client:` call the SDK edge answered first (its samples are published a few seconds before the
// gateway's), and client_edge, which the parties said to expect, was then put off 16 polls like an edge the call
// does not have: its gauges, verdicts and alerts were missing for 2.7 minutes of a 4-minute call.
describe('EdgePlan: an edge the parties expect, empty next to another edge with data', () => {
  // Asks each poll's edges; `dataFrom` says from which poll each edge has data.
  function firstDataPoll(plan: EdgePlan, dataFrom: Partial<Record<Edge, number>>, polls: number): { asked: Edge[][]; found: number | undefined } {
    const asked: Edge[][] = [];
    let found: number | undefined;
    for (let poll = 0; poll < polls; poll++) {
      const edges = plan.begin();
      asked.push(edges);
      for (const edge of edges) {
        const has = dataFrom[edge] !== undefined && poll >= dataFrom[edge];
        if (has && edge === 'client_edge') found ??= poll;
        plan.report(edge, has ? 'data' : 'empty');
      }
    }
    return { asked, found };
  }

  it('asks it again within 4 polls while the call is young, so its data is read soon after it starts', () => {
    const plan = new EdgePlan();
    plan.expect(['sdk_edge', 'client_edge'], 'parties');
    const { found } = firstDataPoll(plan, { sdk_edge: 0, client_edge: 3 }, 40);
    expect(found).toBeDefined();
    expect(found!).toBeLessThanOrEqual(3 + 4);
  });

  it('still backs off once the call is no longer young: a call without the edge costs little more', () => {
    const plan = new EdgePlan();
    plan.expect(['sdk_edge', 'client_edge'], 'parties');
    const { asked, found } = firstDataPoll(plan, { sdk_edge: 0 }, 400);
    expect(found).toBeUndefined();
    const clientAsks = (from: number, to: number): number => asked.slice(from, to).filter((a) => a.includes('client_edge')).length;
    // Young (the first 30 polls): at least every 4 polls. Later: the usual growing gaps, a handful in 370 polls.
    expect(clientAsks(0, 30)).toBeGreaterThanOrEqual(8);
    expect(clientAsks(30, 400)).toBeLessThanOrEqual(8);
  });
});
