import { ACCOUNT_SID_RE, CALL_SID_RE } from '../samples/ids.ts';
import { labelValue } from '../samples/label-value.ts';
import { joinPath } from './urls.ts';

/** A response body whose shape is not what the endpoint promises; the client turns it into a `bad_payload` TwilioError. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

/** The validated envelope of one Insights v1 list page (records are left raw for the sample parser). */
export interface MetricsEnvelope {
  /** The raw `metrics` array. */
  records: unknown[];
  /** Absolute `meta.next_page_url`, or null on the last page (an empty string counts as null, as in twilio-node). */
  nextPageUrl: string | null;
  /** `meta.page`, else the `Page` of the request, else 0. */
  page: number;
  /** `meta.page_size`, else the `PageSize` of the request, else the record count. */
  pageSize: number;
}

/** One call of the 2010 Calls list, with the fields the exporter uses. */
export interface CallRecord {
  /** Call SID, `CA` + 32 hex. */
  sid: string;
  /** Account SID, `AC` + 32 hex. */
  accountSid: string;
  /** Call status: queued, ringing, in-progress, canceled, completed, failed, busy, no-answer. */
  status: string;
  /** inbound, outbound-api, outbound-dial, trunking-originating, trunking-terminating; null when absent. */
  direction: string | null;
  /** Caller, as Twilio formats it; null when absent. */
  from: string | null;
  /** Callee, as Twilio formats it; null when absent. */
  to: string | null;
  /** Start time as Twilio sends it (RFC 2822); null when absent. */
  startTime: string | null;
  /** SID of the call that spawned this one; null when absent. */
  parentCallSid: string | null;
  /** Elastic SIP Trunk of a trunking call (`TK…`); absent when Twilio sent none. */
  trunkSid?: string;
}

/** A call record that failed validation: its position on the page and why (the record itself is not kept: it holds phone numbers). */
export interface SkippedRecord {
  /** Index in the page's `calls` array. */
  index: number;
  /** Which field was wrong. */
  reason: string;
}

/** The validated envelope of one 2010 Calls page. */
export interface CallsEnvelope {
  /** The calls that passed validation, in page order. */
  calls: CallRecord[];
  /** The records that did not. */
  skipped: SkippedRecord[];
  /** `next_page_uri` resolved against the API base URL, or null on the last page. */
  nextPageUrl: string | null;
}

/** The fields of a Call Summary the exporter uses, plus the whole body. */
export interface CallSummary {
  /** carrier, sip, trunking, client, whatsapp; null when absent or not a label value (see labelValue). */
  callType: string | null;
  /** e.g. ringing, answered, completed; null when absent. */
  callState: string | null;
  /** partial or complete; null when absent. */
  processingState: string | null;
  /** The whole decoded body, for labels the exporter may add later. */
  raw: unknown;
}

/** The Voice Insights settings of the account. */
export interface VoiceSettings {
  /** Whether Advanced Features is on (Metrics need it); null when absent. */
  advancedFeatures: boolean | null;
  /** Whether Voice Trace is on; null when absent. */
  voiceTrace: boolean | null;
}

/** Longest next page URL followed: Twilio's are a few hundred characters; a cursor keeps some of them between polls. */
export const MAX_PAGE_URL_LENGTH = 2048;
/** Most calls a 2010 Calls page may hold: discovery asks for 1,000 a page, Twilio's largest page. */
export const MAX_CALLS_PER_PAGE = 1000;
/** Longest optional field of a call record kept (a number, a SIP URI, a trunk SID); a longer one reads as absent. */
export const MAX_CALL_FIELD_LENGTH = 256;

function boundedUrl(value: string, field: string): string {
  if (value.length > MAX_PAGE_URL_LENGTH) throw new PayloadError(`"${field}" is ${value.length} characters, over ${MAX_PAGE_URL_LENGTH}`);
  return value;
}

/** Decodes a response body as JSON, throwing a PayloadError if it is not. */
export function decodeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The body is not quoted: an HTML error page can be long and says nothing the status does not.
    throw new PayloadError(`body is not JSON (${text.length} characters)`);
  }
}

/** Validates an Insights v1 list page (`{metrics: [...], meta: {next_page_url, ...}}`) requested at `requestUrl`. */
export function parseMetricsEnvelope(body: unknown, requestUrl: URL): MetricsEnvelope {
  if (!isObject(body)) throw new PayloadError(`body is ${kind(body)}, expected an object`);
  const records = body['metrics'];
  if (!Array.isArray(records)) throw new PayloadError(`"metrics" is ${kind(records)}, expected an array`);
  const meta = body['meta'];
  if (!isObject(meta)) throw new PayloadError(`"meta" is ${kind(meta)}, expected an object`);
  const next = meta['next_page_url'];
  if (next !== null && typeof next !== 'string') {
    throw new PayloadError(`"meta.next_page_url" is ${kind(next)}, expected a string or null`);
  }
  let nextPageUrl: string | null = null;
  if (next !== null && next !== '') {
    if (!URL.canParse(boundedUrl(next, 'meta.next_page_url'))) throw new PayloadError('"meta.next_page_url" is not an absolute URL');
    nextPageUrl = next;
  }
  return {
    records: records as unknown[],
    nextPageUrl,
    page: count(meta['page']) ?? count(paramNumber(requestUrl, 'Page')) ?? 0,
    pageSize: count(meta['page_size']) ?? count(paramNumber(requestUrl, 'PageSize')) ?? records.length,
  };
}

/** Validates a 2010 Calls page, resolving the relative `next_page_uri` against `apiBase` and skipping malformed records. */
export function parseCallsEnvelope(body: unknown, apiBase: URL): CallsEnvelope {
  if (!isObject(body)) throw new PayloadError(`body is ${kind(body)}, expected an object`);
  const records = body['calls'];
  if (!Array.isArray(records)) throw new PayloadError(`"calls" is ${kind(records)}, expected an array`);
  if (records.length > MAX_CALLS_PER_PAGE) throw new PayloadError(`"calls" holds ${records.length} records, over the ${MAX_CALLS_PER_PAGE} a page may hold`);
  const next = body['next_page_uri'];
  if (next !== null && typeof next !== 'string') {
    throw new PayloadError(`"next_page_uri" is ${kind(next)}, expected a string or null`);
  }
  let nextPageUrl: string | null = null;
  if (next !== null && next !== '') {
    boundedUrl(next, 'next_page_uri');
    // 2010 paging URIs are relative to the API host; keep any path prefix of the configured base.
    const resolved = next.startsWith('/') && !next.startsWith('//') ? joinPath(apiBase, next) : tryUrl(next);
    if (resolved === undefined) throw new PayloadError('"next_page_uri" is neither a path nor an absolute URL');
    nextPageUrl = resolved.href;
  }
  const calls: CallRecord[] = [];
  const skipped: SkippedRecord[] = [];
  records.forEach((record: unknown, index) => {
    const result = parseCallRecord(record);
    if (typeof result === 'string') skipped.push({ index, reason: result });
    else calls.push(result);
  });
  return { calls, skipped, nextPageUrl };
}

/** Validates one 2010 call record, returning it or the reason it is unusable. */
export function parseCallRecord(record: unknown): CallRecord | string {
  if (!isObject(record)) return `record is ${kind(record)}, expected an object`;
  const sid = record['sid'];
  if (typeof sid !== 'string' || !CALL_SID_RE.test(sid)) return '"sid" is not a Call SID';
  const accountSid = record['account_sid'];
  if (typeof accountSid !== 'string' || !ACCOUNT_SID_RE.test(accountSid)) {
    return '"account_sid" is not an Account SID';
  }
  const status = record['status'];
  if (typeof status !== 'string' || status === '') return '"status" is not a non-empty string';
  // An odd optional field is read as absent: the call is still in progress, and dropping its record would make
  // discovery take it for ended. So is one past MAX_CALL_FIELD_LENGTH: the registry keeps the parties for the call's life.
  const optional: Record<string, string | null> = {};
  for (const key of ['direction', 'from', 'to', 'start_time', 'parent_call_sid', 'trunk_sid']) {
    const value = record[key];
    optional[key] = typeof value === 'string' && value !== '' && value.length <= MAX_CALL_FIELD_LENGTH ? value : null;
  }
  const parent = optional['parent_call_sid'] ?? null;
  const parentCallSid = parent !== null && CALL_SID_RE.test(parent) ? parent : null;
  return {
    sid,
    accountSid,
    status,
    direction: optional['direction'] ?? null,
    from: optional['from'] ?? null,
    to: optional['to'] ?? null,
    startTime: optional['start_time'] ?? null,
    parentCallSid,
    ...(optional['trunk_sid'] ? { trunkSid: optional['trunk_sid'] } : {}),
  };
}

/** Validates a Call Summary body: an object whose `call_type`, `call_state` and `processing_state` are strings or null. */
export function parseSummary(body: unknown): CallSummary {
  if (!isObject(body)) throw new PayloadError(`body is ${kind(body)}, expected an object`);
  return {
    // A label of twilio_call_info and the state file: an odd one is treated as not sent, like a pushed summary's.
    callType: labelValue(optionalString(body, 'call_type')) ?? null,
    // Logged and compared with the states the end check knows: an odd one (long, control or invisible characters)
    // is read as not sent, so it neither ends a call nor reaches a log.
    callState: labelValue(optionalString(body, 'call_state')) ?? null,
    processingState: labelValue(optionalString(body, 'processing_state')) ?? null,
    raw: body,
  };
}

/** Validates a Voice Settings body: an object whose `advanced_features` and `voice_trace` are booleans or null. */
export function parseSettings(body: unknown): VoiceSettings {
  if (!isObject(body)) throw new PayloadError(`body is ${kind(body)}, expected an object`);
  return {
    advancedFeatures: optionalBoolean(body, 'advanced_features'),
    voiceTrace: optionalBoolean(body, 'voice_trace'),
  };
}

function optionalString(body: Record<string, unknown>, key: string): string | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new PayloadError(`"${key}" is ${kind(value)}, expected a string or null`);
  return value;
}

function optionalBoolean(body: Record<string, unknown>, key: string): boolean | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw new PayloadError(`"${key}" is ${kind(value)}, expected a boolean or null`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names a JSON value's kind the way payload errors do: `missing`, `null`, `an array`, `an object`, `a string`... */
export function kind(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function paramNumber(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name);
  return value === null || !/^\d+$/.test(value) ? undefined : Number(value);
}

function tryUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
