import { describe, expect, it } from 'vitest';
import { CALL_TYPES, EDGES_BY_CALL_TYPE } from '../../../src/samples/sample.ts';
import { DEMO_ACCOUNT } from '../../../src/simulator/demo-account.ts';
import { Simulator } from '../../../src/simulator/simulator.ts';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);

function clock(start = T0): { now: () => number; advance: (seconds: number) => void } {
  let now = start;
  return { now: () => now, advance: (seconds) => (now += seconds * 1000) };
}

describe('simulator model: lifecycle and visibility', () => {
  it('makes a sample visible only once now >= timestamp + lag', () => {
    const c = clock();
    const sim = new Simulator({ now: c.now, lagSeconds: 90 });
    const call = sim.createCall({ type: 'carrier', timestampPrecision: 'seconds' });
    c.advance(99);
    expect(sim.visibleSamples(call.sid)).toEqual([]);
    c.advance(1); // first sample at T0+10 s, visible at T0+100 s
    expect(sim.visibleSamples(call.sid).map((r) => [r.timestamp, r.direction])).toEqual([
      ['2026-11-27T10:00:10Z', 'inbound'],
      ['2026-11-27T10:00:10Z', 'outbound'],
    ]);
    c.advance(9.999);
    expect(sim.visibleSamples(call.sid)).toHaveLength(2);
    c.advance(0.001);
    expect(sim.visibleSamples(call.sid)).toHaveLength(4);
    sim.setVariant({ lagSeconds: 0 });
    expect(sim.visibleCount(call)).toBe(11);
  });

  it('freezes the sample set once the call ends', () => {
    const c = clock();
    const sim = new Simulator({ now: c.now, lagSeconds: 10 });
    const call = sim.createCall({ type: 'client', timestampPrecision: 'milliseconds' });
    c.advance(65);
    sim.endCall(call.sid);
    const atEnd = sim.visibleSamples(call.sid);
    expect(atEnd).toHaveLength(5 * 3);
    c.advance(3600);
    const later = sim.visibleSamples(call.sid);
    expect(later.length).toBeGreaterThan(atEnd.length); // the lag still released the last ones
    expect(later).toHaveLength(6 * 3); // 6 windows x (sdk both + client_edge in/out)
    c.advance(3600);
    expect(sim.visibleSamples(call.sid)).toEqual(later);
    expect(sim.statusOf(call)).toBe('completed');
  });

  it('ends calls with a duration by themselves and moves ringing -> in-progress -> completed', () => {
    const c = clock();
    const sim = new Simulator({ now: c.now, lagSeconds: 0 });
    const call = sim.createCall({ type: 'sip', ringingSeconds: 5, durationSeconds: 30 });
    expect(sim.statusOf(call)).toBe('ringing');
    expect(sim.visibleCount(call)).toBe(0);
    c.advance(6);
    expect(sim.statusOf(call)).toBe('in-progress');
    c.advance(40);
    expect(sim.statusOf(call)).toBe('completed');
    expect(sim.visibleCount(call)).toBe(3);
    const canceled = sim.createCall({ type: 'sip', ringingSeconds: 30 });
    c.advance(5);
    sim.endCall(canceled.sid);
    expect(sim.statusOf(canceled)).toBe('canceled');
  });

  it('creates a call with one simulated hour of history at once', () => {
    const sim = new Simulator({ now: clock().now, lagSeconds: 0 });
    const call = sim.createCall({ type: 'trunking_terminating', ageSeconds: 3600, timestampPrecision: 'seconds' });
    expect(sim.visibleCount(call)).toBe(360);
    const samples = sim.visibleSamples(call.sid);
    expect(samples).toHaveLength(360 * 4); // sip_edge and carrier_edge, in and out
    expect(samples[0]?.timestamp).toBe('2026-11-27T09:00:10Z');
    expect(samples.at(-1)?.timestamp).toBe('2026-11-27T10:00:00Z');
    expect(new Set(samples.map((s) => s.edge))).toEqual(new Set(EDGES_BY_CALL_TYPE.trunking_terminating));
  });

  it('chooses the timestamp precision per call so none is lost', () => {
    const sim = new Simulator({ now: () => T0 + 123, lagSeconds: 0 });
    const formats = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const call = sim.createCall({ type: 'carrier', ageSeconds: 30 });
      for (const sample of sim.visibleSamples(call.sid)) formats.add(sample.timestamp.includes('.') ? 'ms' : 's');
    }
    expect(formats).toEqual(new Set(['ms', 's']));
  });

  it('validates createCall input with clear messages', () => {
    const sim = new Simulator({ now: clock().now });
    expect(() => sim.createCall({ type: 'pigeon' as never })).toThrow(/type must be one of carrier/);
    expect(() => sim.createCall({ type: 'sip', accountSid: 'AC00000000000000000000000000000000' })).toThrow(/not a configured account/);
    expect(() => sim.createCall({ type: 'sip', sid: 'CA123' })).toThrow(/sid must match/);
    expect(() => sim.createCall({ type: 'sip', ageSeconds: -1 })).toThrow(/age_seconds must be a number >= 0/);
    const call = sim.createCall({ type: 'sip' });
    expect(() => sim.createCall({ type: 'sip', sid: call.sid })).toThrow(/already exists/);
    expect(() => sim.endCall('CA00000000000000000000000000000000')).toThrow(/does not exist/);
  });

  it('gives the same calls and samples for the same seed and clock', () => {
    const run = (seed: number): unknown[] => {
      const sim = new Simulator({ now: clock().now, seed, lagSeconds: 0 });
      return CALL_TYPES.map((type) => sim.visibleSamples(sim.createCall({ type, ageSeconds: 120 }).sid));
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('holds 10,000 calls cheaply: history is computed on read, never stored', () => {
    const sim = new Simulator({ now: clock().now, lagSeconds: 0 });
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) {
      sim.createCall({ type: CALL_TYPES[i % CALL_TYPES.length] ?? 'carrier', ageSeconds: 3600 });
    }
    const elapsedMs = performance.now() - started;
    const grownMb = (process.memoryUsage().heapUsed - before) / 1e6;
    expect(elapsedMs).toBeLessThan(5000);
    // Each call is a dozen fields; stored samples would need ~1,440 records x ~1 kB per call.
    expect(grownMb).toBeLessThan(40);
    expect(sim.listCalls()).toHaveLength(10_000);
    expect(sim.accounts.accountSids()).toEqual([DEMO_ACCOUNT.accountSid]);
  });
});
