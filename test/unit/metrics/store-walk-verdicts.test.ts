import { describe, expect, it } from 'vitest';
import { CALL_QUALITY_ISSUE, FLEET_HISTOGRAMS, FLEET_QUALITY_ISSUES } from '../../../src/metrics/definitions.ts';
import { FleetHistograms } from '../../../src/metrics/fleet-histograms.ts';
import { planWalk, walkStore } from '../../../src/metrics/store-walk.ts';
import type { MetricsWriter } from '../../../src/metrics/store-walk.ts';
import type { Subject } from '../../../src/metrics/subject.ts';
import { CallQualityTracker } from '../../../src/quality/call-quality.ts';
import { DEFAULT_RULES, DEFAULT_WINDOW } from '../../../src/quality/thresholds.ts';
import { compileRules } from '../../../src/quality/verdicts.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT_A, CALL_1, T0, sample } from '../store/sample-builder.ts';

// What a writer sees of the verdict families: series, the subject object and the label-cache key of each.
function recorder(): MetricsWriter & { series: Array<[number, string, string, number]>; subjects: Set<Readonly<Subject>>; keys: Array<object | undefined> } {
  const series: Array<[number, string, string, number]> = [];
  const subjects = new Set<Readonly<Subject>>();
  const keys: Array<object | undefined> = [];
  return {
    series,
    subjects,
    keys,
    value(f, s, v) {
      subjects.add(s);
      keys.push(s.key);
      series.push([f, s.issue, s.edge, v]);
    },
    histogram() {
      throw new Error('no histogram in this plan');
    },
  };
}

describe('store walk: the verdict families', () => {
  const fleet = new FleetHistograms(FLEET_HISTOGRAMS);
  const plan = planWalk([CALL_QUALITY_ISSUE, ...FLEET_QUALITY_ISSUES], fleet);

  function setup(): { store: SampleStore; quality: CallQualityTracker } {
    const store = new SampleStore({ backfill: false });
    const quality = new CallQualityTracker(compileRules(DEFAULT_RULES, DEFAULT_WINDOW), { accountSids: [ACCOUNT_A], now: () => T0 });
    store.addListener(quality);
    store.addCall(CALL_1, ACCOUNT_A, T0);
    store.apply([1, 2, 3].map((at) => sample({ at, values: { mos: 3, rttSeconds: 0.5 } })));
    return { store, quality };
  }

  it('emits one series per issue a stream raises and one per fleet cell, through one reused subject', async () => {
    const { store, quality } = setup();
    const w = recorder();
    await walkStore(plan, { store, fleet, activeCalls: () => [], quality }, w);
    expect(w.series.filter(([f]) => f === 0).map(([, issue, edge, v]) => [issue, edge, v])).toEqual([
      ['high_rtt', 'sdk_edge', 1],
      ['low_mos', 'sdk_edge', 1],
    ]);
    // 10 cells (4 issues on sdk_edge, 2 on each gateway edge), each a gauge and a counter.
    expect(w.series.filter(([f]) => f !== 0)).toHaveLength(20);
    expect(w.series).toContainEqual([1, 'low_mos', 'sdk_edge', 1]);
    expect(w.series).toContainEqual([2, 'high_jitter', 'carrier_edge', 0]);
    expect(w.subjects.size).toBe(1);
  });

  it('keys each (stream, issue) series by a distinct object that stays the same across walks', async () => {
    const { store, quality } = setup();
    const first = recorder();
    const second = recorder();
    await walkStore(plan, { store, fleet, activeCalls: () => [], quality }, first);
    await walkStore(plan, { store, fleet, activeCalls: () => [], quality }, second);
    const perCall = (w: ReturnType<typeof recorder>): Array<object | undefined> => w.keys.filter((_k, i) => w.series[i]![0] === 0);
    expect(perCall(first).every((k) => k !== undefined)).toBe(true);
    expect(new Set(perCall(first)).size).toBe(2);
    expect(perCall(second)).toEqual(perCall(first));
    expect(perCall(second)[0]).toBe(perCall(first)[0]);
  });

  it('drops a call from the per-call verdict family once it clears, or is removed, and brings it back when it raises again', async () => {
    const { store, quality } = setup();
    const perCall = async (): Promise<string[]> => {
      const w = recorder();
      await walkStore(plan, { store, fleet, activeCalls: () => [], quality }, w);
      return w.series.filter(([f]) => f === 0).map(([, issue]) => issue);
    };
    expect(await perCall()).toEqual(['high_rtt', 'low_mos']);
    store.apply([4, 5, 6, 7, 8].map((at) => sample({ at, values: { mos: 4.4, rttSeconds: 0.05 } })));
    expect(await perCall()).toEqual([]);
    // The walk asks the tracker for raising calls only: a cleared call is not one (nor kept in its table).
    expect(quality.raising(CALL_1)).toBeUndefined();
    store.apply([9, 10, 11].map((at) => sample({ at, values: { mos: 3, rttSeconds: 0.05 } })));
    expect(await perCall()).toEqual(['low_mos']);
    expect(quality.raising(CALL_1)?.raised).toBeGreaterThan(0);
    store.removeCall(CALL_1);
    expect(await perCall()).toEqual([]);
    expect(quality.raising(CALL_1)).toBeUndefined();
  });

  it('emits nothing for the verdict families when no tracker is given', async () => {
    const { store } = setup();
    const w = recorder();
    await walkStore(plan, { store, fleet, activeCalls: () => [] }, w);
    expect(w.series).toEqual([]);
  });
});
