import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteText, encodeText } from '../../../src/metrics/byte-text.ts';
import { formatValue } from '../../../src/metrics/text-format.ts';

function written(v: number): string {
  const out = new ByteText(1);
  out.number(v);
  return out.view().toString('latin1');
}

describe('ByteText', () => {
  it('writes every value exactly as formatValue does, integers of any size and sign included', () => {
    const edges = [0, -0, 1, -1, 9, 10, 99, 100, 0x7fffffff, -0x7fffffff, 0x80000000, -0x80000000, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, -1e21, 1e22];
    const odd = [0.1, 4.31, 1764490000.123, 1.5e-7, Number.MAX_VALUE, Number.MIN_VALUE, -5e-324, NaN, Infinity, -Infinity];
    for (const v of [...edges, ...odd]) expect(written(v), String(v)).toBe(formatValue(v));
    fc.assert(fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double()), (v) => {
      expect(written(v)).toBe(formatValue(v));
    }), { numRuns: 5000 });
  });

  it('writes decimals (gauges in seconds, ratios, timestamps with milliseconds) exactly as String() does', () => {
    // Values built as m / 10^k, as Twilio's ms and percentages divided down are, and their neighbours one bit
    // away: the shortest text differs between them, and a wrong guess on either side would show here.
    const next = (v: number, bits: number): number => {
      const f = new Float64Array([v]);
      new BigInt64Array(f.buffer)[0]! += BigInt(bits);
      return f[0]!;
    };
    const samples = [0.001, 0.005, 0.03, 0.4, 4.5, 3.999, 1764490000.123, 1764490000.1, 2147483646.999999, 1e-6, 1.5e-6, 0.1 + 0.2];
    for (const v of samples.flatMap((x) => [x, -x, next(x, 1), next(x, -1)])) expect(written(v), String(v)).toBe(formatValue(v));
    fc.assert(fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: -2, max: 2 }), (m, k, bits) => {
      const v = next(m / 10 ** k, bits);
      expect(written(v)).toBe(formatValue(v));
    }), { numRuns: 20_000 });
  });

  it('grows past its first capacity and keeps every byte in order, UTF-8 included', () => {
    const out = new ByteText(16);
    const name = encodeText('twilio_call_mos');
    const labels = encodeText('{call_sid="CA1",codec_name="opus–é"} ');
    let expected = '';
    for (let i = 0; i < 2000; i++) {
      out.line(name, labels, i / 7);
      out.text(`# ünïcode ${i}\n`);
      out.byte(0x2a);
      expected += `twilio_call_mos{call_sid="CA1",codec_name="opus–é"} ${formatValue(i / 7)}\n# ünïcode ${i}\n*`;
    }
    expect(out.view().toString('utf8')).toBe(expected);
    expect(out.length).toBe(Buffer.byteLength(expected));
  });

  it('starts over empty after clear, reusing its memory', () => {
    const out = new ByteText(16);
    out.text('x'.repeat(1000));
    out.clear();
    out.number(42);
    expect(out.view().toString()).toBe('42');
  });
});
