import { describe, expect, it } from 'vitest';
import { globMatch, metricAllowed } from '../../../src/config/glob.ts';
import { ConfigError } from '../../../src/config/errors.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { ALL_METRICS } from '../../../src/metrics/definitions.ts';

const metricNames = ALL_METRICS.map((d) => d.name);

const env = { TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'token' };

describe('metrics allow/deny lists', () => {
  it('match names and * globs', () => {
    expect(globMatch('twilio_call_audio_*', 'twilio_call_audio_in_level')).toBe(true);
    expect(globMatch('twilio_call_audio_*', 'twilio_call_mos')).toBe(false);
    expect(globMatch('twilio_call_mos', 'twilio_call_mos')).toBe(true);
    expect(globMatch('twilio.call', 'twilioXcall')).toBe(false);
    expect(metricAllowed('twilio_call_mos', [], [])).toBe(true);
    expect(metricAllowed('twilio_call_mos', ['twilio_voice_*'], [])).toBe(false);
    expect(metricAllowed('twilio_voice_mos', ['twilio_voice_*'], ['twilio_voice_mos'])).toBe(false);
  });

  it('load from the environment, and a pattern matching no metric names its index', () => {
    const c = loadConfig({ env: { ...env, TWILIO_INSIGHTS_EXPORTER_METRICS_EXCLUDE: 'twilio_call_audio_*' }, metricNames });
    expect(c.metrics).toEqual({ include: [], exclude: ['twilio_call_audio_*'] });
    let err: unknown;
    try {
      loadConfig({ env: { ...env, TWILIO_INSIGHTS_EXPORTER_METRICS_INCLUDE: 'twilio_call_mos,twilio_call_moss' }, metricNames });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'TWILIO_INSIGHTS_EXPORTER_METRICS_INCLUDE[1]: matches no metric (see the metrics table in the README)',
    ]);
  });
});

// Probe L #8: exclude could not name the runtime families: "matches no metric".
describe('the metric names the process passes to the config check', () => {
  it('cover the process_* and nodejs_* runtime families, so include and exclude may name them', { timeout: 30_000 }, async () => {
    const { spawnSync } = await import('node:child_process');
    const root = new URL('../../..', import.meta.url).pathname;
    const env = { PATH: process.env['PATH'] ?? '', TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'token' };
    const r = spawnSync(process.execPath, ['src/main.ts', '--config.check'], {
      cwd: root,
      env: { ...env, TWILIO_INSIGHTS_EXPORTER_METRICS_EXCLUDE: 'process_*,nodejs_*,nodejs_eventloop_lag_p99_seconds' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
