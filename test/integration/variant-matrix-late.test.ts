// Late publication: one direction, or some samples, visible minutes after newer ones of the same stream,
// in both orders. The cursor's lateness read-back must FETCH every one of them (the simulator's ledger of
// served samples equals what it shows), within the requests target; applying each exactly once also needs
// a store that accepts a sample older than its stream's newest (a per-stream high-water mark drops it).
import { describe, expect, it } from 'vitest';
import type { CallType } from '../../src/samples/sample.ts';
import { expectExactlyOnce, expectRequestsWithinTarget } from '../helpers/variant-assert.ts';
import { runVariant } from '../helpers/variant-run.ts';
import type { VariantRunResult } from '../helpers/variant-run.ts';

// One call of each shape: one gateway edge, SDK and gateway, two gateway edges.
const TYPES: readonly CallType[] = ['carrier', 'client', 'trunking_originating'];

function expectAllFetched(result: VariantRunResult): void {
  expect(Object.fromEntries(result.served)).toEqual(Object.fromEntries(result.visiblePerStream));
}

describe.each(['asc', 'desc'] as const)('late publication, %s order', (order) => {
  it.each(['direction', 'samples'] as const)('%s: every late sample fetched, requests within target, each applied once', { timeout: 180_000 }, async (late) => {
    // Late by up to 4 minutes; after the calls end they are polled until the last late sample (lag 90 s +
    // 4 min) has been published and a read-back (every 5 min of data) has passed over it.
    const result = await runVariant({
      variant: { order, latePublication: late, lateSeconds: 240, lateFraction: 0.2 },
      tracking: 'discovery',
      types: TYPES,
      callMinutes: 24,
      polls: 72,
      steadyFrom: 54,
    });
    expectAllFetched(result);
    expectRequestsWithinTarget(result);
    expect(result.valueMismatches.slice(0, 5)).toEqual([]);
    expectExactlyOnce(result);
  });
});
