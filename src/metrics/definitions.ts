/**
 * The metrics table: one row per family, and the only place a family is declared.
 *
 * Adding a family read from the store: add a row with `source` ('stream', 'call', 'fleet', 'account', or for the
 * live quality verdicts 'stream_issue' and 'issue'), its `labels`
 * (names from `LABEL_VALUES` in subject.ts) and a `value` (`streamMetric` builds a per-stream row from an `extract`),
 * then list it in `STORE_FAMILIES` below; the Prometheus and OTLP writers, the README table (`npm run docs:metrics`)
 * and the checks pick it up. A label is one more name in the row's `labels`. A fleet histogram also needs `buckets`
 * and `extract`, and goes in `FLEET_HISTOGRAMS` (the aggregator observes those). The exporter's own metrics are
 * prom-client instruments: add a `self(...)` entry to `SELF_METRICS`.
 */
import type { SampleValues } from '../samples/sample.ts';
import { labelValues } from './subject.ts';
import type { LabelValue, Subject } from './subject.ts';

/** Whether a metric is per call, a fleet aggregate, or about the exporter itself. */
export type MetricScope = 'call' | 'fleet' | 'self';
/** The metric kinds this exporter exposes. */
export type MetricType = 'gauge' | 'counter' | 'histogram';

/**
 * Which loop of the store walk emits a family's series: per stream, per call, per fleet cell, per account, per
 * issue a stream raises now, or per fleet verdict cell (issue, edge, account).
 */
export type SeriesSource = 'stream' | 'call' | 'fleet' | 'account' | 'stream_issue' | 'issue';

/** One row of the metrics table: everything the Prometheus and OTel expositions, docs and checks need. */
export interface MetricDefinition {
  /** Stable key, used by allow/deny lists and tests. */
  readonly key: string;
  /** Prometheus name (counters end in `_total`). */
  readonly name: string;
  /** OpenTelemetry instrument name. */
  readonly otelName: string;
  /** UCUM unit for OpenTelemetry (`1`, `s`, `By`, `{packet}`). */
  readonly otelUnit: string;
  /** Help text; for sample metrics it names the Twilio field and the conversion. */
  readonly help: string;
  /** Metric kind. */
  readonly type: MetricType;
  /** Per call, fleet or self. */
  readonly scope: MetricScope;
  /** Prometheus label names (OTel attributes are derived by `otelAttributeName`). */
  readonly labels: readonly string[];
  /**
   * For sample metrics: the value in base units, or undefined when the sample lacks it. On a per-stream row it is
   * what `value` reads from the stream's newest values, and the walk calls it directly (`streamMetric` keeps both).
   */
  readonly extract?: (v: Readonly<SampleValues>) => number | undefined;
  /** Histogram bucket upper bounds, shared by Prometheus and OTel. */
  readonly buckets?: readonly number[];
  /** For families read from the store: which loop of the walk emits them (self metrics have none). */
  readonly source?: SeriesSource;
  /** Readers of the label values, one per `labels` entry, built from `labels` so the names drive the output. */
  readonly labelValues?: readonly LabelValue[];
  /** The value of one series of a store-read gauge or counter, or undefined for no series. */
  readonly value?: (s: Readonly<Subject>) => number | undefined;
}

/** What `streamMetric` needs: a per-stream gauge or counter read from the newest sample. */
export interface StreamMetricSpec {
  readonly key: string;
  readonly name: string;
  readonly otelName: string;
  readonly otelUnit: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly extract: (v: Readonly<SampleValues>) => number | undefined;
  /** Label names [CALL_LABELS]; each must be in `LABEL_VALUES`. */
  readonly labels?: readonly string[];
}

/** Builds a per-stream row: its series are the streams whose newest sample carries the value. */
export function streamMetric(spec: StreamMetricSpec): MetricDefinition {
  const { extract } = spec;
  const labels = spec.labels ?? CALL_LABELS;
  return {
    ...spec,
    scope: 'call',
    labels,
    source: 'stream',
    labelValues: labelValues(labels),
    value: (s) => extract(s.stream.values),
  };
}

/** Labels of every per-call stream series. */
export const CALL_LABELS = ['call_sid', 'edge', 'direction'] as const;
/** Labels of the fleet aggregates: bounded, whatever the number of calls. */
export const FLEET_LABELS = ['edge', 'direction', 'account_sid'] as const;
/** Labels of `twilio_call_info`. */
export const CALL_INFO_LABELS = ['call_sid', 'account_sid', 'call_type', 'codec_name', 'media_region'] as const;

/** MOS buckets: fine around Twilio's 3.5 "low MOS" threshold and the 4.x range healthy calls live in. */
export const MOS_BUCKETS = [1, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.4, 4.5] as const;
/** RTT buckets in seconds; 0.4 is Twilio's "high latency" threshold. */
export const RTT_BUCKETS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 1, 2] as const;
/** Jitter buckets in seconds; 0.03 is Twilio's "high jitter" threshold. */
export const JITTER_BUCKETS = [0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2] as const;
/** Loss-ratio buckets; 0.01 and 0.05 are Twilio's packet-loss thresholds. */
export const LOSS_BUCKETS = [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5] as const;

function call(
  key: string,
  name: string,
  otelName: string,
  otelUnit: string,
  type: 'gauge' | 'counter',
  help: string,
  extract: (v: Readonly<SampleValues>) => number | undefined,
): MetricDefinition {
  return streamMetric({ key, name, otelName, otelUnit, type, help, extract });
}

function fleet(
  key: string,
  name: string,
  otelName: string,
  otelUnit: string,
  help: string,
  buckets: readonly number[],
  extract: (v: Readonly<SampleValues>) => number | undefined,
): MetricDefinition {
  return {
    key, name, otelName, otelUnit, help, type: 'histogram', scope: 'fleet', labels: FLEET_LABELS, extract, buckets,
    source: 'fleet', labelValues: labelValues(FLEET_LABELS),
  };
}

function self<T extends MetricType>(
  key: string,
  type: T,
  labels: readonly string[],
  otelUnit: string,
  help: string,
  buckets?: readonly number[],
): MetricDefinition & { readonly type: T } {
  // OTel names carry no unit or `_total` suffix: the unit and the instrument kind say that.
  const otelName = `twilio_insights_exporter.${key.replace(/_(total|seconds)$/, '').replace(/_seconds_total$/, '')}`;
  return {
    key,
    name: `twilio_insights_exporter_${key}`,
    otelName,
    otelUnit,
    help,
    type,
    scope: 'self',
    labels,
    ...(buckets && { buckets }),
  };
}

/** Per-stream series derived from samples, labelled call_sid, edge, direction. */
export const CALL_METRICS: readonly MetricDefinition[] = [
  call('mos', 'twilio_call_mos', 'twilio.call.mos', '{score}', 'gauge',
    'Mean opinion score of the newest sample, 1 to 4.5 (Twilio interval.mos.value).', (v) => v.mos),
  call('rtt', 'twilio_call_rtt_seconds', 'twilio.call.rtt', 's', 'gauge',
    'Round-trip time of the newest sample in seconds (Twilio interval.rtt.value, ms / 1000).', (v) => v.rttSeconds),
  call('jitter', 'twilio_call_jitter_seconds', 'twilio.call.jitter', 's', 'gauge',
    'Jitter over the newest sample interval in seconds (Twilio interval.jitter.value, ms / 1000).', (v) => v.jitterSeconds),
  call('jitter_avg', 'twilio_call_jitter_avg_seconds', 'twilio.call.jitter.avg', 's', 'gauge',
    'Average jitter since the call started in seconds (Twilio cumulative.jitter.avg, ms / 1000).', (v) => v.jitterAvgSeconds),
  call('jitter_max', 'twilio_call_jitter_max_seconds', 'twilio.call.jitter.max', 's', 'gauge',
    'Maximum jitter since the call started in seconds (Twilio cumulative.jitter.max, ms / 1000).', (v) => v.jitterMaxSeconds),
  call('packet_loss', 'twilio_call_packet_loss_ratio', 'twilio.call.packet_loss', '1', 'gauge',
    'Packet loss over the newest sample interval as a ratio 0..1 (Twilio interval.packets_loss_percentage / 100).', (v) => v.packetLossRatio),
  call('audio_in_level', 'twilio_call_audio_in_level', 'twilio.call.audio.in_level', '{level}', 'gauge',
    'Input audio level of the newest sample, 0 to 32767 (Twilio interval.audio_in.value).', (v) => v.audioInLevel),
  call('audio_out_level', 'twilio_call_audio_out_level', 'twilio.call.audio.out_level', '{level}', 'gauge',
    'Output audio level of the newest sample, 0 to 32767 (Twilio interval.audio_out.value).', (v) => v.audioOutLevel),
  call('packets_sent', 'twilio_call_packets_sent_total', 'twilio.call.packets.sent', '{packet}', 'counter',
    'Packets sent since the call started (Twilio cumulative.packets_sent).', (v) => v.packetsSent),
  call('packets_received', 'twilio_call_packets_received_total', 'twilio.call.packets.received', '{packet}', 'counter',
    'Packets received since the call started (Twilio cumulative.packets_received).', (v) => v.packetsReceived),
  call('packets_lost', 'twilio_call_packets_lost_total', 'twilio.call.packets.lost', '{packet}', 'counter',
    'Packets lost since the call started (Twilio cumulative.packets_lost).', (v) => v.packetsLost),
  call('sent_bytes', 'twilio_call_sent_bytes_total', 'twilio.call.sent', 'By', 'counter',
    'Bytes sent since the call started (Twilio cumulative.bytes_sent).', (v) => v.bytesSent),
  call('received_bytes', 'twilio_call_received_bytes_total', 'twilio.call.received', 'By', 'counter',
    'Bytes received since the call started (Twilio cumulative.bytes_received).', (v) => v.bytesReceived),
];

/** The sample-time gauge: rendered from the stream, not from the values. */
export const CALL_SAMPLE_TIMESTAMP: MetricDefinition = {
  key: 'sample_timestamp',
  name: 'twilio_call_sample_timestamp_seconds',
  otelName: 'twilio.call.sample.timestamp',
  otelUnit: 's',
  help: 'End time of the newest sample of the stream, Unix seconds (Twilio timestamp).',
  type: 'gauge',
  scope: 'call',
  labels: CALL_LABELS,
  source: 'stream',
  labelValues: labelValues(CALL_LABELS),
  value: (s) => s.stream.lastTimestampMs / 1000,
};

/** The info metric carrying a call's descriptive labels. */
export const CALL_INFO: MetricDefinition = {
  key: 'call_info',
  name: 'twilio_call_info',
  otelName: 'twilio.call.info',
  // A braced annotation, not "1": OTLP-to-Prometheus naming would append `_ratio` to a unit-"1" gauge.
  otelUnit: '{info}',
  help: 'Descriptive labels of a tracked call; the value is always 1.',
  type: 'gauge',
  scope: 'call',
  labels: CALL_INFO_LABELS,
  source: 'call',
  labelValues: labelValues(CALL_INFO_LABELS),
  value: () => 1,
};

/** Labels of `twilio_call_summary_tags`. */
export const CALL_SUMMARY_LABELS = ['call_sid', 'account_sid', 'call_type', 'processing_state'] as const;

/**
 * Per-call summary gauge while the call is retained. The value is the number of quality tags rather than a
 * constant 1, so `> 0` finds the calls Twilio judged bad without a join; the tags themselves are not labels
 * (their combinations per call are unbounded), the fleet counter `twilio_voice_call_tags_total` carries them.
 */
export const CALL_SUMMARY_TAGS: MetricDefinition = {
  key: 'call_summary_tags',
  name: 'twilio_call_summary_tags',
  otelName: 'twilio.call.summary.tags',
  otelUnit: '{tag}',
  help: 'Quality tags in the most final pushed call summary (Twilio tags, per edge and call level), labelled with the summary\'s processing state; no series before a summary arrives.',
  type: 'gauge',
  scope: 'call',
  labels: CALL_SUMMARY_LABELS,
  source: 'call',
  labelValues: labelValues(CALL_SUMMARY_LABELS),
  value: (s) => s.call.summary?.tagCount,
};

/** Fleet histograms: every applied sample observed once, labelled by edge, direction and account. */
export const FLEET_HISTOGRAMS: readonly MetricDefinition[] = [
  fleet('voice_mos', 'twilio_voice_mos', 'twilio.voice.mos', '{score}',
    'Distribution of sample MOS across all calls (Twilio interval.mos.value).', MOS_BUCKETS, (v) => v.mos),
  fleet('voice_rtt', 'twilio_voice_rtt_seconds', 'twilio.voice.rtt', 's',
    'Distribution of sample round-trip time across all calls in seconds (Twilio interval.rtt.value, ms / 1000).', RTT_BUCKETS, (v) => v.rttSeconds),
  fleet('voice_jitter', 'twilio_voice_jitter_seconds', 'twilio.voice.jitter', 's',
    'Distribution of sample interval jitter across all calls in seconds (Twilio interval.jitter.value, ms / 1000).', JITTER_BUCKETS, (v) => v.jitterSeconds),
  fleet('voice_packet_loss', 'twilio_voice_packet_loss_ratio', 'twilio.voice.packet_loss', '1',
    'Distribution of sample packet loss across all calls as a ratio (Twilio interval.packets_loss_percentage / 100).', LOSS_BUCKETS, (v) => v.packetLossRatio),
];

/** Fleet counters and gauges. */
export const FLEET_SAMPLES: MetricDefinition = {
  key: 'voice_samples',
  name: 'twilio_voice_samples_total',
  otelName: 'twilio.voice.samples',
  otelUnit: '{sample}',
  help: 'Samples applied to the fleet aggregates, each (call, edge, direction, timestamp) once.',
  type: 'counter',
  scope: 'fleet',
  labels: FLEET_LABELS,
  source: 'fleet',
  labelValues: labelValues(FLEET_LABELS),
  value: (s) => s.cell.samples,
};

/** Calls currently tracked and not ended, per account. */
export const FLEET_ACTIVE_CALLS: MetricDefinition = {
  key: 'voice_active_calls',
  name: 'twilio_voice_active_calls',
  otelName: 'twilio.voice.active_calls',
  otelUnit: '{call}',
  help: 'Calls tracked and still in progress, per account.',
  type: 'gauge',
  scope: 'fleet',
  labels: ['account_sid'],
  source: 'account',
  labelValues: labelValues(['account_sid']),
  value: (s) => s.count,
};

/** Labels of the per-call verdict series: a stream and the issue it raises. */
export const CALL_ISSUE_LABELS = ['call_sid', 'edge', 'direction', 'issue'] as const;
/** Labels of the fleet verdict families: bounded (closed sets of issues and edges, configured accounts). */
export const FLEET_ISSUE_LABELS = ['issue', 'edge', 'account_sid'] as const;

/** The live quality verdict of a stream: a series only while the stream raises the issue. */
export const CALL_QUALITY_ISSUE: MetricDefinition = {
  key: 'call_quality_issue',
  name: 'twilio_call_quality_issue',
  otelName: 'twilio.call.quality_issue',
  // Braced like twilio_call_info: a unit-"1" gauge would gain `_ratio` through OTLP-to-Prometheus naming.
  otelUnit: '{issue}',
  help: 'Live quality verdict: 1 while the stream raises the issue (quality.rules, N of the last M samples past Twilio\'s threshold); no series otherwise, nor once the call has ended.',
  type: 'gauge',
  scope: 'call',
  labels: CALL_ISSUE_LABELS,
  source: 'stream_issue',
  labelValues: labelValues(CALL_ISSUE_LABELS),
  value: () => 1,
};

/** Fleet verdict families: calls raising each issue now, and calls that ever did. */
export const FLEET_QUALITY_ISSUES: readonly MetricDefinition[] = [
  {
    key: 'voice_calls_with_quality_issue',
    name: 'twilio_voice_calls_with_quality_issue',
    otelName: 'twilio.voice.calls_with_quality_issue',
    otelUnit: '{call}',
    help: 'Calls raising the quality issue on the edge now (either direction), ended calls not included; a call raising it on two edges counts on each.',
    type: 'gauge',
    scope: 'fleet',
    labels: FLEET_ISSUE_LABELS,
    source: 'issue',
    labelValues: labelValues(FLEET_ISSUE_LABELS),
    value: (s) => s.issueCell.raising,
  },
  {
    key: 'voice_calls_quality_issue_raised_total',
    name: 'twilio_voice_calls_quality_issue_raised_total',
    otelName: 'twilio.voice.calls_quality_issue_raised',
    otelUnit: '{call}',
    help: 'Calls that raised the quality issue on the edge at least once, each counted once however often it raised it; 0 from the start for every issue a rule judges on the edge.',
    type: 'counter',
    scope: 'fleet',
    labels: FLEET_ISSUE_LABELS,
    source: 'issue',
    labelValues: labelValues(FLEET_ISSUE_LABELS),
    value: (s) => s.issueCell.raisedTotal,
  },
];
/** A fleet counter fed from pushed events: a prom-client instrument like the self metrics, named as Twilio data. */
function pushedFleetCounter(key: string, name: string, otelName: string, otelUnit: string, labels: readonly string[], help: string): MetricDefinition & { readonly type: 'counter' } {
  return { key, name, otelName, otelUnit, help, type: 'counter', scope: 'fleet', labels };
}

const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** The prom-client instruments: the exporter's own metrics, and the fleet counters fed from pushed events. */
export const SELF_METRICS = {
  apiRequests: self('api_requests_total', 'counter', ['account_sid', 'endpoint', 'outcome'], '{request}',
    'Requests to the Twilio API by endpoint and outcome (HTTP status, `other` for a status HTTP does not define, or an error code for failures without one).'),
  apiRequestDuration: self('api_request_duration_seconds', 'histogram', ['account_sid', 'endpoint'], 's',
    'Duration of requests to the Twilio API.', DURATION_BUCKETS),
  apiRetries: self('api_retries_total', 'counter', ['account_sid', 'endpoint', 'reason'], '{request}',
    'Requests to the Twilio API retried after a retryable failure, by the failure code.'),
  pollDuration: self('poll_duration_seconds', 'histogram', ['account_sid'], 's',
    'Duration of one poll of one call (all its edges and pages).', DURATION_BUCKETS),
  pollLag: self('poll_lag_seconds', 'gauge', ['account_sid'], 's',
    'How late the latest poll of the account started after it was due.'),
  lastSuccessfulPoll: self('last_successful_poll_timestamp_seconds', 'gauge', ['account_sid'], 's',
    'Unix time of the last poll that succeeded for the account.'),
  up: self('up', 'gauge', ['account_sid'], '1',
    '1 when the last request to the account succeeded, 0 when Twilio refused the credentials or could not be reached (connection failures, timeouts, server errors, open circuit).'),
  trackedCalls: self('tracked_calls', 'gauge', ['account_sid', 'state'], '{call}',
    'Calls tracked, by state (active, draining, ended).'),
  callsRefused: self('calls_refused_total', 'counter', ['source'], '{call}',
    'Calls not tracked because max_calls was reached, by the source that announced them.'),
  callPollSuccess: self('call_poll_success', 'gauge', ['call_sid'], '1',
    '1 when the last poll of the call succeeded, 0 otherwise.'),
  cursorResets: self('cursor_resets_total', 'counter', ['account_sid'], '{reset}',
    'Paging cursors that Twilio no longer accepted, replaced by a full re-read with de-duplication.'),
  samplesRejected: self('samples_rejected_total', 'counter', ['reason'], '{sample}',
    'Metric records skipped, by reason: malformed, dated too far ahead of the clock, naming another call, account or edge than the query, or too_late (never seen and older than max_sample_lateness behind their stream). A record read again on a later poll is not counted again (each edge query remembers its last 256 skipped records).'),
  pagingStopped: self('paging_stopped_total', 'counter', ['account_sid', 'reason'], '{read}',
    'Reads of a call\'s metrics that stopped before the last page, by reason: page_cap or byte_cap (the poll budget; the next poll goes on), foreign_origin (a next page on another origin, never requested), page_failed (a later page failed for good); what was read before is kept.'),
  samplesDuplicate: self('samples_duplicate_total', 'counter', [], '{sample}',
    'Metric records read again (overlapping pages, cursor resets) and not applied a second time.'),
  renderDuration: self('metrics_render_duration_seconds', 'histogram', ['format'], 's',
    'Time to render the /metrics exposition.', [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]),
  configReloadSuccess: self('config_last_reload_successful', 'gauge', [], '1',
    '1 when the last configuration load succeeded.'),
  configReloadTime: self('config_last_reload_success_timestamp_seconds', 'gauge', [], 's',
    'Unix time of the last successful configuration load.'),
  webhookCallbacks: self('webhook_callbacks_total', 'counter', ['outcome'], '{request}',
    'Twilio status callbacks received, by outcome: accepted, forbidden, bad_request, ignored; with shards only the call\'s owner counts accepted or ignored, and the replica Twilio reached counts forwarded (the owner took it), forward_failed (the owner could not be reached or refused it; Twilio got 502 or 504) or not_owned (another shard\'s call and no webhooks.shard_peer_url, or forwarded to a replica that does not own it; Twilio got 503).'),
  eventStreamsDeliveries: self('event_streams_deliveries_total', 'counter', ['outcome'], '{request}',
    'Event Streams webhook deliveries, by outcome (accepted, forbidden, bad_request, unsupported_media_type, too_large, error).'),
  eventStreamsEvents: self('event_streams_events_total', 'counter', ['outcome'], '{event}',
    'CloudEvents in accepted deliveries, by outcome: applied, duplicate (id or sample already applied), too_late (sample refused, also in samples_rejected_total), refused (call not tracked: max_calls or another shard), skipped, unknown_type.'),
  eventStreamsSkipped: self('event_streams_events_skipped_total', 'counter', ['reason'], '{event}',
    'CloudEvents skipped because they were malformed, not for the sink\'s account, or dated past max_clock_skew (future_timestamp), by reason.'),
  ingestMode: self('ingest_mode', 'gauge', ['account_sid', 'mode'], '1',
    'The running ingest mode of each account: 1 for its mode (poll, push or hybrid), 0 for the others; follows reloads.'),
  eventStreamsGapFillPolls: self('event_streams_gap_fill_polls_total', 'counter', ['account_sid'], '{poll}',
    'Polls of hybrid-mode calls made because their pushed samples stopped for longer than event_streams.hybrid_gap (each fills the gap once; push and poll samples count once).'),
  eventStreamsSilentCalls: self('event_streams_silent_calls_total', 'counter', ['account_sid'], '{call}',
    'Push- and hybrid-mode calls ended because no source had a new sample for event_streams.silence_timeout (no pushed sample; in hybrid mode no new polled one either), not by their completed call event or summary; 0 from the start for each push or hybrid account.'),
  callEvents: pushedFleetCounter('voice_call_events', 'twilio_voice_call_events_total', 'twilio.voice.call_events', '{event}',
    ['account_sid', 'edge', 'group', 'name', 'level'],
    'Pushed Voice SDK and gateway call events (Event Streams call-event.*), each CloudEvent once; name, group, level and edge outside the documented sets are "other" (see docs/event-vocabulary.md).'),
  callTags: pushedFleetCounter('voice_call_tags', 'twilio_voice_call_tags_total', 'twilio.voice.call_tags', '{call}',
    ['account_sid', 'edge', 'tag'],
    'Calls Twilio tagged in a pushed call summary (high_jitter, low_mos, …), each (call, edge, tag) once whichever summaries carry it; edge "call" for call-level tags, tags outside the documented set are "other".'),
  stateSaves: self('state_saves_total', 'counter', ['outcome'], '{save}',
    'State file saves by outcome (success, failure); present when state.path is set. A failed save keeps the exporter running, but a restart may count samples again.'),
  stateLastSave: self('state_last_save_success_timestamp_seconds', 'gauge', [], 's',
    'Unix time of the last state file save that was written; present when state.path is set.'),
  otlpExports: self('otlp_exports_total', 'counter', ['outcome'], '{export}',
    'OTLP metric exports by outcome (success, failure), counted once each after the SDK\'s retries.'),
  circuitOpen: self('circuit_open', 'gauge', ['account_sid'], '1',
    '1 while the account\'s circuit breaker is open after sustained Twilio failures (requests fail fast), else 0.'),
  shardOrdinal: self('shard_ordinal', 'gauge', [], '1',
    'The shard this replica owns (calls whose CallSid hashes to it); 0 when unsharded.'),
  totalShards: self('total_shards', 'gauge', [], '1',
    'Number of shards the calls are split into; 1 when unsharded.'),
  buildInfo: self('build_info', 'gauge', ['version', 'nodejs_version'], '1',
    'Build information; the value is always 1.'),
} as const satisfies Record<string, MetricDefinition>;

/** The families read from the store and the fleet aggregates, in output order: what the store walk emits. */
export const STORE_FAMILIES: readonly MetricDefinition[] = [
  ...CALL_METRICS,
  CALL_SAMPLE_TIMESTAMP,
  CALL_INFO,
  CALL_QUALITY_ISSUE,
  CALL_SUMMARY_TAGS,
  ...FLEET_HISTOGRAMS,
  FLEET_SAMPLES,
  FLEET_ACTIVE_CALLS,
  ...FLEET_QUALITY_ISSUES,
];

/** Every metric the exporter can expose, for docs, dashboards and lint checks. */
export const ALL_METRICS: readonly MetricDefinition[] = [...STORE_FAMILIES, ...Object.values(SELF_METRICS)];

const OTEL_ATTRIBUTE: Readonly<Record<string, string>> = {
  call_sid: 'twilio.call.sid',
  account_sid: 'twilio.account.sid',
  edge: 'twilio.edge',
  direction: 'twilio.direction',
  call_type: 'twilio.call.type',
  codec_name: 'twilio.codec.name',
  media_region: 'twilio.media.region',
  issue: 'twilio.quality.issue',
};

/** The OTel attribute name for a Prometheus label: `twilio.*` for Twilio concepts, the label itself otherwise. */
export function otelAttributeName(label: string): string {
  // Own keys only: a label such as `constructor` must not find Object.prototype's members.
  return Object.hasOwn(OTEL_ATTRIBUTE, label) ? OTEL_ATTRIBUTE[label]! : label;
}
