// The lateness read-back: a sample published minutes after newer ones of its stream is still read, in
// either order, by a read that reaches back 1.5 × max lateness every half max lateness of data time.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LATENESS_MS } from '../../../src/poller/cursor.ts';
import { harness } from './cursor-harness.ts';

type Rec = { direction: string; timestamp: string };

const LATE_POLLS = 48; // 8 min at one round (10 s) per poll: well past the 5 min ordinary newest-first lookback.

// Runs `polls` polls adding one round per poll; the inbound sample of round `lateRound` is held back and
// published LATE_POLLS polls later, at its place in time order. Returns what the reads fetched.
async function run(order: 'asc' | 'desc', maxLatenessMs: number | undefined, polls: number) {
  const h = harness({ order, pageSize: 20, edge: 'sip_edge', directions: ['inbound', 'outbound'], ...(maxLatenessMs !== undefined && { maxLatenessMs }) });
  h.api.add(120);
  await h.poll();
  const fetched = new Set<string>();
  const requests: number[] = [];
  let held: Rec | undefined;
  let lateTimestamp = '';
  for (let poll = 1; poll <= polls; poll++) {
    h.api.add(2);
    if (poll === 3) {
      const at = h.api.records.length - 2;
      held = h.api.records.splice(at, 1)[0] as Rec;
      lateTimestamp = held.timestamp;
    }
    if (poll === 3 + LATE_POLLS && held !== undefined) {
      const at = h.api.records.findIndex((x) => (x as Rec).timestamp > held!.timestamp);
      h.api.records.splice(at, 0, held);
    }
    const { read } = await h.poll();
    requests.push(read.requests);
    for (const s of read.samples) fetched.add(`${new Date(s.timestampMs).toISOString()}/${s.direction}`);
  }
  return { h, fetched, requests, late: `${lateTimestamp}/inbound` };
}

describe('readQuery reads back max_sample_lateness', () => {
  it.each(['asc', 'desc'] as const)('%s: a sample published 8 min after newer ones of its stream is fetched', async (order) => {
    expect(DEFAULT_MAX_LATENESS_MS).toBe(600_000);
    const { fetched, late } = await run(order, undefined, 3 + LATE_POLLS + 31);
    expect(fetched.has(late)).toBe(true);
  });

  it.each(['asc', 'desc'] as const)('%s: without the read-back (the old rule) the same sample is never fetched', async (order) => {
    const { fetched, late } = await run(order, 0, 3 + LATE_POLLS + 31);
    expect(fetched.has(late)).toBe(false);
  });

  it.each(['asc', 'desc'] as const)('%s: reaches back only once per half lateness of data time, and keeps few page URLs', async (order) => {
    const { h, requests } = await run(order, undefined, 120);
    // Pages of 20 records are 100 s of this edge: ordinary polls cost 1 (2 across a page boundary); a read-back
    // of 15 min costs about 10.
    const deep = requests.filter((n) => n > 5).length;
    expect(deep).toBeGreaterThanOrEqual(3);
    expect(deep).toBeLessThanOrEqual(5);
    expect(h.cursor.pages.size).toBeLessThanOrEqual(order === 'asc' ? 14 : 0);
  });
});
