/** The Twilio media edges a Voice Insights metric can be captured on (spec `metric_enum_twilio_edge`). */
export const EDGES = ['carrier_edge', 'sip_edge', 'sdk_edge', 'client_edge', 'unknown_edge'] as const;
/** A Twilio media edge. */
export type Edge = (typeof EDGES)[number];

/** Stream directions from the edge's point of view (spec `metric_enum_stream_direction`). */
export const DIRECTIONS = ['inbound', 'outbound', 'both', 'unknown'] as const;
/** A stream direction. */
export type Direction = (typeof DIRECTIONS)[number];

/** The Voice Insights call types whose default and additional edges the reference documents. */
export const CALL_TYPES = ['carrier', 'sip', 'client', 'trunking_originating', 'trunking_terminating'] as const;
/** A Voice Insights call type. */
export type CallType = (typeof CALL_TYPES)[number];

/** Edges with real data, per call type: the first is what Twilio returns when `Edge` is omitted. */
export const EDGES_BY_CALL_TYPE: Readonly<Record<CallType, readonly Edge[]>> = {
  carrier: ['carrier_edge'],
  sip: ['sip_edge'],
  client: ['sdk_edge', 'client_edge'],
  trunking_originating: ['carrier_edge', 'sip_edge'],
  trunking_terminating: ['sip_edge', 'carrier_edge'],
};

/**
 * The Call Summary's `call_type` for each call type. The spec enum (`summary_enum_call_type`) has a single
 * `trunking`, so both trunking directions map to it.
 */
export const SUMMARY_CALL_TYPE: Readonly<Record<CallType, 'carrier' | 'sip' | 'client' | 'trunking'>> = {
  carrier: 'carrier',
  sip: 'sip',
  client: 'client',
  trunking_originating: 'trunking',
  trunking_terminating: 'trunking',
};

/** Values of one sample, already in base units (seconds, ratios 0..1); absent when Twilio sent none. */
export interface SampleValues {
  /** Mean opinion score, 1..4.5 (sdk_edge `interval.mos.value`). */
  mos?: number;
  /** Round-trip time in seconds (sdk_edge `interval.rtt.value`, ms). */
  rttSeconds?: number;
  /** Interval jitter in seconds (sdk_edge `interval.jitter.value`, ms). */
  jitterSeconds?: number;
  /** Cumulative average jitter in seconds (gateway `cumulative.jitter.avg`, ms). */
  jitterAvgSeconds?: number;
  /** Cumulative maximum jitter in seconds (gateway `cumulative.jitter.max`, ms). */
  jitterMaxSeconds?: number;
  /** Packet loss in the interval as a ratio 0..1 (`interval.packets_loss_percentage`, percent). */
  packetLossRatio?: number;
  /** Input audio level 0..32767 (sdk_edge `interval.audio_in.value`). */
  audioInLevel?: number;
  /** Output audio level 0..32767 (sdk_edge `interval.audio_out.value`). */
  audioOutLevel?: number;
  /** Cumulative packets sent (`cumulative.packets_sent`). */
  packetsSent?: number;
  /** Cumulative packets received (`cumulative.packets_received`). */
  packetsReceived?: number;
  /** Cumulative packets lost (`cumulative.packets_lost`). */
  packetsLost?: number;
  /** Cumulative bytes sent (sdk_edge `cumulative.bytes_sent`). */
  bytesSent?: number;
  /** Cumulative bytes received (sdk_edge `cumulative.bytes_received`). */
  bytesReceived?: number;
}

/** One Voice Insights sample of one stream, identified by (callSid, edge, direction, timestampMs). */
export interface Sample {
  /** The call, `CA` + 32 hex. */
  readonly callSid: string;
  /** The account, `AC` + 32 hex. */
  readonly accountSid: string;
  /** The edge the sample was captured on. */
  readonly edge: Edge;
  /** The stream direction. */
  readonly direction: Direction;
  /** Sample time (end of its 10 s window), Unix epoch milliseconds. */
  readonly timestampMs: number;
  /** Codec name, e.g. `pcmu`, `opus`, when sent. */
  readonly codecName?: string;
  /** Twilio media region of the edge, e.g. `us1`, when sent. */
  readonly region?: string;
  /** The metric values in base units. */
  readonly values: Readonly<SampleValues>;
}

// Every key built once, so the per-sample lookup allocates no string.
const STREAM_KEY_TABLE = Object.fromEntries(
  EDGES.map((e) => [e, Object.fromEntries(DIRECTIONS.map((d) => [d, `${e}/${d}`]))]),
) as Readonly<Record<Edge, Readonly<Record<Direction, string>>>>;

/** The directions that carry data on an edge: `both` for the SDK, one stream each way on gateways. */
export function edgeDirections(edge: Edge): readonly Direction[] {
  if (edge === 'sdk_edge') return ['both'];
  if (edge === 'unknown_edge') return [];
  return ['inbound', 'outbound'];
}

/** The stream a sample belongs to, as one string: `edge/direction`. */
export function streamKey(edge: Edge, direction: Direction): string {
  return STREAM_KEY_TABLE[edge][direction];
}
