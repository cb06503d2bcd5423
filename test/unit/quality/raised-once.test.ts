import { describe, expect, it } from 'vitest';
import { CallQualityTracker } from '../../../src/quality/call-quality.ts';
import { DEFAULT_RULES, DEFAULT_WINDOW } from '../../../src/quality/thresholds.ts';
import { ISSUE_BIT, compileRules } from '../../../src/quality/verdicts.ts';
import { streamKey } from '../../../src/samples/sample.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT_A, CALL_1, CALL_2, T0, sample } from '../store/sample-builder.ts';

// The fleet counter of calls that raised an issue counts each call once, also when a removed call comes back;
// the memory of removed calls is bounded, the oldest forgotten first.
describe('calls that raised an issue, counted once', () => {
  function setup(maxRemembered: number): { store: SampleStore; raised: () => number } {
    const store = new SampleStore({ backfill: false });
    const quality = new CallQualityTracker(compileRules(DEFAULT_RULES, DEFAULT_WINDOW), { accountSids: [ACCOUNT_A], now: () => T0, maxRemembered });
    store.addListener(quality);
    const raised = (): number => [...quality.issueCells()].find((c) => c.issue === 'low_mos' && c.edge === 'sdk_edge')!.raisedTotal;
    return { store, raised };
  }
  let at = 0;
  const lowMos = (store: SampleStore, callSid: string): void => {
    store.addCall(callSid, ACCOUNT_A, T0);
    store.apply([1, 2, 3].map(() => sample({ callSid, at: (at += 1), values: { mos: 3 } })));
  };

  it('remembers a removed call: raising again after it comes back does not count it again', () => {
    const { store, raised } = setup(10);
    lowMos(store, CALL_1);
    store.removeCall(CALL_1);
    lowMos(store, CALL_1);
    expect(raised()).toBe(1);
  });

  it('forgets the oldest removed call past maxRemembered', () => {
    const { store, raised } = setup(1);
    lowMos(store, CALL_1);
    lowMos(store, CALL_2);
    store.removeCall(CALL_1);
    store.removeCall(CALL_2);
    expect(raised()).toBe(2);
    // CALL_2 is remembered, CALL_1 was evicted by it.
    lowMos(store, CALL_2);
    expect(raised()).toBe(2);
    lowMos(store, CALL_1);
    expect(raised()).toBe(3);
  });

  it('judges a removed call that comes back with new verdicts, though the store resumes the same stream objects', () => {
    const store = new SampleStore({ backfill: false });
    const quality = new CallQualityTracker(compileRules(DEFAULT_RULES, DEFAULT_WINDOW), { accountSids: [ACCOUNT_A], now: () => T0 });
    store.addListener(quality);
    lowMos(store, CALL_1);
    const stream = store.get(CALL_1)!.streams.get(streamKey('sdk_edge', 'both'));
    const before = quality.get(CALL_1)!.streams.get(streamKey('sdk_edge', 'both'))!;
    expect([quality.raisingCounts().get('low_mos'), before.verdicts.raised]).toEqual([1, ISSUE_BIT.low_mos]);
    store.removeCall(CALL_1);
    expect(quality.raisingCounts().get('low_mos')).toBe(0);
    store.addCall(CALL_1, ACCOUNT_A, T0);
    expect(store.get(CALL_1)!.streams.get(streamKey('sdk_edge', 'both'))).toBe(stream);
    store.apply([sample({ callSid: CALL_1, at: (at += 1), values: { mos: 4.4 } })]);
    const after = quality.get(CALL_1)!.streams.get(streamKey('sdk_edge', 'both'))!;
    expect(after).not.toBe(before);
    expect([quality.raisingCounts().get('low_mos'), after.verdicts.raised, quality.raising(CALL_1)]).toEqual([0, 0, undefined]);
  });
});
