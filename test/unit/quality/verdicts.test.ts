import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, DEFAULT_WINDOW, ISSUES } from '../../../src/quality/thresholds.ts';
import type { Issue, ThresholdRule, VerdictWindow } from '../../../src/quality/thresholds.ts';
import { StreamVerdicts, compileRules, issuesOf } from '../../../src/quality/verdicts.ts';
import type { Edge, SampleValues } from '../../../src/samples/sample.ts';

// A value past each default rule's threshold and one just inside it, per edge kind.
const CASES: Array<{ name: string; edge: Edge; issue: Issue; bad: SampleValues; good: SampleValues }> = [
  { name: 'SDK RTT > 400 ms', edge: 'sdk_edge', issue: 'high_rtt', bad: { rttSeconds: 0.401 }, good: { rttSeconds: 0.4 } },
  { name: 'SDK MOS < 3.5', edge: 'sdk_edge', issue: 'low_mos', bad: { mos: 3.49 }, good: { mos: 3.5 } },
  { name: 'SDK jitter > 30 ms', edge: 'sdk_edge', issue: 'high_jitter', bad: { jitterSeconds: 0.031 }, good: { jitterSeconds: 0.03 } },
  { name: 'SDK loss > 1 %', edge: 'sdk_edge', issue: 'high_packet_loss', bad: { packetLossRatio: 0.011 }, good: { packetLossRatio: 0.01 } },
  ...(['carrier_edge', 'sip_edge', 'client_edge'] as const).flatMap((edge) => [
    {
      name: `${edge} jitter avg > 5 ms and max > 30 ms`,
      edge,
      issue: 'high_jitter' as const,
      bad: { jitterAvgSeconds: 0.006, jitterMaxSeconds: 0.031 },
      good: { jitterAvgSeconds: 0.005, jitterMaxSeconds: 0.031 },
    },
    { name: `${edge} loss > 5 %`, edge, issue: 'high_packet_loss' as const, bad: { packetLossRatio: 0.051 }, good: { packetLossRatio: 0.05 } },
  ]),
];

function replay(edge: Edge, seq: readonly SampleValues[], rules: readonly ThresholdRule[] = DEFAULT_RULES, window: VerdictWindow = DEFAULT_WINDOW): Issue[][] {
  const v = new StreamVerdicts(compileRules(rules, window), edge);
  return seq.map((values) => issuesOf(v.push(values)));
}

describe('live quality verdicts, 3 of the last 5 samples', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      const { bad: B, good: G } = c;
      const raised = (r: Issue[]): boolean => r.includes(c.issue);

      it('raises at the third bad sample, not the second', () => {
        expect(replay(c.edge, [B, B, B]).map(raised)).toEqual([false, false, true]);
      });

      it('raises when the third bad sample is still inside the window (B G B G B), not once the first fell out (B G G G B B)', () => {
        expect(replay(c.edge, [B, G, B, G, B]).map(raised)).toEqual([false, false, false, false, true]);
        expect(replay(c.edge, [B, G, G, G, B, B]).map(raised)).toEqual([false, false, false, false, false, false]);
        // The sixth sample pushes the first B out: still 2 bad in the window.
        expect(replay(c.edge, [B, B, G, G, G, B]).map(raised)).toEqual([false, false, false, false, false, false]);
      });

      it('stays raised while any bad sample is in the window and clears when the last one leaves it', () => {
        const r = replay(c.edge, [B, B, B, G, G, G, G, G]).map(raised);
        // Raised at 3; the window [B,G,G,G,G] at sample 7 still holds one bad; sample 8 holds none.
        expect(r).toEqual([false, false, true, true, true, true, true, false]);
      });

      it('a value exactly at the threshold is not bad', () => {
        expect(replay(c.edge, [G, G, G, G, G]).flat()).toEqual([]);
      });

      it('a sample without the field is not judged and does not move the window', () => {
        expect(replay(c.edge, [B, B, {}, {}, {}, B]).map(raised)).toEqual([false, false, false, false, false, true]);
      });
    });
  }

  it('gateway jitter needs both the average and the maximum past their limits', () => {
    const onlyMax = { jitterAvgSeconds: 0.001, jitterMaxSeconds: 0.5 };
    const onlyAvg = { jitterAvgSeconds: 0.02, jitterMaxSeconds: 0.02 };
    expect(replay('carrier_edge', [onlyMax, onlyMax, onlyMax, onlyAvg, onlyAvg, onlyAvg]).flat()).toEqual([]);
  });

  it('SDK rules do not apply to gateway edges and gateway rules not to the SDK edge', () => {
    const awful: SampleValues = { mos: 1, rttSeconds: 2, jitterSeconds: 1, packetLossRatio: 0.03, jitterAvgSeconds: 1, jitterMaxSeconds: 1 };
    // Loss 3 % is bad at the SDK (> 1 %) but not at a gateway (> 5 %); MOS and RTT exist only at the SDK.
    expect(replay('sip_edge', [awful, awful, awful]).at(-1)).toEqual(['high_jitter']);
    expect(replay('sdk_edge', [awful, awful, awful]).at(-1)).toEqual(['high_rtt', 'low_mos', 'high_jitter', 'high_packet_loss']);
  });

  it('rules and window are data: a config row changes the threshold and the window', () => {
    const rules: ThresholdRule[] = [{ issue: 'low_mos', edges: ['sdk_edge'], conditions: [{ field: 'mos', below: 3 }], source: 'test' }];
    const window = { samples: 10, raiseAt: 3, clearAt: 0 };
    const mos = (m: number): SampleValues => ({ mos: m });
    expect(replay('sdk_edge', [mos(3.2), mos(3.2), mos(3.2)], rules, window).flat()).toEqual([]);
    const seq = [mos(2), ...Array<SampleValues>(7).fill(mos(4)), mos(2), mos(2), mos(4)];
    // The 10th sample brings the third bad one within the last 10 (the first is still in): raised.
    const r = replay('sdk_edge', seq, rules, window);
    expect(r.map((x) => x.length > 0)).toEqual([false, false, false, false, false, false, false, false, false, true, true]);
    // With the default 5-sample window the first bad sample has long left: never raised.
    expect(replay('sdk_edge', seq, rules).flat()).toEqual([]);
  });

  it('every issue of the closed set has a default rule on the SDK edge', () => {
    for (const issue of ISSUES) expect(DEFAULT_RULES.some((r) => r.issue === issue && r.edges.includes('sdk_edge')), issue).toBe(true);
  });
});

describe('every field a threshold can test', () => {
  it('is read from the sample under its own name: past the threshold raises, short of it does not, absent is not judged', async () => {
    const { THRESHOLD_FIELDS } = await import('../../../src/quality/thresholds.ts');
    const once: VerdictWindow = { samples: 1, raiseAt: 1, clearAt: 0 };
    for (const [field, key] of Object.entries(THRESHOLD_FIELDS) as Array<[keyof typeof THRESHOLD_FIELDS, keyof SampleValues]>) {
      // Other fields far past any threshold, so a rule that read one of them instead would raise.
      const others = Object.fromEntries(Object.values(THRESHOLD_FIELDS).filter((k) => k !== key).map((k) => [k, 1e6])) as SampleValues;
      const rules = compileRules([{ issue: 'low_mos', edges: ['sdk_edge'], conditions: [{ field, above: 0.5 }], source: 'test' }], once);
      const v = new StreamVerdicts(rules, 'sdk_edge');
      expect(v.push({ ...others, [key]: 0.1 }), `${field} short of the threshold`).toBe(0);
      expect(v.push({ ...others, [key]: 1 }), `${field} past the threshold`).not.toBe(0);
      expect(v.push({ ...others }), `${field} absent: not judged, the raised issue stays`).not.toBe(0);
    }
  });
});
