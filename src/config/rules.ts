import { z } from 'zod';

/** An integer from `min` to `max`, with the house wording for every way a value can miss it. */
export function intRange(min: number, max: number) {
  const rule = `must be an integer from ${min} to ${max}`;
  return z.number({ error: rule }).int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
}

/** The URL if it is http(s) with no credentials or fragment, else null. */
export function httpUrl(s: string): URL | null {
  const url = URL.parse(s);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) return null;
  // Credentials belong in the credential settings, where they are secrets, never in a URL that gets logged.
  if (url.username !== '' || url.password !== '' || url.hash !== '') return null;
  return url;
}

/**
 * A base URL the exporter is reached at (`webhooks.public_url`, `--public-url`), which paths are appended to as
 * text: http(s) with no query, fragment or credentials. `https://host/x?` has an empty query and `https://host#` an
 * empty fragment, yet each href still ends in its mark, which would swallow an appended path. Its href without a
 * trailing slash, or null. (The Twilio base URLs the clients join paths onto are twilio/urls.ts's parseBaseUrl.)
 */
export function parsePublicBaseUrl(s: string): string | null {
  const url = httpUrl(s);
  // httpUrl refuses a non-empty fragment; the href shows an empty query or fragment as well as a full one.
  if (url === null || /[?#]/.test(url.href)) return null;
  return url.href.replace(/\/$/, '');
}
