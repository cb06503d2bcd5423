import type { CallSummary } from '../twilio/client.ts';

/**
 * Call Summary `call_state` values that mean the call is over. Twilio's Summary gives ringing, answered,
 * in-progress, completed, busy, fail, noanswer, canceled and undialed; `failed` and `no-answer` are the 2010 Calls
 * API spellings of two of them, taken as well in case a Summary uses them.
 */
export const FINAL_CALL_STATES: ReadonlySet<string> = new Set(['completed', 'busy', 'fail', 'failed', 'noanswer', 'no-answer', 'canceled', 'undialed']);

/** Whether a Call Summary says the call has ended: a final `call_state`, or a `processing_state` of `complete` (only given after the end). */
export function summarySaysEnded(summary: Pick<CallSummary, 'callState' | 'processingState'>): boolean {
  return (summary.callState !== null && FINAL_CALL_STATES.has(summary.callState.toLowerCase())) || summary.processingState === 'complete';
}

/**
 * Whether an active call is due an end check at `nowMs`: silent (no new sample applied, or none since it was
 * tracked) for `afterMs`, and not asked since `nextCheckMs`. `afterMs` 0 turns the check off.
 */
export function endCheckDue(o: { readonly nowMs: number; readonly afterMs: number; readonly lastSampleMs: number; readonly nextCheckMs: number }): boolean {
  return o.afterMs > 0 && o.nowMs - o.lastSampleMs >= o.afterMs && o.nowMs >= o.nextCheckMs;
}
