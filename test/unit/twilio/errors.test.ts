import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  TWILIO_ERROR_CODES,
  TwilioError,
  codeForStatus,
  isRetryable,
  parseRetryAfter,
} from '../../../src/twilio/errors.ts';
import type { TwilioErrorCode } from '../../../src/twilio/errors.ts';

describe('TWILIO_ERROR_CODES', () => {
  it('is the closed set of codes, without duplicates', () => {
    expect([...TWILIO_ERROR_CODES].sort()).toEqual(
      [
        'aborted',
        'auth',
        'bad_payload',
        'bad_request',
        'foreign_origin',
        'network',
        'not_found',
        'rate_limited',
        'timeout',
        'upstream',
      ].sort(),
    );
    expect(new Set(TWILIO_ERROR_CODES).size).toBe(TWILIO_ERROR_CODES.length);
  });
});

describe('codeForStatus', () => {
  it.each<[number, number | undefined, TwilioErrorCode]>([
    [401, 20003, 'auth'],
    [403, 20403, 'auth'],
    [403, 17000, 'auth'],
    [404, 20404, 'not_found'],
    [404, undefined, 'not_found'],
    [400, 17400, 'bad_request'],
    [400, 70002, 'bad_request'],
    [429, 20429, 'rate_limited'],
    [429, undefined, 'rate_limited'],
    [500, 17009, 'upstream'],
    [503, undefined, 'upstream'],
    [302, undefined, 'upstream'],
    [405, undefined, 'upstream'],
    // Twilio's code wins when a proxy or odd route changes the status.
    [503, 20429, 'rate_limited'],
    [400, 20003, 'auth'],
  ])('HTTP %i with Twilio code %s is %s', (status, twilioCode, code) => {
    expect(codeForStatus(status, twilioCode)).toBe(code);
  });
});

describe('isRetryable', () => {
  it.each<[TwilioErrorCode, number | undefined, boolean]>([
    ['rate_limited', 429, true],
    ['upstream', 500, true],
    ['upstream', 503, true],
    ['upstream', undefined, true],
    ['upstream', 302, false],
    ['upstream', 405, false],
    ['timeout', undefined, true],
    ['network', undefined, true],
    ['bad_payload', 200, true],
    ['auth', 401, false],
    ['not_found', 404, false],
    ['bad_request', 400, false],
    ['foreign_origin', undefined, false],
    ['aborted', undefined, false],
  ])('%s (HTTP %s) → %s', (code, status, retryable) => {
    expect(isRetryable(code, status)).toBe(retryable);
    expect(new TwilioError({ code, endpoint: 'metrics', ...(status === undefined ? {} : { status }) }).retryable).toBe(
      retryable,
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it.each<[string | undefined, number | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['0', 0],
    ['7', 7000],
    [' 120 ', 120_000],
    ['1.5', 1500],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    // A date already past means "retry now", never a negative wait.
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ['soon', undefined],
    ['-5', undefined],
  ])('%j → %s ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
});

describe('TwilioError', () => {
  it('names endpoint, code, status, Twilio code, message and URL in its message', () => {
    const err = new TwilioError({
      code: 'rate_limited',
      endpoint: 'metrics',
      status: 429,
      twilioCode: 20429,
      twilioMessage: 'Too many requests',
      retryAfterMs: 2000,
      url: 'https://insights.twilio.com/v1/Voice/CA0/Metrics',
    });

    expect(err.message).toBe(
      'Twilio metrics request failed (rate_limited): HTTP 429, Twilio code 20429: Too many requests [https://insights.twilio.com/v1/Voice/CA0/Metrics]',
    );
    expect(err.name).toBe('TwilioError');
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'rate_limited', endpoint: 'metrics', status: 429, twilioCode: 20429, retryAfterMs: 2000 });
  });

  it('leaves unknown fields off the object so inspect output stays short', () => {
    const err = new TwilioError({ code: 'timeout', endpoint: 'calls', detail: 'no complete response within 10 ms' });

    expect(Object.keys(err).sort()).toEqual(['code', 'endpoint', 'retryable'].sort());
    expect(inspect(err)).not.toContain('undefined');
    expect(err.message).toBe('Twilio calls request failed (timeout): no complete response within 10 ms');
  });

  it('keeps a cause for debugging', () => {
    const cause = new Error('socket hang up');
    expect(new TwilioError({ code: 'network', endpoint: 'settings', cause }).cause).toBe(cause);
  });
});
