import { checkNotAhead, parseMetricRecord, REJECT_REASONS } from '../samples/parse.ts';
import type { Sample } from '../samples/sample.ts';
import { CALL_LEVEL, NO_EDGE, SUMMARY_TAGS, bounded } from './event-labels.ts';
import { eventType, schemaVersion } from './event-types.ts';
import type { EventTypeSpec } from './event-types.ts';
import { ACCOUNT_SID_RE, ACCOUNT_SID_RULE, CALL_SID_RE, CALL_SID_RULE } from '../samples/ids.ts';
import { labelValue } from '../samples/label-value.ts';

/** Why an event of a batch was skipped: a closed set, used as a metric label value. */
export const EVENT_SKIP_REASONS = [
  ...REJECT_REASONS,
  'bad_envelope',
  'bad_schema_version',
  'wrong_account',
  'bad_event_data',
] as const;
/** A reason an event was skipped. */
export type EventSkipReason = (typeof EVENT_SKIP_REASONS)[number];

/** A call-metrics event: one sample. */
export interface MetricsEvent {
  readonly kind: 'call_metrics';
  readonly id: string;
  readonly sample: Sample;
}

/** A gateway or Voice SDK call event (call progress, SDK warnings). */
export interface CallEvent {
  readonly kind: 'call_event';
  readonly id: string;
  readonly callSid: string;
  readonly accountSid: string;
  readonly edge: string;
  readonly group: string;
  readonly name: string;
  readonly level: string;
}

/** A call summary (partial, predicted-complete or complete), which Twilio emits only after the call. */
export interface SummaryEvent {
  readonly kind: 'call_summary';
  readonly id: string;
  readonly callSid: string;
  readonly accountSid: string;
  readonly callType: string | undefined;
  /** Twilio's quality tags (`high_jitter`, `low_mos`, …) of the whole call (the summary's top-level `tags`). */
  readonly tags: readonly string[];
  /** Which summary this is: partial, predicted_complete (both may change) or complete (final). */
  readonly processingState: SummaryState;
  /**
   * Each distinct tag once with the edge whose block lists it (`sdk_edge.tags`), or `call` for a top-level tag
   * no edge lists; tags outside the documented set are `other`.
   */
  readonly edgeTags: ReadonlyArray<{ readonly tag: string; readonly edge: string }>;
}

/** The summary kinds, in the order Twilio emits them. */
export const SUMMARY_STATES = ['partial', 'predicted_complete', 'complete'] as const;
/** A summary kind. */
export type SummaryState = (typeof SUMMARY_STATES)[number];

/** One event of a batch the exporter understands. */
export type ParsedEvent = MetricsEvent | CallEvent | SummaryEvent;

/** A skipped event: the reason and a short detail (no event content beyond names). */
export interface SkippedEvent {
  readonly reason: EventSkipReason;
  readonly detail: string;
}

/** The skipped events of one reason in a delivery: how many, and the first one's detail. */
export interface SkippedGroup {
  readonly reason: EventSkipReason;
  readonly detail: string;
  count: number;
}

/** The outcome of parsing one delivery. */
export interface ParsedBatch {
  readonly events: ParsedEvent[];
  /**
   * Skipped events by reason, in the order each reason first appeared: one entry per reason, however many events
   * a delivery skips (a 16 MB body holds millions of `{}`), so what follows costs nothing per skipped event.
   */
  readonly skipped: SkippedGroup[];
  /** Events of types the exporter does not read. */
  unknownTypes: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// Names, groups and tags become label values: short, and from a tame alphabet.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MAX_ID_LENGTH = 128;
const MAX_TAGS = 64;

function str(o: Obj, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

function skip(reason: EventSkipReason, detail: string): SkippedEvent {
  return { reason, detail };
}

function parseCallEvent(id: string, data: Obj): CallEvent | SkippedEvent {
  const callSid = str(data, 'call_sid');
  const accountSid = str(data, 'account_sid');
  if (callSid === undefined || !CALL_SID_RE.test(callSid)) return skip('bad_call_sid', `call_sid ${CALL_SID_RULE}`);
  if (accountSid === undefined || !ACCOUNT_SID_RE.test(accountSid)) return skip('bad_account_sid', `account_sid ${ACCOUNT_SID_RULE}`);
  const fields: Record<'edge' | 'group' | 'name' | 'level', string> = { edge: '', group: '', name: '', level: '' };
  for (const key of ['edge', 'group', 'name', 'level'] as const) {
    // Conversation Relay events carry `edge: null` (reference facts-2 §5).
    const v = key === 'edge' && (data[key] === null || data[key] === undefined) ? NO_EDGE : str(data, key);
    if (v === undefined || !NAME.test(v)) return skip('bad_event_data', `${key} must match ${NAME.source}`);
    fields[key] = v;
  }
  return { kind: 'call_event', id, callSid, accountSid, ...fields };
}

const SUMMARY_EDGES = ['carrier_edge', 'sip_edge', 'sdk_edge', 'client_edge'] as const;

function tagList(raw: unknown): string[] | undefined {
  const list = raw ?? [];
  if (!Array.isArray(list) || list.length > MAX_TAGS || !list.every((t) => typeof t === 'string' && NAME.test(t))) return undefined;
  return list as string[];
}

function edgeTagsOf(data: Obj, callTags: readonly string[]): SummaryEvent['edgeTags'] | undefined {
  const out: Array<{ tag: string; edge: string }> = [];
  const seen = new Set<string>();
  const add = (tag: string, edge: string): void => {
    const t = bounded(tag, SUMMARY_TAGS);
    if (seen.has(`${edge}/${t}`)) return;
    seen.add(`${edge}/${t}`);
    out.push({ tag: t, edge });
  };
  const onEdges = new Set<string>();
  for (const edge of SUMMARY_EDGES) {
    const block = data[edge];
    if (!isObj(block)) continue;
    const tags = tagList(block['tags']);
    if (tags === undefined) return undefined;
    for (const tag of tags) {
      onEdges.add(tag);
      add(tag, edge);
    }
  }
  for (const tag of callTags) if (!onEdges.has(tag)) add(tag, CALL_LEVEL);
  return out;
}

function parseSummary(spec: EventTypeSpec, id: string, data: Obj): SummaryEvent | SkippedEvent {
  const callSid = str(data, 'call_sid');
  const accountSid = str(data, 'account_sid');
  if (callSid === undefined || !CALL_SID_RE.test(callSid)) return skip('bad_call_sid', `call_sid ${CALL_SID_RULE}`);
  if (accountSid === undefined || !ACCOUNT_SID_RE.test(accountSid)) return skip('bad_account_sid', `account_sid ${ACCOUNT_SID_RULE}`);
  const tags = tagList(data['tags']);
  const edgeTags = tags && edgeTagsOf(data, tags);
  if (tags === undefined || edgeTags === undefined) {
    return skip('bad_event_data', `tags (top-level and per edge) must be at most ${MAX_TAGS} names matching ${NAME.source}`);
  }
  // The rule a polled summary's call_type meets too, so a call's label does not depend on how its summary came.
  const callType = labelValue(data['call_type']);
  const processingState = spec.type.endsWith('.complete') ? 'complete' : spec.type.endsWith('.partial') ? 'partial' : 'predicted_complete';
  return {
    kind: 'call_summary', id, callSid, accountSid, callType,
    tags, processingState, edgeTags,
  };
}

function parseData(spec: EventTypeSpec, id: string, data: unknown): ParsedEvent | SkippedEvent {
  if (spec.kind === 'call_metrics') {
    const r = parseMetricRecord(data);
    return r.ok ? { kind: 'call_metrics', id, sample: r.sample } : skip(r.reason, r.detail);
  }
  if (!isObj(data)) return skip('not_object', 'data is not a JSON object');
  return spec.kind === 'call_event' ? parseCallEvent(id, data) : parseSummary(spec, id, data);
}

// The events of a batch mostly share one type and dataschema: the last pair that passed passes again without
// the type lookup and the version pattern. Pure: the same event gives the same answer.
let lastType = '';
let lastSchema = '';
let lastSpec: EventTypeSpec | undefined;

/**
 * Parses one CloudEvent of a delivery for `accountSid` (the account whose token signed it); pure, never
 * throws. Returns undefined for a well-formed event of a type the exporter does not read.
 */
export function parseCloudEvent(raw: unknown, accountSid: string): ParsedEvent | SkippedEvent | undefined {
  if (!isObj(raw)) return skip('not_object', 'event is not a JSON object');
  const id = str(raw, 'id');
  const type = str(raw, 'type');
  if (raw['specversion'] !== '1.0' || id === undefined || id === '' || id.length > MAX_ID_LENGTH || type === undefined) {
    return skip('bad_envelope', `an event needs specversion "1.0", a string type and an id of 1..${MAX_ID_LENGTH} characters`);
  }
  const dataschema = raw['dataschema'];
  let spec = lastSpec;
  if (spec === undefined || type !== lastType || dataschema !== lastSchema) {
    spec = eventType(type);
    if (!spec) return undefined;
    const version = schemaVersion(dataschema);
    if (!spec.schemaVersions.includes(version)) {
      return skip('bad_schema_version', `${type} is read with dataschema versions ${spec.schemaVersions.join(', ')}`);
    }
    if (typeof dataschema === 'string') {
      lastType = type;
      lastSchema = dataschema;
      lastSpec = spec;
    }
  }
  const parsed = parseData(spec, id, raw['data']);
  if ('reason' in parsed) return parsed;
  // A signature proves which account sent the batch; data naming another account is not trusted.
  const eventAccount = parsed.kind === 'call_metrics' ? parsed.sample.accountSid : parsed.accountSid;
  if (eventAccount !== accountSid) return skip('wrong_account', 'account_sid is not the account of the sink path');
  return parsed;
}

/** Events of a batch skipped, all reasons together. */
export function skippedTotal(batch: ParsedBatch): number {
  let n = 0;
  for (const g of batch.skipped) n += g.count;
  return n;
}

function skipEvent(batch: ParsedBatch, s: SkippedEvent): void {
  // A linear search: there are fewer than twenty reasons.
  const group = batch.skipped.find((g) => g.reason === s.reason);
  if (group) group.count++;
  else batch.skipped.push({ reason: s.reason, detail: s.detail, count: 1 });
}

/**
 * Moves the call-metrics events of a batch dated after `notAfterMs` (the clock plus `max_clock_skew`) to its
 * skipped events, by the rule the poller applies (checkNotAhead). Kept apart from the parse, which has no clock.
 */
export function skipFutureSamples(batch: ParsedBatch, notAfterMs: number): void {
  const events = batch.events;
  let kept = 0;
  for (const e of events) {
    const checked = e.kind === 'call_metrics' ? checkNotAhead(e.sample, notAfterMs) : undefined;
    if (checked !== undefined && !checked.ok) skipEvent(batch, skip(checked.reason, checked.detail));
    else events[kept++] = e;
  }
  events.length = kept;
}

/** Parses a delivery body (already JSON-parsed) into events; a bad event is skipped with its reason. */
export function parseEventBatch(body: unknown, accountSid: string): ParsedBatch | string {
  if (!Array.isArray(body)) return 'body must be a JSON array of CloudEvents';
  const batch: ParsedBatch = { events: [], skipped: [], unknownTypes: 0 };
  for (const raw of body) {
    const r = parseCloudEvent(raw, accountSid);
    if (r === undefined) batch.unknownTypes++;
    else if ('reason' in r) skipEvent(batch, r);
    else batch.events.push(r);
  }
  return batch;
}
