// Assertions of the variant matrix over a run's result.
import { expect } from 'vitest';
import type { VariantRunResult } from './variant-run.ts';

/** Every visible sample applied exactly once, and nothing else. */
export function expectExactlyOnce(result: VariantRunResult): void {
  const twice = [...result.applied].filter(([, n]) => n > 1).map(([id]) => id);
  const missing = [...result.visible].filter((id) => !result.applied.has(id));
  const unknown = [...result.applied.keys()].filter((id) => !result.visible.has(id));
  expect({ twice: twice.slice(0, 5), missing: missing.slice(0, 5), unknown: unknown.slice(0, 5) }).toEqual({ twice: [], missing: [], unknown: [] });
  expect(result.applied.size).toBe(result.visible.size);
}

/** Requests per call per poll at steady state within `factor` × the edge queries that carry data. */
export function expectRequestsWithinTarget(result: VariantRunResult, factor = 1.1): void {
  for (const cost of result.costs) {
    expect(cost.steadyPerPoll, `${cost.type}: requests per poll at steady state, ${cost.dataEdges} edge(s) with data`).toBeLessThanOrEqual(factor * cost.dataEdges);
  }
}
