import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeenIntervals } from '../../../src/store/seen-intervals.ts';

const T0 = Date.UTC(2024, 0, 1);
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

// Timestamps of one stream at a cadence, with a few off-grid ones (a jittered clock, a partial last sample).
const cadence = fc.constantFrom(1000, 10_000);
const streamTimes = cadence.chain((step) =>
  fc
    .array(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 200 }).map((k) => T0 + k * step) }, {
      weight: 1,
      arbitrary: fc.integer({ min: 0, max: 200 * step }).map((ms) => T0 + ms),
    }), { maxLength: 300 })
    .map((times) => ({ step, times })),
);

describe('SeenIntervals against a set of every timestamp', () => {
  it('says new exactly once per timestamp, whatever the order and repetition', () => {
    fc.assert(
      fc.property(streamTimes, ({ times }) => {
        const seen = new SeenIntervals(NO_LIMIT);
        const model = new Set<number>();
        for (const t of times) {
          expect(seen.add(t, NO_LIMIT)).toBe(model.has(t) ? 'duplicate' : 'new');
          model.add(t);
        }
        for (const t of times) expect(seen.has(t)).toBe(true);
        expect(seen.newest).toBe(times.length === 0 ? Number.NEGATIVE_INFINITY : Math.max(...times));
      }),
      { numRuns: 300 },
    );
  });

  it('never claims a timestamp it was not given', () => {
    fc.assert(
      fc.property(streamTimes, fc.array(fc.integer({ min: -10, max: 2_000_010 }), { maxLength: 100 }), ({ times }, probes) => {
        const seen = new SeenIntervals(NO_LIMIT);
        for (const t of times) seen.add(t, NO_LIMIT);
        const model = new Set(times);
        for (const p of probes) expect(seen.has(T0 + p)).toBe(model.has(T0 + p));
        // Around every seen timestamp, the neighbours on and off the grid.
        for (const t of times) for (const d of [-1, 1, -500, 500, -5000, 5000]) expect(seen.has(t + d)).toBe(model.has(t + d));
      }),
      { numRuns: 300 },
    );
  });

  it('holds a gap-free stream as one run, whatever order its samples arrived in', () => {
    fc.assert(
      fc.property(cadence, fc.integer({ min: 1, max: 400 }), fc.nat(), (step, n, seed) => {
        const times = Array.from({ length: n }, (_, k) => T0 + k * step);
        const shuffled = fc.sample(fc.shuffledSubarray(times, { minLength: n, maxLength: n }), { seed, numRuns: 1 })[0]!;
        const seen = new SeenIntervals(NO_LIMIT);
        for (const t of shuffled) seen.add(t, NO_LIMIT);
        expect(seen.runs).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('costs one run per gap, not per sample', () => {
    fc.assert(
      fc.property(cadence, fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 20 }), (step, blockLengths) => {
        // Blocks of consecutive samples separated by one missing sample each, applied in order.
        const seen = new SeenIntervals(NO_LIMIT);
        let k = 0;
        for (const len of blockLengths) {
          for (let i = 0; i < len; i++) seen.add(T0 + (k + i) * step, NO_LIMIT);
          k += len + 1;
        }
        // A lone first sample cannot know its cadence yet; every block after it is one run.
        expect(seen.runs).toBeLessThanOrEqual(blockLengths.length + 1);
      }),
      { numRuns: 300 },
    );
  });

  it('restores from its snapshot to the same answers', () => {
    fc.assert(
      fc.property(streamTimes, fc.array(fc.integer({ min: 0, max: 2_000_000 }), { maxLength: 50 }), ({ times }, later) => {
        const a = new SeenIntervals(NO_LIMIT);
        for (const t of times) a.add(t, NO_LIMIT);
        const b = SeenIntervals.restore(JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<SeenIntervals['snapshot']>, NO_LIMIT);
        for (const p of later) expect(b.add(T0 + p, NO_LIMIT)).toBe(a.add(T0 + p, NO_LIMIT));
      }),
      { numRuns: 200 },
    );
  });
});

describe('SeenIntervals lateness and the run cap', () => {
  it('refuses a never-seen timestamp older than the lateness window, but still knows the seen ones', () => {
    const seen = new SeenIntervals();
    for (let k = 0; k <= 100; k++) if (k !== 10 && k !== 95) seen.add(T0 + k * 10_000, 600_000);

    expect(seen.add(T0 + 10 * 10_000, 600_000)).toBe('too_late');
    expect(seen.add(T0 + 20 * 10_000, 600_000)).toBe('duplicate');
    expect(seen.add(T0 + 95 * 10_000, 600_000)).toBe('new');
    expect(seen.runs).toBe(2);
  });

  it('late samples filling the gaps of a stream seen every other sample end as one run', () => {
    const seen = new SeenIntervals();
    for (let k = 0; k < 40; k += 2) seen.add(T0 + k * 1000, NO_LIMIT);
    for (let k = 1; k < 40; k += 2) expect(seen.add(T0 + k * 1000, NO_LIMIT)).toBe('new');

    expect(seen.runs).toBe(1);
  });

  it('past the run cap forgets the oldest runs and refuses what they held, never accepting one twice', () => {
    const seen = new SeenIntervals(4);
    // A cadence learned from the first two, then single samples two steps apart: each its own run.
    for (const k of [0, 1, 3, 5, 7, 9, 11]) seen.add(T0 + k * 10_000, NO_LIMIT);
    expect(seen.runs).toBe(4);

    expect(seen.add(T0, NO_LIMIT)).toBe('too_late');
    expect(seen.add(T0 + 10_000, NO_LIMIT)).toBe('too_late');
    expect(seen.add(T0 + 30_000, NO_LIMIT)).toBe('too_late');
    expect(seen.add(T0 + 110_000, NO_LIMIT)).toBe('duplicate');
    expect(seen.add(T0 + 40_000, NO_LIMIT)).toBe('new');
    expect(seen.snapshot().floor).toBe(T0 + 30_000);
  });

  it('refuses a snapshot whose runs overlap or leave their step', () => {
    expect(() => SeenIntervals.restore({ runs: [[0, 20, 10], [20, 30, 10]], step: 10, floor: null })).toThrow(/ascending, disjoint/);
    expect(() => SeenIntervals.restore({ runs: [[0, 25, 10]], step: 10, floor: null })).toThrow(/on their step/);
    expect(() => SeenIntervals.restore({ runs: [[0, 0, 0]], step: -1, floor: null })).toThrow(/invalid step/);
  });
});
