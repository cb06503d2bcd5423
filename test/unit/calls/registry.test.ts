import { describe, expect, it } from 'vitest';
import { CallRegistry } from '../../../src/calls/registry.ts';
import type { CallRegistryOptions, CallSource, TrackedCall } from '../../../src/calls/registry.ts';
import { ACCOUNT_A, ACCOUNT_B, CALL_1, CALL_2, CALL_3, T0 } from '../store/sample-builder.ts';

const CALL_4 = 'CAdddddddddddddddddddddddddddddddd';

function setup(options: Partial<CallRegistryOptions> = {}) {
  const clock = { now: T0 };
  const refused: CallSource[] = [];
  const events: string[] = [];
  const registry = new CallRegistry({
    maxCalls: 10,
    drainPeriodMs: 30_000,
    retentionMs: 120_000,
    now: () => clock.now,
    onRefused: (source) => refused.push(source),
    ...options,
  });
  registry.addListener({
    onTracked: (c: Readonly<TrackedCall>) => events.push(`tracked ${c.callSid}`),
    onEnded: (c: Readonly<TrackedCall>) => events.push(`ended ${c.callSid}`),
    onRemoved: (c: Readonly<TrackedCall>) => events.push(`removed ${c.callSid}`),
  });
  return { clock, registry, refused, events };
}

describe('CallRegistry.track', () => {
  it('is idempotent across sources: one call, every source remembered, one onTracked', () => {
    const { registry, events, clock } = setup();

    expect(registry.track(CALL_1, ACCOUNT_A, 'config')).toBe('tracked');
    clock.now += 5_000;
    expect(registry.track(CALL_1, ACCOUNT_A, 'discovery')).toBe('known');
    expect(registry.track(CALL_1, ACCOUNT_A, 'webhook')).toBe('known');
    expect(registry.track(CALL_1, ACCOUNT_A, 'discovery')).toBe('known');

    const call = registry.get(CALL_1)!;
    expect([...call.sources].sort()).toEqual(['config', 'discovery', 'webhook']);
    expect(call.trackedAtMs).toBe(T0);
    expect(call.accountSid).toBe(ACCOUNT_A);
    expect(registry.size).toBe(1);
    expect(events).toEqual([`tracked ${CALL_1}`]);
  });

  it('refuses new calls at the cap, calls onRefused with the source, and still accepts known ones', () => {
    const { registry, refused, events } = setup({ maxCalls: 2 });
    registry.track(CALL_1, ACCOUNT_A, 'config');
    registry.track(CALL_2, ACCOUNT_A, 'config');

    expect(registry.track(CALL_3, ACCOUNT_A, 'discovery')).toBe('refused');
    expect(registry.track(CALL_4, ACCOUNT_B, 'webhook')).toBe('refused');
    expect(registry.track(CALL_1, ACCOUNT_A, 'admin')).toBe('known');

    expect(refused).toEqual(['discovery', 'webhook']);
    expect(registry.get(CALL_3)).toBeUndefined();
    expect(registry.size).toBe(2);
    expect(events).toEqual([`tracked ${CALL_1}`, `tracked ${CALL_2}`]);

    registry.remove(CALL_2);
    expect(registry.track(CALL_3, ACCOUNT_A, 'discovery')).toBe('tracked');
  });

  it('counts a refused call once across re-announcements, forgetting the oldest refusals past refusedMemory', () => {
    const { registry, refused } = setup({ maxCalls: 1, refusedMemory: 2 });
    registry.track(CALL_1, ACCOUNT_A, 'config');
    for (let i = 0; i < 3; i++) expect(registry.track(CALL_2, ACCOUNT_A, 'discovery')).toBe('refused');
    expect(refused).toEqual(['discovery']);
    registry.track(CALL_3, ACCOUNT_A, 'webhook');
    registry.track(CALL_4, ACCOUNT_A, 'webhook');
    // CALL_2 was the oldest of three refusals with room for two: announcing it again counts again.
    registry.track(CALL_2, ACCOUNT_A, 'discovery');
    registry.track(CALL_4, ACCOUNT_A, 'webhook');
    expect(refused).toEqual(['discovery', 'webhook', 'webhook', 'discovery']);
  });

  it('counts ended calls against the cap until they are swept, so memory stays bounded', () => {
    const { registry, clock, refused } = setup({ maxCalls: 1 });
    registry.track(CALL_1, ACCOUNT_A, 'config');
    registry.end(CALL_1);

    expect(registry.track(CALL_2, ACCOUNT_A, 'discovery')).toBe('refused');
    clock.now += 120_000;
    expect(registry.sweep()).toBe(1);
    expect(registry.track(CALL_2, ACCOUNT_A, 'discovery')).toBe('tracked');
    expect(refused).toEqual(['discovery']);
  });

  it('answers `other_account` for a call tracked for another account, and leaves the call as it was', () => {
    const { registry } = setup();
    registry.track(CALL_1, ACCOUNT_A, 'discovery');
    expect(registry.track(CALL_1, ACCOUNT_B, 'admin')).toBe('other_account');
    expect(registry.get(CALL_1)).toMatchObject({ accountSid: ACCOUNT_A, sources: new Set(['discovery']) });
  });

  it('answers `ended` for an ended call and does not bring it back', () => {
    const { registry, clock } = setup();
    registry.track(CALL_1, ACCOUNT_A, 'discovery');
    registry.end(CALL_1);
    const endedAt = clock.now;
    clock.now += 1_000;

    expect(registry.track(CALL_1, ACCOUNT_A, 'webhook')).toBe('ended');
    expect(registry.get(CALL_1)!.endedAtMs).toBe(endedAt);
    expect(registry.get(CALL_1)!.sources.has('webhook')).toBe(true);
  });

  it('ignores calls another shard owns, without counting them as refused', () => {
    const owned = new Set([CALL_1, CALL_3]);
    const { registry, refused, events } = setup({ owns: (sid) => owned.has(sid) });

    expect(registry.track(CALL_1, ACCOUNT_A, 'discovery')).toBe('tracked');
    expect(registry.track(CALL_2, ACCOUNT_A, 'discovery')).toBe('not_owned');
    expect(registry.track(CALL_3, ACCOUNT_B, 'webhook')).toBe('tracked');
    expect(registry.track(CALL_4, ACCOUNT_B, 'admin')).toBe('not_owned');

    expect([...registry.calls()].map((c) => c.callSid)).toEqual([CALL_1, CALL_3]);
    expect(refused).toEqual([]);
    expect(events).toEqual([`tracked ${CALL_1}`, `tracked ${CALL_3}`]);
  });

  it('checks ownership before the cap, so a full replica does not count foreign calls as refused', () => {
    const { registry, refused } = setup({ maxCalls: 1, owns: (sid) => sid !== CALL_2 });
    registry.track(CALL_1, ACCOUNT_A, 'discovery');

    expect(registry.track(CALL_2, ACCOUNT_A, 'discovery')).toBe('not_owned');
    expect(refused).toEqual([]);
  });
});

describe('CallRegistry lifecycle', () => {
  it('goes active → draining → ended → removed by sweep after the retention', () => {
    const { registry, clock, events } = setup({ drainPeriodMs: 30_000, retentionMs: 120_000 });
    registry.track(CALL_1, ACCOUNT_A, 'config');
    const call = registry.get(CALL_1)!;
    expect(registry.lifecycle(call)).toBe('active');
    expect(registry.isPollable(call)).toBe(true);

    clock.now += 10_000;
    expect(registry.end(CALL_1)).toBe(true);
    expect(registry.end(CALL_1)).toBe(false);
    const endedAt = clock.now;
    expect(call.endedAtMs).toBe(endedAt);

    // Draining: still polled once more for late samples.
    expect(registry.lifecycle(call, endedAt + 29_999)).toBe('draining');
    expect(registry.isPollable(call, endedAt + 29_999)).toBe(true);
    // Ended: not polled, series kept.
    expect(registry.lifecycle(call, endedAt + 30_000)).toBe('ended');
    expect(registry.isPollable(call, endedAt + 30_000)).toBe(false);

    expect(registry.sweep(endedAt + 119_999)).toBe(0);
    expect(registry.get(CALL_1)).toBe(call);
    expect(registry.sweep(endedAt + 120_000)).toBe(1);
    expect(registry.get(CALL_1)).toBeUndefined();
    expect(registry.sweep(endedAt + 999_999)).toBe(0);

    expect(events).toEqual([`tracked ${CALL_1}`, `ended ${CALL_1}`, `removed ${CALL_1}`]);
  });

  it('sweeps only the calls whose retention passed, and uses the clock by default', () => {
    const { registry, clock } = setup({ retentionMs: 60_000 });
    for (const sid of [CALL_1, CALL_2, CALL_3]) registry.track(sid, ACCOUNT_A, 'config');
    registry.end(CALL_1);
    clock.now += 30_000;
    registry.end(CALL_2);
    clock.now += 30_000;

    expect(registry.sweep()).toBe(1);
    expect([...registry.calls()].map((c) => c.callSid)).toEqual([CALL_2, CALL_3]);
  });

  it('remove drops a call at once, in any state', () => {
    const { registry, events } = setup();
    registry.track(CALL_1, ACCOUNT_A, 'admin');
    registry.track(CALL_2, ACCOUNT_A, 'admin');
    registry.end(CALL_2);

    expect(registry.remove(CALL_1)).toBe(true);
    expect(registry.remove(CALL_2)).toBe(true);
    expect(registry.remove(CALL_1)).toBe(false);
    expect(registry.remove(CALL_3)).toBe(false);

    expect(registry.size).toBe(0);
    expect(events.filter((e) => e.startsWith('removed'))).toEqual([`removed ${CALL_1}`, `removed ${CALL_2}`]);
  });

  it('end of an unknown call is a no-op', () => {
    const { registry, events } = setup();
    expect(registry.end(CALL_1)).toBe(false);
    expect(events).toEqual([]);
  });
});

describe('CallRegistry counts', () => {
  it('activeByAccount counts calls not ended, per account', () => {
    const { registry } = setup();
    registry.track(CALL_1, ACCOUNT_A, 'config');
    registry.track(CALL_2, ACCOUNT_A, 'config');
    registry.track(CALL_3, ACCOUNT_B, 'config');
    registry.track(CALL_4, ACCOUNT_B, 'config');
    registry.end(CALL_2);
    registry.end(CALL_3);
    registry.end(CALL_4);

    expect([...registry.activeByAccount()]).toEqual([[ACCOUNT_A, 1]]);
  });

  it('countByState splits every held call by account and lifecycle', () => {
    const { registry, clock } = setup({ drainPeriodMs: 30_000 });
    registry.track(CALL_1, ACCOUNT_A, 'config');
    registry.track(CALL_2, ACCOUNT_A, 'config');
    registry.track(CALL_3, ACCOUNT_B, 'config');
    registry.end(CALL_2);
    registry.end(CALL_3);
    clock.now += 10_000;

    expect(registry.countByState()).toEqual(
      new Map([
        [ACCOUNT_A, new Map([['active', 1], ['draining', 1]])],
        [ACCOUNT_B, new Map([['draining', 1]])],
      ]),
    );
    expect(registry.countByState(clock.now + 20_000).get(ACCOUNT_B)).toEqual(new Map([['ended', 1]]));
  });
});

// Probe E #5: a late announcement (a pushed sample, discovery still listing the call, an unordered callback) brought
// an ended, removed call back as active, and an end reported before the call was tracked was forgotten.
describe('CallRegistry ended-call memory', () => {
  it('tracks a removed ended call announced again as ended at its end time, never active, and removes it after retention', () => {
    const { registry, clock } = setup();
    registry.track(CALL_1, ACCOUNT_A, 'event_streams');
    registry.end(CALL_1);
    const endedAt = clock.now;
    clock.now += 120_000;
    expect(registry.sweep()).toBe(1);
    expect(registry.rememberedEnded).toBe(1);

    clock.now += 60_000;
    expect(registry.track(CALL_1, ACCOUNT_A, 'discovery')).toBe('ended');
    const call = registry.get(CALL_1)!;
    expect(call.endedAtMs).toBe(endedAt);
    expect(registry.lifecycle(call)).toBe('ended');
    expect(registry.isPollable(call)).toBe(false);
    expect(registry.activeByAccount().get(ACCOUNT_A)).toBeUndefined();
    expect(registry.rememberedEnded).toBe(0);
    // Past retention already: the next sweep removes it, and it is remembered again.
    expect(registry.sweep()).toBe(1);
    expect(registry.rememberedEnded).toBe(1);
    expect(registry.track(CALL_1, ACCOUNT_A, 'event_streams')).toBe('ended');
  });

  it('remembers an end reported before the call is tracked, for the reporting account only', () => {
    const { registry, clock } = setup();
    expect(registry.end(CALL_1, ACCOUNT_A)).toBe(false);
    const endedAt = clock.now;
    clock.now += 5_000;
    // Another account announcing the SID is not ended by account A's report.
    expect(registry.track(CALL_1, ACCOUNT_B, 'event_streams')).toBe('tracked');
    expect(registry.get(CALL_1)?.endedAtMs).toBeUndefined();
    registry.remove(CALL_1);
    expect(registry.track(CALL_1, ACCOUNT_A, 'event_streams')).toBe('ended');
    const call = registry.get(CALL_1)!;
    expect(call.endedAtMs).toBe(endedAt);
    expect(registry.lifecycle(call)).toBe('draining');
    // A second report keeps the first end time.
    expect(registry.end(CALL_2, ACCOUNT_A)).toBe(false);
    clock.now += 1_000;
    registry.end(CALL_2, ACCOUNT_A);
    expect(registry.track(CALL_2, ACCOUNT_A, 'webhook')).toBe('ended');
    expect(registry.get(CALL_2)?.endedAtMs).toBe(clock.now - 1_000);
  });

  it('remembers nothing for an end without an account, another shard\'s call, or an active call removed by the admin API', () => {
    const { registry } = setup({ owns: (sid) => sid !== CALL_3 });
    registry.end(CALL_1);
    registry.end(CALL_3, ACCOUNT_A);
    registry.track(CALL_2, ACCOUNT_A, 'admin');
    registry.remove(CALL_2);
    expect(registry.rememberedEnded).toBe(0);
    expect(registry.track(CALL_1, ACCOUNT_A, 'webhook')).toBe('tracked');
    expect(registry.track(CALL_2, ACCOUNT_A, 'admin')).toBe('tracked');
  });

  it('is bounded in count (the oldest are forgotten first) and in time', () => {
    const { registry, clock } = setup({ endedMemory: 2, endedMemoryMs: 60_000 });
    for (const sid of [CALL_1, CALL_2, CALL_3]) {
      registry.end(sid, ACCOUNT_A);
      clock.now += 1_000;
    }
    expect(registry.rememberedEnded).toBe(2);
    expect(registry.track(CALL_1, ACCOUNT_A, 'event_streams')).toBe('tracked');
    clock.now += 60_000;
    registry.sweep();
    expect(registry.rememberedEnded).toBe(0);
    expect(registry.track(CALL_3, ACCOUNT_A, 'event_streams')).toBe('tracked');
  });

  // Probe F #2: the cap was shared, so one account's 10,000 ended (never tracked) calls pushed another account's
  // ended calls out, and a late sample of one made it active again.
  it('bounds each account on its own: one account\'s ends never push another\'s out', () => {
    const { registry } = setup({ endedMemory: 2, endedMemoryMs: 60_000 });
    registry.end(CALL_1, ACCOUNT_A);
    for (let i = 0; i < 5; i++) registry.end(`CA${i.toString(16).padStart(32, 'f')}`, ACCOUNT_B);
    expect(registry.rememberedEnded).toBe(3);
    expect(registry.track(CALL_1, ACCOUNT_A, 'event_streams')).toBe('ended');
  });

  it('hands its ended calls to the state file and takes them back after a restart, horizon and cap kept', () => {
    const first = setup({ endedMemory: 2, endedMemoryMs: 60_000 });
    first.registry.track(CALL_1, ACCOUNT_A, 'config');
    first.registry.end(CALL_1);
    const endedAt1 = first.clock.now;
    first.clock.now += 1_000;
    first.registry.end(CALL_2, ACCOUNT_B);
    first.clock.now += 1_000;
    const before = first.registry.endedChanges;
    first.registry.track(CALL_3, ACCOUNT_A, 'config');
    expect(first.registry.endedChanges).toBe(before);
    const saved = [...first.registry.endedCalls()];
    // The tracked ended call is remembered from now, as it would be once removed; the remembered one keeps its time.
    expect(saved).toEqual([
      { callSid: CALL_1, accountSid: ACCOUNT_A, endedAtMs: endedAt1, rememberedAtMs: first.clock.now },
      { callSid: CALL_2, accountSid: ACCOUNT_B, endedAtMs: endedAt1 + 1_000, rememberedAtMs: endedAt1 + 1_000 },
    ]);

    const next = setup({ endedMemory: 2, endedMemoryMs: 60_000 });
    next.clock.now = first.clock.now + 10_000;
    // A call tracked already is left alone, an expired entry and an unknown one of a third account are not kept.
    next.registry.track(CALL_4, ACCOUNT_A, 'config');
    const old = { callSid: CALL_3, accountSid: ACCOUNT_A, endedAtMs: T0 - 100_000, rememberedAtMs: next.clock.now - 60_000 };
    const tracked = { callSid: CALL_4, accountSid: ACCOUNT_A, endedAtMs: T0, rememberedAtMs: T0 };
    expect(next.registry.restoreEnded([...saved, old, tracked])).toBe(2);
    expect(next.registry.track(CALL_1, ACCOUNT_A, 'config')).toBe('ended');
    expect(next.registry.get(CALL_1)?.endedAtMs).toBe(endedAt1);
    expect(next.registry.track(CALL_2, ACCOUNT_A, 'event_streams')).toBe('tracked');
    next.registry.remove(CALL_2);
    expect(next.registry.track(CALL_2, ACCOUNT_B, 'event_streams')).toBe('ended');
    expect(next.registry.track(CALL_3, ACCOUNT_A, 'event_streams')).toBe('tracked');
    expect(next.registry.get(CALL_4)?.endedAtMs).toBeUndefined();

    // The horizon counts from when each was first remembered, not from the restart.
    const later = setup({ endedMemory: 2, endedMemoryMs: 60_000 });
    expect(later.registry.restoreEnded([{ callSid: CALL_1, accountSid: ACCOUNT_A, endedAtMs: T0 - 59_000, rememberedAtMs: T0 - 59_000 }])).toBe(1);
    later.clock.now += 2_000;
    expect(later.registry.track(CALL_1, ACCOUNT_A, 'event_streams')).toBe('tracked');
  });

  // Probe H #2: an end time in the future (a hand-edited file, a clock that ran ahead) kept the call draining, and
  // polled, until that date.
  it('takes a restored end time in the future as now', () => {
    const { registry, clock } = setup();
    registry.restoreEnded([{ callSid: CALL_1, accountSid: ACCOUNT_A, endedAtMs: clock.now + 10 * 365 * 86_400_000, rememberedAtMs: clock.now }]);
    expect(registry.track(CALL_1, ACCOUNT_A, 'config')).toBe('ended');
    expect(registry.get(CALL_1)?.endedAtMs).toBe(clock.now);
    clock.now += 30_000;
    expect(registry.lifecycle(registry.get(CALL_1)!)).toBe('ended');
  });

  it('keeps at most its cap of restored ended calls per account, the most recently remembered', () => {
    const { registry, clock } = setup({ endedMemory: 2, endedMemoryMs: 60_000 });
    const saved = [CALL_1, CALL_2, CALL_3].map((callSid, i) => ({ callSid, accountSid: ACCOUNT_A, endedAtMs: clock.now - 3_000, rememberedAtMs: clock.now - 3_000 + i }));
    expect(registry.restoreEnded(saved.reverse())).toBe(2);
    expect(registry.track(CALL_1, ACCOUNT_A, 'event_streams')).toBe('tracked');
    expect(registry.track(CALL_3, ACCOUNT_A, 'event_streams')).toBe('ended');
  });

  it('defaults to max(10000, max_calls) calls and 4 hours', () => {
    const { registry, clock } = setup({ maxCalls: 20_000 });
    for (let i = 0; i < 20_001; i++) registry.end(`CA${i.toString(16).padStart(32, '0')}`, ACCOUNT_A);
    expect(registry.rememberedEnded).toBe(20_000);
    clock.now += 4 * 3600_000;
    registry.sweep();
    expect(registry.rememberedEnded).toBe(0);
  });
});
