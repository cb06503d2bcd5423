import type { Endpoint } from './endpoint.ts';
import { TwilioError } from './errors.ts';
import { ACCOUNT_SID_RE, CALL_SID_RE } from '../samples/ids.ts';


/** Parses a configured base URL (http or https, no userinfo, query or fragment), throwing a TypeError naming `name` otherwise. */
export function parseBaseUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`${name} must use http or https, got ${url.protocol}`);
  }
  // Credentials in a base URL would bypass the per-request Authorization header and could be logged.
  if (url.username !== '' || url.password !== '') throw new TypeError(`${name} must not contain userinfo`);
  if (url.search !== '' || url.hash !== '') throw new TypeError(`${name} must not contain a query or fragment`);
  return url;
}

/** Appends an absolute path (starting with `/`) to the base URL's own path, so a base like `http://sim/twilio` keeps its prefix. */
export function joinPath(base: URL, path: string): URL {
  const prefix = base.pathname.replace(/\/+$/, '');
  return new URL(`${prefix}${path}`, base.origin);
}

/** A URL as safe to print: userinfo removed. */
export function printableUrl(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

/** Parses a URL to be requested and checks it has `base`'s origin, throwing `foreign_origin` (or `bad_request` if unparseable) before anything is sent. */
export function checkSameOrigin(endpoint: Endpoint, base: URL, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The raw string is not echoed: it could be anything, including something a user pasted by mistake.
    throw new TwilioError({ code: 'bad_request', endpoint, detail: 'page URL is not an absolute URL' });
  }
  // Credentials only ever go to the configured origin, so a URL carrying its own userinfo is refused as well.
  if (url.origin !== base.origin || url.username !== '' || url.password !== '') {
    throw new TwilioError({
      code: 'foreign_origin',
      endpoint,
      detail: `refusing to send credentials to ${url.origin}, configured origin is ${base.origin}`,
      url: printableUrl(url),
    });
  }
  return url;
}

/** Checks a Call SID client-side so it can be put in a path, throwing `bad_request` without sending a request. */
export function checkCallSid(endpoint: Endpoint, callSid: string): string {
  if (typeof callSid !== 'string' || !CALL_SID_RE.test(callSid)) {
    throw new TwilioError({
      code: 'bad_request',
      endpoint,
      detail: `invalid CallSid ${JSON.stringify(String(callSid).slice(0, 64))}: must match ${CALL_SID_RE.source}`,
    });
  }
  return callSid;
}

/** Checks an Account SID client-side so it can be put in a path, throwing `bad_request` without sending a request. */
export function checkAccountSid(endpoint: Endpoint, accountSid: string): string {
  if (typeof accountSid !== 'string' || !ACCOUNT_SID_RE.test(accountSid)) {
    throw new TwilioError({
      code: 'bad_request',
      endpoint,
      detail: `invalid AccountSid ${JSON.stringify(String(accountSid).slice(0, 64))}: must match ${ACCOUNT_SID_RE.source}`,
    });
  }
  return accountSid;
}
