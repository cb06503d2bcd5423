import { fileURLToPath } from 'node:url';

import { ConfigError } from '../../../src/config/errors.ts';
import { loadConfig } from '../../../src/config/load.ts';
import type { LoadConfigOptions } from '../../../src/config/load.ts';

/** Directory of the config fixture files. */
export const FIXTURES = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));

/** Directory holding example.yaml and demo.yaml. */
export const CONFIG_DIR = fileURLToPath(new URL('../../../config/', import.meta.url));

/** Account SIDs used across the tests. */
export const SID_A = 'AC00000000000000000000000000000000';
export const SID_B = 'AC00000000000000000000000000000001';

/** Loads a config and returns its problems; fails the test when it loads. */
export function problemsOf(opts: LoadConfigOptions): string[] {
  try {
    loadConfig(opts);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('config loaded without error');
}

/** Every nested object of a value, itself included. */
export function objectsIn(value: unknown, out: object[] = []): object[] {
  if (typeof value === 'object' && value !== null) {
    out.push(value);
    for (const v of Object.values(value)) objectsIn(v, out);
  }
  return out;
}
