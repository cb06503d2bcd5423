import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header Twilio signs webhooks with. */
export const SIGNATURE_HEADER = 'x-twilio-signature';

/**
 * Twilio's webhook signature: base64 HMAC-SHA1, keyed by the account's Auth Token, over the full URL
 * followed by every POST parameter as name + value, sorted by name (then by value for repeated names).
 */
export function computeSignature(authToken: string, url: string, params: URLSearchParams): string {
  const pairs = [...params.entries()].sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  let data = url;
  for (const [k, v] of pairs) data += k + v;
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * The URL Twilio called, which it signed: the configured public URL (behind a proxy) followed by the request's path
 * and query, or else the request's own protocol and Host.
 */
export function signedRequestUrl(publicUrl: string, protocol: string, host: string | undefined, pathAndQuery: string): string {
  return publicUrl !== '' ? `${publicUrl}${pathAndQuery}` : `${protocol}://${host ?? ''}${pathAndQuery}`;
}

// Twilio may sign the URL with or without an explicit default port, as its SDKs' validators allow for.
// The port is read from the text: URL.port is '' for an explicit default port, which hid `:443` here.
const AUTHORITY_PORT = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*?)(?::(\d+))?(?=[/?#]|$)/i;

function urlVariants(url: string): string[] {
  const u = URL.parse(url);
  const variants = [url];
  if (u === null) return variants;
  const defaultPort = u.protocol === 'https:' ? '443' : '80';
  const m = AUTHORITY_PORT.exec(url);
  if (!m) return variants;
  const [authority, hostPart, port] = m;
  const rest = url.slice(authority.length);
  if (port === undefined) variants.push(`${hostPart}:${defaultPort}${rest}`);
  else if (port === defaultPort) variants.push(`${hostPart}${rest}`);
  return variants;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Whether `signature` is Twilio's signature of the request; constant-time; false for an empty header. */
export function verifySignature(authToken: string, signature: string | undefined, url: string, params: URLSearchParams): boolean {
  if (!signature) return false;
  // The URL as received is the usual match; the port variants (a URL parse) are built only when it is not.
  if (safeEqual(computeSignature(authToken, url, params), signature)) return true;
  return urlVariants(url).slice(1).some((u) => safeEqual(computeSignature(authToken, u, params), signature));
}
