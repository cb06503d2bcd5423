import type { Direction, Edge } from '../samples/sample.ts';
import { DIRECTIONS, EDGES, edgeDirections } from '../samples/sample.ts';
import type { ApiRequest, ApiResult } from './api-request.ts';
import { lookupCall } from './call-lookup.ts';
import { notFoundError } from './twilio-error.ts';
import type { SimCall } from './sim-call.ts';
import { v1Meta } from './page-links.ts';
import { neighbourCursors, selectPage } from './page-selection.ts';
import { enumParam, pageParam, pageSizeParam } from './query-params.ts';
import { callEdges, defaultEdge } from './sim-call.ts';
import type { Simulator } from './simulator.ts';

/** The wire order of the Metrics filters in paging links (alphabetical, as in the spec example). */
function metricFilters(edge: Edge | undefined, direction: Direction | undefined): Array<[string, string]> {
  const filters: Array<[string, string]> = [];
  if (direction !== undefined) filters.push(['Direction', direction]);
  if (edge !== undefined) filters.push(['Edge', edge]);
  return filters;
}

/**
 * `GET /v1/Voice/{CallSid}/Metrics`: one page of the samples visible now. Without `Edge` only the
 * call type's default edge is read; an edge the call does not have gives an empty list.
 */
export function listMetrics(sim: Simulator, request: ApiRequest): ApiResult {
  const call = lookupCall(sim, request.accountSid, request.params.callSid, request.path);
  const variant = sim.variant();
  const edgeParam = enumParam(request.query, 'Edge', EDGES, variant);
  const directionParam = enumParam(request.query, 'Direction', DIRECTIONS, variant);
  const pageSize = pageSizeParam(request.query, variant);
  const page = pageParam(request.query, variant);
  const scope = `metrics:${call.sid}`;
  const token = request.query.get('PageToken') ?? undefined;
  const cursor = token === undefined ? undefined : sim.readToken(scope, token);

  const edge = edgeParam ?? defaultEdge(call);
  const directions = callEdges(call).includes(edge)
    ? edgeDirections(edge).filter((d) => directionParam === undefined || d === directionParam)
    : [];
  const sequence = sim.edgeSequence(call, edge, directions);
  // Before a call's first sample is visible Twilio may answer 404 rather than an empty list (not documented).
  if (variant.metricsBeforeData === 'not_found' && sequence.length === 0 && !hasVisibleSample(sim, call)) throw notFoundError(request.path);
  const selection = selectPage(sequence.length, sequence.keyAt, variant.order, cursor, pageSize);
  const neighbours = neighbourCursors(selection, sequence.keyAt, variant.order, cursor);
  const { records, served } = sequence.records(selection.positions);
  const meta = v1Meta(request.baseUrl, 'metrics', {
    path: request.path,
    filters: metricFilters(edgeParam, directionParam),
    pageSize,
    page,
    token,
    nextToken: neighbours.next === undefined ? undefined : sim.issueToken(scope, neighbours.next),
    previousToken: neighbours.previous === undefined ? undefined : sim.issueToken(scope, neighbours.previous),
  });
  return { status: 200, body: { metrics: records, meta }, metrics: { records, served } };
}

// Whether any stream of any edge of the call has a sample visible now.
function hasVisibleSample(sim: Simulator, call: SimCall): boolean {
  return callEdges(call).some((edge) => sim.edgeSequence(call, edge, edgeDirections(edge)).length > 0);
}
