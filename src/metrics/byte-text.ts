import { formatValue } from './text-format.ts';

const MIN_CAPACITY = 4096;
// The longest value text: String() of a double is at most 24 characters ("-1.2345678901234567e-308").
const MAX_NUMBER_BYTES = 25;
// Powers of ten the decimal path scales by; 10^k is exact in a double for every k here.
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
// Scaled values stay under 2^50, where a double's rounding error of the product is below a quarter of a unit.
const MAX_SCALED = 2 ** 50;

/**
 * An append-only byte buffer for exposition text. A text render of 10,000 calls is 250,000 lines; appending them
 * as strings leaves a tree of that many cons strings for the garbage collector to copy, which was most of a
 * render's CPU. Bytes copied into a growing Buffer leave nothing behind but the Buffer itself (off the JS heap),
 * and the HTTP layer sends it without flattening or re-encoding a 30 MB string.
 */
export class ByteText {
  #buf: Buffer;
  #len = 0;

  /** An empty buffer that first reserves `capacity` bytes. */
  constructor(capacity = MIN_CAPACITY) {
    this.#buf = Buffer.allocUnsafeSlow(Math.max(capacity, 16));
  }

  /** Empties the buffer, keeping its memory for the next render. */
  clear(): void {
    this.#len = 0;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(grown, 0, 0, this.#len);
    this.#buf = grown;
  }

  /** Appends bytes (pre-encoded names and label text). */
  bytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /** Appends one ASCII byte. */
  byte(c: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = c;
  }

  /** Appends a string as UTF-8. */
  text(s: string): void {
    this.#reserve(s.length * 3);
    this.#len += this.#buf.write(s, this.#len, 'utf8');
  }

  /** Appends a sample value as the exposition formats write it (`formatValue`). */
  number(v: number): void {
    this.#reserve(MAX_NUMBER_BYTES);
    this.#len = writeNumber(this.#buf, this.#len, v);
  }

  /** Appends a series line: `name`, `labels` (the label set and the space) then the value and a newline. */
  line(name: Uint8Array, labels: Uint8Array, v: number): void {
    const nameLength = name.length;
    const labelsLength = labels.length;
    let at = this.#len;
    if (at + nameLength + labelsLength + MAX_NUMBER_BYTES + 1 > this.#buf.length) this.#reserve(nameLength + labelsLength + MAX_NUMBER_BYTES + 1);
    const buf = this.#buf;
    buf.set(name, at);
    at += nameLength;
    buf.set(labels, at);
    at = writeNumber(buf, at + labelsLength, v);
    buf[at] = 0x0a;
    this.#len = at + 1;
  }

  /** The bytes written, as a view of the buffer (valid until the next append). */
  view(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }
}

/** The UTF-8 bytes of a string, for text written on every render (family names, cached label sets). */
export function encodeText(s: string): Uint8Array {
  return Buffer.from(s, 'utf8');
}

// Writes a value into reserved space (MAX_NUMBER_BYTES) at `at`; returns the end.
function writeNumber(buf: Buffer, at: number, v: number): number {
  if (Number.isInteger(v) && v <= 0x7fffffff && v >= -0x7fffffff) return writeInt(buf, at, v | 0);
  const end = writeDecimal(buf, at, v);
  if (end >= 0) return end;
  // Large integers, very small or large magnitudes, NaN and infinities: as String() and formatValue write them.
  const s = formatValue(v);
  let i = at;
  for (let c = 0; c < s.length; c++) buf[i++] = s.charCodeAt(c);
  return i;
}

// The number of decimal digits of a non-negative 31-bit integer.
function digitCount(n: number): number {
  if (n < 100_000) return n < 100 ? (n < 10 ? 1 : 2) : n < 1000 ? 3 : n < 10_000 ? 4 : 5;
  return n < 10_000_000 ? (n < 1_000_000 ? 6 : 7) : n < 100_000_000 ? 8 : n < 1_000_000_000 ? 9 : 10;
}

// Writes an integer of at most 31 bits (`v | 0`, so the divisions below stay integer ops).
function writeInt(buf: Buffer, start: number, v: number): number {
  let at = start;
  let n = v | 0;
  if (n < 0) {
    buf[at++] = 0x2d;
    n = -n | 0;
  }
  const end = at + digitCount(n);
  at = end;
  do {
    const q = (n / 10) | 0;
    buf[--at] = 0x30 + n - q * 10;
    n = q;
  } while (n > 0);
  return end;
}

/**
 * Writes a fraction the way String() does, without making the string: String() writes the shortest decimal that
 * reads back as the same double (the closest one if several are as short), in plain notation from 1e-6 up. That is
 * m / 10^k for the least k where m / 10^k === v: with m under 2^50, 10^-k is over four units in the last place of
 * v, so no other k-digit decimal reads back as v (no tie to break), and the rounding of v * 10^k cannot move m.
 * Returns the end, or -1 where String() must write it (exponents, magnitudes over 31 bits, NaN, infinities).
 */
function writeDecimal(buf: Buffer, start: number, v: number): number {
  const a = v < 0 ? -v : v;
  // Also false for NaN; whole numbers over 31 bits are left to String() too (no fraction to find).
  if (!(a >= 1e-6 && a < 0x7fffffff)) return -1;
  for (let k = 1; k < POW10.length; k++) {
    const p = POW10[k]!;
    const m = Math.round(a * p);
    if (m >= MAX_SCALED) return -1;
    if (m / p !== a) continue;
    const frac = m % p;
    let at = writeInt(buf, v < 0 ? writeSign(buf, start) : start, ((m - frac) / p) | 0);
    buf[at++] = 0x2e;
    // The fraction has k digits, leading zeros included; its last digit is not 0 (k is the least).
    for (let d = k - 1, f = frac | 0; d >= 0; d--) {
      const q = (f / 10) | 0;
      buf[at + d] = 0x30 + f - q * 10;
      f = q;
    }
    return at + k;
  }
  return -1;
}

function writeSign(buf: Buffer, at: number): number {
  buf[at] = 0x2d;
  return at + 1;
}
