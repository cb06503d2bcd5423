import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { methodNotAllowed } from './error-responses.ts';
import { SIGNATURE_HEADER } from '../calls/twilio-signature.ts';
import { checkBodyHash, checkSignedUrl } from '../events/body-signature.ts';
import type { SignatureFailure } from '../events/body-signature.ts';
import { parseEventBatch } from '../events/cloud-event.ts';
import type { ParsedBatch } from '../events/cloud-event.ts';
import { ACCOUNT_SID_RE } from '../samples/ids.ts';

/** What happened to an Event Streams delivery: a closed set, used as a metric label value. */
export const DELIVERY_OUTCOMES = ['accepted', 'forbidden', 'bad_request', 'unsupported_media_type', 'too_large', 'error'] as const;
/** A delivery outcome. */
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** The route every account's sink points at; one path per account names the key before the body is read. */
export const EVENT_STREAMS_PATH = '/webhooks/twilio/event-streams/:accountSid';

/** What the route reports back to the client after applying a batch. */
export interface DeliveryAnswer {
  readonly applied: number;
  readonly duplicates: number;
  readonly skipped: number;
  readonly unknown_types: number;
}

/** Options of the Event Streams sink route. */
export interface EventStreamsRoutesOptions {
  /** The Auth Token of a configured account that accepts pushes, or undefined (an unknown account gets 403). */
  readonly authToken: (accountSid: string) => string | undefined;
  /** Public base URL Twilio calls (behind a proxy); empty uses the request's own URL. */
  readonly publicUrl: () => string;
  /** Largest accepted body, bytes. */
  readonly maxBodyBytes: number;
  /** Applies an authenticated, parsed batch; returns once the batch is applied (throwing answers 500, so Twilio retries). */
  readonly apply: (accountSid: string, batch: ParsedBatch) => DeliveryAnswer;
  /** Called once per delivery with its outcome, and the signature failure when forbidden. */
  readonly onDelivery?: (outcome: DeliveryOutcome, failure?: SignatureFailure) => void;
}

const JSON_TYPE = /^application\/(?:cloudevents-batch\+)?json\s*(?:;|$)/i;

interface SinkLocals {
  accountSid: string;
  url: string;
}

function forbid(res: Response, options: EventStreamsRoutesOptions, failure: SignatureFailure): void {
  options.onDelivery?.('forbidden', failure);
  res.status(403).type('text/plain').send('invalid or missing X-Twilio-Signature or bodySHA256\n');
}

/**
 * `POST /webhooks/twilio/event-streams/{AccountSid}`: Event Streams webhook deliveries, accepted only when
 * the account's Auth Token signed the URL and the raw body matches its `bodySHA256`. The URL is checked
 * before the body is read, so a forged request costs no body read; a 2xx is sent only after the batch is applied.
 */
export function eventStreamsRoutes(options: EventStreamsRoutesOptions): Router {
  const router = express.Router();
  const authenticate = (req: Request, res: Response, next: NextFunction): void => {
    const accountSid = String(req.params['accountSid'] ?? '');
    const token = ACCOUNT_SID_RE.test(accountSid) ? options.authToken(accountSid) : undefined;
    const base = options.publicUrl();
    const url = base !== '' ? `${base}${req.originalUrl}` : `${req.protocol}://${req.get('host') ?? ''}${req.originalUrl}`;
    const failure = token === undefined ? 'bad_signature' : checkSignedUrl(token, req.get(SIGNATURE_HEADER), url);
    if (failure !== undefined) return forbid(res, options, failure);
    if (!JSON_TYPE.test(req.get('content-type') ?? '')) {
      options.onDelivery?.('unsupported_media_type');
      res.status(415).type('text/plain').send('Content-Type must be application/json\n');
      return;
    }
    (res.locals as SinkLocals).accountSid = accountSid;
    (res.locals as SinkLocals).url = url;
    next();
  };
  const receive = (req: Request, res: Response): void => {
    const { accountSid, url } = res.locals as SinkLocals;
    const raw: unknown = req.body;
    const body = Buffer.isBuffer(raw) ? raw : Buffer.alloc(0);
    const hashFailure = checkBodyHash(url, body);
    if (hashFailure !== undefined) return forbid(res, options, hashFailure);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      options.onDelivery?.('bad_request');
      res.status(400).type('text/plain').send('body is not valid JSON\n');
      return;
    }
    const batch = parseEventBatch(json, accountSid);
    if (typeof batch === 'string') {
      options.onDelivery?.('bad_request');
      res.status(400).type('text/plain').send(`${batch}\n`);
      return;
    }
    const answer = options.apply(accountSid, batch);
    options.onDelivery?.('accepted');
    res.status(200).json(answer);
  };
  // Body-reader failures (too large, aborted, bad encoding) get a short answer, never a stack trace.
  const bodyErrors = (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const type = (err as { type?: unknown }).type;
    if (type === 'entity.too.large') {
      options.onDelivery?.('too_large');
      res.status(413).type('text/plain').send(`body exceeds ${options.maxBodyBytes} bytes\n`);
    } else if (typeof type === 'string') {
      options.onDelivery?.('bad_request');
      res.status(400).type('text/plain').send('body could not be read\n');
    } else {
      options.onDelivery?.('error');
      res.status(500).type('text/plain').send('batch not applied\n');
    }
  };
  router
    .route(EVENT_STREAMS_PATH)
    .post(authenticate, express.raw({ type: () => true, limit: options.maxBodyBytes }), receive, bodyErrors)
    .all(methodNotAllowed('POST'));
  return router;
}
