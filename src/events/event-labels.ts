/**
 * The closed label sets of the call-event and summary-tag counters. Twilio's vocabularies are free strings
 * (the spec has no enum for event names or call tags), so a counter labelled with them as sent would grow with
 * whatever a client or a hostile sender puts there; a value outside these sets is counted as `other`.
 * Sources: reference facts-2 §4 (tags) and §5 (SDK, gateway and Conversation Relay events).
 */

/** The label value of anything outside a closed set. */
export const OTHER = 'other';
/** The `edge` value of an event without an edge (Conversation Relay events carry `edge: null`). */
export const NO_EDGE = 'none';
/** The `edge` value of a summary tag Twilio gives for the whole call rather than in one edge's block. */
export const CALL_LEVEL = 'call';

/** Edges an event or tag may name. */
export const EVENT_EDGES: readonly string[] = ['carrier_edge', 'sip_edge', 'sdk_edge', 'client_edge', NO_EDGE, CALL_LEVEL];

/** Event levels of the Events resource. */
export const EVENT_LEVELS: readonly string[] = ['UNKNOWN', 'DEBUG', 'INFO', 'WARNING', 'ERROR'];

/** Voice SDK warnings (raised and cleared in the `*-warning-raised`/`-cleared` groups). */
export const SDK_WARNINGS: readonly string[] = [
  'high-rtt', 'high-jitter', 'high-packet-loss', 'high-packets-lost-fraction', 'low-mos', 'low-bytes-received',
  'low-bytes-sent', 'ice-connectivity-lost', 'constant-audio-input-level', 'constant-audio-output-level',
];

/** Event groups: twilio-voice.js publishers, gateway call progress and Conversation Relay. */
export const EVENT_GROUPS: readonly string[] = [
  'network-quality-warning-raised', 'network-quality-warning-cleared', 'audio-level-warning-raised',
  'audio-level-warning-cleared', 'ice-connection-state', 'pc-connection-state', 'dtls-transport-state', 'signaling-state',
  'ice-gathering-state', 'ice-candidate', 'get-user-media', 'connection', 'network-information', 'settings', 'feedback',
  'audio', 'call-message', 'call', 'conversation_relay',
];

/** Event names other than the warnings: connection and media states, call progress, relay events. */
const OTHER_EVENT_NAMES: readonly string[] = [
  // connection (SDK) and gateway call progress
  'incoming', 'outgoing-ringing', 'accepted-by-local', 'accepted-by-remote', 'disconnected-by-local',
  'disconnected-by-remote', 'reconnecting', 'reconnected', 'muted', 'unmuted', 'cancel', 'error',
  'initiated', 'ringing', 'answered', 'in-progress', 'completed', 'failed', 'busy', 'no-answer', 'canceled',
  'call.connected', 'call.completed',
  // ICE, peer connection, DTLS and signaling states (the name is the state)
  'new', 'checking', 'connected', 'disconnected', 'closed', 'gathering', 'complete', 'connecting', 'stable',
  'have-local-offer', 'have-remote-offer', 'selected-ice-candidate-pair', 'ice-candidate',
  // media, network, settings, feedback
  'succeeded', 'denied', 'network-change', 'init', 'codec', 'edge', 'received', 'received-none',
  // Conversation Relay
  'configurations', 'call_wrap_up', 'final_token_received', 'tts_latency', 'stt_latency', 'interrupt',
  'language_changed', 'language_info',
];

/** Every event name counted as itself. */
export const EVENT_NAMES: readonly string[] = [...SDK_WARNINGS, ...OTHER_EVENT_NAMES];

/** Call summary quality tags: gateway and SDK tags of the "Call Tags" page. */
export const SUMMARY_TAGS: readonly string[] = [
  'silence', 'high_jitter', 'high_packet_loss', 'high_pdd', 'high_latency', 'low_mos', 'ice_failure',
];

const sets = new Map<readonly string[], ReadonlySet<string>>();

/** `value` when it is in the closed set `known`, else `other`. */
export function bounded(value: string, known: readonly string[]): string {
  let set = sets.get(known);
  if (!set) {
    set = new Set(known);
    sets.set(known, set);
  }
  return set.has(value) ? value : OTHER;
}

/** The labels of one call event, as the call-events counter carries them. */
export interface CallEventLabels {
  readonly name: string;
  readonly level: string;
  readonly group: string;
  readonly edge: string;
}

/** Bounds a call event's fields to the closed sets. */
export function callEventLabels(e: { readonly name: string; readonly level: string; readonly group: string; readonly edge: string }): CallEventLabels {
  return {
    name: bounded(e.name, EVENT_NAMES),
    level: bounded(e.level, EVENT_LEVELS),
    group: bounded(e.group, EVENT_GROUPS),
    edge: bounded(e.edge, EVENT_EDGES),
  };
}
