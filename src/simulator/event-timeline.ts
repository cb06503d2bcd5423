import type { Edge } from '../samples/sample.ts';
import { profileOf } from './call-profile.ts';
import type { EpisodeKind } from './quality-signal.ts';
import { EPISODE_BLOCK_SAMPLES, episodeInBlock } from './quality-signal.ts';
import type { SimCall } from './sim-call.ts';
import { sampleTimestampMs } from './sim-call.ts';
import { formatInsightsTimestamp } from './timestamps.ts';

/** One wire record of `GET /v1/Voice/{CallSid}/Events` (schema `insights.v1.call.event`). */
export interface EventRecord {
  timestamp: string;
  call_sid: string;
  account_sid: string;
  edge: Edge;
  group: string;
  level: 'UNKNOWN' | 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
  name: string;
  carrier_edge: Record<string, unknown> | null;
  sip_edge: Record<string, unknown> | null;
  sdk_edge: Record<string, unknown> | null;
  client_edge: Record<string, unknown> | null;
}

/** An event with its sort key (stable as the timeline grows). */
export interface TimelineEvent {
  /** `(timestamp - created) * 16 + rank`: unique per call and edge, ascending in time. */
  readonly key: number;
  /** Event time, epoch ms. */
  readonly atMs: number;
  /** The record. */
  readonly record: EventRecord;
}

const WARNING_NAMES: Readonly<Record<EpisodeKind, string>> = {
  loss: 'high-packet-loss',
  jitter: 'high-jitter',
  latency: 'high-rtt',
  mixed: 'low-mos',
};

/**
 * The events of one edge of a call whose time is at or before `cutoffMs`: call progress on the
 * gateways; connection events plus one network warning per quality episode on the SDK.
 */
export function eventTimeline(seed: number, call: SimCall, edge: Edge, cutoffMs: number): TimelineEvent[] {
  const profile = profileOf(seed, call);
  const sdk = edge === 'sdk_edge';
  const payload = sdk
    ? {
        metadata: {
          client_name: call.from.startsWith('client:') ? call.from.slice(7) : 'agent',
          country_code: 'US',
          ip_address: profile.externalIp,
          sdk: { type: 'twilio-voice-js', version: '2.12.1', platform: 'browser', selected_region: 'gll' },
        },
      }
    : {
        metadata: {
          region: profile.region,
          edge_location: profile.edgeLocation,
          twilio_ip: profile.twilioIp,
          external_ip: profile.externalIp,
        },
      };
  const events: TimelineEvent[] = [];
  const add = (atMs: number, rank: number, group: string, name: string, level: EventRecord['level']): void => {
    if (atMs > cutoffMs) return;
    events.push({
      key: (atMs - call.createdMs) * 16 + rank,
      atMs,
      record: {
        timestamp: formatInsightsTimestamp(atMs),
        call_sid: call.sid,
        account_sid: call.accountSid,
        edge,
        group,
        level,
        name,
        carrier_edge: edge === 'carrier_edge' ? payload : null,
        sip_edge: edge === 'sip_edge' ? payload : null,
        sdk_edge: sdk ? payload : null,
        client_edge: edge === 'client_edge' ? payload : null,
      },
    });
  };
  const group = sdk ? 'connection' : 'call_progress';
  const answered = call.endMs === undefined || call.endMs > call.startMs;
  add(call.createdMs, 0, group, sdk ? 'outgoing' : 'initiated', 'INFO');
  add(call.createdMs, 1, group, 'ringing', 'INFO');
  if (answered) add(call.startMs, 2, group, sdk ? 'accepted' : 'answered', 'INFO');
  if (sdk && answered) {
    const lastMs = Math.min(cutoffMs, call.endMs ?? Number.POSITIVE_INFINITY);
    const samples = Math.max(0, Math.floor((lastMs - call.startMs) / 10_000));
    for (let block = 0; block * EPISODE_BLOCK_SAMPLES < samples; block++) {
      const episode = episodeInBlock(profile.key, block, call.degraded);
      if (episode === undefined) continue;
      const index = block * EPISODE_BLOCK_SAMPLES + episode.start;
      if (index >= samples) continue;
      add(sampleTimestampMs(call, index), 3, 'network-quality-warning-raised', WARNING_NAMES[episode.kind], 'WARNING');
    }
  }
  if (call.endMs !== undefined) {
    add(call.endMs, 7, group, sdk ? 'disconnect' : answered ? 'completed' : 'canceled', 'INFO');
  }
  return events.sort((a, b) => a.key - b.key);
}
