import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTimestamp } from '../../../src/samples/parse.ts';

describe('parseTimestamp', () => {
  it('agrees with Date.parse on every real instant, in both formats Twilio sends', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true }), fc.boolean(), (d, withMillis) => {
        const iso = d.toISOString();
        const text = withMillis ? iso : `${iso.slice(0, 19)}Z`;
        expect(parseTimestamp(text)).toBe(Date.parse(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps milliseconds of 1 to 6 fraction digits as Date.parse does', () => {
    for (const t of ['2020-01-06T15:21:48.0Z', '2020-01-06T15:21:48.06Z', '2020-01-06T15:21:48.006Z', '2020-01-06T15:21:48.006789Z']) {
      expect(parseTimestamp(t)).toBe(Date.parse(t));
    }
  });

  it('refuses impossible dates and times instead of rolling them over', () => {
    for (const t of ['2019-02-29T00:00:00Z', '2020-02-30T00:00:00Z', '2020-04-31T00:00:00Z', '2020-13-01T00:00:00Z', '2020-00-10T00:00:00Z',
      '2020-01-00T00:00:00Z', '2020-01-01T24:00:00Z', '2020-01-01T23:60:00Z', '2020-01-01T23:59:60Z']) {
      expect(parseTimestamp(t)).toBeNaN();
    }
    expect(parseTimestamp('2020-02-29T00:00:00Z')).toBe(Date.parse('2020-02-29T00:00:00Z'));
    expect(parseTimestamp('2000-02-29T00:00:00Z')).toBe(Date.parse('2000-02-29T00:00:00Z'));
    expect(parseTimestamp('1900-02-29T00:00:00Z')).toBeNaN();
  });

  it('gives the same answer when a timestamp repeats, and a different one for the next', () => {
    const a = '2026-11-27T10:00:10Z';
    const b = '2026-11-27T10:00:20Z';
    expect(parseTimestamp(a)).toBe(Date.parse(a));
    expect(parseTimestamp(a)).toBe(Date.parse(a));
    expect(parseTimestamp(b)).toBe(Date.parse(b));
    expect(parseTimestamp('not a time')).toBeNaN();
    expect(parseTimestamp(b)).toBe(Date.parse(b));
  });
});
