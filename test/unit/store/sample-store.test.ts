import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SampleStore } from '../../../src/store/sample-store.ts';
import type { CallState, SampleListener, SampleStoreOptions } from '../../../src/store/sample-store.ts';
import type { Sample } from '../../../src/samples/sample.ts';
import { ACCOUNT_A, ACCOUNT_B, CALL_1, CALL_2, T0, sample } from './sample-builder.ts';

interface Seen {
  sample: Sample;
  callSid: string;
  observe: boolean;
}

// A store holding CALL_1 (tracked at T0 + 1 h, so samples near T0 are history) and a recording listener.
function setup(options: SampleStoreOptions = { backfill: false }, trackedAtMs = T0) {
  const store = new SampleStore(options);
  const seen: Seen[] = [];
  const removed: string[] = [];
  const listener: SampleListener = {
    onSample: (s, call, observe) => seen.push({ sample: s, callSid: call.callSid, observe }),
    onCallRemoved: (call) => removed.push(call.callSid),
  };
  store.addListener(listener);
  store.addCall(CALL_1, ACCOUNT_A, trackedAtMs);
  return { store, seen, removed };
}

describe('SampleStore exactly once', () => {
  it('applies the same sample once when it arrives twice', () => {
    const { store, seen } = setup();
    const s = sample({ at: 10 });

    expect(store.apply([s])).toEqual({ applied: 1, observed: 1, duplicates: 0, tooLate: 0 });
    expect(store.apply([s])).toEqual({ applied: 0, observed: 0, duplicates: 1, tooLate: 0 });
    expect(store.apply([s, s])).toEqual({ applied: 0, observed: 0, duplicates: 2, tooLate: 0 });
    expect(seen).toHaveLength(1);
  });

  it('applies a batch out of order oldest first and each sample once', () => {
    const { store, seen } = setup();
    const batch = [sample({ at: 30 }), sample({ at: 10 }), sample({ at: 20 }), sample({ at: 10 })];

    expect(store.apply(batch)).toEqual({ applied: 3, observed: 3, duplicates: 1, tooLate: 0 });
    expect(seen.map((e) => e.sample.timestampMs - T0)).toEqual([10_000, 20_000, 30_000]);
    expect(store.lastTimestamp(CALL_1, 'sdk_edge', 'both')).toBe(T0 + 30_000);
  });

  it('applies only the new part of overlapping batches', () => {
    const { store, seen } = setup();
    store.apply([10, 20, 30].map((at) => sample({ at })));

    expect(store.apply([20, 30, 40, 50].map((at) => sample({ at })))).toEqual({ applied: 2, observed: 2, duplicates: 2, tooLate: 0 });
    expect(store.apply([10, 20, 30, 40, 50].map((at) => sample({ at })))).toEqual({ applied: 0, observed: 0, duplicates: 5, tooLate: 0 });
    expect(seen.map((e) => (e.sample.timestampMs - T0) / 1000)).toEqual([10, 20, 30, 40, 50]);
  });

  it('keeps exactly-once state per stream, so directions and edges do not shadow each other', () => {
    const { store, seen } = setup();
    store.apply([sample({ edge: 'carrier_edge', direction: 'inbound', at: 50 })]);

    const r = store.apply([
      sample({ edge: 'carrier_edge', direction: 'outbound', at: 41 }),
      sample({ edge: 'sip_edge', direction: 'inbound', at: 30 }),
      sample({ edge: 'carrier_edge', direction: 'inbound', at: 50 }),
    ]);

    expect(r).toEqual({ applied: 2, observed: 2, duplicates: 1, tooLate: 0 });
    expect(seen.map((e) => `${e.sample.edge}/${e.sample.direction}`)).toEqual([
      'carrier_edge/inbound',
      'sip_edge/inbound',
      'carrier_edge/outbound',
    ]);
  });

  it('observes a late sample older than the newest once, without taking the gauges back in time', () => {
    const { store, seen } = setup();
    store.apply([sample({ at: 20, values: { mos: 4.1 } })]);

    expect(store.apply([sample({ at: 10, values: { mos: 2.0 } })])).toEqual({ applied: 1, observed: 1, duplicates: 0, tooLate: 0 });
    expect(store.apply([sample({ at: 10 })])).toEqual({ applied: 0, observed: 0, duplicates: 1, tooLate: 0 });
    expect(seen.map((e) => (e.sample.timestampMs - T0) / 1000)).toEqual([20, 10]);
    expect(store.get(CALL_1)!.streams.get('sdk_edge/both')).toMatchObject({ lastTimestampMs: T0 + 20_000, values: { mos: 4.1 } });
  });

  it('refuses and counts a never-seen sample older than max_sample_lateness behind its stream, and keeps refusing it', () => {
    const { store, seen } = setup({ backfill: false, maxSampleLatenessMs: 50_000 });
    store.apply([0, 10, 30, 40, 50, 60, 70, 80].map((at) => sample({ at })));

    expect(store.apply([sample({ at: 20 })])).toEqual({ applied: 0, observed: 0, duplicates: 0, tooLate: 1 });
    expect(store.apply([sample({ at: 20 }), sample({ at: 10 })])).toEqual({ applied: 0, observed: 0, duplicates: 1, tooLate: 1 });
    expect(seen).toHaveLength(8);
  });

  it('ignores samples of calls it does not hold, without counting them as duplicates', () => {
    const { store, seen } = setup();

    expect(store.apply([sample({ callSid: CALL_2, at: 10 }), sample({ at: 10 })])).toEqual({ applied: 1, observed: 1, duplicates: 0, tooLate: 0 });
    expect(seen.map((e) => e.callSid)).toEqual([CALL_1]);
    expect(store.get(CALL_2)).toBeUndefined();
  });
});

describe('SampleStore gauges', () => {
  it('shows the values of the newest sample of each stream', () => {
    const { store } = setup();
    store.apply([sample({ at: 20, values: { mos: 3.1 } }), sample({ at: 10, values: { mos: 4.4 } })]);
    store.apply([sample({ edge: 'client_edge', direction: 'inbound', at: 5, values: { packetsReceived: 9 } })]);

    const streams = store.get(CALL_1)!.streams;
    expect(streams.get('sdk_edge/both')).toMatchObject({ lastTimestampMs: T0 + 20_000, values: { mos: 3.1 } });
    expect(streams.get('client_edge/inbound')).toMatchObject({ lastTimestampMs: T0 + 5_000, values: { packetsReceived: 9 } });

    store.apply([sample({ at: 30, values: { mos: 2.2 } })]);
    expect(streams.get('sdk_edge/both')).toMatchObject({ lastTimestampMs: T0 + 30_000, values: { mos: 2.2 } });
  });

  it('updates a stream in place, so expositions can cache per-stream text by its identity', () => {
    const { store } = setup();
    store.apply([sample({ edge: 'sip_edge', direction: 'outbound', at: 1 })]);
    const stream = store.get(CALL_1)!.streams.get('sip_edge/outbound')!;

    store.apply([sample({ edge: 'sip_edge', direction: 'outbound', at: 2 })]);

    expect(store.get(CALL_1)!.streams.get('sip_edge/outbound')).toBe(stream);
    expect(stream).toMatchObject({ edge: 'sip_edge', direction: 'outbound', lastTimestampMs: T0 + 2_000 });
  });

  it('keeps the codec and media region of the newest sample that named one', () => {
    const { store } = setup();
    store.apply([sample({ at: 1, codecName: 'pcmu', region: 'us1' }), sample({ at: 2 })]);
    expect(store.get(CALL_1)).toMatchObject({ codecName: 'pcmu', mediaRegion: 'us1' });

    store.apply([sample({ at: 3, codecName: 'opus' })]);
    expect(store.get(CALL_1)).toMatchObject({ codecName: 'opus', mediaRegion: 'us1' });
  });

  it('records the call type of a held call and ignores one for an unknown call', () => {
    const { store } = setup();
    store.setCallType(CALL_1, ACCOUNT_A, 'client');
    store.setCallType(CALL_2, ACCOUNT_A, 'sip');

    expect(store.get(CALL_1)!.callType).toBe('client');
    expect(store.get(CALL_2)).toBeUndefined();
    // Another account's summary of the SID changes nothing, held or waiting (probe L #1).
    store.setCallType(CALL_1, ACCOUNT_B, 'trunking');
    store.setSummary(CALL_1, ACCOUNT_B, { processingState: 'complete', rank: 2, tagCount: 3 });
    expect([store.get(CALL_1)!.callType, store.get(CALL_1)!.summary]).toEqual(['client', undefined]);
    store.addCall(CALL_2, ACCOUNT_B, T0);
    expect(store.get(CALL_2)!.callType).toBeUndefined();
    store.removeCall(CALL_2);
    expect(store.addCall(CALL_2, ACCOUNT_A, T0).callType).toBe('sip');
  });
});

describe('SampleStore call type', () => {
  it('names the call type from the edges with data as each new edge shows up, until a Summary names it', () => {
    const store = new SampleStore({ backfill: true, now: () => T0 });
    store.addCall(CALL_1, ACCOUNT_A, T0);
    expect(store.get(CALL_1)?.callType).toBeUndefined();
    store.apply([sample({ edge: 'carrier_edge', direction: 'inbound', at: 0 })]);
    expect(store.get(CALL_1)?.callType).toBe('carrier');
    store.apply([sample({ edge: 'sip_edge', direction: 'inbound', at: 0 })]);
    expect(store.get(CALL_1)?.callType).toBe('trunking');
    store.setCallType(CALL_1, ACCOUNT_A, 'whatsapp');
    store.apply([sample({ edge: 'sdk_edge', direction: 'both', at: 0 })]);
    expect(store.get(CALL_1)?.callType).toBe('whatsapp');
  });
});

describe('SampleStore history and backfill', () => {
  const tracked = T0 + 3_600_000;

  it('applies samples older than trackedAt - historyWindow but does not observe them', () => {
    const { store, seen } = setup({ backfill: false, historyWindowMs: 120_000 }, tracked);
    const old = sample({ at: 3600 - 121 });
    const edge = sample({ at: 3600 - 120 });
    const fresh = sample({ at: 3600 + 10 });

    expect(store.apply([old, edge, fresh])).toEqual({ applied: 3, observed: 2, duplicates: 0, tooLate: 0 });
    expect(seen.map((e) => e.observe)).toEqual([false, true, true]);
    // History still moves the gauges: the newest sample is what the per-call series show.
    expect(store.lastTimestamp(CALL_1, 'sdk_edge', 'both')).toBe(fresh.timestampMs);
  });

  it('observes history too when backfill is on', () => {
    const { store, seen } = setup({ backfill: true, historyWindowMs: 120_000 }, tracked);

    expect(store.apply([sample({ at: 0 }), sample({ at: 3600 })])).toEqual({ applied: 2, observed: 2, duplicates: 0, tooLate: 0 });
    expect(seen.map((e) => e.observe)).toEqual([true, true]);
  });

  it('defaults the history window to 120 s', () => {
    const { store, seen } = setup({ backfill: false }, tracked);
    store.apply([sample({ at: 3600 - 121 }), sample({ at: 3600 - 119 })]);

    expect(seen.map((e) => e.observe)).toEqual([false, true]);
  });

  it('keeps the first trackedAt when a call is added again', () => {
    const { store } = setup({ backfill: false }, tracked);
    const again = store.addCall(CALL_1, ACCOUNT_B, T0);

    expect(again.trackedAtMs).toBe(tracked);
    expect(again.accountSid).toBe(ACCOUNT_A);
    expect(store.size).toBe(1);
  });
});

describe('SampleStore removed calls of two accounts', () => {
  // Probe G #4: after an admin DELETE of account B's live call, a PUT naming account A tracked the SID for A (Twilio
  // answered 404, so it ended). Its removal parked A's empty state over B's, and B's call, announced again by its
  // discovery, counted every sample again.
  it('keeps each account\'s exactly-once state of a SID apart, so one account tracking the SID never erases another\'s', () => {
    const store = new SampleStore({ backfill: true, now: () => T0 });
    const samples = [0, 10, 20].map((at) => sample({ accountSid: ACCOUNT_B, at }));
    store.addCall(CALL_1, ACCOUNT_B, T0);
    expect(store.apply(samples).applied).toBe(3);
    store.removeCall(CALL_1);
    // Tracked for the wrong account: a fresh state, and B's stays parked.
    expect(store.addCall(CALL_1, ACCOUNT_A, T0).streams.size).toBe(0);
    store.removeCall(CALL_1);
    store.addCall(CALL_1, ACCOUNT_B, T0);
    expect(store.apply(samples)).toMatchObject({ applied: 0, duplicates: 3 });
    expect(store.apply([sample({ accountSid: ACCOUNT_B, at: 30 })]).applied).toBe(1);
  });
});

describe('SampleStore after a removed call\u2019s state expired', () => {
  // Probe K #1: the registry remembers an ended call for 4 h (Twilio's retry horizon), the store its exactly-once
  // state for max_sample_lateness + 2 min. A call tracked again after that started over, and a redelivered sample of
  // it counted twice.
  it('refuses, as too late, the samples of a call tracked again after its exactly-once state expired, and counts them', () => {
    let now = T0;
    const store = new SampleStore({ backfill: true, now: () => now, maxSampleLatenessMs: 60_000 });
    const samples = [0, 10, 20].map((at) => sample({ at }));
    store.addCall(CALL_1, ACCOUNT_A, T0);
    expect(store.apply(samples).applied).toBe(3);
    store.removeCall(CALL_1);
    now += 60_000 + 120_000 + 1;
    store.sweep();
    expect(store.parkedSize).toBe(0);
    store.addCall(CALL_1, ACCOUNT_A, now, { ended: true });
    expect(store.apply(samples)).toMatchObject({ applied: 0, tooLate: 3 });
    // A call never held before (its end came before its first metrics) is applied as usual.
    store.addCall(CALL_2, ACCOUNT_A, now, { ended: true });
    expect(store.apply([sample({ callSid: CALL_2, at: 0 })]).applied).toBe(1);
  });

  it('lets a live call tracked again after its state expired start over (a live call is not a redelivery)', () => {
    let now = T0;
    const store = new SampleStore({ backfill: true, now: () => now, maxSampleLatenessMs: 60_000 });
    store.addCall(CALL_1, ACCOUNT_A, T0);
    store.apply([0, 10].map((at) => sample({ at })));
    store.removeCall(CALL_1);
    now += 60_000 + 120_000 + 1;
    store.sweep();
    store.addCall(CALL_1, ACCOUNT_A, now);
    expect(store.apply([sample({ at: 200 })]).applied).toBe(1);
  });
});

describe('SampleStore listeners and removal', () => {
  it('calls every listener once per new sample with the call state', () => {
    const { store, seen } = setup();
    const second: string[] = [];
    store.addListener({ onSample: (s: Sample, call: Readonly<CallState>) => second.push(`${call.accountSid}@${s.timestampMs - T0}`) });

    store.apply([sample({ at: 1 }), sample({ at: 2 })]);
    store.apply([sample({ at: 2 }), sample({ at: 3 })]);

    expect(seen).toHaveLength(3);
    expect(second).toEqual([`${ACCOUNT_A}@1000`, `${ACCOUNT_A}@2000`, `${ACCOUNT_A}@3000`]);
  });

  it('removeCall fires onCallRemoved once and drops the call and its streams', () => {
    const { store, seen, removed } = setup();
    store.addCall(CALL_2, ACCOUNT_B, T0);
    store.apply([sample({ at: 1 }), sample({ callSid: CALL_2, accountSid: ACCOUNT_B, at: 1 })]);

    expect(store.removeCall(CALL_1)).toBe(true);
    expect(store.removeCall(CALL_1)).toBe(false);

    expect(removed).toEqual([CALL_1]);
    expect(store.get(CALL_1)).toBeUndefined();
    expect(store.lastTimestamp(CALL_1, 'sdk_edge', 'both')).toBeUndefined();
    expect([...store.calls()].map((c) => c.callSid)).toEqual([CALL_2]);
    expect(store.size).toBe(1);

    // A poll that was in flight when the call went away applies nothing.
    expect(store.apply([sample({ at: 2 })])).toEqual({ applied: 0, observed: 0, duplicates: 0, tooLate: 0 });
    expect(seen).toHaveLength(2);
  });

  it('resumes a removed call announced again: nothing applied twice, tracking time kept', () => {
    let now = T0;
    const { store, seen } = setup({ backfill: false, now: () => now });
    store.apply([sample({ at: 10 }), sample({ at: 20 })]);
    store.removeCall(CALL_1);
    expect(store.parkedSize).toBe(1);

    now += 60_000;
    const back = store.addCall(CALL_1, ACCOUNT_A, now);
    expect(back.trackedAtMs).toBe(T0);
    expect(store.parkedSize).toBe(0);
    expect(store.apply([10, 20, 30].map((at) => sample({ at })))).toEqual({ applied: 1, observed: 1, duplicates: 2, tooLate: 0 });
    expect(seen.map((e) => (e.sample.timestampMs - T0) / 1000)).toEqual([10, 20, 30]);
  });

  it('forgets a removed call after the parked retention and past the parked cap', () => {
    let now = T0;
    const { store } = setup({ backfill: true, now: () => now, parkedRetentionMs: 60_000, maxParked: 1 });
    store.addCall(CALL_2, ACCOUNT_B, T0);
    store.apply([sample({ at: 10 }), sample({ callSid: CALL_2, accountSid: ACCOUNT_B, at: 10 })]);
    store.removeCall(CALL_1);
    store.removeCall(CALL_2);
    expect(store.parkedSize).toBe(1);

    // CALL_1 went first (cap): it starts again from scratch.
    store.addCall(CALL_1, ACCOUNT_A, now);
    expect(store.apply([sample({ at: 10 })]).applied).toBe(1);
    now += 60_001;
    expect(store.sweep()).toBe(1);
    store.addCall(CALL_2, ACCOUNT_B, now);
    expect(store.get(CALL_2)!.trackedAtMs).toBe(now);
    expect(store.parkedSize).toBe(0);
  });

  it('tells listeners whether a sample is the newest of its stream', () => {
    const { store } = setup();
    const flags: Array<[number, boolean | undefined]> = [];
    store.addListener({ onSample: (s, _call, _observe, newest) => flags.push([(s.timestampMs - T0) / 1000, newest]) });

    store.apply([sample({ at: 20 }), sample({ at: 30 })]);
    store.apply([sample({ at: 25 }), sample({ at: 40 })]);

    expect(flags).toEqual([[20, true], [30, true], [25, false], [40, true]]);
  });

  it('gives a batch listener each apply\'s new samples at once, with the same calls and flags a per-sample listener gets', () => {
    const { store, seen } = setup({ backfill: false }, T0 + 3_600_000);
    store.addCall(CALL_2, ACCOUNT_B, T0);
    const perSample: string[] = [];
    store.addListener({ onSample: (s, call, observe, newest) => perSample.push(`${call.callSid}@${(s.timestampMs - T0) / 1000} ${observe} ${newest}`) });
    const batches: string[][] = [];
    store.addListener({
      onSamples: ({ samples, calls, observe, newest }) => {
        expect([calls.length, observe.length, newest.length]).toEqual([samples.length, samples.length, samples.length]);
        batches.push(samples.map((s, i) => `${calls[i]!.callSid}@${(s.timestampMs - T0) / 1000} ${observe[i]} ${newest[i]}`));
      },
    });

    // Out of order, with a duplicate, a late sample, a history sample (CALL_1 is tracked an hour after T0) and a call not held.
    store.apply([sample({ at: 30 }), sample({ at: 20, callSid: CALL_2 }), sample({ at: 30 }), sample({ at: 10, callSid: 'CA' + 'f'.repeat(32) })]);
    store.apply([sample({ at: 10, callSid: CALL_2 }), sample({ at: 3_590 })]);
    store.apply([sample({ at: 30 })]);

    expect(batches).toEqual([perSample.slice(0, 2), perSample.slice(2, 4)]);
    expect(perSample).toEqual([`${CALL_2}@20 true true`, `${CALL_1}@30 false true`, `${CALL_2}@10 true false`, `${CALL_1}@3590 true true`]);
    expect(seen).toHaveLength(4);
  });

  it('takes a listener of removals only, and calls it at removal alone', () => {
    const { store } = setup();
    const removed: string[] = [];
    store.addListener({ onCallRemoved: (call) => removed.push(call.callSid) });

    expect(store.apply([sample({ at: 1 })]).applied).toBe(1);
    store.removeCall(CALL_1);

    expect(removed).toEqual([CALL_1]);
  });

  it('calls a listener with both methods only through onSamples', () => {
    const { store } = setup();
    const calls: string[] = [];
    store.addListener({ onSample: () => calls.push('sample'), onSamples: ({ samples }) => calls.push(`batch of ${samples.length}`) });

    store.apply([sample({ at: 1 }), sample({ at: 2 })]);

    expect(calls).toEqual(['batch of 2']);
  });
});

describe('SampleStore saved state', () => {
  // Probe D #4: a state file of 180,000 calls logged '180000 calls resume' where about 10,000 were kept.
  it('restore counts the calls it keeps, not those past the removed-call cap', () => {
    const now = T0 + 3_600_000;
    const { store } = setup({ backfill: false, now: () => now }, T0);
    const saved = [...store.entries()][0]!.call;
    const entries = Array.from({ length: 5 }, (_, i) => ({ call: { ...saved, callSid: `CA${String(i).padStart(32, '0')}` }, parkedAtMs: now - (5 - i) * 1000 }));
    const next = new SampleStore({ backfill: false, now: () => now, maxParked: 3 });
    expect(next.restore(entries)).toBe(3);
    expect(next.parkedSize).toBe(3);
  });

  it('a store restored from another store\'s entries resumes each call when it is announced again', () => {
    let now = T0 + 3_600_000;
    const { store } = setup({ backfill: false, now: () => now }, T0);
    store.apply([sample({ at: 10, codecName: 'opus' }), sample({ at: 30 })]);
    store.setCallType(CALL_1, ACCOUNT_A, 'client');
    const saved = JSON.parse(JSON.stringify([...store.entries()].map((e) => ({ sid: e.call.callSid, parkedAtMs: e.parkedAtMs })))) as unknown[];
    expect(saved).toEqual([{ sid: CALL_1, parkedAtMs: null }]);

    const next = new SampleStore({ backfill: false, now: () => now });
    expect(next.restore(store.entries())).toBe(1);
    expect(next.size).toBe(0);
    now += 60_000;
    const call = next.addCall(CALL_1, ACCOUNT_A, now);

    expect(call).toMatchObject({ trackedAtMs: T0, callType: 'client', codecName: 'opus' });
    expect(next.apply([10, 20, 30, 40].map((at) => sample({ at })))).toEqual({ applied: 2, observed: 2, duplicates: 2, tooLate: 0 });
  });
});

describe('SampleStore exactly once, any arrival order (property)', () => {
  const streams = [
    ['carrier_edge', 'inbound', 10],
    ['carrier_edge', 'outbound', 10],
    ['sdk_edge', 'both', 1],
  ] as const;

  it('observes every sample of every stream once, whatever the batches, order and repeats; gauges end on the newest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 120 })), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        (deliveries, batchSize) => {
          // Lateness is its own rule (tested above): here every delivery is within it.
          const { store, seen } = setup({ backfill: true, maxSampleLatenessMs: 24 * 3_600_000 });
          const batch = deliveries.map(([s, k]) => {
            const [edge, direction, step] = streams[s]!;
            return sample({ edge, direction, at: k * step });
          });
          for (let i = 0; i < batch.length; i += batchSize) store.apply(batch.slice(i, i + batchSize));

          const id = (x: Sample): string => `${x.edge}/${x.direction}@${x.timestampMs}`;
          const distinct = new Set(batch.map(id));
          expect(seen.map((e) => id(e.sample)).sort()).toEqual([...distinct].sort());
          for (const [key, state] of store.get(CALL_1)!.streams) {
            const newest = Math.max(...batch.filter((x) => `${x.edge}/${x.direction}` === key).map((x) => x.timestampMs));
            expect(state.lastTimestampMs).toBe(newest);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
