import { DEFAULTS, Secret, parseDuration } from '../config/index.ts';
import type { OtlpConfig } from '../config/index.ts';

/** The environment the standard `OTEL_*` variables are read from. */
export type OtelEnv = Readonly<Record<string, string | undefined>>;

/** The OTLP push settings after laying the standard `OTEL_*` variables under the config file. */
export interface OtelSettings {
  /** Full OTLP http/protobuf metrics URL. */
  readonly endpoint: string;
  /** Request headers, secret: revealed only into the OTLP exporter. */
  readonly headers: Readonly<Record<string, Secret>>;
  /** Time between exports. */
  readonly exportIntervalMs: number;
  /** Timeout of one export, never above the interval. */
  readonly exportTimeoutMs: number;
  /** Request body compression. */
  readonly compression: 'gzip' | 'none';
  /** The `service.name` resource attribute. */
  readonly serviceName: string;
  /** Resource attributes from `OTEL_RESOURCE_ATTRIBUTES` (service name and version are set on top). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** Environment values that were ignored, each naming the variable and the reason (never a header value). */
  readonly warnings: readonly string[];
}

const DEFAULT_INTERVAL_MS = parseDuration(DEFAULTS.otlpExportInterval);
const DEFAULT_TIMEOUT_MS = parseDuration(DEFAULTS.otlpExportTimeout);

/**
 * Resolves the OTLP settings, or undefined when no endpoint is configured anywhere, or when the standard
 * `OTEL_SDK_DISABLED=true` or `OTEL_METRICS_EXPORTER=none` turns metrics off (OTel export off).
 *
 * Precedence: a value set in the config (file or `TWILIO_INSIGHTS_EXPORTER_OTLP_*`) wins, the standard
 * `OTEL_*` variables fill in what it leaves unset, and built-in defaults come last, the same order the
 * OpenTelemetry SDKs give code options over the environment. Whether the config set a key comes from
 * `otlp.setKeys` (the loader records it); without it, a value equal to the built-in default counts as unset.
 */
export function resolveOtelSettings(otlp: OtlpConfig, env: OtelEnv): OtelSettings | undefined {
  // The SDK-wide switches apply whatever the endpoint's source, as they do for every OpenTelemetry SDK.
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return undefined;
  if (env['OTEL_METRICS_EXPORTER']?.split(',').some((e) => e.trim().toLowerCase() === 'none')) return undefined;
  const warnings: string[] = [];
  const set = (key: string, value: unknown, fallback: unknown): boolean => (otlp.setKeys ? otlp.setKeys.includes(key) : value !== fallback);
  const endpoint = otlp.endpoint !== '' ? otlp.endpoint : endpointFromEnv(env, warnings);
  if (endpoint === undefined) return undefined;

  const headers: Record<string, Secret> = {};
  const put = (name: string, value: Secret): void => {
    // Header names are case-insensitive: a later source replaces an earlier one whatever its spelling.
    for (const existing of Object.keys(headers)) {
      if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
    }
    headers[name] = value;
  };
  for (const variable of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_METRICS_HEADERS']) {
    const parsed = parseKeyValueList(env[variable]);
    if (parsed === undefined) warnings.push(`${variable}: ignored, expected key=value pairs separated by commas`);
    else for (const [name, value] of Object.entries(parsed)) put(name, new Secret(value));
  }
  for (const [name, value] of Object.entries(otlp.headers)) put(name, value);

  const exportIntervalMs =
    set('export_interval', otlp.exportIntervalMs, DEFAULT_INTERVAL_MS)
      ? otlp.exportIntervalMs
      : (positiveMs(env, 'OTEL_METRIC_EXPORT_INTERVAL', warnings) ?? otlp.exportIntervalMs);
  const timeoutMs =
    set('export_timeout', otlp.exportTimeoutMs, DEFAULT_TIMEOUT_MS)
      ? otlp.exportTimeoutMs
      : (positiveMs(env, 'OTEL_METRIC_EXPORT_TIMEOUT', warnings) ?? otlp.exportTimeoutMs);
  // The periodic reader refuses a timeout above its interval; the config already checks its own pair.
  const exportTimeoutMs = Math.min(timeoutMs, exportIntervalMs);

  // gzip unless the environment says otherwise: a full export of 10,000 calls is about 40 MB of protobuf, and
  // every OTLP receiver accepts gzip (the spec's own default is none).
  let compression: 'gzip' | 'none' = 'gzip';
  for (const variable of ['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION']) {
    const raw = env[variable]?.trim().toLowerCase();
    if (!raw) continue;
    if (raw === 'gzip' || raw === 'none') {
      compression = raw;
      break;
    }
    warnings.push(`${variable}: ignored, expected gzip or none`);
  }

  const resourceAttributes = parseKeyValueList(env.OTEL_RESOURCE_ATTRIBUTES);
  if (resourceAttributes === undefined) {
    // The OpenTelemetry spec says to discard the whole variable when any entry is malformed.
    warnings.push('OTEL_RESOURCE_ATTRIBUTES: ignored, expected key=value pairs separated by commas');
  }
  const attributes = resourceAttributes ?? {};
  const envServiceName = env.OTEL_SERVICE_NAME?.trim();
  const serviceName =
    set('service_name', otlp.serviceName, DEFAULTS.otlpServiceName)
      ? otlp.serviceName
      : envServiceName || attributes['service.name'] || otlp.serviceName;

  return {
    endpoint,
    headers,
    exportIntervalMs,
    exportTimeoutMs,
    compression,
    serviceName,
    resourceAttributes: attributes,
    warnings,
  };
}

// The signal-specific variable is the full URL; the general one is a base that gets `v1/metrics` appended.
function endpointFromEnv(env: OtelEnv, warnings: string[]): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?.trim();
  if (specific) {
    if (isHttpUrl(specific)) return specific;
    warnings.push('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: ignored, must be an http(s) URL');
  }
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) {
    const url = `${base.endsWith('/') ? base : `${base}/`}v1/metrics`;
    if (isHttpUrl(url)) return url;
    warnings.push('OTEL_EXPORTER_OTLP_ENDPOINT: ignored, must be an http(s) URL');
  }
  return undefined;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function positiveMs(env: OtelEnv, variable: string, warnings: string[]): number | undefined {
  const raw = env[variable]?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw) && Number(raw) > 0) return Number(raw);
  warnings.push(`${variable}: ignored, expected a positive number of milliseconds`);
  return undefined;
}

/**
 * Parses the W3C-baggage-like `key=value,key2=value2` lists of `OTEL_RESOURCE_ATTRIBUTES` and
 * `OTEL_EXPORTER_OTLP_HEADERS` (keys and values percent-decoded); undefined when any entry is malformed.
 */
export function parseKeyValueList(raw: string | undefined): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const entry of raw.split(',')) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) return undefined;
    try {
      const key = decodeURIComponent(entry.slice(0, eq).trim());
      const value = decodeURIComponent(entry.slice(eq + 1).trim());
      if (key === '') return undefined;
      out[key] = value;
    } catch {
      return undefined;
    }
  }
  return out;
}
