import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SID_A, problemsOf } from './helpers.ts';

describe('*_file secrets are read with a size cap', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-secret-size-'));
  });
  afterEach(() => rmSync(dir, { recursive: true }));
  const config = (tokenFile: string) =>
    writeFileSync(join(dir, 'config.yaml'), `accounts:\n  - account_sid: ${SID_A}\n    auth_token_file: ${tokenFile}\nadmin:\n  bearer_token: ok\n`);

  it('a secret file over 64 KiB is refused naming the key, and nothing else is lost', () => {
    writeFileSync(join(dir, 'big'), 'x'.repeat(1024 * 1024));
    config('big');
    expect(problemsOf({ file: 'config.yaml', cwd: dir, env: {} })).toEqual(['accounts[0].auth_token_file: file "big" is larger than 64 KiB']);
  });

  it('a secret file of exactly 64 KiB plus a newline is read', () => {
    writeFileSync(join(dir, 'edge'), `${'x'.repeat(64 * 1024 - 1)}\n`);
    config('edge');
    expect(() => problemsOf({ file: 'config.yaml', cwd: dir, env: {} })).toThrow('config loaded without error');
  });

  it('auth_token_file: /dev/zero is refused at the cap instead of read without end', () => {
    config('/dev/zero');
    expect(problemsOf({ file: 'config.yaml', cwd: dir, env: {} })).toEqual(['accounts[0].auth_token_file: file "/dev/zero" is larger than 64 KiB']);
  });

  it('a *_FILE environment variable pointing at /dev/zero is refused by its variable', () => {
    expect(
      problemsOf({ cwd: dir, env: { TWILIO_ACCOUNT_SID: SID_A, TWILIO_AUTH_TOKEN: 't', TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN_FILE: '/dev/zero' } }),
    ).toEqual(['TWILIO_INSIGHTS_EXPORTER_ADMIN_BEARER_TOKEN_FILE: file "/dev/zero" is larger than 64 KiB']);
  });

  it('a config file that never ends (/dev/zero) is refused at its own cap', () => {
    expect(problemsOf({ file: '/dev/zero', cwd: dir, env: {} })).toEqual(['/dev/zero: larger than 1 MiB']);
  });
});
