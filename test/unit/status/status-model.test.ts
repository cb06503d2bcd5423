import { describe, expect, it } from 'vitest';
import { CallRegistry } from '../../../src/calls/registry.ts';
import { callsPage, parseCallsQuery, PAGE_SIZE } from '../../../src/http/status-page/status-model.ts';
import type { StatusSources } from '../../../src/http/status-page/status-model.ts';
import { CallQualityTracker } from '../../../src/quality/call-quality.ts';
import { DEFAULT_RULES, DEFAULT_WINDOW } from '../../../src/quality/thresholds.ts';
import { compileRules } from '../../../src/quality/verdicts.ts';
import { PollLog } from '../../../src/status/poll-log.ts';
import { SampleHistory } from '../../../src/status/sample-history.ts';
import { TrackingLog } from '../../../src/status/tracking-log.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT_A, T0, sample } from '../store/sample-builder.ts';

const sid = (i: number): string => `CA${i.toString(16).padStart(32, '0')}`;

// 250 calls; every 25th gets three samples with MOS 2 (low_mos raised), the others stay healthy.
function sources(): StatusSources {
  const now = (): number => T0 + 60_000;
  const registry = new CallRegistry({ maxCalls: 1000, drainPeriodMs: 120_000, retentionMs: 300_000, now });
  const store = new SampleStore({ backfill: true });
  const quality = new CallQualityTracker(compileRules(DEFAULT_RULES, DEFAULT_WINDOW));
  store.addListener(quality);
  registry.addListener({ onTracked: (c) => store.addCall(c.callSid, c.accountSid, c.trackedAtMs) });
  for (let i = 0; i < 250; i++) {
    registry.track(sid(i), ACCOUNT_A, 'config');
    const bad = i % 25 === 0;
    store.apply([1, 2, 3].map((at) => sample({ callSid: sid(i), at, values: { mos: bad ? 2 + i / 1000 : 4.3 } })));
  }
  return {
    version: 'test',
    telemetryPath: '/metrics',
    now,
    registry,
    store,
    quality,
    history: new SampleHistory(),
    polls: new PollLog(now),
    tracking: new TrackingLog(now),
    poller: { describe: () => undefined },
    accounts: () => [],
    maxCalls: 1000,
    shard: { ordinal: 0, total: 1 },
    grafanaUrl: '',
    rules: DEFAULT_RULES,
  };
}

describe('status page calls list', () => {
  const src = sources();

  it('puts the calls raising issues first, worst MOS first, then pages by 100', () => {
    const first = callsPage(src, { page: 1 });
    expect(first.total).toBe(250);
    expect(first.pages).toBe(3);
    expect(first.rows).toHaveLength(PAGE_SIZE);
    const badOnes = first.rows.slice(0, 10).map((r) => r.call.callSid);
    expect(badOnes).toEqual([0, 25, 50, 75, 100, 125, 150, 175, 200, 225].map(sid));
    expect(first.rows[0]!.issues).toEqual(['low_mos']);
    expect(first.rows[10]!.issues).toEqual([]);
    const last = callsPage(src, { page: 3 });
    expect(last.rows).toHaveLength(50);
    const all = [1, 2, 3].flatMap((page) => callsPage(src, { page }).rows.map((r) => r.call.callSid));
    expect(new Set(all).size).toBe(250);
  });

  it('filters by issue and by state', () => {
    expect(callsPage(src, { page: 1, issue: 'low_mos' }).total).toBe(10);
    expect(callsPage(src, { page: 1, issue: 'high_rtt' }).total).toBe(0);
    expect(callsPage(src, { page: 1, state: 'ended' }).total).toBe(0);
    expect(callsPage(src, { page: 1, state: 'active', account: ACCOUNT_A }).total).toBe(250);
  });

  it('reads the query string, refusing unknown values by name', () => {
    expect(parseCallsQuery({ state: 'draining', issue: 'low_mos', page: '2' }, [ACCOUNT_A])).toEqual({ page: 2, state: 'draining', issue: 'low_mos' });
    expect(parseCallsQuery({ state: 'gone' }, [])).toEqual({ error: 'state: must be one of active, draining, ended' });
    expect(parseCallsQuery({ page: ['1', '2'] }, [])).toEqual({ error: 'page: give it at most once' });
    expect(parseCallsQuery({ page: '9999999' }, [])).toEqual({ error: 'page: must be a whole number from 1' });
  });
});
