import { createHash, createHmac } from 'node:crypto';

/** A delivery as Twilio signs it: the URL it calls (with `bodySHA256`) and the `X-Twilio-Signature` value. */
export interface SignedDelivery {
  readonly url: string;
  readonly signature: string;
}

/**
 * Signs an Event Streams webhook delivery as Twilio does: appends `bodySHA256` (hex SHA-256 of the raw body)
 * to the sink URL, then signs that full URL with HMAC-SHA1 keyed by the Auth Token (no body parameters for JSON).
 */
export function signDelivery(authToken: string, sinkUrl: string, body: string | Uint8Array): SignedDelivery {
  const hash = createHash('sha256').update(body).digest('hex');
  const url = `${sinkUrl}${sinkUrl.includes('?') ? '&' : '?'}bodySHA256=${hash}`;
  const signature = createHmac('sha1', authToken).update(url, 'utf8').digest('base64');
  return { url, signature };
}
