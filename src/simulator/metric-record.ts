import type { Direction, Edge } from '../samples/sample.ts';

/** `metadata` of a media-gateway edge object. */
export interface GatewayMetadata {
  /** Twilio media region. */
  region: string;
  /** Twilio media IP. */
  twilio_ip: string;
  /** Far-end media IP. */
  external_ip: string;
  /** Twilio edge location. */
  edge_location: string;
}

/** A media-gateway edge object (`carrier_edge`, `sip_edge`, `client_edge`) of one direction. */
export interface GatewayEdgeMetrics {
  /** RTP payload type. */
  codec: number;
  /** Codec name. */
  codec_name: string;
  /** Where the media flowed. */
  metadata: GatewayMetadata;
  /** Since the start of the stream: jitter avg/max in ms, packet counters. */
  cumulative: {
    jitter: { avg: number; max: number };
    packets_received?: number;
    packets_sent?: number;
    packets_lost: number;
  };
  /** This 10 s window: packet counter, lost packets and loss percent. */
  interval: {
    packets_received?: number;
    packets_sent?: number;
    packets_lost: number;
    packets_loss_percentage: number;
  };
}

/** The `sdk_edge` object (direction `both`). */
export interface SdkEdgeMetrics {
  /** This 10 s window. */
  interval: {
    packets_received: number;
    packets_lost: number;
    packets_loss_percentage: number;
    audio_in: { value: number };
    audio_out: { value: number };
    jitter: { value: number };
    mos: { value: number };
    rtt: { value: number };
  };
  /** Since the start of the call. */
  cumulative: {
    bytes_received: number;
    bytes_sent: number;
    packets_received: number;
    packets_lost: number;
    packets_sent: number;
  };
}

/** One wire record of `GET /v1/Voice/{CallSid}/Metrics` (schema `insights.v1.call.metric`). */
export interface MetricRecord {
  /** End of the sample window, `…Z` or `….mmmZ`. */
  timestamp: string;
  /** The call. */
  call_sid: string;
  /** The account. */
  account_sid: string;
  /** The edge; only its key below is filled. */
  edge: Edge;
  /** The stream direction. */
  direction: Direction;
  /** Filled when `edge` is `carrier_edge`. */
  carrier_edge: GatewayEdgeMetrics | null;
  /** Filled when `edge` is `sip_edge`. */
  sip_edge: GatewayEdgeMetrics | null;
  /** Filled when `edge` is `sdk_edge`. */
  sdk_edge: SdkEdgeMetrics | null;
  /** Filled when `edge` is `client_edge`. */
  client_edge: GatewayEdgeMetrics | null;
}
