import { EDGES, DIRECTIONS } from './sample.ts';
import type { Direction, Edge, Sample, SampleValues } from './sample.ts';
import { ACCOUNT_SID_RE, ACCOUNT_SID_RULE, CALL_SID_RE, CALL_SID_RULE } from './ids.ts';
import { labelValue } from './label-value.ts';

/** Why a wire record was rejected: a closed set, used as a metric label value. */
export const REJECT_REASONS = [
  'not_object',
  'bad_call_sid',
  'bad_account_sid',
  'bad_edge',
  'bad_direction',
  'bad_timestamp',
  'missing_edge_data',
  'bad_value',
  'future_timestamp',
  'wrong_call',
  'wrong_account',
  'wrong_edge',
] as const;
/** A reason a record was rejected. */
export type RejectReason = (typeof REJECT_REASONS)[number];

/** The outcome of parsing one record: a sample, or the reason and a human-readable detail. */
export type ParseResult =
  | { readonly ok: true; readonly sample: Sample }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

// Twilio sends both `2019-10-07T22:32:06Z` and `2020-01-06T15:21:48.006Z`, with 1 to 6 fraction digits; nothing else
// is accepted (the shape `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$`, checked a character at a time).
// The known edges and directions, each mapped to its own constant: a sample carries the constant, not the string
// JSON.parse made, so every later lookup keyed by it (streams, fleet cells, label text) hashes and compares nothing.
const EDGE_OF: ReadonlyMap<string, Edge> = new Map(EDGES.filter((e) => e !== 'unknown_edge').map((e) => [e, e]));
const DIRECTION_OF: ReadonlyMap<string, Direction> = new Map(DIRECTIONS.map((d) => [d, d]));

class BadValue extends Error {}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Paths in messages are built only when a value is bad: `where` and `key` are constants, so the good path
// allocates no strings. The edge prefix is added by the caller.
function pathOf(where: string, key: string, sub = ''): string {
  return `${where === '' ? '' : `${where}.`}${key}${sub}`;
}

// The value at `where.key`: an object, or undefined when absent (undefined/null).
function child(v: unknown, where: string, key: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new BadValue(`${pathOf(where, key)} is not an object`);
  return v;
}

function check(v: unknown, min: number, max: number, where: string, key: string, sub: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadValue(`${pathOf(where, key, sub)} is not a finite number`);
  if (v < min || v > max) throw new BadValue(`${pathOf(where, key, sub)}=${v} is outside ${min}..${max}`);
  return v;
}

// A `{value: n}` wrapper, as sdk_edge interval metrics are sent: `v` is the wrapper at `where.key`.
function wrapped(v: unknown, where: string, key: string, min: number, max: number): number | undefined {
  const o = child(v, where, key);
  return o === undefined ? undefined : check(o['value'], min, max, where, key, '.value');
}

function counter(v: unknown, where: string, key: string): number | undefined {
  return check(v, 0, Number.MAX_SAFE_INTEGER, where, key, '');
}

function ms(v: number | undefined): number | undefined {
  return v === undefined ? undefined : v / 1000;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// The value of the decimal digits v[from..to), or -1 when one is not a digit.
function digits(v: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

// Nearly every record of a page falls in the same hour: its start is remembered (keyed by the hour's fields as one
// number), which spares the date checks and Date.UTC. Pure: the same input gives the same output.
let lastHourKey = -1;
let lastHourMs = Number.NaN;

// Epoch ms of the start of an hour, or NaN for an impossible date (30 February, hour 24).
function hourStart(year: number, month: number, day: number, hour: number): number {
  const key = ((year * 100 + month) * 100 + day) * 100 + hour;
  if (key === lastHourKey) return lastHourMs;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23) return Number.NaN;
  lastHourKey = key;
  if (year >= 100) lastHourMs = Date.UTC(year, month - 1, day, hour);
  else {
    // Date.UTC reads years 0 to 99 as 1900 to 1999.
    const start = new Date(0);
    start.setUTCFullYear(year, month - 1, day);
    lastHourMs = start.setUTCHours(hour);
  }
  return lastHourMs;
}

/**
 * Parses a Voice Insights timestamp to epoch ms, or NaN when it is not one: RFC 3339 in UTC (`…Z`, `….mmmZ`, the two
 * forms Twilio is seen to send) or with a numeric offset (`…+00:00`, `….mmm-05:00`), which is the same instant and so
 * the same sample. Impossible dates (2019-02-30, 24:00) are refused rather than rolled over as Date.parse does: a
 * sample keyed to a time Twilio never wrote would break the exactly-once order. One pass over the characters, no
 * regular expression and no string built: this runs once per record.
 */
export function parseTimestamp(v: unknown): number {
  if (typeof v !== 'string') return Number.NaN;
  const n = v.length;
  if (n < 20 || n > 32) return Number.NaN;
  if (v.charCodeAt(4) !== 45 /* - */ || v.charCodeAt(7) !== 45 || v.charCodeAt(10) !== 84 /* T */) return Number.NaN;
  if (v.charCodeAt(13) !== 58 /* : */ || v.charCodeAt(16) !== 58) return Number.NaN;
  // Where the fraction ends: at a final Z, or at a ±hh:mm offset, which is taken off to reach UTC.
  let end: number;
  let offsetMs = 0;
  if (v.charCodeAt(n - 1) === 90 /* Z */) end = n - 1;
  else {
    end = n - 6;
    const sign = v.charCodeAt(end);
    if ((sign !== 43 /* + */ && sign !== 45) || v.charCodeAt(n - 3) !== 58) return Number.NaN;
    const offsetHours = digits(v, n - 5, n - 3);
    const offsetMinutes = digits(v, n - 2, n);
    if (offsetHours < 0 || offsetMinutes < 0 || offsetHours > 23 || offsetMinutes > 59) return Number.NaN;
    offsetMs = (sign === 43 ? 1 : -1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  const year = digits(v, 0, 4);
  const month = digits(v, 5, 7);
  const day = digits(v, 8, 10);
  const hour = digits(v, 11, 13);
  const minute = digits(v, 14, 16);
  const second = digits(v, 17, 19);
  if ((year | month | day | hour | minute | second) < 0 || minute > 59 || second > 59) return Number.NaN;
  // Fractions are up to six digits; milliseconds keep the first three, as Date.parse does.
  let millis = 0;
  if (end !== 19) {
    if (end < 21 || end > 26 || v.charCodeAt(19) !== 46 /* . */ || digits(v, 20, end) < 0) return Number.NaN;
    for (let i = 20; i < 23; i++) millis = millis * 10 + (i < end ? v.charCodeAt(i) - 48 : 0);
  }
  return hourStart(year, month, day, hour) + minute * 60_000 + second * 1000 + millis - offsetMs;
}

// Every field is read by name (not through a key argument), so each read is a monomorphic load on the shapes
// JSON.parse gives a page's records: a third of the parse cost was megamorphic keyed loads.
function extractValues(data: Obj): SampleValues {
  const ip = 'interval';
  const cp = 'cumulative';
  const jp = 'cumulative.jitter';
  const interval = child(data['interval'], '', ip);
  const cumulative = child(data['cumulative'], '', cp);
  const jitter = child(cumulative?.['jitter'], cp, 'jitter');
  const lossPct = check(interval?.['packets_loss_percentage'], 0, 100, ip, 'packets_loss_percentage', '');
  const values: SampleValues = {};
  // Assignments are guarded so absent fields stay absent (not `undefined` keys) and shapes stay small.
  const mos = wrapped(interval?.['mos'], ip, 'mos', 0, 5);
  if (mos !== undefined) values.mos = mos;
  const rtt = ms(wrapped(interval?.['rtt'], ip, 'rtt', 0, 1e7));
  if (rtt !== undefined) values.rttSeconds = rtt;
  const jit = ms(wrapped(interval?.['jitter'], ip, 'jitter', 0, 1e7));
  if (jit !== undefined) values.jitterSeconds = jit;
  const javg = ms(check(jitter?.['avg'], 0, 1e7, jp, 'avg', ''));
  if (javg !== undefined) values.jitterAvgSeconds = javg;
  const jmax = ms(check(jitter?.['max'], 0, 1e7, jp, 'max', ''));
  if (jmax !== undefined) values.jitterMaxSeconds = jmax;
  if (lossPct !== undefined) values.packetLossRatio = lossPct / 100;
  const ain = wrapped(interval?.['audio_in'], ip, 'audio_in', 0, 65535);
  if (ain !== undefined) values.audioInLevel = ain;
  const aout = wrapped(interval?.['audio_out'], ip, 'audio_out', 0, 65535);
  if (aout !== undefined) values.audioOutLevel = aout;
  const ps = counter(cumulative?.['packets_sent'], cp, 'packets_sent');
  if (ps !== undefined) values.packetsSent = ps;
  const pr = counter(cumulative?.['packets_received'], cp, 'packets_received');
  if (pr !== undefined) values.packetsReceived = pr;
  const pl = counter(cumulative?.['packets_lost'], cp, 'packets_lost');
  if (pl !== undefined) values.packetsLost = pl;
  const bs = counter(cumulative?.['bytes_sent'], cp, 'bytes_sent');
  if (bs !== undefined) values.bytesSent = bs;
  const br = counter(cumulative?.['bytes_received'], cp, 'bytes_received');
  if (br !== undefined) values.bytesReceived = br;
  // Interval packet counters are only consistency-checked: the cumulative block carries the totals.
  counter(interval?.['packets_received'], ip, 'packets_received');
  counter(interval?.['packets_sent'], ip, 'packets_sent');
  counter(interval?.['packets_lost'], ip, 'packets_lost');
  return values;
}

/** Longest piece of an untrusted string quoted in a reject detail. */
const MAX_QUOTED_CHARS = 40;

/**
 * Describes an untrusted value for a reject detail in bounded time and size: a short string is quoted, a
 * container is named, never walked (a value nested 200 000 deep must not cost a stack overflow).
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') {
    const quoted = JSON.stringify(v.slice(0, MAX_QUOTED_CHARS));
    return v.length > MAX_QUOTED_CHARS ? `${quoted}… (${v.length} characters)` : quoted;
  }
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** What the query that returned a record asked for; a record that names anything else is not the query's. */
export interface RecordScope {
  /** The call of the query. */
  readonly callSid: string;
  /** The account the call is polled with. */
  readonly accountSid: string;
  /** The `Edge` of the query, when one was sent. */
  readonly edge?: Edge;
  /** Latest plausible sample time, epoch ms: the clock plus the allowed skew. */
  readonly notAfterMs: number;
}

/** Checks a parsed sample against the query that returned it: the same call, account and edge, and not dated ahead of the clock. */
export function checkScope(sample: Sample, scope: RecordScope): ParseResult {
  if (sample.callSid !== scope.callSid) {
    return { ok: false, reason: 'wrong_call', detail: `record names call ${sample.callSid}, the query asked for ${scope.callSid}` };
  }
  if (sample.accountSid !== scope.accountSid) {
    return { ok: false, reason: 'wrong_account', detail: `record names account ${sample.accountSid}, the call is polled with ${scope.accountSid}` };
  }
  if (scope.edge !== undefined && sample.edge !== scope.edge) {
    return { ok: false, reason: 'wrong_edge', detail: `record is on ${sample.edge}, the query asked for ${scope.edge}` };
  }
  return checkNotAhead(sample, scope.notAfterMs);
}

/**
 * Refuses a sample dated after `notAfterMs` (the clock plus `max_clock_skew`) as `future_timestamp`: it would become
 * its stream's newest and make every real sample after it too late. Polled and pushed samples meet the same rule.
 */
export function checkNotAhead(sample: Sample, notAfterMs: number): ParseResult {
  if (sample.timestampMs <= notAfterMs) return { ok: true, sample };
  const ahead = Math.round((sample.timestampMs - notAfterMs) / 1000);
  return { ok: false, reason: 'future_timestamp', detail: `record is dated ${ahead}s past the allowed clock skew` };
}

// The record's block for its edge, read by name: a load keyed by a variable is a slow, megamorphic one.
function edgeData(raw: Obj, edge: Edge): unknown {
  switch (edge) {
    case 'sdk_edge':
      return raw['sdk_edge'];
    case 'carrier_edge':
      return raw['carrier_edge'];
    case 'sip_edge':
      return raw['sip_edge'];
    case 'client_edge':
      return raw['client_edge'];
    case 'unknown_edge':
      // Refused before this is reached (EDGE_OF has no unknown_edge); listed so the switch covers every Edge.
      return undefined;
  }
}

const MAX_KNOWN_SIDS = 4096;

/**
 * SIDs that passed their pattern, each mapped to the first string that carried it. A page names one call and
 * account (the last SID matches: one string compare), and a pushed batch interleaves a few hundred calls (the map
 * matches): either way the pattern is spared, and the store and its listeners (six lookups per sample) get a string
 * whose hash is computed and which is the very key they hold. Bounded: emptied when full, which costs only the
 * pattern and the hash again.
 */
class SidMemory {
  readonly #pattern: RegExp;
  readonly #known = new Map<string, string>();
  #last = '';

  constructor(pattern: RegExp) {
    this.#pattern = pattern;
  }

  /** A valid SID (the remembered string for one seen before), or undefined. */
  of(v: unknown): string | undefined {
    if (typeof v !== 'string') return undefined;
    if (v === this.#last && v !== '') return this.#last;
    let sid = this.#known.get(v);
    if (sid === undefined) {
      if (!this.#pattern.test(v)) return undefined;
      if (this.#known.size >= MAX_KNOWN_SIDS) this.#known.clear();
      this.#known.set(v, (sid = v));
    }
    this.#last = sid;
    return sid;
  }
}

const callSids = new SidMemory(CALL_SID_RE);
const accountSids = new SidMemory(ACCOUNT_SID_RE);

/**
 * Earliest timestamp a record may carry. Voice Insights began in 2017: a record dated 1970 or year 0 is not
 * Twilio's, and a timestamp gauge showing -62167219200 helps nobody. (Later than the clock is the caller's check:
 * checkScope and push ingest know the clock, this pure parser does not.)
 */
export const EARLIEST_SAMPLE_MS = Date.UTC(2010, 0, 1);

/** Parses one Call Metrics wire record into a sample in base units; pure, never throws. */
export function parseMetricRecord(raw: unknown): ParseResult {
  if (!isObj(raw)) return { ok: false, reason: 'not_object', detail: 'record is not a JSON object' };
  const callSid = callSids.of(raw['call_sid']);
  if (callSid === undefined) return { ok: false, reason: 'bad_call_sid', detail: `call_sid ${CALL_SID_RULE}` };
  const accountSid = accountSids.of(raw['account_sid']);
  if (accountSid === undefined) return { ok: false, reason: 'bad_account_sid', detail: `account_sid ${ACCOUNT_SID_RULE}` };
  const rawEdge = raw['edge'];
  const edge = typeof rawEdge === 'string' ? EDGE_OF.get(rawEdge) : undefined;
  if (edge === undefined) {
    return { ok: false, reason: 'bad_edge', detail: `edge ${describeValue(rawEdge)} is not a known media edge` };
  }
  const rawDirection = raw['direction'];
  const direction = typeof rawDirection === 'string' ? DIRECTION_OF.get(rawDirection) : undefined;
  if (direction === undefined) {
    return { ok: false, reason: 'bad_direction', detail: `direction ${describeValue(rawDirection)} is not a known direction` };
  }
  const timestampMs = parseTimestamp(raw['timestamp']);
  if (Number.isNaN(timestampMs)) {
    return { ok: false, reason: 'bad_timestamp', detail: `timestamp ${describeValue(raw['timestamp'])} is not ISO 8601 UTC` };
  }
  if (timestampMs < EARLIEST_SAMPLE_MS) {
    return { ok: false, reason: 'bad_timestamp', detail: `timestamp ${describeValue(raw['timestamp'])} is before 2010, older than Voice Insights` };
  }
  const data = edgeData(raw, edge);
  if (!isObj(data)) {
    return { ok: false, reason: 'missing_edge_data', detail: `${edge} holds no metrics object` };
  }
  let values: SampleValues;
  try {
    values = extractValues(data);
  } catch (e) {
    if (e instanceof BadValue) return { ok: false, reason: 'bad_value', detail: `${edge}.${e.message}` };
    throw e;
  }
  const metadata = isObj(data['metadata']) ? data['metadata'] : undefined;
  // Label values only: an odd one is dropped as if not sent, and the sample's measurements are kept.
  const codecName = labelValue(data['codec_name']);
  const region = labelValue(metadata?.['region']);
  const sample: { -readonly [K in keyof Sample]: Sample[K] } = {
    callSid,
    accountSid,
    edge,
    direction,
    timestampMs,
    values,
  };
  if (codecName !== undefined) sample.codecName = codecName;
  if (region !== undefined) sample.region = region;
  return { ok: true, sample };
}
