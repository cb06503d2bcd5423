import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.ts';
import { SID_A, problemsOf } from './helpers.ts';

const SK = 'SK00000000000000000000000000000000';

describe('*_file secrets', () => {
  let dir: string;
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  const config = (account: string, rest = '') =>
    write('config.yaml', `accounts:\n  - account_sid: ${SID_A}\n${account}\n${rest}`);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-secrets-'));
    mkdirSync(join(dir, 'secrets'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true });
  });

  it('reads a path relative to the config file, not the working directory', () => {
    write('secrets/token', 'file-token\n');
    config('    auth_token_file: secrets/token');
    const c = loadConfig({ file: join(dir, 'config.yaml'), cwd: '/', env: {} });
    expect(c.accounts[0]?.credentials.password.reveal()).toBe('file-token');
  });

  it('reads an absolute path', () => {
    write('secrets/token', 'abs-token');
    config(`    auth_token_file: ${join(dir, 'secrets/token')}`);
    const c = loadConfig({ file: 'config.yaml', cwd: dir, env: {} });
    expect(c.accounts[0]?.credentials.password.reveal()).toBe('abs-token');
  });

  it.each([
    ['one trailing newline', 'tok\n', 'tok'],
    ['a CRLF line ending', 'tok\r\n', 'tok'],
    ['only one of two newlines', 'tok\n\n', 'tok\n'],
    ['no newline', 'tok', 'tok'],
    ['inner spaces', ' t o k \n', ' t o k '],
  ])('trims %s', (_name, content, expected) => {
    write('secrets/token', content);
    config('    auth_token_file: secrets/token');
    const c = loadConfig({ file: 'config.yaml', cwd: dir, env: {} });
    expect(c.accounts[0]?.credentials.password.reveal()).toBe(expected);
  });

  it('reads API key secrets, the admin token and reports each unreadable file', () => {
    write('secrets/key', 'key-secret\n');
    write('secrets/admin', 'admin-token\n');
    config(
      `    api_key_sid: ${SK}\n    api_key_secret_file: secrets/key`,
      'admin:\n  bearer_token_file: secrets/admin\n',
    );
    const c = loadConfig({ file: 'config.yaml', cwd: dir, env: {} });
    expect(c.accounts[0]?.credentials.password.reveal()).toBe('key-secret');
    expect(c.admin.bearerToken?.reveal()).toBe('admin-token');
  });

  it('reports an empty, missing or unreadable file at its key', () => {
    write('secrets/empty', '\n');
    config('    auth_token_file: secrets/empty', 'admin:\n  bearer_token_file: secrets\n');
    expect(problemsOf({ file: 'config.yaml', cwd: dir, env: {} })).toEqual([
      'accounts[0].auth_token_file: file "secrets/empty" is empty',
      'admin.bearer_token_file: cannot read "secrets" (EISDIR)',
    ]);
  });

  it('resolves a *_FILE environment variable from the working directory', () => {
    write('secrets/admin', 'env-admin\n');
    const c = loadConfig({
      cwd: dir,
      env: {
        TWILIO_ACCOUNT_SID: SID_A,
        TWILIO_AUTH_TOKEN: 't',
        TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN_FILE: 'secrets/admin',
      },
    });
    expect(c.admin.bearerToken?.reveal()).toBe('env-admin');
  });

  it('reports a missing *_FILE from the environment by its variable', () => {
    expect(
      problemsOf({
        cwd: dir,
        env: {
          TWILIO_ACCOUNT_SID: SID_A,
          TWILIO_AUTH_TOKEN: 't',
          TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN_FILE: 'secrets/none',
        },
      }),
    ).toEqual([
      `TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN_FILE: cannot read "${join(dir, 'secrets/none')}" (ENOENT)`,
    ]);
  });
});
