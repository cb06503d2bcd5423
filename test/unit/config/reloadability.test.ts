import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../../src/config/load.ts';
import { RELOADABILITY, pendingRestart } from '../../../src/config/reloadability.ts';
import { createConfigSchema } from '../../../src/config/schema.ts';
import { schemaLeaves } from '../../../src/config/schema-walk.ts';
import { SID_A, SID_B } from './helpers.ts';

describe('reloadability marks', () => {
  it('every config schema key says whether a reload applies it, and every mark names a schema key', () => {
    const keys = schemaLeaves(createConfigSchema({ readSecretFile: () => 'x' })).map((l) => l.path.join('.'));
    expect(keys.filter((k) => RELOADABILITY[k] === undefined), 'schema keys without a reloadable/restart mark').toEqual([]);
    expect(Object.keys(RELOADABILITY).filter((k) => !keys.includes(k)), 'marks for keys the schema does not have').toEqual([]);
    for (const [key, mark] of Object.entries(RELOADABILITY)) expect(mark.reload === 'live' || mark.differs !== undefined, key).toBe(true);
  });
});

describe('pendingRestart', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-reload-'));
  });
  afterEach(() => rmSync(dir, { recursive: true }));
  const load = (doc: Record<string, unknown>) => {
    const file = join(dir, `c${Math.random()}.yaml`);
    writeFileSync(file, stringify(doc));
    return loadConfig({ file, env: {} });
  };
  const account = (sid: string, token = 't') => ({ account_sid: sid, auth_token: token });

  it('names only restart keys that differ from the running config, an added account once as accounts', () => {
    const running = load({ accounts: [account(SID_A)], page_size: 100, otlp: { headers: { 'x-key': 'one' } } });
    expect(pendingRestart(running, load({ accounts: [account(SID_A, 'rotated')], page_size: 100, otlp: { headers: { 'x-key': 'one' } } }))).toEqual([]);
    expect(
      pendingRestart(running, load({ accounts: [account(SID_A), { ...account(SID_B), insights_base_url: 'http://x:1' }], page_size: 50, otlp: { headers: { 'x-key': 'two' } } })),
    ).toEqual(['accounts', 'page_size', 'otlp.headers']);
    expect(pendingRestart(running, load({ accounts: [{ ...account(SID_A), max_concurrent_requests: 3 }], page_size: 100, otlp: { headers: { 'x-key': 'one' } } }))).toEqual([
      'accounts[].max_concurrent_requests',
    ]);
  });
});
