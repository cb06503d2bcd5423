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
