/** A sequential pseudo-random source: each call returns the next uniform number in [0, 1). */
export type RandomSource = () => number;

/** Mulberry32: a tiny seeded generator, so fault injection replays identically for a given seed. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
