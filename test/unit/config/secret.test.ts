import { inspect } from 'node:util';

import { describe, expect, it } from 'vitest';

import { REDACTED, Secret } from '../../../src/config/secret.ts';

describe('Secret', () => {
  const secret = new Secret('hunter2-value');

  it('reveals its value only through reveal()', () => {
    expect(secret.reveal()).toBe('hunter2-value');
  });

  it('prints <secret> in every implicit form', () => {
    expect(REDACTED).toBe('<secret>');
    expect(String(secret)).toBe('<secret>');
    // Implicit conversions are what a careless log line does; the lint rules that forbid them are the first guard.
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions
    expect(`${secret}`).toBe('<secret>');
    // eslint-disable-next-line @typescript-eslint/restrict-plus-operands
    expect('' + secret).toBe('<secret>');
    expect(JSON.stringify({ secret })).toBe('{"secret":"<secret>"}');
    expect(inspect(secret)).toBe('<secret>');
    expect(inspect({ nested: { secret } }, { depth: 10 })).not.toContain('hunter2');
    expect(inspect(secret, { showHidden: true })).toBe('<secret>');
  });

  it('has no enumerable or own keys that hold the value', () => {
    expect(Object.keys(secret)).toEqual([]);
    expect(Reflect.ownKeys(secret)).toEqual([]);
    expect(JSON.stringify(Object.assign({}, secret))).toBe('{}');
  });
});
