// The exporter against every combination of the real API's unknowns that matters for what it reads:
// Summary during the call or not, oldest or newest first, SDK samples every 1 s or 10 s, calls found by
// discovery (with their parties) or configured (no hint at all). Each row: every visible sample applied
// exactly once, values as the simulator served them, and requests per call per poll at steady state
// within 1.1 × the edge queries that carry data.
import { describe, expect, it } from 'vitest';
import type { CallType } from '../../src/samples/sample.ts';
import { expectExactlyOnce, expectRequestsWithinTarget } from '../helpers/variant-assert.ts';
import { runVariant } from '../helpers/variant-run.ts';
import type { VariantRunOptions } from '../helpers/variant-run.ts';

const TYPES: readonly CallType[] = ['carrier', 'sip', 'client', 'trunking_originating', 'trunking_terminating'];
// One call of each shape (one gateway edge, SDK and gateway, two gateway edges), to keep the other rows short.
const SHAPES: readonly CallType[] = ['carrier', 'client', 'trunking_originating'];

type Row = Omit<VariantRunOptions, 'types' | 'callMinutes' | 'polls' | 'steadyFrom'> & { readonly requestsFactor?: number };

const ROWS: Array<[string, Row]> = [
  ['default: no Summary during the call, oldest first, SDK 10 s, discovered', { variant: {}, tracking: 'discovery' }],
  ['no Summary, oldest first, configured calls (no hint)', { variant: {}, tracking: 'static' }],
  ['no Summary, newest first, discovered', { variant: { order: 'desc' }, tracking: 'discovery' }],
  ['no Summary, newest first, configured calls', { variant: { order: 'desc' }, tracking: 'static' }],
  ['Summary during the call, oldest first, configured calls', { variant: { partialSummary: 'during_call' }, tracking: 'static' }],
  ['Summary during the call, newest first, discovered', { variant: { partialSummary: 'during_call', order: 'desc' }, tracking: 'discovery' }],
  // Metrics answering 404 until a call's first sample is published: the call must not be ended for it (probe I).
  ['no Summary, Metrics 404 before the first sample, discovered', { variant: { metricsBeforeData: 'not_found' }, tracking: 'discovery' }],
  // 1 s SDK samples are ten times the records: a 1000-record page keeps a poll at one request per edge.
  ['no Summary, SDK every 1 s, oldest first, PageSize 1000', { variant: { sdkSampleSeconds: 1 }, tracking: 'discovery', env: { PAGE_SIZE: '1000' } }],
  ['no Summary, SDK every 1 s, newest first, PageSize 1000', { variant: { sdkSampleSeconds: 1, order: 'desc' }, tracking: 'static', env: { PAGE_SIZE: '1000' } }],
  // A page of 100 is 100 s of 1 s samples: a newest-first poll that read 5 minutes back cost 4 requests (5.2 a poll
  // for a client call, probe I). Steady polls cost one request each; the lateness read-back reads 15 minutes of 1 s
  // samples (9 pages) every 5 minutes, 0.3 request a poll more: within 1.25 ×, where PageSize 1000 keeps 1.1 ×.
  ['no Summary, SDK every 1 s, newest first, default PageSize 100', { variant: { sdkSampleSeconds: 1, order: 'desc' }, tracking: 'static', requestsFactor: 1.25 }],
];

describe('variant matrix', () => {
  it.each(ROWS)('%s: exactly once, values right, requests within 1.1 × data edges (or the row\u2019s factor)', { timeout: 120_000 }, async (_name, { requestsFactor, ...row }) => {
    // A 24 minute call polled every 10 s; steady state over its last 15 minutes (three lateness read-backs).
    const types = row.tracking === 'discovery' && Object.keys(row.variant).length === 0 ? TYPES : SHAPES;
    const result = await runVariant({ ...row, types, callMinutes: 24, polls: 12, steadyFrom: 54 });
    expectExactlyOnce(result);
    expect(result.valueMismatches.slice(0, 5)).toEqual([]);
    expectRequestsWithinTarget(result, requestsFactor);
    // Without a Summary the call type label comes from the edges that carry data.
    expect([...result.callTypes.values()]).toEqual(types.map((t) => (t.startsWith('trunking') ? 'trunking' : t)));
  });
});

describe('a new user with the default config and no Summary during calls', () => {
  it('sees at most 1.2 requests per poll for a carrier call, from its first poll on', { timeout: 60_000 }, async () => {
    const result = await runVariant({ variant: {}, tracking: 'discovery', types: ['carrier'], callMinutes: 10, polls: 12, steadyFrom: 0 });
    const [carrier] = result.costs;
    expect(carrier!.wholeCallPerPoll).toBeLessThanOrEqual(1.2);
    expectExactlyOnce(result);
  });
});
