// Regression: one direction of a gateway edge made visible later than the other. An earlier cursor
// stopped a newest-first read at the first page holding any seen sample, and skipped the already-read
// prefix of the ascending resume page; either way the late samples were lost for good.
import { describe, expect, it } from 'vitest';
import { harness } from './cursor-harness.ts';

type Rec = { direction: string; timestamp: string };

// Takes the outbound records of the last `rounds` rounds out of the history (not visible yet).
function holdBackOutbound(records: unknown[], rounds: number): Rec[] {
  const held: Rec[] = [];
  for (let i = records.length - 1, seen = 0; i >= 0 && seen < rounds * 2; i--, seen++) {
    const r = records[i] as Rec;
    if (r.direction === 'outbound') held.push(...(records.splice(i, 1) as Rec[]));
  }
  return held;
}

// Makes them visible, each at its place in time order.
function release(records: unknown[], held: Rec[]): void {
  for (const r of held) {
    const at = records.findIndex((x) => (x as Rec).timestamp > r.timestamp);
    records.splice(at === -1 ? records.length : at, 0, r);
  }
}

describe('a stream visible later than its sibling', () => {
  it('newest first: its late samples are still read and applied once', async () => {
    const h = harness({ order: 'desc', pageSize: 4, edge: 'sip_edge', directions: ['inbound', 'outbound'] });
    h.api.add(40);
    await h.poll();
    h.api.add(10);
    const held = holdBackOutbound(h.api.records, 5);
    expect(held).toHaveLength(5);
    await h.poll();
    expect(h.appliedTimestamps).toHaveLength(45);

    release(h.api.records, held);
    h.api.add(2);
    const { applied } = await h.poll();

    expect(applied.applied).toBe(7);
    expect(h.appliedTimestamps).toHaveLength(52);
    expect(new Set(h.appliedTimestamps).size).toBe(52);
    expect(h.store.lastTimestamp(h.query.callSid, 'sip_edge', 'outbound')).toBe(h.store.lastTimestamp(h.query.callSid, 'sip_edge', 'inbound')! + 1000);
  });

  it('oldest first: a sample that appears in the middle of the resume page is applied', async () => {
    const h = harness({ order: 'asc', pageSize: 50, edge: 'sip_edge', directions: ['inbound', 'outbound'] });
    h.api.add(16);
    await h.poll();
    h.api.add(4);
    const held = holdBackOutbound(h.api.records, 2);
    await h.poll();
    expect(h.appliedTimestamps).toHaveLength(18);

    release(h.api.records, held);
    const { read, applied } = await h.poll();

    expect(read.requests).toBe(1);
    expect(applied.applied).toBe(2);
    expect(h.appliedTimestamps).toHaveLength(20);
  });
});
