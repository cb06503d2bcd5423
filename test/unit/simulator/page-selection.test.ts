import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Cursor, SortOrder } from '../../../src/simulator/page-selection.ts';
import { neighbourCursors, selectPage } from '../../../src/simulator/page-selection.ts';

/** Walks a list that grows between page requests; returns the keys read, in response order. */
function walk(order: SortOrder, initial: number, growth: number[], size: number): { read: number[]; keys: number[]; firstLength: number } {
  // Keys with gaps (like sampleIndex * 2 + direction) so keys and positions differ.
  const keys: number[] = [];
  const grow = (n: number): void => {
    for (let i = 0; i < n; i++) keys.push(keys.length * 3 + (keys.length % 2));
  };
  grow(initial);
  const keyAt = (p: number): number => keys[p] ?? -1;
  const read: number[] = [];
  let cursor: Cursor | undefined;
  let step = 0;
  const firstLength = keys.length;
  for (;;) {
    const selection = selectPage(keys.length, keyAt, order, cursor, size);
    read.push(...selection.positions.map(keyAt));
    const { next } = neighbourCursors(selection, keyAt, order, cursor);
    if (next === undefined) break;
    cursor = next;
    grow(growth[step++] ?? 0);
    if (step > 10_000) throw new Error('walk did not end');
  }
  return { read, keys, firstLength };
}

describe('position-based page selection', () => {
  it('asc: a walk while records keep arriving never skips or repeats one, and reads to the end', () => {
    fc.assert(
      fc.property(fc.nat(60), fc.array(fc.nat(5), { maxLength: 8 }), fc.integer({ min: 1, max: 9 }), (initial, growth, size) => {
        const { read, keys } = walk('asc', initial, growth, size);
        expect(read).toEqual(keys.slice(0, read.length));
        expect(new Set(read).size).toBe(read.length);
        expect(read.length).toBe(keys.length);
      }),
    );
  });

  it('desc: a walk while records keep arriving reads everything that existed at its start, newest first, once', () => {
    fc.assert(
      fc.property(fc.nat(60), fc.array(fc.nat(5), { maxLength: 8 }), fc.integer({ min: 1, max: 9 }), (initial, growth, size) => {
        const { read, keys, firstLength } = walk('desc', initial, growth, size);
        expect(read).toEqual(keys.slice(0, firstLength).reverse());
      }),
    );
  });

  it('a previous cursor leads back to exactly the page before', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom<SortOrder>('asc', 'desc'), (length, size, order) => {
        const keyAt = (p: number): number => p * 2;
        const pages: number[][] = [];
        let cursor: Cursor | undefined;
        let previousOfLast: Cursor | undefined;
        for (;;) {
          const selection = selectPage(length, keyAt, order, cursor, size);
          pages.push(selection.positions);
          const neighbours = neighbourCursors(selection, keyAt, order, cursor);
          if (pages.length === 1) expect(neighbours.previous).toBeUndefined();
          previousOfLast = neighbours.previous;
          if (neighbours.next === undefined) break;
          cursor = neighbours.next;
        }
        if (pages.length > 1) {
          const back = selectPage(length, keyAt, order, previousOfLast, size);
          expect(back.positions).toEqual(pages[pages.length - 2]);
        }
      }),
    );
  });

  it('an empty page after the last record still points back to the page ending with it', () => {
    const keyAt = (p: number): number => p;
    for (const order of ['asc', 'desc'] as const) {
      const lastKey = order === 'asc' ? 9 : 0;
      const empty = selectPage(10, keyAt, order, { kind: 'after', key: lastKey }, 3);
      expect(empty.positions).toEqual([]);
      const { previous, next } = neighbourCursors(empty, keyAt, order, { kind: 'after', key: lastKey });
      expect(next).toBeUndefined();
      const back = selectPage(10, keyAt, order, previous, 3);
      expect(back.positions).toEqual(order === 'asc' ? [7, 8, 9] : [2, 1, 0]);
    }
  });
});
