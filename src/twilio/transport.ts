import { Buffer } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import type { Endpoint } from './endpoint.ts';
import { decodeJson, PayloadError } from './envelope.ts';
import { codeForStatus, parseRetryAfter, TwilioError } from './errors.ts';
import type { TwilioErrorCode } from './errors.ts';
import { redactor } from '../samples/redact.ts';

/** Largest success body read, in bytes: a 1000-record Metrics page is a few hundred KiB, so this only stops runaway bodies. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Largest error body read, in bytes: Twilio's error JSON is a few hundred bytes. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Longest Twilio error message kept, in characters, so one odd response cannot flood logs. */
const MAX_MESSAGE_CHARS = 500;

/** Username and password for HTTP Basic: Account SID + Auth Token, or API Key SID + secret. */
export interface TwilioCredentials {
  /** Account SID (`AC…`) or API Key SID (`SK…`). */
  username: string;
  /** Auth Token or API Key secret, as a Secret-like object that prints nothing useful. */
  password: { reveal(): string };
}

/** One HTTP attempt as seen by self-metrics. */
export interface RequestEvent {
  /** The resource requested. */
  endpoint: Endpoint;
  /** The HTTP status as a string (`'200'`, `'429'`), or a TwilioErrorCode when no usable response arrived or a 2xx body was unusable (`'timeout'`, `'network'`, `'aborted'`, `'bad_payload'`). */
  outcome: string;
  /** Wall time from sending to the body being read or the failure, in seconds. */
  durationSeconds: number;
  /** Twilio's `Twilio-Concurrent-Requests` response header, when sent. */
  concurrentRequests?: number;
}

/** What the transport needs: how to reach Twilio, who to be, and where to report each attempt. */
export interface TransportOptions {
  /** Connection pool every request goes through. */
  dispatcher: Dispatcher;
  /** Sent as `User-Agent`. */
  userAgent: string;
  /** Deadline for one attempt, covering connect, headers and body, in milliseconds. */
  requestTimeoutMs: number;
  /** Read per request so rotated credentials take effect on the next request. */
  credentials: () => TwilioCredentials;
  /** Called exactly once per HTTP attempt. */
  onRequest?: (e: RequestEvent) => void;
}

/** Form fields sent as an `application/x-www-form-urlencoded` body, in order; a name may repeat. */
export type FormBody = ReadonlyArray<[string, string]>;

/** The optional parts of one request. */
export interface RequestOptions {
  /** A caller's abort, on top of the transport's own deadline. */
  signal?: AbortSignal | undefined;
  /** Largest success body read, in bytes, at most MAX_BODY_BYTES [MAX_BODY_BYTES]; a longer one is `bad_payload`. */
  maxBodyBytes?: number | undefined;
  /** Sent as the body of a POST (the Events API's creates and updates); without it the request is a GET. */
  form?: FormBody | undefined;
}

/** Sends one authenticated request and hands the decoded JSON body of a 2xx response, and its size in bytes, to `parse`; redirects are not followed (a 3xx is `upstream`). */
export type SendJson = <T>(
  endpoint: Endpoint,
  url: URL,
  parse: (body: unknown, bytes: number) => T,
  options?: RequestOptions,
) => Promise<T>;

// The codes that describe a failed attempt better than its HTTP status does (or that have none).
const NON_HTTP_OUTCOMES: ReadonlySet<TwilioErrorCode> = new Set(['timeout', 'network', 'aborted', 'bad_payload']);

// undici and Node errors that mean the deadline passed rather than the connection failing.
const TIMEOUT_ERROR_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/** Builds the one function that talks HTTP to Twilio: auth, headers, deadline, body handling and error classification. */
export function createTransport(options: TransportOptions): SendJson {
  const { dispatcher, userAgent, requestTimeoutMs, credentials, onRequest } = options;

  return async function sendJson<T>(
    endpoint: Endpoint,
    url: URL,
    parse: (body: unknown, bytes: number) => T,
    { signal, maxBodyBytes = MAX_BODY_BYTES, form }: RequestOptions = {},
  ): Promise<T> {
    if (isAborted(signal)) {
      throw new TwilioError({ code: 'aborted', endpoint, detail: 'aborted before sending', url: url.href });
    }
    const { username, password } = credentials();
    const secret = password.reveal();
    const basic = Buffer.from(`${username}:${secret}`, 'utf8').toString('base64');
    const redact = redactor([secret, basic]);

    const deadline = new AbortController();
    const timeoutReason = new Error(`no complete response within ${requestTimeoutMs} ms`);
    const timer = setTimeout(() => deadline.abort(timeoutReason), requestTimeoutMs);
    const combined = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);

    const started = performance.now();
    let outcome: string | undefined;
    let concurrentRequests: number | undefined;
    const fail = (err: unknown): TwilioError =>
      err instanceof TwilioError ? err : classify(err, endpoint, url, combined, timeoutReason, redact);

    try {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          method: form === undefined ? 'GET' : 'POST',
          dispatcher,
          signal: combined,
          headers: {
            authorization: `Basic ${basic}`,
            accept: 'application/json',
            'accept-charset': 'utf-8',
            'user-agent': userAgent,
            ...(form !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
          },
          ...(form !== undefined && { body: new URLSearchParams(form).toString() }),
        });
      } catch (err) {
        throw fail(err);
      }
      const { statusCode, headers, body } = response;
      // A label value: a status HTTP does not define (777, 999) is `other`, so the set is closed whatever answers.
      outcome = STATUS_CODES[statusCode] === undefined ? 'other' : String(statusCode);
      concurrentRequests = headerNumber(headers['twilio-concurrent-requests']);

      if (statusCode < 200 || statusCode > 299) {
        let text = '';
        try {
          [text] = await readText(body, MAX_ERROR_BODY_BYTES);
        } catch (err) {
          // A caller's abort wins; otherwise the status alone classifies the failure.
          if (isAborted(signal)) throw fail(err);
        }
        const details = parseErrorBody(text, redact);
        throw new TwilioError({
          code: codeForStatus(statusCode, details.twilioCode),
          endpoint,
          status: statusCode,
          ...details,
          ...optional('retryAfterMs', parseRetryAfter(headerString(headers['retry-after']), Date.now())),
          url: url.href,
        });
      }

      let text: string;
      let bytes: number;
      const limit = Math.min(maxBodyBytes, MAX_BODY_BYTES);
      try {
        // A declared length over the limit is refused before a byte of it is read.
        const declared = headerNumber(headers['content-length']);
        if (declared !== undefined && declared > limit) {
          body.destroy();
          throw new PayloadError(`body of ${declared} bytes exceeds ${limit} bytes`);
        }
        [text, bytes] = await readText(body, limit);
      } catch (err) {
        throw err instanceof PayloadError ? payloadError(endpoint, statusCode, url, err) : fail(err);
      }
      try {
        return parse(decodeJson(text), bytes);
      } catch (err) {
        if (err instanceof PayloadError) throw payloadError(endpoint, statusCode, url, err);
        throw err;
      }
    } catch (err) {
      if (err instanceof TwilioError && NON_HTTP_OUTCOMES.has(err.code)) outcome = err.code;
      throw err;
    } finally {
      clearTimeout(timer);
      const event: RequestEvent = {
        endpoint,
        outcome: outcome ?? 'network',
        durationSeconds: (performance.now() - started) / 1000,
      };
      if (concurrentRequests !== undefined) event.concurrentRequests = concurrentRequests;
      try {
        onRequest?.(event);
      } catch {
        // A broken metrics hook must not turn a good response into a failure or mask the real error.
      }
    }
  };
}

function classify(
  err: unknown,
  endpoint: Endpoint,
  url: URL,
  combined: AbortSignal,
  timeoutReason: Error,
  redact: (text: string) => string,
): TwilioError {
  const href = url.href;
  if (combined.aborted) {
    // AbortSignal.any keeps the reason of whichever source fired first.
    if (combined.reason === timeoutReason) {
      return new TwilioError({ code: 'timeout', endpoint, detail: timeoutReason.message, url: href });
    }
    return new TwilioError({ code: 'aborted', endpoint, detail: 'aborted by caller', url: href });
  }
  const errCode = errorCode(err);
  const message = err instanceof Error ? redact(err.message) : 'unknown error';
  const detail = errCode === undefined ? message : `${errCode}: ${message}`;
  const code: TwilioErrorCode = errCode !== undefined && TIMEOUT_ERROR_CODES.has(errCode) ? 'timeout' : 'network';
  return new TwilioError({ code, endpoint, detail, url: href, cause: err });
}

function payloadError(endpoint: Endpoint, status: number, url: URL, err: PayloadError): TwilioError {
  return new TwilioError({ code: 'bad_payload', endpoint, status, detail: err.message, url: url.href });
}

async function readText(body: Dispatcher.ResponseData['body'], limit: number): Promise<[string, number]> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      // Leaving the loop destroys the stream, which closes the socket instead of reading on.
      throw new PayloadError(`body exceeds ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return [Buffer.concat(chunks).toString('utf8'), size];
}

interface ErrorDetails {
  twilioCode?: number;
  twilioMessage?: string;
  moreInfo?: string;
}

function parseErrorBody(text: string, redact: (text: string) => string): ErrorDetails {
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // Proxies and load balancers answer with HTML or plain text; the status still classifies it.
    return {};
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const fields = body as Record<string, unknown>;
  const details: ErrorDetails = {};
  const code = fields['code'];
  if (typeof code === 'number' && Number.isSafeInteger(code)) details.twilioCode = code;
  else if (typeof code === 'string' && /^\d{1,9}$/.test(code)) details.twilioCode = Number(code);
  // RFC 9457 bodies (twilio-node's TwilioServiceException) carry `detail`/`title` instead of `message`.
  const message = [fields['message'], fields['detail'], fields['title']].find((v) => typeof v === 'string');
  if (typeof message === 'string') details.twilioMessage = redact(message).slice(0, MAX_MESSAGE_CHARS);
  const moreInfo = fields['more_info'];
  if (typeof moreInfo === 'string') details.moreInfo = redact(moreInfo).slice(0, MAX_MESSAGE_CHARS);
  return details;
}

// A function, not an inline check, because the signal changes state across awaits and TypeScript narrows it too early.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function headerNumber(value: string | string[] | undefined): number | undefined {
  const text = headerString(value)?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
