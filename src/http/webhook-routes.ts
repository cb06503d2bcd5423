import express from 'express';
import type { ErrorRequestHandler, Router } from 'express';
import type { CallRegistry } from '../calls/registry.ts';
import { owns, shardOf } from '../calls/shard.ts';
import type { Shard } from '../calls/shard.ts';
import { SIGNATURE_HEADER, signedRequestUrl, verifySignature } from '../calls/twilio-signature.ts';
import { FORWARDED_HEADER } from './callback-forward.ts';
import type { CallbackForwarder } from './callback-forward.ts';
import { methodNotAllowed } from './error-responses.ts';
import { CALL_SID_RE, CALL_SID_RULE } from '../samples/ids.ts';

/** Statuses that end a call (Twilio call status callbacks). */
export const ENDING_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'busy', 'no-answer', 'canceled']);


/**
 * What happened to a status callback: a closed set, used as a metric label value. With shards, only the call's owner
 * counts it accepted or ignored; the replica Twilio reached counts it `forwarded` once the owner took it,
 * `forward_failed` when the owner could not be reached or refused it, and `not_owned` when it could not forward it.
 */
export const WEBHOOK_OUTCOMES = ['accepted', 'forbidden', 'bad_request', 'ignored', 'forwarded', 'forward_failed', 'not_owned'] as const;
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
  /** The slice of calls this replica owns [all]. */
  readonly shard?: Shard;
  /** Sends a callback for another shard's call to its owner (sharded replicas). */
  readonly forwarder?: CallbackForwarder;
}

// Each request's body bytes as received, so a forwarded callback carries exactly what Twilio sent.
const rawBodies = new WeakMap<object, Buffer>();

/**
 * `POST /webhooks/twilio/call-status`: Twilio's form-encoded status callbacks, accepted only with a valid
 * `X-Twilio-Signature`; `in-progress` tracks the call, ending statuses end it. Anything else changes nothing.
 */
export function webhookRoutes(options: WebhookRoutesOptions): Router {
  const router = express.Router();
  router.route('/webhooks/twilio/call-status').post(
    express.text({ type: 'application/x-www-form-urlencoded', limit: '64kb', verify: (req, _res, buf) => void rawBodies.set(req, buf) }),
    async (req, res) => {
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
      const shard = options.shard;
      if (shard !== undefined && !owns(shard, callSid)) {
        const owner = shardOf(callSid, shard.total);
        const forwarder = options.forwarder;
        // A callback another replica forwarded is never sent on: the replicas disagree on who owns the call.
        if (req.get(FORWARDED_HEADER) !== undefined) {
          options.onCallback?.('not_owned');
          res.status(503).type('text/plain').send(`forwarded here, but shard ${shard.ordinal} of ${shard.total} does not own this call (shard ${owner} does): is --total-shards the same on every replica?\n`);
          return;
        }
        if (forwarder === undefined || !forwarder.configured()) {
          forwarder?.unconfigured(owner);
          options.onCallback?.('not_owned');
          res.status(503).type('text/plain').send(`this call belongs to shard ${owner}, not ${shard.ordinal}: set webhooks.shard_peer_url so callbacks are forwarded to their owner\n`);
          return;
        }
        const answer = await forwarder.forward(owner, {
          pathAndQuery: req.originalUrl,
          body: rawBodies.get(req) ?? Buffer.from(body),
          contentType: req.get('content-type') ?? 'application/x-www-form-urlencoded',
          signature: req.get(SIGNATURE_HEADER) ?? '',
          authorization: req.get('authorization'),
        });
        options.onCallback?.(answer.ok ? 'forwarded' : 'forward_failed');
        if (answer.ok) res.status(204).end();
        else res.status(answer.status).type('text/plain').send(answer.text);
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
