// Benchmark 1: metrics requests per stream per poll for calls one (then two) simulated hours old, the
// exporter's cursors against a full re-read of every (call, edge) as twilio-node's list() does it; then
// requests per call per poll when Twilio serves no Summary during the call, against the four-edge poller.
import { Agent } from 'undici';
import { CALL_TYPES, EDGES_BY_CALL_TYPE, edgeDirections } from '../src/samples/sample.ts';
import type { CallType, Edge } from '../src/samples/sample.ts';
import { SimulatorControl } from '../src/simulator/control-client.ts';
import type { SortOrder } from '../src/simulator/page-selection.ts';
import { demoClient } from '../test/helpers/simulator.ts';
import type { TwilioClient } from '../src/twilio/client.ts';
import { ACCOUNT_SID, benchConfig, benchExporter } from './lib/exporter.ts';
import { startCountingSimulator } from './lib/simulator.ts';
import type { CountingSimulator } from './lib/simulator.ts';
import { runVariant } from '../test/helpers/variant-run.ts';
import { fourEdgeRequestsPerPoll } from './lib/four-edge-baseline.ts';
import { log } from './lib/stats.ts';
import type { Row } from './lib/stats.ts';

const STEP_MS = 10_000;
// Polls measured per age; requests are deterministic, so a few minutes of simulated time are plenty.
const ROUNDS = 12;
const TWILIO_NODE_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

interface Call {
  readonly sid: string;
  readonly type: CallType;
  readonly edges: readonly Edge[];
  readonly streams: number;
}

/** What one contender spent over a window. */
interface Spend {
  requests: number;
  bytes: number;
}

interface Window {
  readonly exporter: Spend;
  readonly list50?: Spend;
  readonly list1000?: Spend;
  /** Stream-polls in the window: streams × rounds. */
  readonly streamPolls: number;
  /** (call, edge) query polls in the window: edge queries × rounds. */
  readonly queryPolls: number;
}

function metricsRequests(sim: CountingSimulator): number {
  return sim.simulator.ledger().requests.by_route.metrics;
}

// Runs `work` and returns the metrics requests and bytes it cost the simulator (nothing else runs meanwhile).
async function spend(sim: CountingSimulator, work: () => Promise<unknown>, into: Spend): Promise<void> {
  const r0 = metricsRequests(sim);
  const b0 = sim.bytesSent();
  await work();
  into.requests += metricsRequests(sim) - r0;
  into.bytes += sim.bytesSent() - b0;
}

// The baseline: every page of every (call, edge), as the official client's list() reads a call's history.
async function fullReRead(client: TwilioClient, calls: readonly Call[], pageSize: number): Promise<void> {
  await Promise.all(
    calls.flatMap((call) =>
      call.edges.map(async (edge) => {
        for await (const page of client.listMetrics({ callSid: call.sid, edge, pageSize })) void page;
      }),
    ),
  );
}

async function measure(order: SortOrder, withBaselines: boolean): Promise<{ h1: Window; h2: Window; catchUpRequests: number }> {
  let simNow = Date.parse('2026-11-27T10:00:00Z');
  // The Summary is served during the call here (the rows below measure the cursors, not the edge choice).
  const sim = await startCountingSimulator({ lagSeconds: 0, now: () => simNow, seed: 1, order, variant: { partialSummary: 'during_call' } });
  const agent = new Agent({ connections: 32 });
  const config = benchConfig(sim.url, { poll_interval: '10s' });
  const exporter = benchExporter(config, () => simNow);
  try {
    const control = new SimulatorControl(sim.url);
    const calls: Call[] = [];
    for (const type of CALL_TYPES) {
      const created = await control.createCall({ type, age_seconds: 3600 });
      const edges = EDGES_BY_CALL_TYPE[type];
      calls.push({ sid: created.sid, type, edges, streams: edges.reduce((n, e) => n + edgeDirections(e).length, 0) });
    }
    const streams = calls.reduce((n, c) => n + c.streams, 0);
    const queries = calls.reduce((n, c) => n + c.edges.length, 0);
    const client = demoClient(sim.url, agent, 'twilio-insights-exporter-bench', 60_000);
    for (const call of calls) exporter.registry.track(call.sid, ACCOUNT_SID, 'config');
    const pollAll = (): Promise<unknown> => Promise.all(calls.map((c) => exporter.poller.pollNow(c.sid)));

    // First poll: the summary and the whole history, not steady state.
    await pollAll();
    for (const call of calls) {
      const held = exporter.store.get(call.sid)?.streams.size ?? 0;
      if (held !== call.streams) throw new Error(`${call.type}: the exporter holds ${held} streams after its first poll, expected ${call.streams}`);
    }

    const window = async (): Promise<Window> => {
      const w = {
        exporter: { requests: 0, bytes: 0 },
        ...(withBaselines && { list50: { requests: 0, bytes: 0 }, list1000: { requests: 0, bytes: 0 } }),
        streamPolls: streams * ROUNDS,
        queryPolls: queries * ROUNDS,
      };
      for (let round = 0; round < ROUNDS; round++) {
        simNow += STEP_MS;
        // Alternate who goes first; all read the same simulated instant.
        const contenders: Array<() => Promise<void>> = [() => spend(sim, pollAll, w.exporter)];
        if (w.list50 && w.list1000) {
          const { list50, list1000 } = w;
          contenders.push(() => spend(sim, () => fullReRead(client, calls, TWILIO_NODE_PAGE_SIZE), list50));
          contenders.push(() => spend(sim, () => fullReRead(client, calls, MAX_PAGE_SIZE), list1000));
        }
        if (round % 2 === 1) contenders.reverse();
        for (const run of contenders) await run();
      }
      return w;
    };

    log(`requests (${order}): calls 1 h old`);
    const h1 = await window();
    // Age the same calls by another hour at once: one catch-up poll reads the backlog, then steady state again.
    simNow += 3600_000 - ROUNDS * STEP_MS;
    const before = metricsRequests(sim);
    await pollAll();
    const catchUpRequests = metricsRequests(sim) - before;
    log(`requests (${order}): calls 2 h old`);
    const h2 = await window();
    return { h1, h2, catchUpRequests };
  } finally {
    await exporter.stop();
    await agent.close();
    await sim.close();
  }
}

const perStreamPoll = (s: Spend, w: Window): number => s.requests / w.streamPolls;
const bytesPerStreamPoll = (s: Spend, w: Window): number => s.bytes / w.streamPolls;

/** Runs the benchmark. */
export async function run(): Promise<Row[]> {
  const bench = 'requests';
  const asc = await measure('asc', true);
  const desc = await measure('desc', false);
  const rows: Row[] = [];
  for (const [age, w] of [['1h', asc.h1], ['2h', asc.h2]] as const) {
    const e = perStreamPoll(w.exporter, w);
    const b50 = perStreamPoll(w.list50!, w);
    const b1000 = perStreamPoll(w.list1000!, w);
    rows.push({ bench, name: `req/stream/poll @${age} vs list() PageSize=50`, exporter: e, baseline: b50, unit: 'req', ratio: e / b50, goal: 'exporter <= 1.05', pass: e <= 1.05 });
    rows.push({ bench, name: `req/stream/poll @${age} vs list() PageSize=1000`, exporter: e, baseline: b1000, unit: 'req', ratio: e / b1000, goal: 'exporter <= 1.05', pass: e <= 1.05 });
  }
  const flat = perStreamPoll(asc.h2.exporter, asc.h2) / perStreamPoll(asc.h1.exporter, asc.h1);
  rows.push({
    bench,
    name: 'req/stream/poll flatness @2h / @1h',
    exporter: perStreamPoll(asc.h2.exporter, asc.h2),
    baseline: perStreamPoll(asc.h1.exporter, asc.h1),
    unit: 'req',
    ratio: flat,
    goal: '0.95 <= ratio <= 1.05',
    pass: flat >= 0.95 && flat <= 1.05,
  });
  for (const [age, w] of [['1h', desc.h1], ['2h', desc.h2]] as const) {
    const e = perStreamPoll(w.exporter, w);
    rows.push({ bench, name: `req/stream/poll @${age}, newest-first order`, exporter: e, unit: 'req', goal: 'exporter <= 1.05', pass: e <= 1.05 });
  }
  for (const [age, w] of [['1h', asc.h1], ['2h', asc.h2]] as const) {
    const e = bytesPerStreamPoll(w.exporter, w);
    const b = bytesPerStreamPoll(w.list1000!, w);
    rows.push({ bench, name: `bytes/stream/poll @${age} vs list() PageSize=1000`, exporter: e, baseline: b, unit: 'B', ratio: e / b, goal: 'none (reported)' });
  }
  for (const [age, w] of [['1h', desc.h1], ['2h', desc.h2]] as const) {
    rows.push({ bench, name: `bytes/stream/poll @${age}, newest-first order`, exporter: bytesPerStreamPoll(w.exporter, w), unit: 'B', goal: 'none (reported)' });
  }
  const perQuery = (w: Window): string => (w.exporter.requests / w.queryPolls).toFixed(3);
  log(`requests: exporter metrics requests per (call, edge) query per poll: asc @1h ${perQuery(asc.h1)}, @2h ${perQuery(asc.h2)}; desc @1h ${perQuery(desc.h1)}, @2h ${perQuery(desc.h2)}`);
  log(`requests: the catch-up poll after a 1 h jump cost ${asc.catchUpRequests} (asc) / ${desc.catchUpRequests} (desc) metrics requests`);
  rows.push(...(await summaryLessRows()));
  return rows;
}

// One call of each type, 24 simulated minutes at 10 s, steady state over the last 15 minutes (lag 90 s,
// the default variant: no partial Summary before the end), discovered as a new user's exporter finds them.
const SUMMARY_LESS = { callMinutes: 24, steadyFrom: 54 } as const;
const WIRE_TYPE: Readonly<Record<CallType, string>> = {
  carrier: 'carrier',
  sip: 'sip',
  client: 'client',
  trunking_originating: 'trunking (originating)',
  trunking_terminating: 'trunking (terminating)',
};

async function summaryLessRows(): Promise<Row[]> {
  const bench = 'requests';
  log('requests: no Summary during calls (the default variant), exporter');
  const run = await runVariant({ variant: {}, tracking: 'discovery', types: CALL_TYPES, polls: 0, ...SUMMARY_LESS });
  log('requests: no Summary during calls, configured calls (no hints)');
  const blind = await runVariant({ variant: {}, tracking: 'static', types: CALL_TYPES, polls: 0, ...SUMMARY_LESS });
  log('requests: no Summary during calls, the four-edge poller');
  const today = await fourEdgeRequestsPerPoll({}, CALL_TYPES, SUMMARY_LESS.callMinutes, SUMMARY_LESS.steadyFrom);
  const rows: Row[] = [];
  for (const [label, result] of [['discovered', run], ['configured', blind]] as const) {
    for (const cost of result.costs) {
      const baseline = today.get(cost.type) ?? Number.NaN;
      const goal = 1.1 * cost.dataEdges;
      rows.push({
        bench,
        name: `req/call/poll, no Summary, ${WIRE_TYPE[cost.type]} (${cost.dataEdges} data edge${cost.dataEdges > 1 ? 's' : ''}), ${label} vs 4-edge poller`,
        exporter: cost.steadyPerPoll,
        baseline,
        unit: 'req',
        ratio: cost.steadyPerPoll / baseline,
        goal: `exporter <= ${goal.toFixed(1)}`,
        pass: cost.steadyPerPoll <= goal,
      });
    }
  }
  const carrier = run.costs.find((c) => c.type === 'carrier');
  if (carrier !== undefined) {
    rows.push({ bench, name: 'req/poll over a new carrier call\'s whole life (24 min), no Summary', exporter: carrier.wholeCallPerPoll, unit: 'req', goal: 'exporter <= 1.2', pass: carrier.wholeCallPerPoll <= 1.2 });
  }
  return rows;
}
