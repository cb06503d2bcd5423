import { describe, expect, it } from 'vitest';

import { formatDuration, parseDuration } from '../../../src/config/duration.ts';
import { parseListenAddress } from '../../../src/config/listen-address.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['0s', 0],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['1h2m3s4ms', 3_723_004],
    ['90s', 90_000],
  ])('parses %s', (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
  });

  it.each(['', '10', '0', '10 seconds', '1.5s', '-1s', '1s1m', '1m1m', 's', '10S', ' 10s', '1e3ms'])(
    'rejects %j naming the rule',
    (s) => {
      expect(() => parseDuration(s)).toThrow(`invalid duration ${JSON.stringify(s)} (use e.g. 500ms, 10s, 1m30s)`);
    },
  );

  it('rejects a duration too large to count in milliseconds', () => {
    expect(() => parseDuration('99999999999999y')).toThrow('(too large)');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [90_000, '1m30s'],
    [86_400_000, '1d'],
    [2_073_600_000, '3w3d'],
    [3_723_004, '1h2m3s4ms'],
  ])('formats %d as %s', (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
  });

  it('is the inverse of parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 61_001, 3_600_000, 90_061_001, 31_536_000_001]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });

  it('refuses negative and fractional milliseconds', () => {
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(1.5)).toThrow(RangeError);
  });
});

describe('parseListenAddress', () => {
  it.each([
    [':9487', { host: '', port: 9487 }],
    ['0.0.0.0:9487', { host: '0.0.0.0', port: 9487 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:9487', { host: '::1', port: 9487 }],
  ])('parses %s', (s, expected) => {
    expect(parseListenAddress(s)).toEqual(expected);
  });

  it.each(['9487', 'localhost', ':65536', '::1:9487', 'host:port', ''])('rejects %j', (s) => {
    expect(() => parseListenAddress(s)).toThrow('must be host:port');
  });
});
