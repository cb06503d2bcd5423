import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { methodNotAllowed, statusOf } from './error-responses.ts';
import { readBody } from './read-body.ts';
import { SIGNATURE_HEADER, signedRequestUrl } from '../calls/twilio-signature.ts';
import type { DirectRoute } from '../calls/source.ts';
import { checkBodyHash, checkSignedUrl } from '../events/body-signature.ts';
import type { SignatureFailure } from '../events/body-signature.ts';
import { parseEventBatch } from '../events/cloud-event.ts';
import type { ParsedBatch } from '../events/cloud-event.ts';
import type { DeliveryAnswer } from '../events/push-ingest.ts';
import { ACCOUNT_SID_RE } from '../samples/ids.ts';

/** What happened to an Event Streams delivery: a closed set, used as a metric label value. */
export const DELIVERY_OUTCOMES = ['accepted', 'forbidden', 'bad_request', 'unsupported_media_type', 'too_large', 'error'] as const;
/** A delivery outcome. */
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** The route every account's sink points at; one path per account names the key before the body is read. */
export const EVENT_STREAMS_PATH = '/webhooks/twilio/event-streams/:accountSid';
const SINK_PREFIX = '/webhooks/twilio/event-streams/';
// A path segment express would pass on unchanged (no escapes to decode, no further segment).
const PLAIN_SEGMENT = /^[^/%]+$/;

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
  /** Called with the error of a delivery answered 500 (not applied, so Twilio retries it) [none]. */
  readonly onError?: (err: unknown) => void;
}

/** The sink route twice: mounted on express, and answered straight from node:http ahead of express. */
export interface EventStreamsSink {
  /** The express route: every spelling express matches, other methods (405), and apps with a basic-auth guard. */
  readonly router: Router;
  /** A `POST` to the plain sink path without a Content-Encoding, answered without express; false for anything else. */
  readonly direct: DirectRoute;
}

const JSON_TYPE = /^application\/(?:cloudevents-batch\+)?json\s*(?:;|$)/i;
const TEXT = 'text/plain; charset=utf-8';

interface SinkLocals {
  accountSid: string;
  url: string;
}

// Both routes answer through node's own response, so their headers and bodies are the same byte for byte.
function reply(res: ServerResponse, status: number, body: string, contentType = TEXT): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }).end(body);
}

/**
 * `POST /webhooks/twilio/event-streams/{AccountSid}`: Event Streams webhook deliveries, accepted only when
 * the account's Auth Token signed the URL and the raw body matches its `bodySHA256`. The URL is checked
 * before the body is read, so a forged request costs no body read; a 2xx is sent only after the batch is applied.
 * Express's routing and body parsing cost more than a one-sample batch's ingest, so plain deliveries skip them.
 */
export function eventStreamsRoutes(options: EventStreamsRoutesOptions): EventStreamsSink {
  const forbid = (res: ServerResponse, failure: SignatureFailure): void => {
    options.onDelivery?.('forbidden', failure);
    reply(res, 403, 'invalid or missing X-Twilio-Signature or bodySHA256\n');
  };
  const signedUrl = (protocol: string, host: string | undefined, pathAndQuery: string): string => signedRequestUrl(options.publicUrl(), protocol, host, pathAndQuery);
  // What the URL and headers decide before the body is read; false once the refusal is answered.
  const admit = (res: ServerResponse, accountSid: string, url: string, signature: string | undefined, contentType: string | undefined): boolean => {
    const token = ACCOUNT_SID_RE.test(accountSid) ? options.authToken(accountSid) : undefined;
    const failure = token === undefined ? 'bad_signature' : checkSignedUrl(token, signature, url);
    if (failure !== undefined) {
      forbid(res, failure);
      return false;
    }
    if (!JSON_TYPE.test(contentType ?? '')) {
      options.onDelivery?.('unsupported_media_type');
      reply(res, 415, 'Content-Type must be application/json\n');
      return false;
    }
    return true;
  };
  const receive = (res: ServerResponse, accountSid: string, url: string, body: Buffer): void => {
    const hashFailure = checkBodyHash(url, body);
    if (hashFailure !== undefined) return forbid(res, hashFailure);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      options.onDelivery?.('bad_request');
      reply(res, 400, 'body is not valid JSON\n');
      return;
    }
    const batch = parseEventBatch(json, accountSid);
    if (typeof batch === 'string') {
      options.onDelivery?.('bad_request');
      reply(res, 400, `${batch}\n`);
      return;
    }
    const answer = options.apply(accountSid, batch);
    options.onDelivery?.('accepted');
    reply(res, 200, JSON.stringify(answer), 'application/json; charset=utf-8');
  };
  const tooLarge = (res: ServerResponse): void => {
    options.onDelivery?.('too_large');
    reply(res, 413, `body exceeds ${options.maxBodyBytes} bytes\n`);
  };
  const unreadable = (res: ServerResponse): void => {
    options.onDelivery?.('bad_request');
    reply(res, 400, 'body could not be read\n');
  };
  const notApplied = (res: ServerResponse, err: unknown): void => {
    options.onDelivery?.('error');
    options.onError?.(err);
    reply(res, 500, 'batch not applied\n');
  };
  // Unlike an express handler, a throw here would reach node:http and end the process.
  const answering = (res: ServerResponse, work: () => void): void => {
    try {
      work();
    } catch (err) {
      if (!res.headersSent) return notApplied(res, err);
      options.onError?.(err);
      res.destroy();
    }
  };

  const authenticate = (req: Request, res: Response, next: NextFunction): void => {
    const accountSid = String(req.params['accountSid'] ?? '');
    const url = signedUrl(req.protocol, req.get('host'), req.originalUrl);
    if (!admit(res, accountSid, url, req.get(SIGNATURE_HEADER), req.get('content-type'))) return;
    (res.locals as SinkLocals).accountSid = accountSid;
    (res.locals as SinkLocals).url = url;
    next();
  };
  const receiveParsed = (req: Request, res: Response): void => {
    const { accountSid, url } = res.locals as SinkLocals;
    const raw: unknown = req.body;
    receive(res, accountSid, url, Buffer.isBuffer(raw) ? raw : Buffer.alloc(0));
  };
  // Body-reader failures (too large, aborted, bad encoding) get a short answer, never a stack trace. Decided by the
  // status: body-parser wraps zlib failures (a body that is not the encoding it claims) as a 400 with no `type`.
  const bodyErrors = (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const status = statusOf(err);
    if (status === 413) tooLarge(res);
    else if (status < 500) unreadable(res);
    else notApplied(res, err);
  };
  const router = express.Router();
  router
    .route(EVENT_STREAMS_PATH)
    .post(authenticate, express.raw({ type: () => true, limit: options.maxBodyBytes }), receiveParsed, bodyErrors)
    .all(methodNotAllowed('POST'));

  const direct = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = req.url ?? '';
    // Compressed bodies, and paths express would decode or normalise, stay with express's body parser and router.
    if (req.method !== 'POST' || !path.startsWith(SINK_PREFIX) || req.headers['content-encoding'] !== undefined) return false;
    const query = path.indexOf('?');
    const accountSid = path.slice(SINK_PREFIX.length, query === -1 ? undefined : query);
    if (!PLAIN_SEGMENT.test(accountSid)) return false;
    answering(res, () => {
      const url = signedUrl((req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http', req.headers.host, path);
      if (!admit(res, accountSid, url, header(req, SIGNATURE_HEADER), req.headers['content-type'])) return;
      readBody(req, options.maxBodyBytes, (failure, body) => answering(res, () => {
        if (failure === 'too_large') tooLarge(res);
        else if (failure !== undefined) unreadable(res);
        else receive(res, accountSid, url, body);
      }));
    });
    return true;
  };
  return { router, direct };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
