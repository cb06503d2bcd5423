import { describe, expect, it } from 'vitest';

import { DURATION_RULE } from '../../../src/config/duration.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { FIXTURES, SID_A, SID_B, problemsOf } from './helpers.ts';

const SK = 'SK00000000000000000000000000000000';
const ONE = 'valid-minimal.yaml'; // one account: SID_A with an inline auth_token
const NO_CREDENTIALS = 'invalid-no-credentials.yaml'; // one account: SID_A and nothing else

describe('configuration from the environment alone', () => {
  it('builds the single account from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN', () => {
    const c = loadConfig({ env: { TWILIO_ACCOUNT_SID: SID_A, TWILIO_AUTH_TOKEN: 'env-token' } });
    expect(c.accounts).toHaveLength(1);
    expect(c.accounts[0]?.accountSid).toBe(SID_A);
    expect(c.accounts[0]?.credentials).toMatchObject({ kind: 'auth_token', username: SID_A });
    expect(c.accounts[0]?.credentials.password.reveal()).toBe('env-token');
  });

  it('builds the single account from an API key', () => {
    const c = loadConfig({
      env: { TWILIO_ACCOUNT_SID: SID_A, TWILIO_API_KEY: SK, TWILIO_API_SECRET: 'env-secret' },
    });
    expect(c.accounts[0]?.credentials).toMatchObject({ kind: 'api_key', username: SK });
    expect(c.accounts[0]?.credentials.password.reveal()).toBe('env-secret');
  });

  it.each([
    [{}, ['accounts: at least one account is required (or set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)']],
    [{ TWILIO_AUTH_TOKEN: 't' }, ['TWILIO_AUTH_TOKEN: requires TWILIO_ACCOUNT_SID']],
    [
      { TWILIO_ACCOUNT_SID: SID_A },
      ['TWILIO_ACCOUNT_SID: requires TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET'],
    ],
    [{ TWILIO_ACCOUNT_SID: SID_A, TWILIO_API_KEY: SK }, ['TWILIO_API_KEY: requires TWILIO_API_SECRET']],
    [{ TWILIO_ACCOUNT_SID: SID_A, TWILIO_API_SECRET: 's' }, ['TWILIO_API_SECRET: requires TWILIO_API_KEY']],
    [
      { TWILIO_ACCOUNT_SID: SID_A, TWILIO_AUTH_TOKEN: 't', TWILIO_API_KEY: SK, TWILIO_API_SECRET: 's' },
      ['TWILIO_AUTH_TOKEN: set only one of TWILIO_AUTH_TOKEN, TWILIO_API_KEY'],
    ],
    [{ TWILIO_ACCOUNT_SID: 'ACnope', TWILIO_AUTH_TOKEN: 't' }, ['TWILIO_ACCOUNT_SID: must match ^AC[0-9a-fA-F]{32}$']],
    [
      { TWILIO_ACCOUNT_SID: SID_A, TWILIO_API_KEY: 'SKnope', TWILIO_API_SECRET: 's' },
      ['TWILIO_API_KEY: must match ^SK[0-9a-fA-F]{32}$'],
    ],
  ])('reports %j', (env, expected) => {
    expect(problemsOf({ env })).toEqual(expected);
  });

  it('treats an empty variable as unset', () => {
    const c = loadConfig({
      env: {
        TWILIO_ACCOUNT_SID: SID_A,
        TWILIO_AUTH_TOKEN: 't',
        TWILIO_API_KEY: '',
        TWILIO_INSIGHTS_EXPORTER_PAGE_SIZE: '',
      },
    });
    expect(c.accounts[0]?.credentials.kind).toBe('auth_token');
    expect(c.pageSize).toBe(100);
  });
});

describe('environment over a file with one account', () => {
  const load = (file: string, env: Record<string, string>) => loadConfig({ file, cwd: FIXTURES, env });
  const problems = (file: string, env: Record<string, string>) => problemsOf({ file, cwd: FIXTURES, env });

  it('fills in missing credentials', () => {
    const c = load(NO_CREDENTIALS, { TWILIO_AUTH_TOKEN: 'env-token' });
    expect(c.accounts[0]?.credentials.password.reveal()).toBe('env-token');
  });

  it('fills in the secret of an API key named in the file', () => {
    const c = load('invalid-api-key-sid-without-secret.yaml', { TWILIO_API_SECRET: 'env-secret' });
    expect(c.accounts[0]?.credentials).toMatchObject({ kind: 'api_key', username: SK });
    expect(c.accounts[0]?.credentials.password.reveal()).toBe('env-secret');
  });

  it('accepts TWILIO_ACCOUNT_SID equal to the file value', () => {
    expect(load(ONE, { TWILIO_ACCOUNT_SID: SID_A }).accounts[0]?.accountSid).toBe(SID_A);
  });

  it.each([
    [
      ONE,
      { TWILIO_ACCOUNT_SID: SID_B },
      'accounts[0].account_sid: conflicts with TWILIO_ACCOUNT_SID (set only one, or the same value)',
    ],
    [ONE, { TWILIO_AUTH_TOKEN: 'other' }, 'accounts[0].auth_token: conflicts with TWILIO_AUTH_TOKEN (set only one)'],
    [ONE, { TWILIO_API_KEY: SK }, 'accounts[0].auth_token: conflicts with TWILIO_API_KEY (set only one)'],
    [
      'invalid-two-credential-kinds.yaml',
      { TWILIO_AUTH_TOKEN: 't' },
      'accounts[0].auth_token_file: conflicts with TWILIO_AUTH_TOKEN (set only one)',
    ],
  ])('names both sources of a conflict (%s, %j)', (file, env, expected) => {
    expect(problems(file, env)[0]).toBe(expected);
  });

  it('applies the account variables only when there is exactly one account', () => {
    const env = { TWILIO_AUTH_TOKEN: 't', TWILIO_API_BASE_URL: 'http://x' };
    expect(problems('invalid-call-bare-with-two-accounts.yaml', env).slice(0, 2)).toEqual([
      'TWILIO_AUTH_TOKEN: applies only when exactly one account is configured (found 2)',
      'TWILIO_API_BASE_URL: applies only when exactly one account is configured (found 2)',
    ]);
  });

  it('overrides the base URLs of the single account', () => {
    const c = load(ONE, {
      TWILIO_INSIGHTS_BASE_URL: 'http://127.0.0.1:9000/',
      TWILIO_API_BASE_URL: 'http://127.0.0.1:9001',
    });
    expect(c.accounts[0]).toMatchObject({
      insightsBaseUrl: 'http://127.0.0.1:9000',
      apiBaseUrl: 'http://127.0.0.1:9001',
    });
    expect(problems(ONE, { TWILIO_INSIGHTS_BASE_URL: 'insights.twilio.com' })).toEqual([
      'TWILIO_INSIGHTS_BASE_URL: must be an http(s) URL with no path, query or credentials',
    ]);
  });
});

describe('TWILIO_INSIGHTS_EXPORTER_* settings', () => {
  const problems = (env: Record<string, string>) => problemsOf({ file: ONE, cwd: FIXTURES, env });

  it('overrides top-level and nested settings, converting numbers, booleans and lists', () => {
    const c = loadConfig({
      file: 'valid-full.yaml',
      cwd: FIXTURES,
      env: {
        TWILIO_INSIGHTS_EXPORTER_POLL_INTERVAL: '5s',
        TWILIO_INSIGHTS_EXPORTER_MAX_CALLS: '100',
        TWILIO_INSIGHTS_EXPORTER_PAGE_SIZE: '200',
        TWILIO_INSIGHTS_EXPORTER_BACKFILL: 'false',
        TWILIO_INSIGHTS_EXPORTER_PER_CALL_SERIES: 'TRUE',
        TWILIO_INSIGHTS_EXPORTER_DISCOVERY_DIRECTIONS: 'outbound-api, outbound-dial',
        TWILIO_INSIGHTS_EXPORTER_LOG_LEVEL: 'warn',
        TWILIO_INSIGHTS_EXPORTER_WEB_LISTEN_ADDRESS: ':0',
        TWILIO_INSIGHTS_EXPORTER_OTLP_SERVICE_NAME: '42',
      },
    });
    expect(c.pollIntervalMs).toBe(5000);
    expect(c.maxCalls).toBe(100);
    expect(c.pageSize).toBe(200);
    expect(c.backfill).toBe(false);
    expect(c.perCallSeries).toBe(true);
    expect(c.discovery.directions).toEqual(['outbound-api', 'outbound-dial']);
    expect(c.log.level).toBe('warn');
    expect(c.web.listenAddress).toBe(':0');
    expect(c.otlp.serviceName).toBe('42');
  });

  it('works without a file', () => {
    const c = loadConfig({
      env: { TWILIO_ACCOUNT_SID: SID_A, TWILIO_AUTH_TOKEN: 't', TWILIO_INSIGHTS_EXPORTER_DISCOVERY_ENABLED: 'true' },
    });
    expect(c.discovery.enabled).toBe(true);
  });

  it.each([
    ['TWILIO_INSIGHTS_EXPORTER_POLL_INTERVAL', '10 seconds', `invalid duration "10 seconds" (${DURATION_RULE})`],
    ['TWILIO_INSIGHTS_EXPORTER_POLL_INTERVAL', '10', `invalid duration "10" (${DURATION_RULE})`],
    ['TWILIO_INSIGHTS_EXPORTER_MAX_CALLS', 'lots', 'must be an integer from 1 to 1000000'],
    ['TWILIO_INSIGHTS_EXPORTER_PAGE_SIZE', '1001', 'must be an integer from 1 to 1000'],
    ['TWILIO_INSIGHTS_EXPORTER_BACKFILL', 'yes', 'must be true or false'],
    ['TWILIO_INSIGHTS_EXPORTER_LOG_FORMAT', 'text', 'must be one of json, logfmt'],
  ])('names %s in the problem for a bad value %j', (name, value, rule) => {
    expect(problems({ [name]: value })).toEqual([`${name}: ${rule}`]);
  });

  it('names the list item of a bad list value', () => {
    expect(problems({ TWILIO_INSIGHTS_EXPORTER_DISCOVERY_DIRECTIONS: 'inbound,sideways' })).toEqual([
      'TWILIO_INSIGHTS_EXPORTER_DISCOVERY_DIRECTIONS[1]: must be one of ' +
        'inbound, outbound-api, outbound-dial, trunking-terminating, trunking-originating',
    ]);
  });

  it('rejects an unknown TWILIO_INSIGHTS_EXPORTER_ variable', () => {
    expect(problems({ TWILIO_INSIGHTS_EXPORTER_POL_INTERVAL: '5s' })).toEqual([
      'TWILIO_INSIGHTS_EXPORTER_POL_INTERVAL: unknown setting',
    ]);
  });

  it('does not let the environment override accounts, calls or headers', () => {
    expect(problems({ TWILIO_INSIGHTS_EXPORTER_ACCOUNTS: 'x', TWILIO_INSIGHTS_EXPORTER_OTLP_HEADERS: 'x' })).toEqual([
      'TWILIO_INSIGHTS_EXPORTER_ACCOUNTS: unknown setting',
      'TWILIO_INSIGHTS_EXPORTER_OTLP_HEADERS: unknown setting',
    ]);
  });

  it('takes the admin bearer token from the environment, as one source only', () => {
    const env = { TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN: 'env-admin' };
    const c = loadConfig({ file: ONE, cwd: FIXTURES, env });
    expect(c.admin.bearerToken?.reveal()).toBe('env-admin');
    expect(problemsOf({ file: 'valid-full.yaml', cwd: FIXTURES, env })).toEqual([
      'admin.bearer_token: conflicts with TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN (set only one)',
    ]);
    expect(
      problems({
        TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN: 'a',
        TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN_FILE: '/run/secrets/admin',
      }),
    ).toEqual([
      'TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN: set only one of ' +
        'TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN, TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN_FILE',
    ]);
  });

  it('does not change the environment object or the parsed file', () => {
    const env = Object.freeze({ TWILIO_INSIGHTS_EXPORTER_POLL_INTERVAL: '5s' });
    const a = loadConfig({ file: ONE, cwd: FIXTURES, env });
    const b = loadConfig({ file: ONE, cwd: FIXTURES, env: {} });
    expect(a.pollIntervalMs).toBe(5000);
    expect(b.pollIntervalMs).toBe(10_000);
  });
});
