import { describe, expect, it } from 'vitest';
import { CallRegistry } from '../../../src/calls/registry.ts';
import { applyEvents } from '../../../src/events/apply-events.ts';
import type { ParsedEvent } from '../../../src/events/cloud-event.ts';
import { IdDedupe } from '../../../src/events/id-dedupe.ts';
import { PushTracker } from '../../../src/events/push-tracker.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT_A, CALL_1, CALL_2, T0, sample } from '../store/sample-builder.ts';

function setup() {
  const clock = { now: T0 };
  const registry = new CallRegistry({ maxCalls: 10, drainPeriodMs: 1000, retentionMs: 5000, now: () => clock.now });
  const store = new SampleStore({ backfill: true });
  registry.addListener({ onTracked: (c) => store.addCall(c.callSid, c.accountSid, c.trackedAtMs) });
  const deps = { registry, store, dedupe: new IdDedupe({ now: () => clock.now }), pushes: new PushTracker({ now: () => clock.now }), countedTags: new IdDedupe({ now: () => clock.now }) };
  return { clock, registry, store, deps };
}

const metrics = (id: string, at: number, callSid = CALL_1): ParsedEvent => ({ kind: 'call_metrics', id, sample: sample({ at, callSid }) });
const progress = (id: string, name: string, callSid = CALL_1): ParsedEvent => ({ kind: 'call_event', id, callSid, accountSid: ACCOUNT_A, edge: 'carrier_edge', group: 'connection', name, level: 'INFO' });

describe('applyEvents', () => {
  it('puts each fresh event in one count: applied, duplicate sample, too late, or refused at max_calls (probe E #3)', () => {
    const { deps } = setup();
    const registry = new CallRegistry({ maxCalls: 1, drainPeriodMs: 1000, retentionMs: 5000, now: () => T0 });
    registry.addListener({ onTracked: (c) => deps.store.addCall(c.callSid, c.accountSid, c.trackedAtMs) });
    const capped = { ...deps, registry };
    expect(applyEvents([metrics('E1', 700)], capped)).toMatchObject({ events: 1, samples: 1 });
    // 700 s behind the newest: past the store's default lateness (10 min).
    const r = applyEvents([metrics('E2', 0), metrics('E3', 700), metrics('E4', 700, CALL_2)], capped);
    expect(r).toMatchObject({ events: 0, samples: 0, duplicateSamples: 1, tooLate: 1, refused: 1, duplicateEvents: 0 });
  });

  it('tracks a call first seen in a push with source event_streams and records when it was pushed', () => {
    const { registry, deps, clock } = setup();
    const r = applyEvents([metrics('E1', 10), metrics('E2', 20)], deps);
    expect(r).toMatchObject({ events: 2, samples: 2, duplicateEvents: 0 });
    expect(registry.get(CALL_1)?.sources).toEqual(new Set(['event_streams']));
    expect(deps.pushes.lastPushMs(CALL_1)).toBe(clock.now);
  });

  it('applies a batch\'s samples before the completed event that ends the call, and counts repeated ids once', () => {
    const { registry, store, deps } = setup();
    const r = applyEvents([progress('E3', 'completed'), metrics('E1', 10), metrics('E1', 10)], deps);
    expect(r).toMatchObject({ events: 2, samples: 1, duplicateEvents: 1, ended: 1 });
    expect(registry.get(CALL_1)?.endedAtMs).toBeDefined();
    expect(store.get(CALL_1)?.streams.size).toBe(1);
    expect(applyEvents([metrics('E1', 10), progress('E3', 'completed')], deps)).toMatchObject({ events: 0, duplicateEvents: 2 });
  });

  it('ends a call at its first summary; ringing or in-progress events end nothing', () => {
    const { registry, deps } = setup();
    applyEvents([metrics('E1', 10), metrics('E2', 10, CALL_2)], deps);
    expect(applyEvents([progress('E4', 'ringing'), progress('E5', 'in-progress', CALL_2)], deps).ended).toBe(0);
    const summary: ParsedEvent = { kind: 'call_summary', id: 'E6', callSid: CALL_1, accountSid: ACCOUNT_A, callType: 'carrier', tags: ['high_jitter'], processingState: 'partial', edgeTags: [{ tag: 'high_jitter', edge: 'call' }] };
    expect(applyEvents([summary], deps).ended).toBe(1);
    expect(applyEvents([{ ...summary, id: 'E7' }], deps).ended).toBe(0);
    expect(registry.get(CALL_2)?.endedAtMs).toBeUndefined();
  });

  it('counts each (call, edge, tag) once across partial and complete summaries, and keeps the most final summary', () => {
    const { store, deps } = setup();
    applyEvents([metrics('E1', 10)], deps);
    const partial: ParsedEvent = {
      kind: 'call_summary', id: 'S1', callSid: CALL_1, accountSid: ACCOUNT_A, callType: 'client', tags: ['high_jitter'], processingState: 'partial',
      edgeTags: [{ tag: 'high_jitter', edge: 'sdk_edge' }],
    };
    const complete: ParsedEvent = {
      ...partial, id: 'S2', processingState: 'complete',
      edgeTags: [{ tag: 'high_jitter', edge: 'sdk_edge' }, { tag: 'low_mos', edge: 'sdk_edge' }, { tag: 'high_jitter', edge: 'client_edge' }],
    };
    expect(applyEvents([complete], deps).newTags).toEqual([
      { tag: 'high_jitter', edge: 'sdk_edge' }, { tag: 'low_mos', edge: 'sdk_edge' }, { tag: 'high_jitter', edge: 'client_edge' },
    ]);
    // A partial delivered late (any order) adds no count and does not replace the complete summary.
    expect(applyEvents([partial], deps).newTags).toEqual([]);
    expect(store.get(CALL_1)?.summary).toMatchObject({ processingState: 'complete', tagCount: 2 });
    expect(store.get(CALL_1)?.callType).toBe('client');
  });

  it('gives each new call event its bounded labels, unknown names as other', () => {
    const { deps } = setup();
    const r = applyEvents([progress('E1', 'completed'), progress('E2', 'made-up-name'), progress('E2', 'completed')], deps);
    expect(r.callEventLabels).toEqual([
      { name: 'completed', level: 'INFO', group: 'connection', edge: 'carrier_edge' },
      { name: 'other', level: 'INFO', group: 'connection', edge: 'carrier_edge' },
    ]);
  });
});
