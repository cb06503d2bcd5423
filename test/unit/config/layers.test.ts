import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.ts';
import { demoConfig } from '../../../src/demo.ts';
import { SID_A, problemsOf } from './helpers.ts';

// How main hands its decisions to the loader: as layers of data, in the order defaults < file < environment < flags.
describe('config layers', () => {
  const env = { TWILIO_ACCOUNT_SID: SID_A, TWILIO_AUTH_TOKEN: 't' };

  it('lays defaults under the environment: discovery on without a file, unless the environment says otherwise', () => {
    expect(loadConfig({ env, defaults: { discovery: { enabled: true } } }).discovery.enabled).toBe(true);
    const off = loadConfig({ env: { ...env, TWILIO_INSIGHTS_EXPORTER_DISCOVERY_ENABLED: 'false' }, defaults: { discovery: { enabled: true } } });
    expect(off.discovery.enabled).toBe(false);
  });

  it('lays defaults under in-memory settings, key by key', () => {
    const c = loadConfig({
      env,
      raw: { discovery: { interval: '7s' } },
      defaults: { discovery: { enabled: true, interval: '30s' } },
    });
    expect(c.discovery.enabled).toBe(true);
    expect(c.discovery.intervalMs).toBe(7000);
  });

  it('lays flags over the environment', () => {
    const c = loadConfig({ env: { ...env, TWILIO_INSIGHTS_EXPORTER_LOG_LEVEL: 'warn' }, overrides: { log: { level: 'debug' } } });
    expect(c.log.level).toBe('debug');
  });

  it('validates flags like any other setting, naming the key', () => {
    expect(problemsOf({ env, overrides: { log: { level: 'loud' } } }).join('\n')).toMatch(/^log\.level: /m);
  });

  it('names the flag in its problems when told which flag set the key, and only that key', () => {
    const overrideFlags = { 'web.listen_address': '--web.listen-address' };
    const flag = problemsOf({ env, overrides: { web: { listen_address: 'foo' } }, overrideFlags });
    expect(flag).toEqual(['--web.listen-address: must be host:port, e.g. ":9487" or "127.0.0.1:9487"']);
    const fromEnv = problemsOf({ env: { ...env, TWILIO_INSIGHTS_EXPORTER_LOG_LEVEL: 'loud' }, overrides: { web: { listen_address: ':1' } }, overrideFlags });
    expect(fromEnv.join('\n')).toMatch(/^TWILIO_INSIGHTS_EXPORTER_LOG_LEVEL: /m);
  });

  it('leaves credential variables out when asked: the demo keeps its own account whatever the shell exports', () => {
    const c = loadConfig({
      raw: demoConfig('http://127.0.0.1:1234'),
      env: { TWILIO_AUTH_TOKEN: 'stray', TWILIO_INSIGHTS_BASE_URL: 'http://elsewhere.invalid' },
      credentialsFromEnv: false,
    });
    expect(c.accounts).toHaveLength(1);
    expect(c.accounts[0]!.insightsBaseUrl).toBe('http://127.0.0.1:1234');
    expect(c.accounts[0]!.credentials.kind).toBe('auth_token');
    expect(c.accounts[0]!.credentials.kind === 'auth_token' && c.accounts[0]!.credentials.password.reveal()).toBe('demo-auth-token');
  });

  it('does not change the objects it is given', () => {
    const raw = { discovery: { interval: '7s' } };
    const defaults = { discovery: { enabled: true } };
    loadConfig({ env, raw, defaults });
    expect(raw).toEqual({ discovery: { interval: '7s' } });
    expect(defaults).toEqual({ discovery: { enabled: true } });
  });
});
