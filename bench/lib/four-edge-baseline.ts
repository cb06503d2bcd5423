// Today's poller (before the edge plan) against a simulator that serves no Summary during the call:
// the Summary fails, so every poll reads all four edges, and the Summary is asked again every 60 s.
import { Agent } from 'undici';
import { newCursor, readQuery } from '../../src/poller/cursor.ts';
import type { EdgeCursor } from '../../src/poller/cursor.ts';
import { QUERYABLE_EDGES } from '../../src/poller/edge-plan.ts';
import type { CallType, Edge } from '../../src/samples/sample.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { SimulatorVariant } from '../../src/simulator/variant.ts';
import { demoClient } from '../../test/helpers/simulator.ts';

const STEP_MS = 10_000;
const SUMMARY_RETRY_POLLS = 6;

/** Requests per call per poll of the four-edge poller over polls `[steadyFrom, callMinutes·6)`, by call type. */
export async function fourEdgeRequestsPerPoll(
  variant: Partial<SimulatorVariant>,
  types: readonly CallType[],
  callMinutes: number,
  steadyFrom: number,
): Promise<Map<CallType, number>> {
  let simNow = Date.parse('2026-11-30T09:00:00Z');
  const sim = await startSimulator({ now: () => simNow, seed: 3, lagSeconds: 90, variant });
  const agent = new Agent({ connections: 8 });
  try {
    const client = demoClient(sim.url, agent, 'four-edge-baseline');
    const calls = types.map((type) => ({
      type,
      sid: sim.simulator.createCall({ type, durationSeconds: callMinutes * 60 }).sid,
      cursors: new Map<Edge, EdgeCursor>(QUERYABLE_EDGES.map((e) => [e, newCursor()])),
    }));
    const polls = (callMinutes * 60_000) / STEP_MS;
    let atSteady: Record<string, number> = {};
    for (let poll = 0; poll < polls; poll++) {
      if (poll === steadyFrom) atSteady = { ...sim.simulator.ledger().requests.by_call };
      await Promise.all(
        calls.map(async (call) => {
          if (poll % SUMMARY_RETRY_POLLS === 0) await client.fetchCallSummary(call.sid).catch(() => undefined);
          await Promise.all(
            QUERYABLE_EDGES.map((edge) =>
              readQuery(call.cursors.get(edge)!, { callSid: call.sid, edge, pageSize: 100 }, (req) => client.fetchMetricsPage(req), { maxLatenessMs: 0 }),
            ),
          );
        }),
      );
      simNow += STEP_MS;
    }
    const byCall = sim.simulator.ledger().requests.by_call;
    return new Map(calls.map((c) => [c.type, ((byCall[c.sid] ?? 0) - (atSteady[c.sid] ?? 0)) / (polls - steadyFrom)]));
  } finally {
    await agent.close();
    await sim.close();
  }
}
