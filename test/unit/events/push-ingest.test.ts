import { describe, expect, it } from 'vitest';
import { CallRegistry } from '../../../src/calls/registry.ts';
import type { IngestMode } from '../../../src/config/types.ts';
import { createPushIngest } from '../../../src/events/push-ingest.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT_A, ACCOUNT_B, CALL_1, CALL_2, CALL_3, T0, sample } from '../store/sample-builder.ts';

function setup(modes: Record<string, IngestMode>) {
  const clock = { now: T0 };
  const registry = new CallRegistry({ maxCalls: 10, drainPeriodMs: 1000, retentionMs: 5000, now: () => clock.now });
  const store = new SampleStore({ backfill: true, now: () => clock.now });
  registry.addListener({ onTracked: (c) => store.addCall(c.callSid, c.accountSid, c.trackedAtMs) });
  const push = createPushIngest({ registry, store, now: () => clock.now, mode: (a) => modes[a], hybridGapMs: () => 60_000, silenceTimeoutMs: () => 600_000 });
  return { clock, registry, push, store };
}

describe('createPushIngest', () => {
  it('ends push-mode calls silent for the silence timeout, and no poll-mode call', () => {
    const { clock, registry, push } = setup({ [ACCOUNT_A]: 'push', [ACCOUNT_B]: 'poll' });
    push.apply(ACCOUNT_A, { events: [{ kind: 'call_metrics', id: 'E1', sample: sample({ at: 10 }) }], skipped: [], unknownTypes: 0 });
    registry.track(CALL_2, ACCOUNT_A, 'discovery');
    registry.track(CALL_3, ACCOUNT_B, 'config');
    clock.now += 600_000;
    expect(push.endSilent(clock.now)).toBe(0);
    push.apply(ACCOUNT_A, { events: [{ kind: 'call_metrics', id: 'E2', sample: sample({ at: 20 }) }], skipped: [], unknownTypes: 0 });
    clock.now += 1;
    expect(push.endSilent(clock.now)).toBe(1);
    expect(registry.get(CALL_2)?.endedAtMs).toBe(clock.now);
    expect(registry.get(CALL_1)?.endedAtMs).toBeUndefined();
    clock.now += 600_000;
    expect(push.endSilent(clock.now)).toBe(1);
    expect(registry.get(CALL_1)?.endedAtMs).toBeDefined();
    expect(registry.get(CALL_3)?.endedAtMs).toBeUndefined();
  });

  it('ends hybrid-mode calls with no pushed and no new polled sample for the silence timeout', () => {
    const { clock, registry, push, store } = setup({ [ACCOUNT_A]: 'hybrid' });
    push.apply(ACCOUNT_A, { events: [{ kind: 'call_metrics', id: 'E1', sample: sample({ at: 10 }) }], skipped: [], unknownTypes: 0 });
    clock.now += 400_000;
    // A gap-fill poll brings a new sample: not silent. Then one it already had: silent still counts from the first.
    store.apply([sample({ at: 20 })]);
    clock.now += 400_000;
    store.apply([sample({ at: 20 })]);
    expect(push.endSilent(clock.now)).toBe(0);
    clock.now += 200_001;
    expect(push.endSilent(clock.now)).toBe(1);
    expect(registry.get(CALL_1)?.endedAtMs).toBe(clock.now);
  });

  it('tells the poller to skip push calls always and hybrid calls while pushes are fresh', () => {
    const { clock, registry, push } = setup({ [ACCOUNT_A]: 'hybrid', [ACCOUNT_B]: 'push' });
    push.apply(ACCOUNT_A, { events: [{ kind: 'call_metrics', id: 'E1', sample: sample({ at: 10 }) }], skipped: [], unknownTypes: 0 });
    registry.track(CALL_3, ACCOUNT_B, 'config');
    clock.now += 60_001;
    expect(push.skipPoll(registry.get(CALL_1)!, clock.now)).toBe(false);
    expect(push.skipPoll(registry.get(CALL_3)!, clock.now)).toBe(true);
  });
});
