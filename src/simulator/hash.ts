// Small, fast, dependency-free hashing: every generated value is a pure function of its inputs,
// so the simulator can compute any sample on demand instead of storing it.

/** FNV-1a 32-bit hash of a string, as an unsigned integer. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Avalanche-mixes a 32-bit integer (the "lowbias32" finaliser), as an unsigned integer. */
export function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Combines a key with an index and a salt into a new unsigned 32-bit hash. */
export function hashIndex(key: number, index: number, salt: number): number {
  return mix32(key ^ mix32((index >>> 0) + Math.imul(salt, 0x9e3779b9)));
}

/** A uniform number in [0, 1) derived from a key, an index and a salt. */
export function unitAt(key: number, index: number, salt: number): number {
  return hashIndex(key, index, salt) / 4294967296;
}
