import { isDeepStrictEqual } from 'node:util';
import type { AccountConfig, Config } from './types.ts';

/** Whether a reload applies a key at once (`live`) or only a restart does (`restart`). */
export type Reloadability = 'live' | 'restart';

/** The reload mark of one schema key. */
export interface ReloadMark {
  /** Whether a reload applies the key (`live`) or only a restart does (`restart`). */
  readonly reload: Reloadability;
  /** For `restart` keys: whether the running and the loaded config differ in this key. */
  readonly differs?: (running: Config, loaded: Config) => boolean;
  /** Name in the "restart to apply" list, when not the key path. */
  readonly label?: string;
}

const live: ReloadMark = { reload: 'live' };

function restart(get: (c: Config) => unknown): ReloadMark {
  return { reload: 'restart', differs: (a, b) => !isDeepStrictEqual(get(a), get(b)) };
}

// Only accounts in both configs are compared key by key; adding or removing one is the `account_sid` mark's news.
function restartPerAccount(get: (a: AccountConfig) => unknown): ReloadMark {
  return {
    reload: 'restart',
    differs: (running, loaded) =>
      running.accounts.some((x) => {
        const y = loaded.accounts.find((o) => o.accountSid === x.accountSid);
        return y !== undefined && !isDeepStrictEqual(get(x), get(y));
      }),
  };
}

/**
 * Every key of the config schema (paths as `schemaLeaves` gives them, joined by `.`, `[]` for list items) with
 * whether a reload applies it. Live keys are read through the reloaded config at each use; the others are wired
 * into long-lived objects at start. A test fails when a schema key has no mark here.
 */
export const RELOADABILITY: Readonly<Record<string, ReloadMark>> = {
  'accounts.[].account_sid': {
    ...restart((c) => c.accounts.map((a) => a.accountSid).sort()),
    label: 'accounts',
  },
  // Display only: nothing at run time reads it.
  'accounts.[].name': live,
  // Credentials are read per request, so a reload rotates them.
  'accounts.[].auth_token': live,
  'accounts.[].auth_token_file': live,
  'accounts.[].api_key_sid': live,
  'accounts.[].api_key_secret': live,
  'accounts.[].api_key_secret_file': live,
  'accounts.[].insights_base_url': restartPerAccount((a) => a.insightsBaseUrl),
  'accounts.[].api_base_url': restartPerAccount((a) => a.apiBaseUrl),
  'accounts.[].max_concurrent_requests': restartPerAccount((a) => a.maxConcurrentRequests),
  // Read per delivery and per poll through the running config.
  'accounts.[].ingest_mode': live,
  // Only the event-streams setup command reads it.
  'accounts.[].events_base_url': live,
  'calls.[]': live,
  'calls.[].call_sid': live,
  'calls.[].account_sid': live,
  poll_interval: restart((c) => c.pollIntervalMs),
  request_timeout: restart((c) => c.requestTimeoutMs),
  page_size: restart((c) => c.pageSize),
  max_calls: restart((c) => c.maxCalls),
  max_clock_skew: restart((c) => c.maxClockSkewMs),
  max_sample_lateness: restart((c) => c.maxSampleLatenessMs),
  'state.path': restart((c) => c.state.path),
  'state.flush_interval': restart((c) => c.state.flushIntervalMs),
  // The verdict rules are compiled into the quality tracker at start.
  'quality.window_samples': restart((c) => c.quality.window.samples),
  'quality.raise_at': restart((c) => c.quality.window.raiseAt),
  'quality.clear_at': restart((c) => c.quality.window.clearAt),
  'quality.rules.[].issue': { ...restart((c) => c.quality.rules), label: 'quality.rules' },
  'quality.rules.[].edges': { ...restart((c) => c.quality.rules), label: 'quality.rules' },
  'quality.rules.[].conditions.[].field': { ...restart((c) => c.quality.rules), label: 'quality.rules' },
  'quality.rules.[].conditions.[].above': { ...restart((c) => c.quality.rules), label: 'quality.rules' },
  'quality.rules.[].conditions.[].below': { ...restart((c) => c.quality.rules), label: 'quality.rules' },
  'quality.rules.[].source': { ...restart((c) => c.quality.rules), label: 'quality.rules' },
  'grafana.url': restart((c) => c.grafana.url),
  'event_streams.hybrid_gap': live,
  'event_streams.silence_timeout': live,
  'event_streams.max_body_bytes': restart((c) => c.eventStreams.maxBodyBytes),
  call_retention: restart((c) => c.callRetentionMs),
  drain_period: restart((c) => c.drainPeriodMs),
  end_check_after: restart((c) => c.endCheckAfterMs),
  backfill: restart((c) => c.backfill),
  per_call_series: restart((c) => c.perCallSeries),
  'metrics.include': restart((c) => c.metrics.include),
  'metrics.exclude': restart((c) => c.metrics.exclude),
  'discovery.enabled': restart((c) => c.discovery.enabled),
  'discovery.interval': restart((c) => c.discovery.intervalMs),
  'discovery.directions': restart((c) => c.discovery.directions),
  'discovery.from_prefix': restart((c) => c.discovery.fromPrefix),
  'discovery.to_prefix': restart((c) => c.discovery.toPrefix),
  'webhooks.enabled': restart((c) => c.webhooks.enabled),
  'webhooks.public_url': live,
  'webhooks.shard_peer_url': live,
  'admin.bearer_token': live,
  'admin.bearer_token_file': live,
  'otlp.endpoint': restart((c) => c.otlp.endpoint),
  // Values are compared, not only names: the OTLP exporter holds them from start.
  'otlp.headers': restart((c) => Object.entries(c.otlp.headers).map(([k, v]) => [k, v.reveal()])),
  'otlp.export_interval': restart((c) => c.otlp.exportIntervalMs),
  'otlp.export_timeout': restart((c) => c.otlp.exportTimeoutMs),
  'otlp.service_name': restart((c) => c.otlp.serviceName),
  'web.listen_address': restart((c) => c.web.listenAddress),
  'web.telemetry_path': restart((c) => c.web.telemetryPath),
  'log.level': live,
  'log.format': restart((c) => c.log.format),
};

/**
 * The keys whose loaded value differs from the running one (the config the process started with) and that
 * only a restart applies, in table order, each named once: what a reload leaves pending.
 */
export function pendingRestart(running: Config, loaded: Config): string[] {
  const out = new Set<string>();
  for (const [path, mark] of Object.entries(RELOADABILITY)) {
    if (mark.differs?.(running, loaded)) out.add(mark.label ?? path.replaceAll('.[]', '[]'));
  }
  return [...out];
}
