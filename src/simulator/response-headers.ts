import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** A Twilio request id: `RQ` + 32 hex. */
export function newRequestId(): string {
  return `RQ${randomBytes(16).toString('hex')}`;
}

/**
 * Sets the headers every Twilio response carries (recorded from api.twilio.com, reference §5):
 * request id, home region, API domain, the Access-Control set, and the concurrency count so far.
 */
export function setTwilioHeaders(res: ServerResponse, apiDomain: string): void {
  res.setHeader('Twilio-Request-Id', newRequestId());
  res.setHeader('Twilio-Concurrent-Requests', '0');
  res.setHeader('X-Home-Region', 'us1');
  res.setHeader('X-Api-Domain', apiDomain);
  res.setHeader('X-Powered-By', 'AT-5000');
  res.setHeader('X-Shenanigans', 'none');
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader(
    'Access-Control-Allow-Headers',
    'Accept, Authorization, Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since, Idempotency-Key',
  );
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
  res.setHeader('Access-Control-Expose-Headers', 'ETag');
}

/** Writes a JSON (or deliberately broken JSON) body with its length and `Twilio-Request-Duration`. */
export function sendJsonText(res: ServerResponse, status: number, text: string, startedMs: number): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Twilio-Request-Duration', ((performance.now() - startedMs) / 1000).toFixed(3));
  res.end(text);
}
