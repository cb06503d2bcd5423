import type { IngestMode } from '../config/types.ts';

/** What the poll decision needs to know of a call. */
export interface PollCandidate {
  readonly mode: IngestMode;
  /** When the call was first tracked, epoch ms. */
  readonly trackedAtMs: number;
  /** When its last sample arrived by push, epoch ms, if ever. */
  readonly lastPushMs: number | undefined;
}

/**
 * Whether the poller should leave a call alone now: always in `push` mode (a pushed call costs no
 * Insights request); in `hybrid` mode while pushes are fresher than `gapMs`, counting from tracking
 * when none arrived yet; never in `poll` mode.
 */
export function skipPoll(c: PollCandidate, nowMs: number, gapMs: number): boolean {
  if (c.mode === 'poll') return false;
  if (c.mode === 'push') return true;
  return nowMs - (c.lastPushMs ?? c.trackedAtMs) <= gapMs;
}
