import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { resolveOtelSettings } from '../../../src/metrics/otel-settings.ts';

// Regression test (issue 12): the OTLP settings treated a config value equal to the built-in default as unset,
// so an OTEL_* variable overrode what the file said. A value the file sets wins, whatever it is.
const SID = `AC${'0'.repeat(32)}`;

function configFile(otlp: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'otel-precedence-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `accounts:\n  - account_sid: ${SID}\n    auth_token: t\notlp:\n  endpoint: http://collector:4318/v1/metrics\n${otlp}`);
  return file;
}

const OTEL_ENV = { OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '2000', OTEL_SERVICE_NAME: 'from-env' };

describe('OTLP settings precedence: config file, then OTEL_* variables, then defaults', () => {
  it('a file value equal to the default still wins over the OTEL_* variable', () => {
    const config = loadConfig({
      file: configFile('  export_interval: 15s\n  export_timeout: 10s\n  service_name: twilio-insights-exporter\n'),
      env: {},
    });
    const s = resolveOtelSettings(config.otlp, OTEL_ENV)!;
    expect(s.exportIntervalMs).toBe(15_000);
    expect(s.exportTimeoutMs).toBe(10_000);
    expect(s.serviceName).toBe('twilio-insights-exporter');
  });

  it('a key the file leaves out is filled from the OTEL_* variable', () => {
    const config = loadConfig({ file: configFile(''), env: {} });
    const s = resolveOtelSettings(config.otlp, OTEL_ENV)!;
    expect(s.exportIntervalMs).toBe(5000);
    expect(s.exportTimeoutMs).toBe(2000);
    expect(s.serviceName).toBe('from-env');
  });

  it('a TWILIO_INSIGHTS_EXPORTER_OTLP_* variable counts as set in the config', () => {
    const config = loadConfig({ file: configFile(''), env: { TWILIO_INSIGHTS_EXPORTER_OTLP_EXPORT_INTERVAL: '15s' } });
    expect(resolveOtelSettings(config.otlp, OTEL_ENV)!.exportIntervalMs).toBe(15_000);
  });
});
