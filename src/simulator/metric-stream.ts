import { edgeDirections } from '../samples/sample.ts';
import type { Direction, Edge } from '../samples/sample.ts';
import type { CallProfile } from './call-profile.ts';
import { profileOf } from './call-profile.ts';
import type { GatewayEdgeMetrics, MetricRecord, SdkEdgeMetrics } from './metric-record.ts';
import type { IntervalSignal, SignalBaseline } from './quality-signal.ts';
import { intervalSignal, streamKey } from './quality-signal.ts';
import type { SimCall } from './sim-call.ts';
import { SAMPLE_INTERVAL_MS, sampleTimestampMs } from './sim-call.ts';
import type { StreamCheckpoints, StreamTotals } from './stream-checkpoints.ts';
import { formatInsightsTimestamp } from './timestamps.ts';

/** Identifies one stream of one call: everything a sample of it is computed from. */
export interface StreamSpec {
  /** Simulator seed. */
  readonly seed: number;
  /** The call (only its stored constants are read). */
  readonly call: Pick<SimCall, 'sid' | 'accountSid' | 'type' | 'startMs' | 'degraded'>;
  /** The edge. */
  readonly edge: Edge;
  /** The direction. */
  readonly direction: Direction;
  /** Optional cache of running totals; results are the same with or without it, only faster. */
  readonly checkpoints?: StreamCheckpoints;
  /** Window of one sample, ms. Default 10 000 (1 000 for 1 s SDK samples). */
  readonly intervalMs?: number;
}

// A window shorter than 10 s carries proportionally fewer packets; quality values stay per window.
function scaled(signal: IntervalSignal, intervalMs: number): IntervalSignal {
  if (intervalMs === SAMPLE_INTERVAL_MS) return signal;
  const f = intervalMs / SAMPLE_INTERVAL_MS;
  const packetsExpected = Math.max(1, Math.round(signal.packetsExpected * f));
  const packetsLost = Math.min(packetsExpected, Math.round(signal.packetsLost * f));
  const lossPercent = Math.round((packetsLost * 10_000) / packetsExpected) / 100;
  return { ...signal, packetsExpected, packetsLost, lossPercent, packetsSent: Math.max(1, Math.round(signal.packetsSent * f)) };
}

type Totals = StreamTotals;

const round = (value: number, places: number): number => {
  const scale = 10 ** places;
  return Math.round(value * scale) / scale;
};

function step(totals: Totals, signal: IntervalSignal, profile: CallProfile, direction: Direction): void {
  const received = signal.packetsExpected - signal.packetsLost;
  totals.packets += direction === 'outbound' ? signal.packetsSent : received;
  totals.lost += signal.packetsLost;
  totals.sent += signal.packetsSent;
  totals.bytesReceived += received * profile.bytesPerPacket;
  totals.bytesSent += signal.packetsSent * profile.bytesPerPacket;
  totals.jitterSum += signal.jitterMs;
  totals.jitterMax = Math.max(totals.jitterMax, signal.jitterPeakMs);
  totals.count += 1;
}

function gatewayEdge(signal: IntervalSignal, totals: Totals, profile: CallProfile, direction: Direction): GatewayEdgeMetrics {
  const counter = direction === 'outbound' ? 'packets_sent' : 'packets_received';
  const intervalPackets = direction === 'outbound' ? signal.packetsSent : signal.packetsExpected - signal.packetsLost;
  return {
    codec: profile.codec,
    codec_name: profile.codecName,
    metadata: {
      region: profile.region,
      twilio_ip: profile.twilioIp,
      external_ip: profile.externalIp,
      edge_location: profile.edgeLocation,
    },
    cumulative: {
      jitter: { avg: round(totals.jitterSum / totals.count, 4), max: round(totals.jitterMax, 4) },
      [counter]: totals.packets,
      packets_lost: totals.lost,
    },
    interval: {
      [counter]: intervalPackets,
      packets_lost: signal.packetsLost,
      packets_loss_percentage: signal.lossPercent,
    },
  };
}

function sdkEdge(signal: IntervalSignal, totals: Totals): SdkEdgeMetrics {
  return {
    interval: {
      packets_received: signal.packetsExpected - signal.packetsLost,
      packets_lost: signal.packetsLost,
      packets_loss_percentage: signal.lossPercent,
      audio_in: { value: signal.audioIn },
      audio_out: { value: signal.audioOut },
      jitter: { value: signal.jitterMs },
      mos: { value: signal.mos },
      rtt: { value: signal.rttMs },
    },
    cumulative: {
      bytes_received: totals.bytesReceived,
      bytes_sent: totals.bytesSent,
      packets_received: totals.packets,
      packets_lost: totals.lost,
      packets_sent: totals.sent,
    },
  };
}

/**
 * The wire records of samples `[from, to)` of one stream. Cumulative counters need every earlier
 * window, so this walks the cheap signal function from sample 0, or from the nearest checkpoint
 * when the spec carries a checkpoint cache.
 */
export function streamRecords(spec: StreamSpec, from: number, to: number): MetricRecord[] {
  const { call, edge, direction } = spec;
  if (!edgeDirections(edge).includes(direction) || to <= from) return [];
  const profile = profileOf(spec.seed, call);
  const baseline: SignalBaseline = { callKey: profile.key, ...profile, degraded: call.degraded };
  const key = streamKey(spec.seed, call.sid, edge, direction);
  // Everything the totals depend on (not the start time: it only moves timestamps).
  const intervalMs = spec.intervalMs ?? SAMPLE_INTERVAL_MS;
  const cacheKey = `${spec.seed}|${call.sid}|${call.type}|${call.degraded}|${edge}|${direction}|${intervalMs}`;
  const cached = spec.checkpoints?.nearest(cacheKey, from);
  const totals: Totals = cached?.totals ?? { packets: 0, lost: 0, sent: 0, bytesReceived: 0, bytesSent: 0, jitterSum: 0, jitterMax: 0, count: 0 };
  const records: MetricRecord[] = [];
  for (let index = cached?.index ?? 0; index < to; index++) {
    if (index === from) spec.checkpoints?.save(cacheKey, from, totals);
    const signal = scaled(intervalSignal(baseline, key, index), intervalMs);
    step(totals, signal, profile, direction);
    if (index < from) continue;
    const gateway = edge === 'sdk_edge' ? null : gatewayEdge(signal, totals, profile, direction);
    records.push({
      timestamp: formatInsightsTimestamp(sampleTimestampMs(call, index, intervalMs)),
      call_sid: call.sid,
      account_sid: call.accountSid,
      edge,
      direction,
      carrier_edge: edge === 'carrier_edge' ? gateway : null,
      sip_edge: edge === 'sip_edge' ? gateway : null,
      sdk_edge: edge === 'sdk_edge' ? sdkEdge(signal, totals) : null,
      client_edge: edge === 'client_edge' ? gateway : null,
    });
  }
  spec.checkpoints?.save(cacheKey, to, totals);
  return records;
}

/** The wire record of sample `index` of one stream (a pure function of the spec and the index). */
export function streamRecordAt(spec: StreamSpec, index: number): MetricRecord | undefined {
  return streamRecords(spec, index, index + 1)[0];
}
