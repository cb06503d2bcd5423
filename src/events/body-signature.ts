import { hash, timingSafeEqual } from 'node:crypto';
import { verifySignature } from '../calls/twilio-signature.ts';

const NO_PARAMS = new URLSearchParams();

/** Why a delivery's signature check failed: a closed set, used as a metric label value. */
export type SignatureFailure = 'missing_signature' | 'bad_signature' | 'missing_body_hash' | 'bad_body_hash';

/** Checks the HMAC of the URL alone, which can be done before the body is read; undefined when valid. */
export function checkSignedUrl(authToken: string, signature: string | undefined, url: string): SignatureFailure | undefined {
  if (!signature) return 'missing_signature';
  return verifySignature(authToken, signature, url, NO_PARAMS) ? undefined : 'bad_signature';
}

/** Checks the hex SHA-256 of the raw body against the URL's `bodySHA256` (constant-time); undefined when equal. */
export function checkBodyHash(url: string, rawBody: Uint8Array): SignatureFailure | undefined {
  let expectedHash: string | null;
  try {
    expectedHash = new URL(url).searchParams.get('bodySHA256');
  } catch {
    return 'missing_body_hash';
  }
  if (expectedHash === null || expectedHash === '') return 'missing_body_hash';
  // The one-shot hash: no Hash object per delivery.
  const actual = Buffer.from(hash('sha256', rawBody, 'hex'));
  const expected = Buffer.from(expectedHash.toLowerCase());
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? undefined : 'bad_body_hash';
}

/**
 * Checks an Event Streams delivery: `X-Twilio-Signature` is the HMAC-SHA1 of the full URL (with Twilio's
 * `bodySHA256` parameter and no body parameters, as for every JSON body), then the hex SHA-256 of the raw
 * body must equal `bodySHA256`. Returns undefined when valid.
 */
export function checkEventStreamsSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  rawBody: Uint8Array,
): SignatureFailure | undefined {
  // The URL comes first: the hash parameter means nothing until the URL carrying it is authentic.
  return checkSignedUrl(authToken, signature, url) ?? checkBodyHash(url, rawBody);
}
