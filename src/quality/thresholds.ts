import type { Edge, SampleValues } from '../samples/sample.ts';

/** The quality issues a stream can raise: a closed set, so the fleet metrics' `issue` label stays bounded. */
export const ISSUES = ['high_rtt', 'low_mos', 'high_jitter', 'high_packet_loss'] as const;
/** A quality issue. */
export type Issue = (typeof ISSUES)[number];

/** Sample fields a threshold can test, by their config name (base units, as the store holds them). */
export const THRESHOLD_FIELDS = {
  mos: 'mos',
  rtt_seconds: 'rttSeconds',
  jitter_seconds: 'jitterSeconds',
  jitter_avg_seconds: 'jitterAvgSeconds',
  jitter_max_seconds: 'jitterMaxSeconds',
  packet_loss_ratio: 'packetLossRatio',
} as const satisfies Record<string, keyof SampleValues>;
/** A field name a threshold can test. */
export type ThresholdField = keyof typeof THRESHOLD_FIELDS;

/** One test of one sample field: past the threshold means strictly above (`above`) or strictly below (`below`). */
export interface ThresholdCondition {
  readonly field: ThresholdField;
  readonly above?: number;
  readonly below?: number;
}

/** One rule: a sample of a stream on one of `edges` is bad for `issue` when every condition holds. */
export interface ThresholdRule {
  readonly issue: Issue;
  readonly edges: readonly Edge[];
  readonly conditions: readonly ThresholdCondition[];
  /** Where the threshold is documented, shown on the status page. */
  readonly source: string;
}

/** The "N of the last M samples" window shared by every rule. */
export interface VerdictWindow {
  /** M: the samples of a stream the window holds, 1..32 [5]. */
  readonly samples: number;
  /** N: bad samples in the window that raise the issue [3]. */
  readonly raiseAt: number;
  /** The issue clears once the window holds at most this many bad samples [0]. */
  readonly clearAt: number;
}

/** The SDK warnings' window as Twilio documents it: raised at 3 of the last 5 samples, cleared at 0. */
export const DEFAULT_WINDOW: VerdictWindow = { samples: 5, raiseAt: 3, clearAt: 0 };

const GATEWAY_EDGES: readonly Edge[] = ['carrier_edge', 'sip_edge', 'client_edge'];

/**
 * Twilio's documented thresholds (reference: facts-2 §4, "Details: Call Tags" and "Voice Insights SDK Events").
 * SDK edge: the SDK warnings (RTT > 400 ms, MOS < 3.5, jitter > 30 ms, loss > 1 %). Gateway edges: the
 * call tags (`high_jitter` is average jitter over 5 ms and maximum over 30 ms; `high_packet_loss` is loss over 5 %).
 */
export const DEFAULT_RULES: readonly ThresholdRule[] = [
  { issue: 'high_rtt', edges: ['sdk_edge'], conditions: [{ field: 'rtt_seconds', above: 0.4 }], source: 'SDK warning high-rtt: RTT > 400 ms' },
  { issue: 'low_mos', edges: ['sdk_edge'], conditions: [{ field: 'mos', below: 3.5 }], source: 'SDK warning low-mos: MOS < 3.5' },
  { issue: 'high_jitter', edges: ['sdk_edge'], conditions: [{ field: 'jitter_seconds', above: 0.03 }], source: 'SDK warning high-jitter: jitter > 30 ms' },
  {
    issue: 'high_packet_loss',
    edges: ['sdk_edge'],
    conditions: [{ field: 'packet_loss_ratio', above: 0.01 }],
    source: 'SDK warning high-packet-loss: packet loss > 1 %',
  },
  {
    issue: 'high_jitter',
    edges: GATEWAY_EDGES,
    conditions: [
      { field: 'jitter_avg_seconds', above: 0.005 },
      { field: 'jitter_max_seconds', above: 0.03 },
    ],
    source: 'gateway tag high_jitter: average jitter > 5 ms and max jitter > 30 ms',
  },
  {
    issue: 'high_packet_loss',
    edges: GATEWAY_EDGES,
    conditions: [{ field: 'packet_loss_ratio', above: 0.05 }],
    source: 'gateway tag high_packet_loss: packet loss > 5 %',
  },
];
