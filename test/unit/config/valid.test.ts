import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { dumpConfig } from '../../../src/config/dump.ts';
import { resolveOtelSettings } from '../../../src/metrics/otel-settings.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { DEFAULT_RULES } from '../../../src/quality/thresholds.ts';
import { Secret } from '../../../src/config/secret.ts';
import type { Config } from '../../../src/config/types.ts';
import { CONFIG_DIR, FIXTURES, SID_A, objectsIn } from './helpers.ts';

const SID_C = 'ACabcdef0123456789abcdef0123456789';
const load = (file: string, env: Record<string, string> = {}) => loadConfig({ file, cwd: FIXTURES, env });

describe('valid config files', () => {
  it('fills every default around a minimal file', () => {
    const c = load('valid-minimal.yaml');
    expect(c.accounts[0]?.credentials.password.reveal()).toBe('fixture-token');
    expect(c).toEqual({
      accounts: [
        {
          accountSid: SID_A,
          name: SID_A,
          credentials: { kind: 'auth_token', username: SID_A, password: expect.any(Secret) as Secret },
          insightsBaseUrl: 'https://insights.twilio.com',
          apiBaseUrl: 'https://api.twilio.com',
          eventsBaseUrl: 'https://events.twilio.com',
          maxConcurrentRequests: 10,
          ingestMode: 'poll',
        },
      ],
      calls: [],
      pollIntervalMs: 10_000,
      requestTimeoutMs: 10_000,
      pageSize: 100,
      maxCalls: 10_000,
      maxClockSkewMs: 300_000,
      callRetentionMs: 300_000,
      drainPeriodMs: 120_000,
      endCheckAfterMs: 180_000,
      backfill: false,
      maxSampleLatenessMs: 600_000,
      perCallSeries: true,
      metrics: { include: [], exclude: [] },
      discovery: { enabled: false, intervalMs: 30_000, directions: [], fromPrefix: '', toPrefix: '' },
      webhooks: { enabled: true, publicUrl: '', shardPeerUrl: '' },
      eventStreams: { hybridGapMs: 120_000, silenceTimeoutMs: 600_000, maxBodyBytes: 16 * 1024 * 1024 },
      admin: {},
      otlp: {
        endpoint: '',
        headers: {},
        exportIntervalMs: 15_000,
        exportTimeoutMs: 10_000,
        serviceName: 'twilio-insights-exporter',
        setKeys: [],
      },
      web: { listenAddress: ':9487', telemetryPath: '/metrics' },
      log: { level: 'info', format: 'json' },
      state: { path: '', flushIntervalMs: 5000 },
      quality: { window: { samples: 5, raiseAt: 3, clearAt: 0 }, rules: DEFAULT_RULES },
      grafana: { url: '' },
    } satisfies Config);
  });

  it('maps every key of a full file to its camelCase field', () => {
    const c = load('valid-full.yaml');
    expect(c).toEqual({
      accounts: [
        {
          accountSid: SID_A,
          name: 'prod',
          credentials: { kind: 'auth_token', username: SID_A, password: expect.any(Secret) as Secret },
          insightsBaseUrl: 'https://insights.example.com',
          apiBaseUrl: 'http://127.0.0.1:8089',
          eventsBaseUrl: 'http://127.0.0.1:8089',
          maxConcurrentRequests: 5,
          ingestMode: 'hybrid',
        },
        {
          accountSid: SID_C,
          name: SID_C,
          credentials: {
            kind: 'api_key',
            username: 'SKabcdef0123456789abcdef0123456789',
            password: expect.any(Secret) as Secret,
          },
          insightsBaseUrl: 'https://insights.twilio.com',
          apiBaseUrl: 'https://api.twilio.com',
          eventsBaseUrl: 'https://events.twilio.com',
          maxConcurrentRequests: 10,
          ingestMode: 'poll',
        },
      ],
      calls: [
        { callSid: 'CA00000000000000000000000000000001', accountSid: SID_A },
        { callSid: 'CA00000000000000000000000000000002', accountSid: SID_C },
      ],
      pollIntervalMs: 90_000,
      requestTimeoutMs: 2500,
      pageSize: 50,
      maxCalls: 100,
      maxClockSkewMs: 90_000,
      callRetentionMs: 3_600_000,
      drainPeriodMs: 0,
      endCheckAfterMs: 0,
      backfill: true,
      maxSampleLatenessMs: 4 * 3_600_000,
      perCallSeries: false,
      metrics: { include: ['twilio_call_*', 'twilio_voice_*'], exclude: ['twilio_call_audio_*'] },
      discovery: {
        enabled: true,
        intervalMs: 60_000,
        directions: ['inbound', 'trunking-originating'],
        fromPrefix: '+1',
        toPrefix: 'client:',
      },
      webhooks: { enabled: false, publicUrl: 'https://exporter.example.com/base', shardPeerUrl: 'http://exporter-{ordinal}.exporter:9487' },
      eventStreams: { hybridGapMs: 30_000, silenceTimeoutMs: 300_000, maxBodyBytes: 1_048_576 },
      admin: { bearerToken: expect.any(Secret) as Secret },
      otlp: {
        endpoint: 'http://otel-collector:4318/v1/metrics',
        headers: { Authorization: expect.any(Secret) as Secret },
        exportIntervalMs: 30_000,
        exportTimeoutMs: 5000,
        serviceName: 'insights',
        setKeys: ['endpoint', 'headers', 'export_interval', 'export_timeout', 'service_name'],
      },
      web: { listenAddress: '[::1]:9999', telemetryPath: '/prom/metrics' },
      log: { level: 'debug', format: 'logfmt' },
      state: { path: '/var/lib/twilio-insights-exporter/state.json', flushIntervalMs: 2000 },
      quality: {
        window: { samples: 10, raiseAt: 3, clearAt: 0 },
        rules: [{ issue: 'low_mos', edges: ['sdk_edge'], conditions: [{ field: 'mos', below: 3 }], source: 'twilio-voice.js DEFAULT_THRESHOLDS' }],
      },
      grafana: { url: 'https://grafana.example.com' },
    } satisfies Config);
    expect(c.accounts[1]?.credentials.password.reveal()).toBe('fixture-api-secret');
    expect(c.admin.bearerToken?.reveal()).toBe('fixture-admin-token');
    expect(c.otlp.headers.Authorization?.reveal()).toBe('Bearer fixture-otlp-token');
  });

  it('gives a bare CallSid to the only account and treats empty sections as unset', () => {
    const c = load('valid-bare-call.yaml');
    expect(c.calls).toEqual([
      { callSid: 'CA00000000000000000000000000000001', accountSid: SID_A },
      { callSid: 'CA00000000000000000000000000000002', accountSid: SID_A },
    ]);
    expect(c.admin).toEqual({});
    expect(c.discovery.directions).toEqual([]);
  });

  it('returns a deeply frozen object', () => {
    const c = load('valid-full.yaml');
    for (const o of objectsIn(c)) expect(Object.isFrozen(o)).toBe(true);
    const mutable = c as unknown as { pageSize: number; accounts: unknown[]; otlp: { headers: object } };
    expect(() => {
      mutable.pageSize = 1;
    }).toThrow(TypeError);
    expect(() => mutable.accounts.push({})).toThrow(TypeError);
    expect(() => Object.assign(mutable.otlp.headers, { X: 'y' })).toThrow(TypeError);
  });
});

describe('dumpConfig', () => {
  it('prints the effective config in file keys, and the dump loads back to the same config', () => {
    const c = load('valid-full.yaml');
    const dumped = dumpConfig(c);
    expect(dumped).toContain('poll_interval: 1m30s');
    expect(dumped).toContain('api_key_sid: SKabcdef0123456789abcdef0123456789');
    expect(dumped.match(/<secret>/g)).toHaveLength(4);
    const dir = mkdtempSync(join(tmpdir(), 'config-dump-'));
    try {
      writeFileSync(join(dir, 'dumped.yaml'), dumped);
      const again = loadConfig({ file: 'dumped.yaml', cwd: dir, env: {} });
      // Same config except the secrets, which the dump replaced with "<secret>".
      expect(JSON.stringify(again)).toBe(JSON.stringify(c));
      expect(again.admin.bearerToken?.reveal()).toBe('<secret>');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('dumps the defaults of a minimal config', () => {
    expect(dumpConfig(load('valid-minimal.yaml'))).toBe(
      [
        'accounts:',
        `  - account_sid: ${SID_A}`,
        `    name: ${SID_A}`,
        '    auth_token: <secret>',
        '    insights_base_url: https://insights.twilio.com',
        '    api_base_url: https://api.twilio.com',
        '    events_base_url: https://events.twilio.com',
        '    max_concurrent_requests: 10',
        '    ingest_mode: poll',
        'calls: []',
        'poll_interval: 10s',
        'request_timeout: 10s',
        'page_size: 100',
        'max_calls: 10000',
        'max_clock_skew: 5m',
        'call_retention: 5m',
        'drain_period: 2m',
        'end_check_after: 3m',
        'max_sample_lateness: 10m',
        'backfill: false',
        'per_call_series: true',
        'metrics:',
        '  include: []',
        '  exclude: []',
        'discovery:',
        '  enabled: false',
        '  interval: 30s',
        '  directions: []',
        '  from_prefix: ""',
        '  to_prefix: ""',
        'webhooks:',
        '  enabled: true',
        '  public_url: ""',
        '  shard_peer_url: ""',
        'event_streams:',
        '  hybrid_gap: 2m',
        '  silence_timeout: 10m',
        '  max_body_bytes: 16777216',
        'admin: {}',
        'otlp:',
        '  endpoint: ""',
        '  headers: {}',
        '  export_interval: 15s',
        '  export_timeout: 10s',
        '  service_name: twilio-insights-exporter',
        'web:',
        '  listen_address: :9487',
        '  telemetry_path: /metrics',
        'log:',
        '  level: info',
        '  format: json',
        'state:',
        '  path: ""',
        '  flush_interval: 5s',
        'quality:',
        '  window_samples: 5',
        '  raise_at: 3',
        '  clear_at: 0',
        '  rules: []',
        'grafana:',
        '  url: ""',
        '',
      ].join('\n'),
    );
  });
});

describe('shipped config files', () => {
  it('loads config/example.yaml, whose values are the defaults', () => {
    const example = loadConfig({ file: 'example.yaml', cwd: CONFIG_DIR, env: { TWILIO_AUTH_TOKEN: 'dummy' } });
    const minimal = loadConfig({ env: { TWILIO_ACCOUNT_SID: SID_A, TWILIO_AUTH_TOKEN: 'dummy' } });
    // Equal but for which OTLP keys were written out.
    const values = (c: typeof example): unknown => ({ ...c, otlp: { ...c.otlp, setKeys: undefined } });
    expect(values(example)).toEqual(values(minimal));
  });

  it('leaves the standard OTEL_* variables in force under config/example.yaml (the container image\'s default)', () => {
    const example = loadConfig({ file: 'example.yaml', cwd: CONFIG_DIR, env: { TWILIO_AUTH_TOKEN: 'dummy' } });
    const otel = resolveOtelSettings(example.otlp, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'calls-eu',
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      OTEL_METRIC_EXPORT_TIMEOUT: '4000',
    });
    expect(otel).toMatchObject({ serviceName: 'calls-eu', exportIntervalMs: 5000, exportTimeoutMs: 4000 });
  });

  it('loads config/demo.yaml: the simulator account on 127.0.0.1:8089', () => {
    const c = loadConfig({ file: 'demo.yaml', cwd: CONFIG_DIR, env: {} });
    expect(c.accounts).toHaveLength(1);
    const [account] = c.accounts;
    expect(account?.accountSid).toBe('ACdec0de00000000000000000000000000');
    expect(account?.credentials.password.reveal()).toBe('demo-auth-token');
    expect(account?.insightsBaseUrl).toBe('http://127.0.0.1:8089');
    expect(account?.apiBaseUrl).toBe('http://127.0.0.1:8089');
    expect(c.pollIntervalMs).toBe(2000);
    expect(c.pageSize).toBe(100);
    expect(c.discovery).toMatchObject({ enabled: true, intervalMs: 5000 });
  });
});
