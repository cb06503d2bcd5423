import type { SimCall } from './sim-call.ts';
import { isCallSid } from './sid.ts';
import type { Simulator } from './simulator.ts';
import { ApiError, notFoundError } from './twilio-error.ts';

/** Voice Insights keeps call data this long (doc-overview; error 17002). */
export const RETENTION_MS = 30 * 24 * 3600 * 1000;

/**
 * The call a per-call Insights request names. A malformed SID, an unknown one and another
 * account's call all look alike: 404/20404 naming the path. Advanced Features off is 403/17000,
 * and a call that ended more than 30 days ago is 404/17002.
 */
export function lookupCall(sim: Simulator, accountSid: string, sid: string | undefined, path: string): SimCall {
  if (sid === undefined || !isCallSid(sid)) throw notFoundError(path);
  const call = sim.getCall(sid);
  if (call === undefined || call.accountSid !== accountSid) throw notFoundError(path);
  if (!sim.settings(accountSid).advancedFeatures) {
    throw new ApiError(403, 17000, 'Forbidden to access data: Voice Insights Advanced Features are not enabled');
  }
  if (call.endMs !== undefined && sim.now() - call.endMs > RETENTION_MS) {
    throw new ApiError(404, 17002, 'This call ended more than 30 days ago');
  }
  return call;
}
