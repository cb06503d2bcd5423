import type { GrafanaConfig, QualityConfig } from './quality-schema.ts';
import type { Secret } from './secret.ts';

/** How an account's call samples arrive: REST polling, Event Streams push, or push with polling across gaps. */
export const INGEST_MODES = ['poll', 'push', 'hybrid'] as const;
/** An account's ingest mode. */
export type IngestMode = (typeof INGEST_MODES)[number];

/** Call directions the discovery filter accepts (Twilio `Calls.json` `direction`). */
export const DISCOVERY_DIRECTIONS = [
  'inbound',
  'outbound-api',
  'outbound-dial',
  'trunking-terminating',
  'trunking-originating',
] as const;
/** A call direction the discovery filter accepts. */
export type DiscoveryDirection = (typeof DISCOVERY_DIRECTIONS)[number];

/** Log levels, most verbose first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Log line formats. */
export const LOG_FORMATS = ['json', 'logfmt'] as const;
/** A log line format. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** HTTP Basic credentials for one Twilio account. */
export interface Credentials {
  /** `auth_token` (Account SID + Auth Token) or `api_key` (API Key SID + secret). */
  readonly kind: 'auth_token' | 'api_key';
  /** Basic-auth user: the Account SID (`AC…`) or the API Key SID (`SK…`). */
  readonly username: string;
  /** Basic-auth password: the Auth Token or the API Key secret. */
  readonly password: Secret;
}

/** One Twilio account to poll. */
export interface AccountConfig {
  /** Account SID, `AC` + 32 hex (required). */
  readonly accountSid: string;
  /** Display label; defaults to the Account SID. */
  readonly name: string;
  /** How requests for this account authenticate. */
  readonly credentials: Credentials;
  /** Insights API origin, no trailing slash; default `https://insights.twilio.com`. */
  readonly insightsBaseUrl: string;
  /** REST API (2010-04-01) origin, no trailing slash; default `https://api.twilio.com`. */
  readonly apiBaseUrl: string;
  /** Events API origin (Event Streams setup), no trailing slash; default `https://events.twilio.com`. */
  readonly eventsBaseUrl: string;
  /** Requests in flight to Twilio for this account, 1..100; default 10. */
  readonly maxConcurrentRequests: number;
  /** How call samples arrive: `poll`, `push` (Event Streams only) or `hybrid` (push, polled across gaps); default poll. */
  readonly ingestMode: IngestMode;
}

/** A call listed in the config file, polled until it ends. */
export interface StaticCall {
  /** Call SID, `CA` + 32 hex. */
  readonly callSid: string;
  /** The configured account the call belongs to. */
  readonly accountSid: string;
}

/** Discovery of in-progress calls through `Calls.json?Status=in-progress`. */
export interface DiscoveryConfig {
  /** Whether discovery runs; default false. */
  readonly enabled: boolean;
  /** Time between discovery polls, at least 1s; default 30s. */
  readonly intervalMs: number;
  /** Only calls with one of these directions; empty (default) means every direction. */
  readonly directions: readonly DiscoveryDirection[];
  /** Only calls whose `from` starts with this; default "" (any). */
  readonly fromPrefix: string;
  /** Only calls whose `to` starts with this; default "" (any). */
  readonly toPrefix: string;
}

/** Allow and deny lists of metric names (Prometheus names, `*` globs). */
export interface MetricsFilterConfig {
  /** Only these metrics; empty (default) means all. */
  readonly include: readonly string[];
  /** Never these metrics, applied after `include`; default none. */
  readonly exclude: readonly string[];
}

/** Twilio call status callbacks. */
export interface WebhooksConfig {
  /** Whether `/webhooks/twilio/call-status` accepts callbacks; default true. */
  readonly enabled: boolean;
  /** Base URL Twilio calls, for signature checks behind a proxy, no trailing slash; default "" (the request URL). */
  readonly publicUrl: string;
  /**
   * Each shard's own address with `{ordinal}` in it, to which a status callback for a call another shard owns is
   * forwarded, no trailing slash; default "" (such a callback is refused).
   */
  readonly shardPeerUrl: string;
}

/** Event Streams push ingestion (`/webhooks/twilio/event-streams/{AccountSid}`). */
export interface EventStreamsConfig {
  /** In hybrid mode, how long a call's pushes may stop before it is polled; at least 1s; default 2m. */
  readonly hybridGapMs: number;
  /** In push mode, how long a call may go without a pushed sample before it is ended; at least 1s; default 10m. */
  readonly silenceTimeoutMs: number;
  /** Largest accepted delivery body, bytes, 1 KiB..256 MiB; default 16 MiB. */
  readonly maxBodyBytes: number;
}

/** The admin API. */
export interface AdminConfig {
  /** Bearer token the admin API requires; unset (default) turns the admin API off. */
  readonly bearerToken?: Secret;
}

/** OpenTelemetry metrics push. */
export interface OtlpConfig {
  /** OTLP http/protobuf metrics URL (e.g. `http://collector:4318/v1/metrics`); default "" turns OTel export off. */
  readonly endpoint: string;
  /** Extra request headers, values secret; default none. */
  readonly headers: Readonly<Record<string, Secret>>;
  /** Time between exports, at least 1s; default 15s. */
  readonly exportIntervalMs: number;
  /** Timeout of one export, at most the interval; default 10s. */
  readonly exportTimeoutMs: number;
  /** The `service.name` resource attribute; default `twilio-insights-exporter`. */
  readonly serviceName: string;
  /**
   * The `otlp` keys the file or a `TWILIO_INSIGHTS_EXPORTER_OTLP_*` variable set (snake_case), so that the standard
   * `OTEL_*` variables fill in only what the config left out [every key counts as unset when absent].
   */
  readonly setKeys?: readonly string[];
}

/** The HTTP server. */
export interface WebConfig {
  /** Address to listen on, `host:port`; default `:9487`. */
  readonly listenAddress: string;
  /** Path of the Prometheus exposition; default `/metrics`. */
  readonly telemetryPath: string;
}

/** Logging. */
export interface LogConfig {
  /** Lowest level written; default `info`. */
  readonly level: LogLevel;
  /** Line format; default `json`. */
  readonly format: LogFormat;
}

/** The state file: what was applied, per stream, so a restart neither loses nor repeats a sample. */
export interface StateConfig {
  /** File to load at start and save to (temp file and rename); default "" keeps no state. */
  readonly path: string;
  /** Time between saves when something changed, at least 100ms; default 5s (and once at shutdown). */
  readonly flushIntervalMs: number;
}

/** The validated, deeply frozen configuration of the exporter. */
export interface Config {
  /** Twilio accounts to poll, at least one, Account SIDs unique. */
  readonly accounts: readonly AccountConfig[];
  /** Calls listed in the file; default none. */
  readonly calls: readonly StaticCall[];
  /** Time between polls of a tracked call, at least 1s; default 10s. */
  readonly pollIntervalMs: number;
  /** Timeout of one request to Twilio; default 10s. */
  readonly requestTimeoutMs: number;
  /** `PageSize` of Insights requests, 1..1000; default 100 (a steady poll re-reads the last page). */
  readonly pageSize: number;
  /** Cap on tracked calls, 1..1000000; default 10000. */
  readonly maxCalls: number;
  /** How far ahead of the clock a sample may be dated before it is rejected as `future_timestamp`; default 5m. */
  readonly maxClockSkewMs: number;
  /** How long an ended call's series stay exported before removal; default 5m. */
  readonly callRetentionMs: number;
  /** How long an ended call keeps being polled for late samples; default 2m. */
  readonly drainPeriodMs: number;
  /**
   * How long a polled call that is not ended may go without a new sample before the poller asks its Call Summary
   * whether it ended (then at most once per this long); 0 never asks; default 3m.
   */
  readonly endCheckAfterMs: number;
  /** Replay the history of a call first seen mid-call into the fleet histograms; default false. */
  readonly backfill: boolean;
  /** A never-seen sample this much older than its stream's newest is refused as too late, at least 1s; default 10m. */
  readonly maxSampleLatenessMs: number;
  /** Export per-call series (fleet histograms are always exported); default true. */
  readonly perCallSeries: boolean;
  /** Which metrics are exposed (Prometheus and OTel). */
  readonly metrics: MetricsFilterConfig;
  /** Discovery of in-progress calls. */
  readonly discovery: DiscoveryConfig;
  /** Twilio status callbacks. */
  readonly webhooks: WebhooksConfig;
  /** Event Streams push ingestion. */
  readonly eventStreams: EventStreamsConfig;
  /** The admin API. */
  readonly admin: AdminConfig;
  /** OpenTelemetry push. */
  readonly otlp: OtlpConfig;
  /** The HTTP server. */
  readonly web: WebConfig;
  /** Logging. */
  readonly log: LogConfig;
  /** The state file that carries exactly-once state over a restart. */
  readonly state: StateConfig;
  /** Live quality verdicts (thresholds and window). */
  readonly quality: QualityConfig;
  /** Links to Grafana from the status page. */
  readonly grafana: GrafanaConfig;
}
