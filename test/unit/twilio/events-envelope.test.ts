import { describe, expect, it } from 'vitest';
import { PayloadError } from '../../../src/twilio/envelope.ts';
import { parseSink, parseSinksPage, parseSubscribedEventsPage, parseSubscription } from '../../../src/twilio/events-envelope.ts';

// Pure parsing of Events API bodies, with literal input: the exact message for each wrong shape.

const SINK_SID = `DG${'a'.repeat(32)}`;
const SUB_SID = `DF${'b'.repeat(32)}`;

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PayloadError);
    return (err as Error).message;
  }
  throw new Error('expected a PayloadError');
}

describe('Events API bodies', () => {
  it('keeps the fields the exporter reads and drops the rest; absent optional fields read as null', () => {
    expect(parseSink({ sid: SINK_SID, status: 'active', sink_type: 'webhook', url: 'https://events.twilio.com/v1/Sinks/x' })).toEqual({
      sid: SINK_SID,
      status: 'active',
      description: null,
      sink_configuration: null,
    });
    expect(parseSinksPage({ sinks: [], meta: { next_page_url: '' } })).toEqual({ items: [], nextPageUrl: null });
    expect(parseSinksPage({ sinks: [], meta: {} })).toEqual({ items: [], nextPageUrl: null });
    expect(parseSubscription({ sid: SUB_SID, sink_sid: SINK_SID, description: 'd', account_sid: 'AC' })).toEqual({ sid: SUB_SID, sink_sid: SINK_SID, description: 'd' });
  });

  it.each([
    ['a create answering {"status":"ok"}', () => parseSink({ status: 'ok' }), '"sid" is missing, expected a string'],
    ['an array', () => parseSink([]), 'body is an array, expected an object'],
    ['a sink list that is a string', () => parseSinksPage({ sinks: 'abc', meta: { next_page_url: null } }), '"sinks" is a string, expected an array'],
    ['a page without meta', () => parseSinksPage({ sinks: [] }), '"meta" is missing, expected an object'],
    ['a SID that is a path', () => parseSinksPage({ sinks: [{ sid: '../../2010-04-01/Accounts', status: 'active' }], meta: {} }), '"sinks[0].sid" must be a Sink SID (DG + 32 hex)'],
    ['a Sink SID where a Subscription SID belongs', () => parseSubscription({ sid: SINK_SID, sink_sid: SINK_SID }), '"sid" must be a Subscription SID (DF + 32 hex)'],
    ['a status with an escape', () => parseSink({ sid: SINK_SID, status: 'active\u001b[2J' }), '"status" must be a sink status such as active'],
    ['a schema version as a string', () => parseSubscribedEventsPage({ types: [{ type: 't', schema_version: '2' }], meta: {} }), '"types[0].schema_version" is a string, expected a number'],
    ['a fractional schema version', () => parseSubscribedEventsPage({ types: [{ type: 't', schema_version: 1.5 }], meta: {} }), '"types[0].schema_version" is a number, expected an integer'],
    ['several problems', () => parseSubscribedEventsPage({ types: [{ type: '', schema_version: -1 }], meta: { next_page_url: 3 } }), '"types[0].type" must be an event type (+2 more)'],
  ])('%s', (_name, fn, message) => {
    expect(problem(fn)).toBe(message);
  });
});
