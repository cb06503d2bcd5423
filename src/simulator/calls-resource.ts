import type { CallType } from '../samples/sample.ts';
import type { ApiRequest, ApiResult } from './api-request.ts';
import { hashString } from './hash.ts';
import { v2010Paging } from './page-links.ts';
import { neighbourCursors, selectPage } from './page-selection.ts';
import { enumParam, pageParam, pageSizeParam } from './query-params.ts';
import type { SimCall } from './sim-call.ts';
import { callStatusAt } from './sim-call.ts';
import { deterministicSid } from './sid.ts';
import type { Simulator } from './simulator.ts';
import { authenticationError } from './twilio-error.ts';
import { formatRfc2822 } from './timestamps.ts';

/** The 2010 call statuses (spec `call_enum_status`). */
export const CALL_STATUSES = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;

/** The 2010 `direction` of each simulated call type. */
const DIRECTION_2010: Readonly<Record<CallType, string>> = {
  carrier: 'inbound',
  sip: 'inbound',
  client: 'outbound-dial',
  trunking_originating: 'trunking-originating',
  trunking_terminating: 'trunking-terminating',
};

const SUBRESOURCES: ReadonlyArray<[string, string]> = [
  ['notifications', 'Notifications'],
  ['recordings', 'Recordings'],
  ['payments', 'Payments'],
  ['events', 'Events'],
  ['siprec', 'Siprec'],
  ['streams', 'Streams'],
  ['transcriptions', 'Transcriptions'],
  ['user_defined_message_subscriptions', 'UserDefinedMessageSubscriptions'],
  ['user_defined_messages', 'UserDefinedMessages'],
];

function formatted(address: string): string {
  const match = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(address);
  return match === null ? address : `(${match[1]}) ${match[2]}-${match[3]}`;
}

/** A call as the 2010 API shows it at `nowMs` (schema `api.v2010.account.call`). */
export function call2010Json(call: SimCall, nowMs: number): Record<string, unknown> {
  const status = callStatusAt(call, nowMs);
  const started = nowMs >= call.startMs && status !== 'canceled';
  const changes = [call.createdMs, call.startMs, call.endMs ?? call.createdMs].filter((ms) => ms <= nowMs);
  const base = `/2010-04-01/Accounts/${call.accountSid}/Calls/${call.sid}`;
  const trunking = call.type.startsWith('trunking');
  const endMs = call.endMs;
  const ended = endMs !== undefined && nowMs >= endMs;
  const completed = status === 'completed' && endMs !== undefined;
  const talkMs = endMs === undefined ? 0 : endMs - call.startMs;
  return {
    account_sid: call.accountSid,
    answered_by: null,
    api_version: '2010-04-01',
    caller_name: null,
    date_created: formatRfc2822(call.createdMs),
    date_updated: formatRfc2822(Math.max(...changes)),
    direction: DIRECTION_2010[call.type],
    duration: completed ? String(Math.round(talkMs / 1000)) : null,
    end_time: ended && endMs !== undefined ? formatRfc2822(endMs) : null,
    forwarded_from: null,
    from: call.from,
    from_formatted: formatted(call.from),
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: call.to.startsWith('+') ? deterministicSid('PN', call.to, 0) : null,
    price: completed ? `-${(Math.ceil(talkMs / 60_000) * 0.0085).toFixed(4)}` : null,
    price_unit: 'USD',
    sid: call.sid,
    start_time: started ? formatRfc2822(call.startMs) : null,
    status,
    subresource_uris: Object.fromEntries(SUBRESOURCES.map(([key, name]) => [key, `${base}/${name}.json`])),
    to: call.to,
    to_formatted: formatted(call.to),
    trunk_sid: trunking ? deterministicSid('TK', String(hashString(call.accountSid)), 0) : null,
    uri: `${base}.json`,
    queue_time: '0',
  };
}

/**
 * `GET /2010-04-01/Accounts/{AccountSid}/Calls.json`: the account's calls, newest first, optionally
 * filtered by `Status`, with 2010 flat paging (relative URIs, `PA…` position tokens).
 * A path account other than the authenticated one is 401/20003.
 */
export function listCalls(sim: Simulator, request: ApiRequest): ApiResult {
  const accountSid = request.params.accountSid;
  if (accountSid !== request.accountSid) throw authenticationError();
  const variant = sim.variant();
  const status = enumParam(request.query, 'Status', CALL_STATUSES, variant);
  const pageSize = pageSizeParam(request.query, variant);
  const page = pageParam(request.query, variant);
  const scope = `calls:${accountSid}`;
  const token = request.query.get('PageToken') ?? undefined;
  const cursor = token === undefined ? undefined : sim.readToken(scope, token, 'desc');
  const now = sim.now();
  const calls = sim
    .listCalls()
    .filter((call) => call.accountSid === accountSid && (status === undefined || callStatusAt(call, now) === status));
  const keyAt = (position: number): number => calls[position]?.seq ?? 0;
  const selection = selectPage(calls.length, keyAt, 'desc', cursor, pageSize);
  const neighbours = neighbourCursors(selection, keyAt, 'desc', cursor);
  const issue = (c: typeof cursor): string | undefined =>
    c === undefined ? undefined : sim.issueToken(scope, c, 'desc');
  const records = selection.positions.flatMap((p) => {
    const call = calls[p];
    return call === undefined ? [] : [call2010Json(call, now)];
  });
  const paging = v2010Paging(
    {
      path: request.path,
      filters: status === undefined ? [] : [['Status', status]],
      pageSize,
      page,
      token,
      nextToken: issue(neighbours.next),
      previousToken: issue(neighbours.previous),
    },
    records.length,
  );
  return { status: 200, body: { calls: records, ...paging } };
}
