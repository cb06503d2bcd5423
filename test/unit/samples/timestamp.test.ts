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

// Probe O F4: `2026-12-01T10:44:44+00:00` is ISO 8601 UTC (RFC 3339's numeric offset), and was refused as bad_timestamp:
// had Twilio (a region, a later API version) written an offset, every sample of every call would have been skipped.
describe('parseTimestamp with a numeric UTC offset (RFC 3339)', () => {
  it('agrees with Date.parse on every instant written with any offset, with or without a fraction', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1971-01-01T00:00:00Z'), max: new Date('2998-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        fc.constantFrom('', '.5', '.123', '.123456'),
        (d, offsetMinutes, fraction) => {
          const local = new Date(d.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19);
          const abs = Math.abs(offsetMinutes);
          const offset = `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          const text = `${local}${fraction}${offset}`;
          expect(parseTimestamp(text)).toBe(Date.parse(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives +00:00 and Z the same instant, so the same sample keeps one identity', () => {
    expect(parseTimestamp('2026-12-01T10:44:44+00:00')).toBe(parseTimestamp('2026-12-01T10:44:44Z'));
    expect(parseTimestamp('2026-12-01T10:44:44.250-00:00')).toBe(parseTimestamp('2026-12-01T10:44:44.250Z'));
    expect(parseTimestamp('2026-12-01T05:44:44-05:00')).toBe(parseTimestamp('2026-12-01T10:44:44Z'));
  });

  it('refuses offsets that are not ±hh:mm within a day, and impossible local times', () => {
    for (const t of ['2026-12-01T10:44:44+24:00', '2026-12-01T10:44:44+00:60', '2026-12-01T10:44:44+0000', '2026-12-01T10:44:44+00',
      '2026-12-01T10:44:44 00:00', '2026-12-01T10:44:44+00:00Z', '2026-12-01T10:44:44.+00:00', '2026-02-30T10:44:44+00:00', '2026-12-01T10:44:44+0a:00']) {
      expect(parseTimestamp(t)).toBeNaN();
    }
  });
});
