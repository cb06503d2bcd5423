import { stringify } from 'yaml';

import { DEFAULT_RULES } from '../quality/thresholds.ts';
import { formatDuration } from './duration.ts';
import { REDACTED } from './secret.ts';
import type { AccountConfig, Config, OtlpConfig } from './types.ts';

function dumpAccount(a: AccountConfig): Record<string, unknown> {
  const credentials =
    a.credentials.kind === 'auth_token'
      ? { auth_token: REDACTED }
      : { api_key_sid: a.credentials.username, api_key_secret: REDACTED };
  return {
    account_sid: a.accountSid,
    name: a.name,
    ...credentials,
    insights_base_url: a.insightsBaseUrl,
    api_base_url: a.apiBaseUrl,
    events_base_url: a.eventsBaseUrl,
    max_concurrent_requests: a.maxConcurrentRequests,
    ingest_mode: a.ingestMode,
  };
}

/** The OTLP push settings the process runs with, once the standard `OTEL_*` variables are applied. */
export type EffectiveOtlp = Pick<OtlpConfig, 'endpoint' | 'headers' | 'exportIntervalMs' | 'exportTimeoutMs' | 'serviceName'>;

/**
 * Renders the effective configuration as YAML in the config file's own keys (for `--config.dump`), every secret
 * shown as `<secret>`; the output loads again as a config file. `otlp` is the push as resolved from the config and
 * the `OTEL_*` variables (an empty endpoint when they turn it off) [the config's own `otlp`].
 */
export function dumpConfig(c: Config, otlp: EffectiveOtlp = c.otlp): string {
  const doc = {
    accounts: c.accounts.map(dumpAccount),
    calls: c.calls.map((call) => ({ call_sid: call.callSid, account_sid: call.accountSid })),
    poll_interval: formatDuration(c.pollIntervalMs),
    request_timeout: formatDuration(c.requestTimeoutMs),
    page_size: c.pageSize,
    max_calls: c.maxCalls,
    max_clock_skew: formatDuration(c.maxClockSkewMs),
    call_retention: formatDuration(c.callRetentionMs),
    drain_period: formatDuration(c.drainPeriodMs),
    end_check_after: formatDuration(c.endCheckAfterMs),
    max_sample_lateness: formatDuration(c.maxSampleLatenessMs),
    backfill: c.backfill,
    per_call_series: c.perCallSeries,
    metrics: { include: [...c.metrics.include], exclude: [...c.metrics.exclude] },
    discovery: {
      enabled: c.discovery.enabled,
      interval: formatDuration(c.discovery.intervalMs),
      directions: [...c.discovery.directions],
      from_prefix: c.discovery.fromPrefix,
      to_prefix: c.discovery.toPrefix,
    },
    webhooks: { enabled: c.webhooks.enabled, public_url: c.webhooks.publicUrl, shard_peer_url: c.webhooks.shardPeerUrl },
    event_streams: {
      hybrid_gap: formatDuration(c.eventStreams.hybridGapMs),
      silence_timeout: formatDuration(c.eventStreams.silenceTimeoutMs),
      max_body_bytes: c.eventStreams.maxBodyBytes,
    },
    admin: c.admin.bearerToken === undefined ? {} : { bearer_token: REDACTED },
    otlp: {
      endpoint: otlp.endpoint,
      headers: Object.fromEntries(Object.keys(otlp.headers).map((name) => [name, REDACTED])),
      export_interval: formatDuration(otlp.exportIntervalMs),
      export_timeout: formatDuration(otlp.exportTimeoutMs),
      service_name: otlp.serviceName,
    },
    web: { listen_address: c.web.listenAddress, telemetry_path: c.web.telemetryPath },
    log: { level: c.log.level, format: c.log.format },
    state: { path: c.state.path, flush_interval: formatDuration(c.state.flushIntervalMs) },
    quality: {
      window_samples: c.quality.window.samples,
      raise_at: c.quality.window.raiseAt,
      clear_at: c.quality.window.clearAt,
      // The documented thresholds are what an empty list means: say so rather than spell them out.
      rules: c.quality.rules === DEFAULT_RULES ? [] : c.quality.rules.map((r) => ({ issue: r.issue, edges: [...r.edges], conditions: r.conditions.map((x) => ({ ...x })), source: r.source })),
    },
    grafana: { url: c.grafana.url },
  };
  return stringify(doc);
}
