// Drives the real exporter (config from the environment as a new user gives it, discovery, poller, store)
// against the simulator under one variant, on a shared simulated clock, one poll of every call per 10 s,
// and records what it cost and what it applied, for the variant matrix and the requests benchmark.
import { pino } from 'pino';
import { Agent } from 'undici';
import { Discovery } from '../../src/calls/discovery.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createExporter } from '../../src/exporter.ts';
import { createAccountPolicy } from '../../src/poller/account-policy.ts';
import type { CallType, Edge, Sample } from '../../src/samples/sample.ts';
import { EDGES_BY_CALL_TYPE } from '../../src/samples/sample.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import type { MetricRecord } from '../../src/simulator/metric-record.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { SimulatorVariant } from '../../src/simulator/variant.ts';
import { demoClient } from './simulator.ts';

/** One run of the matrix. */
export interface VariantRunOptions {
  /** Simulator variant (the rest is the simulator's default). */
  readonly variant: Partial<SimulatorVariant>;
  /** Call types, one call each. */
  readonly types: readonly CallType[];
  /** Track the calls by discovery (with their parties) or as static calls (no hints at all). */
  readonly tracking: 'discovery' | 'static';
  /** Call length, minutes of simulated time (the calls start with the run). */
  readonly callMinutes: number;
  /** Polls after the calls end (they keep being polled for the drain period). */
  readonly polls: number;
  /** Steady state starts at this poll. */
  readonly steadyFrom: number;
  /** Extra `TWILIO_INSIGHTS_EXPORTER_*` settings, e.g. `{ PAGE_SIZE: '1000' }`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Visibility lag of the simulator, seconds [90]. */
  readonly lagSeconds?: number;
  /** Simulator seed [3]. */
  readonly seed?: number;
}

/** What one call cost. */
export interface CallCost {
  readonly sid: string;
  readonly type: CallType;
  /** Edge queries that carry data (the call type's edges). */
  readonly dataEdges: number;
  /** Requests (metrics and Summary) per poll over the steady-state polls. */
  readonly steadyPerPoll: number;
  /** Requests per poll over every poll while the call ran. */
  readonly wholeCallPerPoll: number;
}

/** The outcome of a run. */
export interface VariantRunResult {
  readonly costs: CallCost[];
  /** Applications per sample `call/edge/direction/timestamp` (1 each when exactly once). */
  readonly applied: Map<string, number>;
  /** Every sample the simulator shows for the calls at the end, as `call/edge/direction/timestamp`. */
  readonly visible: Set<string>;
  /** Distinct samples the simulator served per `call/edge/direction`. */
  readonly served: Map<string, number>;
  /** Visible samples per `call/edge/direction`. */
  readonly visiblePerStream: Map<string, number>;
  /** Applied samples whose values differ from the simulator's record (should be empty). */
  readonly valueMismatches: string[];
  /** The exporter's call type per call (Summary or learned from the data edges). */
  readonly callTypes: Map<string, string | undefined>;
}

const T0 = Date.parse('2026-11-30T09:00:00Z');
const STEP_MS = 10_000;

const sampleId = (call: string, edge: string, direction: string, timestampMs: number): string => `${call}/${edge}/${direction}/${timestampMs}`;

// Unit conversion as the exporter documents it, checked against the wire record.
function valuesMatch(sample: Sample, record: MetricRecord): boolean {
  const close = (a: number | undefined, b: number): boolean => a !== undefined && Math.abs(a - b) < 1e-9;
  if (record.sdk_edge !== null) {
    const i = record.sdk_edge.interval;
    return close(sample.values.mos, i.mos.value) && close(sample.values.rttSeconds, i.rtt.value / 1000) && close(sample.values.packetsReceived, record.sdk_edge.cumulative.packets_received);
  }
  const gateway = record.carrier_edge ?? record.sip_edge ?? record.client_edge;
  if (gateway === null) return false;
  const counted = sample.direction === 'outbound' ? sample.values.packetsSent : sample.values.packetsReceived;
  const wire = gateway.cumulative.packets_sent ?? gateway.cumulative.packets_received ?? -1;
  return close(counted, wire) && close(sample.values.jitterAvgSeconds, gateway.cumulative.jitter.avg / 1000) && close(sample.values.packetsLost, gateway.cumulative.packets_lost);
}

/** Runs the exporter against one variant and reports cost, exactly-once and values. */
export async function runVariant(options: VariantRunOptions): Promise<VariantRunResult> {
  let simNow = T0;
  const now = (): number => simNow;
  const sim = await startSimulator({ now, seed: options.seed ?? 3, lagSeconds: options.lagSeconds ?? 90, variant: options.variant });
  const config = loadConfig({
    env: {
      TWILIO_ACCOUNT_SID: DEMO_ACCOUNT.accountSid,
      TWILIO_AUTH_TOKEN: DEMO_ACCOUNT.authToken,
      TWILIO_INSIGHTS_BASE_URL: sim.url,
      TWILIO_API_BASE_URL: sim.url,
      TWILIO_INSIGHTS_EXPORTER_LOG_LEVEL: 'warn',
      ...Object.fromEntries(Object.entries(options.env ?? {}).map(([k, v]) => [`TWILIO_INSIGHTS_EXPORTER_${k}`, v])),
    },
  });
  const exporter = createExporter({ config, logger: pino({ level: 'silent' }), now });
  const agent = new Agent({ connections: 8 });
  const applied = new Map<string, number>();
  const appliedSamples: Sample[] = [];
  exporter.store.addListener({
    onSample: (s) => {
      const id = sampleId(s.callSid, s.edge, s.direction, s.timestampMs);
      applied.set(id, (applied.get(id) ?? 0) + 1);
      appliedSamples.push(s);
    },
  });
  try {
    const calls = options.types.map((type) => ({ type, sid: sim.simulator.createCall({ type, durationSeconds: options.callMinutes * 60 }).sid }));
    if (options.tracking === 'discovery') {
      const client = demoClient(sim.url, agent, 'variant-matrix');
      const discovery = new Discovery({
        accounts: [{ accountSid: DEMO_ACCOUNT.accountSid, client, policy: createAccountPolicy({ maxConcurrent: 2 }) }],
        registry: exporter.registry,
        intervalMs: 30_000,
        filter: { directions: [], fromPrefix: '', toPrefix: '' },
      });
      await discovery.runOnce();
    } else {
      for (const call of calls) exporter.registry.track(call.sid, DEMO_ACCOUNT.accountSid, 'config');
    }
    const requestsOf = (): Record<string, number> => sim.simulator.ledger().requests.by_call;
    const runningPolls = (options.callMinutes * 60_000) / STEP_MS;
    const atSteady: Record<string, number> = {};
    const atEnd: Record<string, number> = {};
    for (let poll = 0; poll < runningPolls + options.polls; poll++) {
      if (poll === options.steadyFrom) Object.assign(atSteady, requestsOf());
      if (poll === runningPolls) Object.assign(atEnd, requestsOf());
      await Promise.all(calls.map((c) => exporter.poller.pollNow(c.sid)));
      simNow += STEP_MS;
    }
    if (options.polls === 0) Object.assign(atEnd, requestsOf());
    const costs = calls.map(({ sid, type }): CallCost => ({
      sid,
      type,
      dataEdges: EDGES_BY_CALL_TYPE[type].length,
      steadyPerPoll: ((atEnd[sid] ?? 0) - (atSteady[sid] ?? 0)) / (runningPolls - options.steadyFrom),
      wholeCallPerPoll: (atEnd[sid] ?? 0) / runningPolls,
    }));

    const visible = new Set<string>();
    const visiblePerStream = new Map<string, number>();
    const records = new Map<string, MetricRecord>();
    for (const { sid } of calls) {
      for (const r of sim.simulator.visibleSamples(sid)) {
        const id = sampleId(sid, r.edge, r.direction, Date.parse(r.timestamp));
        visible.add(id);
        records.set(id, r);
        const stream = `${sid}/${r.edge}/${r.direction}`;
        visiblePerStream.set(stream, (visiblePerStream.get(stream) ?? 0) + 1);
      }
    }
    const served = new Map(sim.simulator.ledger().streams.map((s) => [`${s.call_sid}/${s.edge}/${s.direction}`, s.served]));
    const valueMismatches = appliedSamples
      .filter((s) => {
        const record = records.get(sampleId(s.callSid, s.edge, s.direction, s.timestampMs));
        return record === undefined || !valuesMatch(s, record);
      })
      .map((s) => sampleId(s.callSid, s.edge, s.direction, s.timestampMs));
    const callTypes = new Map(calls.map(({ sid }) => [sid, exporter.store.get(sid)?.callType]));
    return { costs, applied, visible, served, visiblePerStream, valueMismatches, callTypes };
  } finally {
    await exporter.stop();
    await agent.close();
    await sim.close();
  }
}

/** The edges a call type carries data on (for readable assertion messages). */
export function dataEdgesOf(type: CallType): readonly Edge[] {
  return EDGES_BY_CALL_TYPE[type];
}
