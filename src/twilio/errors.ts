import type { Endpoint } from './endpoint.ts';

/** Every way a Twilio request can fail, as a closed set usable as metric label values. */
export const TWILIO_ERROR_CODES = [
  'auth',
  'not_found',
  'bad_request',
  'rate_limited',
  'upstream',
  'timeout',
  'network',
  'bad_payload',
  'foreign_origin',
  'aborted',
] as const;

/** One stable classification of a failed Twilio request; callers branch on it, never on message text. */
export type TwilioErrorCode = (typeof TWILIO_ERROR_CODES)[number];

/** What a {@link TwilioError} is built from; only `code` and `endpoint` are always known. */
export interface TwilioErrorInit {
  /** The classification. */
  code: TwilioErrorCode;
  /** The resource that was being read. */
  endpoint: Endpoint;
  /** A short account of what went wrong, already free of secrets (used when there is no HTTP status). */
  detail?: string;
  /** HTTP status of the response, when one arrived. */
  status?: number;
  /** Twilio's numeric error code from the body, e.g. 20003, 20404, 20429, 17400. */
  twilioCode?: number;
  /** Twilio's message from the body, already free of secrets. */
  twilioMessage?: string;
  /** Twilio's `more_info` link from the body. */
  moreInfo?: string;
  /** Delay Twilio asked for via `Retry-After`, in milliseconds. */
  retryAfterMs?: number;
  /** The URL requested or refused, without userinfo. */
  url?: string;
  /** The lower-level error, if any (never carries request headers). */
  cause?: unknown;
}

/** A failed Twilio request, classified where it arose; its message names endpoint, status and Twilio code, never credentials. */
export class TwilioError extends Error {
  /** The stable classification callers branch on. */
  readonly code: TwilioErrorCode;
  /** The resource that was being read. */
  readonly endpoint: Endpoint;
  /** HTTP status, when a response arrived. */
  declare readonly status?: number;
  /** Twilio's numeric error code from the body, when present. */
  declare readonly twilioCode?: number;
  /** Twilio's message from the body, when present. */
  declare readonly twilioMessage?: string;
  /** Twilio's `more_info` link, when present. */
  declare readonly moreInfo?: string;
  /** How long Twilio asked the caller to wait (`Retry-After`), in milliseconds. */
  declare readonly retryAfterMs?: number;
  /** The URL requested or refused, without userinfo. */
  declare readonly url?: string;
  /** Whether the same request may succeed if sent again later. */
  readonly retryable: boolean;

  static {
    // On the prototype rather than each instance, so inspect output lists only the failure's own facts.
    this.prototype.name = 'TwilioError';
  }

  constructor(init: TwilioErrorInit) {
    super(describe(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.endpoint = init.endpoint;
    // Optional fields are only set when known so util.inspect output stays short.
    if (init.status !== undefined) this.status = init.status;
    if (init.twilioCode !== undefined) this.twilioCode = init.twilioCode;
    if (init.twilioMessage !== undefined) this.twilioMessage = init.twilioMessage;
    if (init.moreInfo !== undefined) this.moreInfo = init.moreInfo;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.url !== undefined) this.url = init.url;
    this.retryable = isRetryable(init.code, init.status);
  }
}

/** Whether a failure of this kind is worth retrying: 429, 5xx, timeouts, connection failures and garbled bodies are. */
export function isRetryable(code: TwilioErrorCode, status?: number): boolean {
  switch (code) {
    case 'rate_limited':
    case 'timeout':
    case 'network':
    case 'bad_payload':
      return true;
    case 'upstream':
      // A 3xx or an unexpected 4xx will not change on retry; a 5xx (or no status) may.
      return status === undefined || status >= 500;
    default:
      return false;
  }
}

/** Classifies a non-2xx HTTP status (and Twilio code, which wins for 20003 and 20429) into a {@link TwilioErrorCode}. */
export function codeForStatus(status: number, twilioCode?: number): TwilioErrorCode {
  // Twilio's own code is more specific than the status when the two disagree.
  if (twilioCode === 20429) return 'rate_limited';
  if (twilioCode === 20003) return 'auth';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 400) return 'bad_request';
  if (status === 429) return 'rate_limited';
  return 'upstream';
}

/** Parses a `Retry-After` header (delta seconds or HTTP-date) into milliseconds from `nowMs`, or undefined if absent or invalid. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Every HTTP-date form names a day or month; without this, Date.parse accepts strings like "-5" as years.
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  // A date in the past means "now", not a negative wait.
  return Math.max(0, at - nowMs);
}

function describe(init: TwilioErrorInit): string {
  const parts: string[] = [`Twilio ${init.endpoint} request failed (${init.code})`];
  const facts: string[] = [];
  if (init.status !== undefined) facts.push(`HTTP ${init.status}`);
  if (init.twilioCode !== undefined) facts.push(`Twilio code ${init.twilioCode}`);
  if (facts.length > 0) parts.push(`: ${facts.join(', ')}`);
  if (init.twilioMessage !== undefined && init.twilioMessage !== '') parts.push(`: ${init.twilioMessage}`);
  if (init.detail !== undefined && init.detail !== '') parts.push(`: ${init.detail}`);
  if (init.url !== undefined) parts.push(` [${init.url}]`);
  return parts.join('');
}
