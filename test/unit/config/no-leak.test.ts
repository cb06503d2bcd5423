import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { dumpConfig } from '../../../src/config/dump.ts';
import { ConfigError } from '../../../src/config/errors.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { SID_A, SID_B } from './helpers.ts';

// Every secret in these tests contains this marker; no output may.
const CANARY = 'Zq9LEAKCANARY';
const SK = 'SK00000000000000000000000000000000';
const account = (lines: string) => `accounts:\n  - account_sid: ${SID_A}\n${lines}\n`;
const withToken = (rest: string) => account('    auth_token: t') + rest;

describe('secrets never leak', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-leak-'));
    writeFileSync(join(dir, 'token'), `${CANARY}-file\n`);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true });
  });

  function failure(yaml: string | undefined, env: Record<string, string> = {}): ConfigError {
    if (yaml !== undefined) writeFileSync(join(dir, 'config.yaml'), yaml);
    try {
      loadConfig({ file: yaml === undefined ? undefined : 'config.yaml', cwd: dir, env });
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error('config loaded without error');
  }

  const CASES: readonly [string, string | undefined, Record<string, string>?][] = [
    ['bad escape in a quoted secret', account(`    auth_token: "${CANARY}\\q"`)],
    ['block scalar header', account(`    auth_token: |${CANARY}\n      x`)],
    ['nested mapping on the secret line', account(`    auth_token: ${CANARY}: x`)],
    ['flow collection on the secret line', account(`    auth_token: [${CANARY}`)],
    ['unknown key holding a secret', account(`    auth_tokn: ${CANARY}`)],
    ['secret of the wrong type', account(`    auth_token: [${CANARY}]`)],
    ['secret as a mapping', account(`    auth_token: {${CANARY}: 1}`)],
    ['two sources', account(`    auth_token: ${CANARY}\n    auth_token_file: token`)],
    ['API secret without key', account(`    api_key_secret: ${CANARY}`)],
    ['mixed kinds', account(`    auth_token: ${CANARY}\n    api_key_sid: ${SK}\n    api_key_secret: ${CANARY}2`)],
    ['credentials in a base URL', account(`    auth_token: t\n    insights_base_url: https://u:${CANARY}@i.example`)],
    ['credentials in the OTLP endpoint', withToken(`otlp:\n  endpoint: https://u:${CANARY}@c/v1\n`)],
    ['bad header name', withToken(`otlp:\n  headers:\n    "Bad Name": ${CANARY}\n`)],
    ['header value with a line break', withToken(`otlp:\n  headers:\n    X-Key: "${CANARY}\\nInjected: 1"\n`)],
    ['admin token from two sources', withToken(`admin:\n  bearer_token: ${CANARY}\n  bearer_token_file: token\n`)],
    ['admin token of the wrong type', withToken(`admin:\n  bearer_token: [${CANARY}]\n`)],
    ['env token conflicting with the file', account(`    auth_token: ${CANARY}`), { TWILIO_AUTH_TOKEN: `${CANARY}2` }],
    [
      'env token with two accounts',
      `accounts:\n  - {account_sid: ${SID_A}, auth_token: ${CANARY}}\n` +
        `  - {account_sid: ${SID_B}, auth_token: ${CANARY}}\n`,
      { TWILIO_AUTH_TOKEN: CANARY },
    ],
    [
      'env token with an API secret',
      undefined,
      { TWILIO_ACCOUNT_SID: SID_A, TWILIO_AUTH_TOKEN: CANARY, TWILIO_API_SECRET: CANARY },
    ],
    ['env token without a SID', undefined, { TWILIO_AUTH_TOKEN: CANARY }],
    [
      'env API secret with a bad key',
      undefined,
      { TWILIO_ACCOUNT_SID: SID_A, TWILIO_API_KEY: 'SKbad', TWILIO_API_SECRET: CANARY },
    ],
    [
      'env admin token conflicting with the file',
      withToken(`admin:\n  bearer_token: ${CANARY}\n`),
      { TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN: CANARY },
    ],
    ['a secret next to another error', account(`    auth_token: ${CANARY}`) + 'page_size: 0\n'],
    ['a secret from a file next to another error', account('    auth_token_file: token') + 'poll_interval: 1\n'],
  ];

  it.each(CASES)('%s', (_name, yaml, env) => {
    const err = failure(yaml, env);
    expect(err.problems.length).toBeGreaterThan(0);
    expect(err.message).not.toContain(CANARY);
    expect(err.problems.join('\n')).not.toContain(CANARY);
    expect(inspect(err, { depth: 10 })).not.toContain(CANARY);
    expect(JSON.stringify(err)).not.toContain(CANARY);
  });

  it('a loaded config prints no secret through inspect, JSON, String or the dump', () => {
    writeFileSync(
      join(dir, 'config.yaml'),
      account('    auth_token_file: token') +
        `  - account_sid: ${SID_B}\n    api_key_sid: ${SK}\n    api_key_secret: ${CANARY}-key\n` +
        `admin:\n  bearer_token: ${CANARY}-admin\n` +
        `otlp:\n  headers:\n    Authorization: ${CANARY}-header\n`,
    );
    const c = loadConfig({ file: 'config.yaml', cwd: dir, env: {} });
    expect(c.accounts[0]?.credentials.password.reveal()).toBe(`${CANARY}-file`);
    for (const out of [
      inspect(c, { depth: Infinity, showHidden: true }),
      JSON.stringify(c),
      String(c.admin.bearerToken),
      `${c.otlp.headers.Authorization?.toString()}`,
      dumpConfig(c),
    ]) {
      expect(out).not.toContain(CANARY);
    }
    expect(JSON.stringify(c.otlp.headers)).toBe('{"Authorization":"<secret>"}');
  });
});
