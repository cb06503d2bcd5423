import { SUMMARY_CALL_TYPE } from '../samples/sample.ts';
import type { Edge } from '../samples/sample.ts';
import type { ApiRequest, ApiResult } from './api-request.ts';
import { lookupCall } from './call-lookup.ts';
import { profileOf } from './call-profile.ts';
import type { GatewayEdgeMetrics, MetricRecord } from './metric-record.ts';
import { edgeDirections } from '../samples/sample.ts';
import { streamRecords } from './metric-stream.ts';
import { enumParam } from './query-params.ts';
import type { SimCall } from './sim-call.ts';
import { callEdges } from './sim-call.ts';
import type { Simulator } from './simulator.ts';
import { ApiError, notFoundError } from './twilio-error.ts';
import { sampleIntervalMs, streamVisibility } from './visibility.ts';


const iso = (ms: number): string => new Date(ms).toISOString();
const round = (value: number): number => Math.round(value * 100) / 100;

function stats(values: readonly number[]): { min: number; max: number; avg: number } | undefined {
  if (values.length === 0) return undefined;
  return { min: Math.min(...values), max: Math.max(...values), avg: round(values.reduce((a, b) => a + b, 0) / values.length) };
}

/** The per-edge block of a summary, from the samples visible now (shape of doc-summaries). */
function edgeSummary(sim: Simulator, call: SimCall, edge: Edge): Record<string, unknown> {
  const profile = profileOf(sim.seed, call);
  const properties = {
    direction: call.from.startsWith('client:') ? 'outbound' : 'inbound',
    media_region: profile.region,
    signaling_region: profile.region,
    edge_location: profile.edgeLocation,
    twilio_media_ip: profile.twilioIp,
    external_media_ip: profile.externalIp,
  };
  const metrics: Record<string, unknown> = {};
  for (const direction of edgeDirections(edge)) {
    const intervalMs = sampleIntervalMs(edge, sim.variant());
    const count = streamVisibility(sim.seed, call, edge, direction, sim.now(), { ...sim.variant(), latePublication: 'none' }).prefix;
    const records: MetricRecord[] = streamRecords({ seed: sim.seed, call, edge, direction, intervalMs }, 0, count);
    const last = records[records.length - 1];
    if (last === undefined) continue;
    if (edge === 'sdk_edge' && last.sdk_edge !== null) {
      const c = last.sdk_edge.cumulative;
      const intervals = records.flatMap((r) => (r.sdk_edge === null ? [] : [r.sdk_edge.interval]));
      metrics.inbound = {
        codec_name: profile.codecName,
        packets_received: c.packets_received,
        packets_lost: c.packets_lost,
        packets_loss_percentage: round((100 * c.packets_lost) / Math.max(1, c.packets_received + c.packets_lost)),
        jitter: stats(intervals.map((i) => i.jitter.value)),
        mos: stats(intervals.map((i) => i.mos.value)),
        rtt: stats(intervals.map((i) => i.rtt.value)),
        audio_in: stats(intervals.map((i) => i.audio_in.value)),
      };
      metrics.outbound = {
        codec_name: profile.codecName,
        packets_sent: c.packets_sent,
        audio_out: stats(intervals.map((i) => i.audio_out.value)),
      };
      continue;
    }
    const gateway: GatewayEdgeMetrics | null = last.carrier_edge ?? last.sip_edge ?? last.client_edge;
    if (gateway === null) continue;
    const counted = gateway.cumulative.packets_received ?? gateway.cumulative.packets_sent ?? 0;
    metrics[direction] = {
      codec: gateway.codec,
      codec_name: gateway.codec_name,
      ...(direction === 'inbound' ? { packets_received: counted } : { packets_sent: counted }),
      packets_lost: gateway.cumulative.packets_lost,
      packets_loss_percentage: round((100 * gateway.cumulative.packets_lost) / Math.max(1, counted + gateway.cumulative.packets_lost)),
      jitter: { ...gateway.cumulative.jitter },
    };
  }
  return { properties, metrics };
}

/**
 * `GET /v1/Voice/{CallSid}/Summary`. `ProcessingState` absent or `complete` is 17001 (status from the
 * variant, 404 by default) until `summaryDelaySeconds` after the call ended; `partial` is 404/20404 while
 * the call runs (variant `partialSummary: after_end`, the default) or always 200 (`during_call`), and says
 * `complete` once the complete summary exists.
 */
export function fetchSummary(sim: Simulator, request: ApiRequest): ApiResult {
  const call = lookupCall(sim, request.accountSid, request.params.callSid, request.path);
  const variant = sim.variant();
  const wanted = enumParam(request.query, 'ProcessingState', ['complete', 'partial'] as const, variant) ?? 'complete';
  const now = sim.now();
  const complete = call.endMs !== undefined && now >= call.endMs + variant.summaryDelaySeconds * 1000;
  if (wanted === 'complete' && !complete) {
    throw new ApiError(variant.summaryNotReadyStatus, 17001, "Completed summary for this call wasn't found");
  }
  const status = sim.statusOf(call);
  const ended = call.endMs !== undefined && now >= call.endMs;
  if (!ended && variant.partialSummary === 'after_end') throw notFoundError(request.path);
  const edges = new Set(callEdges(call));
  const edgeBlock = (edge: Edge): Record<string, unknown> | null =>
    edges.has(edge) ? edgeSummary(sim, call, edge) : null;
  const answeredMs = Math.min(call.startMs, call.endMs ?? call.startMs);
  const durationEnd = ended && call.endMs !== undefined ? call.endMs : now;
  const body = {
    account_sid: call.accountSid,
    call_sid: call.sid,
    call_type: SUMMARY_CALL_TYPE[call.type],
    call_state: status === 'in-progress' ? 'answered' : status,
    answered_by: null,
    processing_state: complete ? 'complete' : 'partial',
    created_time: iso(call.createdMs),
    start_time: iso(answeredMs),
    end_time: ended && call.endMs !== undefined ? iso(call.endMs) : null,
    duration: Math.max(0, Math.round((durationEnd - call.createdMs) / 1000)),
    connect_duration: status === 'ringing' || status === 'canceled' ? 0 : Math.max(0, Math.round((durationEnd - call.startMs) / 1000)),
    from: { caller: call.from, connection: call.from.startsWith('client:') ? 'twilio_sdk' : 'landline' },
    to: { callee: call.to, connection: call.to.startsWith('sip:') ? 'sip' : 'landline' },
    carrier_edge: edgeBlock('carrier_edge'),
    client_edge: edgeBlock('client_edge'),
    sdk_edge: edgeBlock('sdk_edge'),
    sip_edge: edgeBlock('sip_edge'),
    tags: call.degraded ? ['high_jitter', 'high_packet_loss'] : [],
    attributes: {},
    properties: {
      direction: call.from.startsWith('client:') ? 'outbound_api' : 'inbound',
      disconnected_by: ended ? 'callee' : null,
      pdd_ms: Math.max(0, call.startMs - call.createdMs),
      last_sip_response_num: ended ? 200 : null,
    },
    trust: null,
    annotation: null,
    url: `${request.baseUrl}/v1/Voice/${call.sid}/Summary`,
  };
  return { status: 200, body };
}
