import { readdirSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../../src/config/errors.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { FIXTURES, problemsOf } from './helpers.ts';

const ACCOUNT_SID_RULE = 'must match ^AC[0-9a-fA-F]{32}$';
const CALL_SID_RULE = 'must match ^CA[0-9a-fA-F]{32}$';
const ACCOUNTS_REQUIRED =
  'accounts: at least one account is required (or set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)';
const URL_RULE = 'must be an http(s) URL with no path, query or credentials';

// Each invalid file and the exact problems it must produce, in order (blackbox_exporter's testdata habit).
const CASES: Readonly<Record<string, readonly string[]>> = {
  'invalid-unknown-top-level-key.yaml': ['pol_interval: unknown key'],
  'invalid-unknown-nested-key.yaml': ['discovery.enable: unknown key'],
  'invalid-unknown-account-key.yaml': [
    'accounts[0].auth_tokn: unknown key',
    'accounts[0]: credentials required: set auth_token, auth_token_file, or api_key_sid with api_key_secret',
  ],
  'invalid-account-sid.yaml': [`accounts[0].account_sid: ${ACCOUNT_SID_RULE}`],
  'invalid-api-key-sid.yaml': ['accounts[0].api_key_sid: must match ^SK[0-9a-fA-F]{32}$'],
  'invalid-call-sid.yaml': [
    `calls[0]: ${CALL_SID_RULE}`,
    `calls[1].call_sid: ${CALL_SID_RULE}`,
    'calls[2]: must be a CallSid or a mapping with call_sid and account_sid',
  ],
  'invalid-call-bare-with-two-accounts.yaml': [
    'calls[0]: a bare CallSid needs exactly one configured account (found 2); write {call_sid, account_sid}',
  ],
  'invalid-call-unconfigured-account.yaml': ['calls[0].account_sid: must be one of the configured accounts'],
  'invalid-call-duplicate.yaml': ['calls[1]: duplicate of calls[0]'],
  // Probe F #6: an invalid enum value hid the same account's credential rule until it was fixed.
  'invalid-account-enum-and-credentials.yaml': [
    'accounts[0].ingest_mode: must be one of poll, push, hybrid',
    'accounts[0]: set only one of auth_token, auth_token_file',
  ],
  // The checks across entries used to wait until every other problem was fixed: two rounds of edits.
  'invalid-cross-field-with-schema-error.yaml': [
    'poll_interval: invalid duration "abc" (use e.g. 500ms, 10s, 1m30s)',
    'accounts[1].account_sid: duplicate of accounts[0]',
    'calls[0]: a bare CallSid needs exactly one configured account (found 2); write {call_sid, account_sid}',
    'calls[1].account_sid: must be one of the configured accounts',
  ],
  'invalid-duration.yaml': [
    'poll_interval: invalid duration "10 seconds" (use e.g. 500ms, 10s, 1m30s)',
    'end_check_after: invalid duration "3 minutes" (use e.g. 500ms, 10s, 1m30s)',
  ],
  'invalid-duration-bare-number.yaml': ['request_timeout: invalid duration 10 (use e.g. 500ms, 10s, 1m30s)'],
  'invalid-duration-below-minimum.yaml': [
    'poll_interval: must be at least 1s',
    'discovery.interval: must be at least 1s',
  ],
  'invalid-duration-too-long.yaml': ['call_retention: must be at most 24d'],
  'invalid-page-size-0.yaml': ['page_size: must be an integer from 1 to 1000'],
  'invalid-page-size-1001.yaml': ['page_size: must be an integer from 1 to 1000'],
  'invalid-numbers.yaml': [
    'accounts[0].max_concurrent_requests: must be an integer from 1 to 100',
    'max_calls: must be an integer from 1 to 1000000',
  ],
  'invalid-two-secret-sources.yaml': ['accounts[0]: set only one of auth_token, auth_token_file'],
  'invalid-two-api-secret-sources.yaml': ['accounts[0]: set only one of api_key_secret, api_key_secret_file'],
  'invalid-two-credential-kinds.yaml': ['accounts[0]: set only one of auth_token_file, api_key_sid'],
  'invalid-api-key-sid-without-secret.yaml': [
    'accounts[0]: api_key_sid requires api_key_secret or api_key_secret_file',
  ],
  'invalid-api-key-secret-without-sid.yaml': ['accounts[0]: api_key_secret requires api_key_sid'],
  'invalid-no-credentials.yaml': [
    'accounts[0]: credentials required: set auth_token, auth_token_file, or api_key_sid with api_key_secret',
  ],
  'invalid-duplicate-account.yaml': ['accounts[1].account_sid: duplicate of accounts[0]'],
  'invalid-url.yaml': [
    `accounts[0].insights_base_url: ${URL_RULE}`,
    `accounts[0].api_base_url: ${URL_RULE}`,
    'webhooks.public_url: must be empty or an http(s) URL with no query, fragment or credentials',
    'webhooks.shard_peer_url: must be empty or an http(s) URL containing {ordinal}, with no query, fragment or credentials',
    'otlp.endpoint: must be empty or an http(s) URL with no credentials',
  ],
  'invalid-shard-peer-url-without-public-url.yaml': [
    "webhooks.shard_peer_url: needs webhooks.public_url, the URL Twilio calls, which the shard owning a call checks a forwarded callback's signature against",
  ],
  'invalid-yaml-syntax.yaml': ['yaml: line 3, column 17: nested mappings are not allowed in compact mappings'],
  'invalid-yaml-duplicate-key.yaml': ['yaml: line 5, column 1: map keys must be unique'],
  'invalid-empty.yaml': [ACCOUNTS_REQUIRED],
  'invalid-comments-only.yaml': [ACCOUNTS_REQUIRED],
  'invalid-accounts-empty-list.yaml': [ACCOUNTS_REQUIRED],
  'invalid-accounts-not-a-list.yaml': ['accounts: must be a list'],
  'invalid-top-level-list.yaml': ['yaml: the top level must be a mapping of settings'],
  'invalid-types.yaml': [
    'accounts[0].auth_token: must be a string (put the value in quotes)',
    'backfill: must be true or false',
    'discovery: must be a mapping',
    'web.telemetry_path: must be a URL path starting with "/"',
    'log.level: must be one of debug, info, warn, error',
    'log.format: must be one of json, logfmt',
  ],
  'invalid-empty-values.yaml': ['accounts[0].name: must not be empty', 'accounts[0].auth_token: must not be empty'],
  'invalid-discovery-direction.yaml': [
    'discovery.directions[1]: must be one of ' +
      'inbound, outbound-api, outbound-dial, trunking-terminating, trunking-originating',
  ],
  'invalid-listen-address.yaml': ['web.listen_address: must be host:port, e.g. ":9487" or "127.0.0.1:9487"'],
  'invalid-admin-two-sources.yaml': ['admin: set only one of bearer_token, bearer_token_file'],
  'invalid-otlp.yaml': [
    'otlp.headers["Bad Header"]: must be a valid HTTP header name',
    'otlp.export_timeout: must not exceed otlp.export_interval',
  ],
  // Probe L #9: a __proto__ key set the settings' prototype instead of being an unknown key.
  'invalid-proto-key.yaml': ['accounts[0].__proto__: unknown key', 'discovery.__proto__: unknown key', '__proto__: unknown key'],
  // Probe L #9: a query or fragment swallowed the dashboard path appended to the URL.
  'invalid-grafana-url-query.yaml': ['grafana.url: must be empty or an http(s) URL with no query, fragment or credentials'],
  'invalid-grafana-url-fragment.yaml': ['grafana.url: must be empty or an http(s) URL with no query, fragment or credentials'],
  // Probe L #9: the bounds were zod's own wording ("Too big: expected number to be <=32").
  'invalid-quality-bounds.yaml': [
    'quality.window_samples: must be an integer from 1 to 32',
    'quality.raise_at: must be an integer from 1 to 32',
    'quality.clear_at: must be an integer from 0 to 31',
  ],
  // Probe L #2: the first save replaced the device with a regular file.
  'invalid-state-path-device.yaml': ['state.path: "/dev/null" exists and is not a regular file'],
  'invalid-secret-file-missing.yaml': ['accounts[0].auth_token_file: cannot read "does-not-exist.txt" (ENOENT)'],
};

describe('invalid config files', () => {
  it.each(Object.entries(CASES))('%s', (file, expected) => {
    expect(problemsOf({ file, cwd: FIXTURES, env: {} })).toEqual(expected);
  });

  it('has an expected message for every invalid-*.yaml fixture', () => {
    const fixtures = readdirSync(FIXTURES).filter((f) => f.startsWith('invalid-'));
    expect(fixtures.sort()).toEqual(Object.keys(CASES).sort());
  });

  it('joins the problems into the message and carries a stable code', () => {
    let caught: unknown;
    try {
      loadConfig({ file: 'invalid-numbers.yaml', cwd: FIXTURES, env: {} });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    expect(err.code).toBe('ERR_CONFIG_INVALID');
    expect(err.name).toBe('ConfigError');
    expect(err.message).toBe(err.problems.join('; '));
  });

  it('names the file it cannot read', () => {
    expect(() => loadConfig({ file: 'nope.yaml', cwd: FIXTURES, env: {} })).toThrow(
      new ConfigError(['nope.yaml: cannot read (ENOENT)']),
    );
  });
});
