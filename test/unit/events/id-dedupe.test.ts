import { describe, expect, it } from 'vitest';
import { IdDedupe } from '../../../src/events/id-dedupe.ts';

describe('IdDedupe', () => {
  it('remembers an id for the horizon, then forgets it', () => {
    const clock = { now: 0 };
    const d = new IdDedupe({ horizonMs: 1000, now: () => clock.now });
    d.add('a');
    clock.now = 999;
    expect(d.has('a')).toBe(true);
    clock.now = 1000;
    expect(d.has('a')).toBe(false);
    d.add('b');
    expect(d.size).toBe(1);
  });

  it('never holds more than maxIds, dropping the oldest first', () => {
    const d = new IdDedupe({ maxIds: 3, now: () => 0 });
    for (const id of ['a', 'b', 'c', 'd']) d.add(id);
    expect(d.size).toBe(3);
    expect(d.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((id) => d.has(id))).toBe(true);
  });
});

describe('IdDedupe at its cap (issue 14: each add walked the holes V8 leaves at the front of a Map)', () => {
  it('keeps an id added again as the newest', () => {
    const d = new IdDedupe({ maxIds: 2, now: () => 0 });
    for (const id of ['a', 'b', 'a', 'c']) d.add(id);
    expect([d.size, d.has('a'), d.has('b'), d.has('c')]).toEqual([2, true, false, true]);
  });

  it('forgets expired ids behind ones added again, and only those', () => {
    const clock = { now: 0 };
    const d = new IdDedupe({ horizonMs: 10, now: () => clock.now });
    d.add('a');
    d.add('b');
    clock.now = 5;
    d.add('a');
    clock.now = 12;
    d.add('c');
    expect([d.size, d.has('a'), d.has('b'), d.has('c')]).toEqual([2, true, false, true]);
  });

  it('costs about the same per add once full as while filling', () => {
    const cap = 20_000;
    const d = new IdDedupe({ maxIds: cap, now: () => 0 });
    const ids = Array.from({ length: cap * 6 }, (_, i) => `EV${i}`);
    const t0 = performance.now();
    for (let i = 0; i < cap; i++) d.add(ids[i]!);
    const t1 = performance.now();
    for (let i = cap; i < ids.length; i++) d.add(ids[i]!);
    const t2 = performance.now();
    expect(d.size).toBe(cap);
    expect(d.has(ids[ids.length - cap]!) && !d.has(ids[ids.length - cap - 1]!)).toBe(true);
    // Before the fix an add past the cap cost 10 to 100 times one made while filling.
    expect((t2 - t1) / (ids.length - cap)).toBeLessThan((4 * (t1 - t0)) / cap);
  });
});
