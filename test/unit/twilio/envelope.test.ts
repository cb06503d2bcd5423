import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { createTwilioClient } from '../../../src/twilio/client.ts';
import type { TwilioClientOptions } from '../../../src/twilio/client.ts';
import {
  MAX_CALLS_PER_PAGE,
  MAX_PAGE_URL_LENGTH,
  PayloadError,
  decodeJson,
  parseCallRecord,
  parseCallsEnvelope,
  parseMetricsEnvelope,
  parseSettings,
  parseSummary,
} from '../../../src/twilio/envelope.ts';
import { ACCOUNT_SID, accountCredentials } from './fake-upstream.ts';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../fixtures/twilio/${name}`, import.meta.url), 'utf8')) as unknown;
}

describe('parseMetricsEnvelope (pure)', () => {
  it('accepts the spec example and leaves records untouched', () => {
    const body = fixture('metrics-page-read.json') as { metrics: unknown[] };
    const url = new URL('https://insights.twilio.com/v1/Voice/CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Metrics');

    expect(parseMetricsEnvelope(body, url)).toEqual({ records: body.metrics, nextPageUrl: null, page: 0, pageSize: 50 });
  });

  it('keeps an absolute next_page_url as given', () => {
    const next = 'https://insights.twilio.com/v1/Voice/CA1/Metrics?Direction=both&Edge=sdk_edge&PageSize=5&Page=1&PageToken=PT1';
    const env = parseMetricsEnvelope({ metrics: [], meta: { page: 0, page_size: 5, next_page_url: next } }, new URL(next));

    expect(env.nextPageUrl).toBe(next);
  });

  it('names what is wrong', () => {
    const url = new URL('https://insights.twilio.com/x');
    expect(() => parseMetricsEnvelope('text', url)).toThrow(new PayloadError('body is a string, expected an object'));
    expect(() => parseMetricsEnvelope({ metrics: 'x', meta: {} }, url)).toThrow('"metrics" is a string, expected an array');
    expect(() => parseMetricsEnvelope({ metrics: [], meta: [] }, url)).toThrow('"meta" is an array, expected an object');
    expect(() => parseMetricsEnvelope({ metrics: [], meta: { next_page_url: {} } }, url)).toThrow(
      '"meta.next_page_url" is an object, expected a string or null',
    );
  });
});

describe('parseCallsEnvelope (pure)', () => {
  it('resolves the spec example next_page_uri against the API base', () => {
    const body = fixture('calls-page-2.json') as { next_page_uri: string };
    const env = parseCallsEnvelope(body, new URL('https://api.twilio.com'));

    expect(env.nextPageUrl).toBe(`https://api.twilio.com${body.next_page_uri}`);
    expect(env.calls.map((c) => c.sid)).toHaveLength(2);
    expect(env.skipped).toEqual([]);
  });

  it('accepts an absolute next_page_uri as is (the client checks its origin when it is followed)', () => {
    const env = parseCallsEnvelope(
      { calls: [], next_page_uri: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?Page=1' },
      new URL('https://api.twilio.com'),
    );

    expect(env.nextPageUrl).toBe('https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?Page=1');
  });

  it('treats a protocol-relative next_page_uri as an unusable URL, not a path', () => {
    expect(() => parseCallsEnvelope({ calls: [], next_page_uri: '//evil.example/x' }, new URL('https://api.twilio.com'))).toThrow(
      PayloadError,
    );
  });
});

describe('parseCallRecord (pure)', () => {
  const good = {
    sid: 'CA0123456789abcdef0123456789abcdef',
    account_sid: ACCOUNT_SID,
    status: 'in-progress',
    direction: 'inbound',
    from: '+15550100',
    to: 'client:alice',
    start_time: 'Fri, 18 Oct 2019 17:02:00 +0000',
    parent_call_sid: null,
  };

  it('maps the fields the exporter uses', () => {
    expect(parseCallRecord(good)).toEqual({
      sid: good.sid,
      accountSid: ACCOUNT_SID,
      status: 'in-progress',
      direction: 'inbound',
      from: '+15550100',
      to: 'client:alice',
      startTime: 'Fri, 18 Oct 2019 17:02:00 +0000',
      parentCallSid: null,
    });
  });

  it.each([
    ['a bad account_sid', { account_sid: 'AC1' }, '"account_sid" is not an Account SID'],
    ['an empty status', { status: '' }, '"status" is not a non-empty string'],
  ])('rejects %s', (_name, patch, reason) => {
    expect(parseCallRecord({ ...good, ...patch })).toBe(reason);
  });

  it.each([
    ['a bad parent_call_sid', { parent_call_sid: 'CA1' }, { parentCallSid: null }],
    ['an empty parent_call_sid', { parent_call_sid: '' }, { parentCallSid: null }],
    ['a non-string to', { to: ['x'] }, { to: null }],
    ['a number for direction', { direction: 42 }, { direction: null }],
  ])('reads %s as absent and keeps the call', (_name, patch, read) => {
    expect(parseCallRecord({ ...good, ...patch })).toEqual({ ...(parseCallRecord(good) as object), ...read });
  });
});

describe('parseSummary and parseSettings (pure)', () => {
  it('read the spec examples', () => {
    const summary = fixture('summary-fetch.json');
    expect(parseSummary(summary)).toEqual({
      callType: 'carrier',
      callState: 'ringing',
      processingState: 'complete',
      raw: summary,
    });
    expect(parseSettings(fixture('settings-fetch.json'))).toEqual({ advancedFeatures: true, voiceTrace: true });
  });

  it('reject bodies that are not objects', () => {
    expect(() => parseSummary(null)).toThrow('body is null, expected an object');
    expect(() => parseSettings([])).toThrow('body is an array, expected an object');
  });
});

describe('decodeJson (pure)', () => {
  it('does not quote the body it rejects', () => {
    expect(() => decodeJson('<html>secret-ish</html>')).toThrow('body is not JSON (23 characters)');
  });
});

describe('createTwilioClient', () => {
  const base: TwilioClientOptions = {
    accountSid: ACCOUNT_SID,
    credentials: accountCredentials,
    insightsBaseUrl: 'https://insights.twilio.com',
    apiBaseUrl: 'https://api.twilio.com',
    dispatcher: new Agent(),
    userAgent: 'ua',
    requestTimeoutMs: 1000,
  };

  it.each<[string, Partial<TwilioClientOptions>, string]>([
    ['a relative base URL', { insightsBaseUrl: '/v1' }, 'insightsBaseUrl is not an absolute URL'],
    ['a non-HTTP scheme', { apiBaseUrl: 'ftp://api.twilio.com' }, 'apiBaseUrl must use http or https'],
    ['userinfo in a base URL', { apiBaseUrl: 'https://AC1:tok@api.twilio.com' }, 'apiBaseUrl must not contain userinfo'],
    ['a query in a base URL', { insightsBaseUrl: 'https://insights.twilio.com/?x=1' }, 'must not contain a query'],
    ['a zero timeout', { requestTimeoutMs: 0 }, 'requestTimeoutMs must be a positive number'],
    ['a NaN timeout', { requestTimeoutMs: Number.NaN }, 'requestTimeoutMs must be a positive number'],
  ])('throws a TypeError for %s', (_name, patch, message) => {
    expect(() => createTwilioClient({ ...base, ...patch })).toThrow(TypeError);
    expect(() => createTwilioClient({ ...base, ...patch })).toThrow(message);
  });

  it('does not echo userinfo from a bad base URL', () => {
    expect(() => createTwilioClient({ ...base, apiBaseUrl: 'https://AC1:tok3n@api.twilio.com' })).not.toThrow(/tok3n/);
  });
});

// Probe N F1-F4: untrusted Twilio answers were bounded per body (32 MiB) but not per field: a 300 KB PageToken in
// every next page URL, a 3 MB `to` kept for a call's life, 270,000 calls on one Calls page kept in one listing's
// memory, and an 8 MB `call_state` written whole into the log.
describe('envelope bounds on untrusted fields', () => {
  const url = new URL('https://insights.twilio.com/v1/Voice/CA1/Metrics');
  const longUrl = `https://insights.twilio.com/v1/Voice/CA1/Metrics?PageToken=${'P'.repeat(MAX_PAGE_URL_LENGTH)}`;

  it('refuses a next page URL past its length, naming it', () => {
    expect(() => parseMetricsEnvelope({ metrics: [], meta: { next_page_url: longUrl } }, url)).toThrow(
      `"meta.next_page_url" is ${longUrl.length} characters, over ${MAX_PAGE_URL_LENGTH}`,
    );
    expect(() => parseCallsEnvelope({ calls: [], next_page_uri: `/2010-04-01/x?PageToken=${'P'.repeat(MAX_PAGE_URL_LENGTH)}` }, new URL('https://api.twilio.com'))).toThrow(
      /"next_page_uri" is \d+ characters, over 2048/,
    );
  });

  it('refuses a Calls page holding more calls than a page may', () => {
    const call = { sid: 'CA0123456789abcdef0123456789abcdef', account_sid: ACCOUNT_SID, status: 'in-progress' };
    expect(() => parseCallsEnvelope({ calls: Array.from({ length: MAX_CALLS_PER_PAGE + 1 }, () => call), next_page_uri: null }, new URL('https://api.twilio.com'))).toThrow(
      `"calls" holds ${MAX_CALLS_PER_PAGE + 1} records, over the ${MAX_CALLS_PER_PAGE} a page may hold`,
    );
    expect(parseCallsEnvelope({ calls: Array.from({ length: MAX_CALLS_PER_PAGE }, () => call), next_page_uri: null }, new URL('https://api.twilio.com')).calls).toHaveLength(MAX_CALLS_PER_PAGE);
  });

  it('reads an optional call field past its length as absent, and keeps the call', () => {
    const record = { sid: 'CA0123456789abcdef0123456789abcdef', account_sid: ACCOUNT_SID, status: 'in-progress', from: '+15550100', to: `sip:${'x'.repeat(3_000_000)}`, trunk_sid: 'T'.repeat(300) };
    const read = parseCallRecord(record);
    expect(read).toMatchObject({ sid: record.sid, from: '+15550100', to: null });
    expect(read).not.toHaveProperty('trunkSid');
  });

  it('reads a Summary state that is not a short printable word as absent', () => {
    for (const odd of ['\u001b[2K\u001b[31mFAKE-ERROR\u001b[0m', 'x'.repeat(8_000_000), 'completed\n']) {
      expect(parseSummary({ call_state: odd, processing_state: odd })).toMatchObject({ callState: null, processingState: null });
    }
    expect(parseSummary({ call_state: 'completed', processing_state: 'complete' })).toMatchObject({ callState: 'completed', processingState: 'complete' });
  });
});
