import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { computeSignature, verifySignature } from '../../../src/calls/twilio-signature.ts';

const TOKEN = '12345678901234567890123456789012';
const PARAMS = new URLSearchParams({ CallSid: 'CA7569efe0253644fa4a88aa97beca3310', CallStatus: 'completed' });

describe('verifySignature with explicit default ports (regression)', () => {
  it('accepts a request URL carrying :443 when Twilio signed the URL without it, as twilio-node does', () => {
    const signed = 'https://exporter.example.com/webhooks/twilio/call-status?x=1';
    const received = 'https://exporter.example.com:443/webhooks/twilio/call-status?x=1';
    const signature = computeSignature(TOKEN, signed, PARAMS);
    expect(twilio.validateRequest(TOKEN, signature, received, Object.fromEntries(PARAMS))).toBe(true);
    expect(verifySignature(TOKEN, signature, received, PARAMS)).toBe(true);
  });

  it('accepts a request URL without a port when Twilio signed it with :443', () => {
    const signed = 'https://exporter.example.com:443/webhooks/twilio/call-status';
    const received = 'https://exporter.example.com/webhooks/twilio/call-status';
    const signature = computeSignature(TOKEN, signed, PARAMS);
    expect(verifySignature(TOKEN, signature, received, PARAMS)).toBe(true);
  });

  it('still refuses a signature made for another port', () => {
    const signature = computeSignature(TOKEN, 'https://exporter.example.com:8443/webhooks/twilio/call-status', PARAMS);
    expect(verifySignature(TOKEN, signature, 'https://exporter.example.com:443/webhooks/twilio/call-status', PARAMS)).toBe(false);
  });
});
