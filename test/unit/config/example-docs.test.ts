import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

import { createConfigSchema } from '../../../src/config/schema.ts';
import { EACH, schemaLeaves } from '../../../src/config/schema-walk.ts';
import { CONFIG_DIR } from './helpers.ts';

// The docs must never drift from the schema: every key the schema accepts appears in example.yaml, set to its
// default or (for alternatives that exclude each other) as a commented-out line, in schema order.
const text = readFileSync(join(CONFIG_DIR, 'example.yaml'), 'utf8');
const leaves = schemaLeaves(createConfigSchema({ readSecretFile: () => '' }));
const key = (path: readonly string[]) => path.join('.');

// Leaf paths of the active YAML, in document order; list items collapse to `[]`.
function activePaths(value: unknown, path: readonly string[] = [], out: string[][] = []): string[][] {
  if (Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null)) {
    for (const item of value) activePaths(item, [...path, EACH], out);
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) activePaths(v, [...path, k], out);
  } else {
    out.push([...path]);
  }
  return out;
}

const active = activePaths(parse(text));
const activeSet = new Set(active.map(key));
const commentedKeys = new Set(
  [...text.matchAll(/^\s*#\s*(?:- )?([a-z][a-z0-9_]*):(?:\s|$)/gm)].map((m) => m[1] ?? ''),
);

describe('config/example.yaml', () => {
  it('documents every key of the schema', () => {
    // A key is set in the active YAML, or written as a commented-out line (alternatives, list items).
    const missing = leaves
      .map((l) => l.path)
      .filter((path) => !activeSet.has(key(path)) && !commentedKeys.has(path.filter((p) => p !== EACH).at(-1) ?? ''));
    expect(missing.map(key)).toEqual([]);
  });

  it('mentions no key the schema does not know, even in comments', () => {
    const known = new Set(leaves.flatMap((l) => l.path));
    expect([...commentedKeys].filter((k) => !known.has(k))).toEqual([]);
  });

  it('lists the keys in schema order', () => {
    const order = leaves.map((l) => key(l.path));
    const positions = active.map((path) => order.findIndex((p) => p === key(path) || p.startsWith(`${key(path)}.`)));
    expect(positions).not.toContain(-1);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('puts a comment above every key it sets', () => {
    const lines = text.split('\n');
    const undocumented = lines.flatMap((line, i) => {
      const m = /^\s*(?:- )?([a-z][a-z0-9_]*):/.exec(line);
      if (m === null) return [];
      const above = lines.slice(0, i).reverse().find((l) => l.trim() !== '');
      return above?.trim().startsWith('#') === true ? [] : [m[1]];
    });
    expect(undocumented).toEqual([]);
  });

  it('lets each leaf path be set from one place: no two leaves share an environment name', () => {
    const names = leaves.filter((l) => !l.path.includes(EACH)).map((l) => l.path.join('_').toUpperCase());
    expect(new Set(names).size).toBe(names.length);
  });
});
