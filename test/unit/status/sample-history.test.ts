import { describe, expect, it } from 'vitest';
import { streamKey } from '../../../src/samples/sample.ts';
import { SampleHistory } from '../../../src/status/sample-history.ts';
import { TrackingLog } from '../../../src/status/tracking-log.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT_A, CALL_1, CALL_2, T0, sample } from '../store/sample-builder.ts';

describe('SampleHistory (the status page\u2019s sample ring)', () => {
  it('keeps the last N samples per stream, oldest first, NaN where Twilio sent nothing, and forgets removed calls', () => {
    const store = new SampleStore({ backfill: true });
    const history = new SampleHistory(4);
    store.addListener(history);
    store.addCall(CALL_1, ACCOUNT_A, T0);
    store.apply([1, 2, 3, 4, 5, 6].map((at) => sample({ at, values: at === 5 ? {} : { mos: at, packetLossRatio: at / 100 } })));
    store.apply([sample({ at: 1, edge: 'carrier_edge', direction: 'inbound', values: { jitterAvgSeconds: 0.007 } })]);
    const [sdk, carrier] = history.history(CALL_1);
    expect(sdk!.timestampsMs).toEqual([3, 4, 5, 6].map((at) => T0 + at * 1000));
    expect(sdk!.values.mos).toEqual([3, 4, Number.NaN, 6]);
    expect(sdk!.values.packetLossRatio.map((v) => Math.round(v * 100))).toEqual([3, 4, Number.NaN, 6]);
    // Gateways have no interval jitter: their running average is drawn instead.
    expect(carrier!.values.jitterSeconds[0]).toBeCloseTo(0.007, 6);
    store.removeCall(CALL_1);
    expect(history.history(CALL_1)).toEqual([]);
  });

  it('starts a new ring for a removed call that comes back, though the store resumes the same stream objects', () => {
    const store = new SampleStore({ backfill: true });
    const history = new SampleHistory(4);
    store.addListener(history);
    store.addCall(CALL_1, ACCOUNT_A, T0);
    store.apply([1, 2].map((at) => sample({ at, values: { mos: at } })));
    const stream = store.get(CALL_1)!.streams.get(streamKey('sdk_edge', 'both'));
    store.removeCall(CALL_1);
    store.addCall(CALL_1, ACCOUNT_A, T0);
    expect(store.get(CALL_1)!.streams.get(streamKey('sdk_edge', 'both'))).toBe(stream);
    store.apply([sample({ at: 3, values: { mos: 3 } })]);
    expect(history.history(CALL_1).map((h) => h.values.mos)).toEqual([[3]]);
    store.apply([sample({ at: 4, callSid: CALL_2, values: { mos: 4 } })]);
    expect(history.history(CALL_2)).toEqual([]);
  });
});

describe('TrackingLog (why a call is not tracked)', () => {
  it('remembers refusals and removals up to its limit, and forgets a call tracked again', () => {
    let now = T0;
    const log = new TrackingLog(() => now, 2);
    log.onRefused(CALL_1, 'discovery', 'max_calls');
    now += 1000;
    log.onRemoved({ callSid: CALL_2, accountSid: ACCOUNT_A, sources: new Set(['config']), trackedAtMs: T0 - 5000, endedAtMs: T0 - 1000, hints: undefined });
    expect(log.get(CALL_1)).toEqual({ reason: 'max_calls', atMs: T0, source: 'discovery' });
    expect(log.get(CALL_2)).toEqual({ reason: 'removed', atMs: T0 + 1000, endedAtMs: T0 - 1000 });
    log.onRefused('CAcccccccccccccccccccccccccccccccc', 'webhook', 'not_owned');
    expect(log.get(CALL_1)).toBeUndefined();
    log.onTracked({ callSid: CALL_2, accountSid: ACCOUNT_A, sources: new Set(['admin']), trackedAtMs: now, endedAtMs: undefined, hints: undefined });
    expect(log.get(CALL_2)).toBeUndefined();
  });
});
