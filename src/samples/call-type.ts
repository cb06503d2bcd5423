import type { Edge } from './sample.ts';

/**
 * The Summary `call_type` the edges that carry data imply, or undefined when they fit none: until a Summary names a
 * call's type (and Twilio may serve none while the call runs), this is its `call_type` label, whether its samples
 * were polled or pushed.
 */
export function callTypeOfDataEdges(edges: Iterable<Edge>): string | undefined {
  const has = new Set(edges);
  if (has.has('sdk_edge') || has.has('client_edge')) return 'client';
  if (has.has('carrier_edge') && has.has('sip_edge')) return 'trunking';
  if (has.has('carrier_edge')) return 'carrier';
  if (has.has('sip_edge')) return 'sip';
  return undefined;
}
