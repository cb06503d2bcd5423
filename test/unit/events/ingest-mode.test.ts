import { describe, expect, it } from 'vitest';
import { skipPoll } from '../../../src/events/ingest-mode.ts';

describe('skipPoll', () => {
  it('never skips in poll mode and always in push mode', () => {
    expect(skipPoll({ mode: 'poll', trackedAtMs: 0, lastPushMs: 100 }, 100, 60_000)).toBe(false);
    expect(skipPoll({ mode: 'push', trackedAtMs: 0, lastPushMs: undefined }, 1e9, 60_000)).toBe(true);
  });

  it('in hybrid mode skips while pushes are fresher than the gap, counting from tracking before the first push', () => {
    expect(skipPoll({ mode: 'hybrid', trackedAtMs: 0, lastPushMs: 50_000 }, 110_000, 60_000)).toBe(true);
    expect(skipPoll({ mode: 'hybrid', trackedAtMs: 0, lastPushMs: 50_000 }, 110_001, 60_000)).toBe(false);
    expect(skipPoll({ mode: 'hybrid', trackedAtMs: 0, lastPushMs: undefined }, 60_000, 60_000)).toBe(true);
    expect(skipPoll({ mode: 'hybrid', trackedAtMs: 0, lastPushMs: undefined }, 60_001, 60_000)).toBe(false);
  });
});
