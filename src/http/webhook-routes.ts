import express from 'express';
import type { ErrorRequestHandler, Router } from 'express';
import type { CallRegistry } from '../calls/registry.ts';
import { SIGNATURE_HEADER, signedRequestUrl, verifySignature } from '../calls/twilio-signature.ts';
import { methodNotAllowed } from './error-responses.ts';
import { CALL_SID_RE, CALL_SID_RULE } from '../samples/ids.ts';

/** Statuses that end a call (Twilio call status callbacks). */
export const ENDING_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'busy', 'no-answer', 'canceled']);


/** What happened to a status callback: a closed set, used as a metric label value. */
export const WEBHOOK_OUTCOMES = ['accepted', 'forbidden', 'bad_request', 'ignored'] as const;
/** A status-callback outcome. */
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/** Options of the status-callback route. */
export interface WebhookRoutesOptions {
  readonly registry: CallRegistry;
  /** The Auth Token of a configured account (the HMAC key), or undefined when the account is unknown or uses an API key. */
  readonly authToken: (accountSid: string) => string | undefined;
  /** Public base URL Twilio calls (behind a proxy); empty uses the request's own URL. */
  readonly publicUrl: () => string;
  /** Called per callback with its outcome. */
  readonly onCallback?: (outcome: WebhookOutcome) => void;
}

/**
 * `POST /webhooks/twilio/call-status`: Twilio's form-encoded status callbacks, accepted only with a valid
 * `X-Twilio-Signature`; `in-progress` tracks the call, ending statuses end it. Anything else changes nothing.
 */
export function webhookRoutes(options: WebhookRoutesOptions): Router {
  const router = express.Router();
  router.route('/webhooks/twilio/call-status').post(
    express.text({ type: 'application/x-www-form-urlencoded', limit: '64kb' }),
    (req, res) => {
      const body = typeof req.body === 'string' ? req.body : '';
      const params = new URLSearchParams(body);
      const accountSid = params.get('AccountSid') ?? '';
      const token = options.authToken(accountSid);
      const url = signedRequestUrl(options.publicUrl(), req.protocol, req.get('host'), req.originalUrl);
      // A Host header no URL can hold (`a b`, `[zz`) leaves nothing to check a signature against.
      if (!URL.canParse(url)) {
        options.onCallback?.('bad_request');
        res.status(400).type('text/plain').send('malformed Host header or URL\n');
        return;
      }
      // The signature check comes first: nothing about an unsigned request is trusted, not even its account.
      if (token === undefined || !verifySignature(token, req.get(SIGNATURE_HEADER), url, params)) {
        options.onCallback?.('forbidden');
        res.status(403).type('text/plain').send('invalid or missing X-Twilio-Signature\n');
        return;
      }
      const callSid = params.get('CallSid') ?? '';
      const status = params.get('CallStatus') ?? '';
      if (!CALL_SID_RE.test(callSid)) {
        options.onCallback?.('bad_request');
        res.status(400).type('text/plain').send(`CallSid ${CALL_SID_RULE}\n`);
        return;
      }
      if (options.registry.trackedForAnother(callSid, accountSid)) {
        options.onCallback?.('forbidden');
        res.status(403).type('text/plain').send('CallSid belongs to another account\n');
        return;
      }
      if (status === 'in-progress') {
        // Only a prefix (`client:`, `sip:`) is ever read: keep a bounded slice of what the body says.
        const hint = (name: string): string | undefined => params.get(name)?.slice(0, 256) ?? undefined;
        options.registry.track(callSid, accountSid, 'webhook', { from: hint('From'), to: hint('To'), trunkSid: hint('TrunkSid') });
        options.onCallback?.('accepted');
      } else if (ENDING_STATUSES.has(status)) {
        // Callbacks come in no set order: an end before `in-progress` is remembered, so the call is tracked ended.
        options.registry.end(callSid, accountSid);
        options.onCallback?.('accepted');
      } else {
        options.onCallback?.('ignored');
      }
      res.status(204).end();
    },
  ).all(methodNotAllowed('POST'));
  // A body the parser refused (too large, bad charset) is a callback too: counted, then answered by the app's error responder.
  router.use('/webhooks/twilio/call-status', ((err, _req, _res, next) => {
    options.onCallback?.('bad_request');
    next(err);
  }) as ErrorRequestHandler);
  return router;
}
