import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.ts';
import { SID_A, problemsOf } from './helpers.ts';

const withState = (path: string) => ({ raw: { accounts: [{ account_sid: SID_A, auth_token: 'token' }], state: { path } }, env: {} });

// Probe L #2: `state.path: /dev/null` passed the check, and the first save replaced the device with a file.
describe('state.path', () => {
  it('refuses a path that exists and is not a regular file, naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tie-state-'));
    mkdirSync(join(dir, 'a-dir'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    symlinkSync('/dev/null', join(dir, 'link-to-device'));
    for (const path of ['/dev/null', join(dir, 'a-dir'), join(dir, 'fifo'), join(dir, 'link-to-device')]) {
      expect(problemsOf(withState(path)), path).toEqual([`state.path: ${JSON.stringify(path)} exists and is not a regular file`]);
    }
  });

  it('accepts a regular file, a symlink to one, and a path that does not exist yet (or cannot be looked at: the saver reports that)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tie-state-'));
    writeFileSync(join(dir, 'state.json'), '{}');
    symlinkSync(join(dir, 'state.json'), join(dir, 'link.json'));
    for (const path of [join(dir, 'state.json'), join(dir, 'link.json'), join(dir, 'new.json'), join(dir, 'state.json', 'below-a-file.json'), '']) {
      expect(loadConfig(withState(path)).state.path).toBe(path);
    }
  });
});
