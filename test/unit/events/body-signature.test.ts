import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { checkEventStreamsSignature } from '../../../src/events/body-signature.ts';
import { signDelivery } from '../../../src/simulator/event-signing.ts';

const TOKEN = '12345678901234567890123456789012';
const SINK = 'https://exporter.example.com/webhooks/twilio/event-streams/AC998c10b68cbfda9f67277f7d8f4439c9';
const BODY = '[{"specversion":"1.0","type":"com.twilio.voice.insights.call-metrics.gateway","id":"EV1","data":{}}]';

interface Case {
  readonly name: string;
  readonly signature: string | undefined;
  readonly url: string;
  readonly body: string;
  readonly valid: boolean;
}

function cases(): Case[] {
  const good = signDelivery(TOKEN, SINK, BODY);
  const other = signDelivery('another-token-another-token-1234', SINK, BODY);
  const changedBody = BODY.replace('EV1', 'EV2');
  const resigned = signDelivery(TOKEN, SINK, changedBody);
  return [
    { name: 'valid', signature: good.signature, url: good.url, body: BODY, valid: true },
    { name: 'unsigned', signature: undefined, url: good.url, body: BODY, valid: false },
    { name: 'empty signature', signature: '', url: good.url, body: BODY, valid: false },
    { name: 'forged with another token', signature: other.signature, url: other.url, body: BODY, valid: false },
    { name: 'replayed with a changed body', signature: good.signature, url: good.url, body: changedBody, valid: false },
    { name: 'changed body with its own hash, old signature', signature: good.signature, url: resigned.url, body: changedBody, valid: false },
    { name: 'signed URL without bodySHA256', signature: signDelivery(TOKEN, SINK, BODY).signature, url: SINK, body: BODY, valid: false },
    { name: 'one byte of whitespace added', signature: good.signature, url: good.url, body: `${BODY} `, valid: false },
    { name: 'explicit default port', signature: good.signature, url: good.url.replace('example.com/', 'example.com:443/'), body: BODY, valid: true },
  ];
}

describe('checkEventStreamsSignature', () => {
  it.each(cases())('$name: valid=$valid, and the official twilio package agrees', (c) => {
    const ours = checkEventStreamsSignature(TOKEN, c.signature, c.url, Buffer.from(c.body, 'utf8')) === undefined;
    const oracle = twilio.validateRequestWithBody(TOKEN, c.signature ?? '', c.url, c.body);
    expect(ours).toBe(c.valid);
    expect(oracle).toBe(c.valid);
  });

  it('names why a delivery failed', () => {
    const good = signDelivery(TOKEN, SINK, BODY);
    expect(checkEventStreamsSignature(TOKEN, undefined, good.url, Buffer.from(BODY))).toBe('missing_signature');
    expect(checkEventStreamsSignature('x'.repeat(32), good.signature, good.url, Buffer.from(BODY))).toBe('bad_signature');
    expect(checkEventStreamsSignature(TOKEN, good.signature, good.url, Buffer.from(`${BODY}\n`))).toBe('bad_body_hash');
    const noHash = signDelivery(TOKEN, SINK, BODY);
    const unhashedSignature = twilio.getExpectedTwilioSignature(TOKEN, SINK, {});
    expect(checkEventStreamsSignature(TOKEN, unhashedSignature, SINK, Buffer.from(BODY))).toBe('missing_body_hash');
    expect(noHash.url).toContain('bodySHA256=');
  });

  it('hashes the raw bytes, not a re-serialisation: a body with non-ASCII text and spacing verifies as sent', () => {
    const body = '[ {"id":"EV\u00e9", "data":{ } } ]';
    const d = signDelivery(TOKEN, SINK, Buffer.from(body, 'utf8'));
    expect(checkEventStreamsSignature(TOKEN, d.signature, d.url, Buffer.from(body, 'utf8'))).toBeUndefined();
    expect(checkEventStreamsSignature(TOKEN, d.signature, d.url, Buffer.from(JSON.stringify(JSON.parse(body)), 'utf8'))).toBe('bad_body_hash');
    expect(twilio.validateRequestWithBody(TOKEN, d.signature, d.url, body)).toBe(true);
  });
});
