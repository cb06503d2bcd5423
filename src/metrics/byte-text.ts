import { formatValue } from './text-format.ts';

const MIN_CAPACITY = 4096;
// The longest value text: String() of a double is at most 24 characters ("-1.2345678901234567e-308").
const MAX_NUMBER_BYTES = 25;

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
    this.#number(v);
  }

  /** Appends a series line: `prefix` (name and label set, with the space) then the value and a newline. */
  line(name: Uint8Array, labels: Uint8Array, v: number): void {
    this.#reserve(name.length + labels.length + MAX_NUMBER_BYTES + 1);
    const buf = this.#buf;
    buf.set(name, this.#len);
    buf.set(labels, this.#len + name.length);
    this.#len += name.length + labels.length;
    this.#number(v);
    buf[this.#len++] = 0x0a;
  }

  // Writes a value into reserved space (MAX_NUMBER_BYTES).
  #number(v: number): void {
    const buf = this.#buf;
    // Integers that fit 31 bits are written digit by digit with integer ops; other values (fractions, large
    // integers, NaN, infinities) as String() and formatValue write them, a char at a time (cheaper than a native
    // write call for so few).
    if (!Number.isInteger(v) || v > 0x7fffffff || v < -0x7fffffff) {
      const s = formatValue(v);
      let at = this.#len;
      for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
      this.#len = at;
      return;
    }
    let n = v;
    if (n < 0) {
      buf[this.#len++] = 0x2d;
      n = -n;
    }
    let digits = 1;
    for (let m = n; m >= 10; m = (m / 10) | 0) digits++;
    let at = this.#len + digits;
    this.#len = at;
    do {
      const q = (n / 10) | 0;
      buf[--at] = 0x30 + n - q * 10;
      n = q;
    } while (n > 0);
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
