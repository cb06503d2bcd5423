import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIRECTIONS, EDGES } from '../../../src/samples/sample.ts';
import { callKey } from '../../../src/simulator/call-profile.ts';
import type { SignalBaseline } from '../../../src/simulator/quality-signal.ts';
import { estimateMos, intervalSignal, streamKey } from '../../../src/simulator/quality-signal.ts';
import { deterministicSid } from '../../../src/simulator/sid.ts';

const baseline = (seed: number, sid: string, degraded: boolean): SignalBaseline => ({
  callKey: callKey(seed, sid),
  baseRttMs: 80,
  baseJitterMs: 3,
  baseLossPercent: 0.2,
  degraded,
});

const sidArb = fc.stringMatching(/^CA[0-9a-f]{32}$/);

describe('quality signal', () => {
  it('is a pure function of (seed, callSid, edge, direction, index)', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        sidArb,
        fc.constantFrom(...EDGES),
        fc.constantFrom(...DIRECTIONS),
        fc.nat(100_000),
        fc.boolean(),
        (seed, sid, edge, direction, index, degraded) => {
          const a = intervalSignal(baseline(seed, sid, degraded), streamKey(seed, sid, edge, direction), index);
          const b = intervalSignal(baseline(seed, sid, degraded), streamKey(seed, sid, edge, direction), index);
          expect(a).toEqual(b);
        },
      ),
    );
  });

  it('changes with the seed', () => {
    const sid = deterministicSid('CA', 'x', 1);
    const series = (seed: number): number[] =>
      Array.from({ length: 50 }, (_, i) => intervalSignal(baseline(seed, sid, false), streamKey(seed, sid, 'sdk_edge', 'both'), i).jitterMs);
    expect(series(1)).not.toEqual(series(2));
  });

  it('keeps every value in its unit range', () => {
    fc.assert(
      fc.property(fc.integer(), sidArb, fc.nat(1_000_000), fc.boolean(), (seed, sid, index, degraded) => {
        const s = intervalSignal(baseline(seed, sid, degraded), streamKey(seed, sid, 'sdk_edge', 'both'), index);
        expect(s.mos).toBeGreaterThanOrEqual(1);
        expect(s.mos).toBeLessThanOrEqual(4.5);
        for (const level of [s.audioIn, s.audioOut]) {
          expect(level).toBeGreaterThanOrEqual(0);
          expect(level).toBeLessThanOrEqual(32767);
        }
        expect(s.jitterMs).toBeGreaterThanOrEqual(0);
        expect(s.jitterPeakMs).toBeGreaterThanOrEqual(s.jitterMs);
        expect(s.rttMs).toBeGreaterThan(0);
        expect(s.lossPercent).toBeGreaterThanOrEqual(0);
        expect(s.lossPercent).toBeLessThanOrEqual(100);
        expect(s.packetsLost).toBeLessThanOrEqual(s.packetsExpected);
        expect(s.lossPercent).toBeCloseTo((100 * s.packetsLost) / s.packetsExpected, 1);
        expect(Number.isInteger(s.packetsExpected) && Number.isInteger(s.packetsLost) && Number.isInteger(s.packetsSent)).toBe(true);
      }),
    );
  });

  it('has mostly good stretches and degradation episodes that cross the alert thresholds', () => {
    const collect = (degraded: boolean): { mos: number[]; jitter: number[]; loss: number[]; rtt: number[] } => {
      const out = { mos: [] as number[], jitter: [] as number[], loss: [] as number[], rtt: [] as number[] };
      for (let c = 0; c < 60; c++) {
        const sid = deterministicSid('CA', 'episodes', c);
        for (let i = 0; i < 360; i++) {
          const s = intervalSignal(baseline(7, sid, degraded), streamKey(7, sid, 'sdk_edge', 'both'), i);
          out.mos.push(s.mos);
          out.jitter.push(s.jitterMs);
          out.loss.push(s.lossPercent);
          out.rtt.push(s.rttMs);
        }
      }
      return out;
    };
    const share = (values: number[], test: (v: number) => boolean): number => values.filter(test).length / values.length;
    const good = collect(false);
    expect(share(good.mos, (m) => m >= 4)).toBeGreaterThan(0.85);
    expect(share(good.mos, (m) => m < 3.5)).toBeGreaterThan(0.005);
    expect(share(good.jitter, (j) => j > 30)).toBeGreaterThan(0.005);
    expect(share(good.loss, (l) => l > 1)).toBeGreaterThan(0.01);
    expect(share(good.loss, (l) => l > 5)).toBeGreaterThan(0.002);
    expect(share(good.rtt, (r) => r > 400)).toBeGreaterThan(0.002);
    const bad = collect(true);
    expect(share(bad.mos, (m) => m < 3.5)).toBeGreaterThan(3 * share(good.mos, (m) => m < 3.5));
  });

  it('estimates MOS like the E-model: near 4.4 when clean, below 3.5 with heavy loss', () => {
    expect(estimateMos(60, 2, 0)).toBeGreaterThan(4.3);
    expect(estimateMos(60, 2, 8)).toBeLessThan(3.5);
    expect(estimateMos(900, 80, 50)).toBe(1);
  });
});
