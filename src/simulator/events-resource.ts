import { EDGES } from '../samples/sample.ts';
import type { ApiRequest, ApiResult } from './api-request.ts';
import { lookupCall } from './call-lookup.ts';
import { eventTimeline } from './event-timeline.ts';
import { v1Meta } from './page-links.ts';
import { neighbourCursors, selectPage } from './page-selection.ts';
import { enumParam, pageParam, pageSizeParam } from './query-params.ts';
import { callEdges, defaultEdge } from './sim-call.ts';
import type { Simulator } from './simulator.ts';

/**
 * `GET /v1/Voice/{CallSid}/Events`: the call's events visible now (same lag as samples), oldest
 * first, paged like Metrics with key `events`. Without `Edge`, the call type's default edge.
 */
export function listEvents(sim: Simulator, request: ApiRequest): ApiResult {
  const call = lookupCall(sim, request.accountSid, request.params.callSid, request.path);
  const variant = sim.variant();
  const edgeParam = enumParam(request.query, 'Edge', EDGES, variant);
  const pageSize = pageSizeParam(request.query, variant);
  const page = pageParam(request.query, variant);
  const scope = `events:${call.sid}`;
  const token = request.query.get('PageToken') ?? undefined;
  // Events are always oldest first, so their tokens are read as ascending whatever the metrics order.
  const cursor = token === undefined ? undefined : sim.readToken(scope, token, 'asc');
  const edge = edgeParam ?? defaultEdge(call);
  const events = callEdges(call).includes(edge)
    ? eventTimeline(sim.seed, call, edge, sim.now() - variant.lagSeconds * 1000)
    : [];
  const keyAt = (position: number): number => events[position]?.key ?? 0;
  const selection = selectPage(events.length, keyAt, 'asc', cursor, pageSize);
  const neighbours = neighbourCursors(selection, keyAt, 'asc', cursor);
  const issue = (c: typeof cursor): string | undefined =>
    c === undefined ? undefined : sim.issueToken(scope, c, 'asc');
  const meta = v1Meta(request.baseUrl, 'events', {
    path: request.path,
    filters: edgeParam === undefined ? [] : [['Edge', edgeParam]],
    pageSize,
    page,
    token,
    nextToken: issue(neighbours.next),
    previousToken: issue(neighbours.previous),
  });
  const records = selection.positions.flatMap((p) => {
    const event = events[p];
    return event === undefined ? [] : [event.record];
  });
  return { status: 200, body: { events: records, meta } };
}
