import { describe, expect, it } from 'vitest';
import { Secret } from '../../../src/config/index.ts';
import { parseKeyValueList, resolveOtelSettings } from '../../../src/metrics/otel-settings.ts';
import { otlpConfig } from './helpers.ts';

const revealed = (h: Readonly<Record<string, Secret>>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.reveal()]));

describe('OTLP endpoint', () => {
  it('is off when neither the config nor the environment names one', () => {
    expect(resolveOtelSettings(otlpConfig({ endpoint: '' }), {})).toBeUndefined();
    expect(resolveOtelSettings(otlpConfig({ endpoint: '' }), { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBeUndefined();
  });

  it('is off with OTEL_SDK_DISABLED=true or OTEL_METRICS_EXPORTER=none, even with a configured endpoint', () => {
    const configured = otlpConfig({ endpoint: 'http://c:4318/v1/metrics' });
    expect(resolveOtelSettings(configured, { OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
    expect(resolveOtelSettings(configured, { OTEL_METRICS_EXPORTER: 'none' })).toBeUndefined();
    expect(resolveOtelSettings(configured, { OTEL_SDK_DISABLED: 'false', OTEL_METRICS_EXPORTER: 'otlp' })?.endpoint).toBe(
      'http://c:4318/v1/metrics',
    );
  });

  it('prefers the config, then the metrics-specific variable as is, then the general one plus v1/metrics', () => {
    const env = { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:4318/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://g:4318' };
    expect(resolveOtelSettings(otlpConfig({ endpoint: 'http://c:4318/v1/metrics' }), env)?.endpoint).toBe('http://c:4318/v1/metrics');
    expect(resolveOtelSettings(otlpConfig({ endpoint: '' }), env)?.endpoint).toBe('http://m:4318/custom');
    expect(resolveOtelSettings(otlpConfig({ endpoint: '' }), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://g:4318/' })?.endpoint).toBe(
      'http://g:4318/v1/metrics',
    );
    expect(resolveOtelSettings(otlpConfig({ endpoint: '' }), { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://g/otlp' })?.endpoint).toBe(
      'https://g/otlp/v1/metrics',
    );
  });

  it('ignores a variable that is not an http(s) URL, and says which', () => {
    const s = resolveOtelSettings(otlpConfig({ endpoint: '' }), {
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://g:4318',
    });
    expect(s?.endpoint).toBe('http://g:4318/v1/metrics');
    expect(s?.warnings).toEqual(['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: ignored, must be an http(s) URL']);
  });
});

describe('OTLP headers', () => {
  it('layers general variable < metrics variable < config, names compared case-insensitively', () => {
    const s = resolveOtelSettings(otlpConfig({ headers: { Authorization: new Secret('Bearer cfg') } }), {
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20env,x-tenant=a,x-scope=general',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-scope=metrics',
    })!;
    expect(revealed(s.headers)).toEqual({ 'x-tenant': 'a', 'x-scope': 'metrics', Authorization: 'Bearer cfg' });
    expect(Object.values(s.headers).every((v) => v instanceof Secret)).toBe(true);
  });

  it('keeps = inside a value (base64 tokens) and reports a malformed list without echoing it', () => {
    expect(revealed(resolveOtelSettings(otlpConfig(), { OTEL_EXPORTER_OTLP_HEADERS: 'api-key=YWJj==' })!.headers)).toEqual({
      'api-key': 'YWJj==',
    });
    const s = resolveOtelSettings(otlpConfig(), { OTEL_EXPORTER_OTLP_HEADERS: 'token-without-name' })!;
    expect(s.headers).toEqual({});
    expect(s.warnings.join()).not.toContain('token-without-name');
  });
});

describe('OTLP timing', () => {
  it('keeps configured interval and timeout over OTEL_METRIC_EXPORT_*', () => {
    const s = resolveOtelSettings(otlpConfig({ exportIntervalMs: 5000, exportTimeoutMs: 2000 }), {
      OTEL_METRIC_EXPORT_INTERVAL: '60000',
      OTEL_METRIC_EXPORT_TIMEOUT: '30000',
    })!;
    expect([s.exportIntervalMs, s.exportTimeoutMs]).toEqual([5000, 2000]);
  });

  it('takes OTEL_METRIC_EXPORT_* over the built-in defaults, clamping the timeout to the interval', () => {
    const s = resolveOtelSettings(otlpConfig(), { OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '30000' })!;
    expect([s.exportIntervalMs, s.exportTimeoutMs]).toEqual([5000, 5000]);
    const bad = resolveOtelSettings(otlpConfig(), { OTEL_METRIC_EXPORT_INTERVAL: '5s' })!;
    expect(bad.exportIntervalMs).toBe(15_000);
    expect(bad.warnings).toEqual(['OTEL_METRIC_EXPORT_INTERVAL: ignored, expected a positive number of milliseconds']);
  });
});

describe('OTLP compression', () => {
  it('is gzip unless OTEL_EXPORTER_OTLP_(METRICS_)COMPRESSION says none, the metrics variable first', () => {
    expect(resolveOtelSettings(otlpConfig(), {})?.compression).toBe('gzip');
    expect(resolveOtelSettings(otlpConfig(), { OTEL_EXPORTER_OTLP_COMPRESSION: 'none' })?.compression).toBe('none');
    expect(
      resolveOtelSettings(otlpConfig(), { OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'GZIP', OTEL_EXPORTER_OTLP_COMPRESSION: 'none' })?.compression,
    ).toBe('gzip');
    const bad = resolveOtelSettings(otlpConfig(), { OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' })!;
    expect(bad.compression).toBe('gzip');
    expect(bad.warnings).toEqual(['OTEL_EXPORTER_OTLP_COMPRESSION: ignored, expected gzip or none']);
  });
});

describe('service name and resource attributes', () => {
  it('uses a configured service name over OTEL_SERVICE_NAME and service.name in OTEL_RESOURCE_ATTRIBUTES', () => {
    const env = { OTEL_SERVICE_NAME: 'env-name', OTEL_RESOURCE_ATTRIBUTES: 'service.name=attr-name' };
    expect(resolveOtelSettings(otlpConfig({ serviceName: 'cfg-name' }), env)?.serviceName).toBe('cfg-name');
    expect(resolveOtelSettings(otlpConfig(), env)?.serviceName).toBe('env-name');
    expect(resolveOtelSettings(otlpConfig(), { OTEL_RESOURCE_ATTRIBUTES: 'service.name=attr-name' })?.serviceName).toBe('attr-name');
    expect(resolveOtelSettings(otlpConfig(), {})?.serviceName).toBe('twilio-insights-exporter');
  });

  it('discards the whole OTEL_RESOURCE_ATTRIBUTES when an entry is malformed, as the spec says', () => {
    const s = resolveOtelSettings(otlpConfig(), { OTEL_RESOURCE_ATTRIBUTES: 'a=1,broken,b=2' })!;
    expect(s.resourceAttributes).toEqual({});
    expect(s.warnings).toEqual(['OTEL_RESOURCE_ATTRIBUTES: ignored, expected key=value pairs separated by commas']);
  });

  it('percent-decodes keys and values', () => {
    expect(parseKeyValueList('k%3D1=v%2C2, spaced = x ')).toEqual({ 'k=1': 'v,2', spaced: 'x' });
    expect(parseKeyValueList('bad=%E0%A4%A')).toBeUndefined();
    expect(parseKeyValueList(undefined)).toEqual({});
  });
});
