import { describe, expect, it } from 'vitest';
import { REPORTED_REJECTIONS, ReportedRejections, newCursor } from '../../../src/poller/cursor.ts';
import type { EdgeCursor, PageFetcher } from '../../../src/poller/cursor.ts';
import { TwilioError } from '../../../src/twilio/errors.ts';
import { ACCOUNT_A, CALL_1, T0 } from '../store/sample-builder.ts';
import { harness } from './cursor-harness.ts';

function snapshot(cursor: EdgeCursor): unknown {
  return { ...cursor, highWater: [...cursor.highWater] };
}

function upstream503(): TwilioError {
  return new TwilioError({ code: 'upstream', endpoint: 'metrics', status: 503 });
}

// The 0-based last page of `n` records in ascending order, pages of `size`; when a full last page links
// to a next one (nextOnFullPage), that empty page is the last one read.
const lastPage = (n: number, size: number, nextOnFullPage = false): number => Math.floor((nextOnFullPage ? n : n - 1) / size);

describe('readQuery, ascending order', () => {
  it.each([false, true])('reads a long history once, then 1 request per poll (2 across a page boundary); nextOnFullPage=%s', async (nextOnFullPage) => {
    // The lateness read-back off: this pins the ordinary poll (the read-back has its own tests below).
    const h = harness({ order: 'asc', pageSize: 50, nextOnFullPage, maxLatenessMs: 0 });
    h.api.add(360);

    const first = await h.poll();
    expect(first.read.requests).toBe(8);
    expect(first.applied).toEqual({ applied: 360, observed: 360, duplicates: 0, tooLate: 0 });
    expect(first.read.reset).toBe(false);
    expect(h.cursor.order).toBe('asc');

    let boundaries = 0;
    for (let poll = 0; poll < 40; poll++) {
      const before = h.api.sampleCount;
      h.api.add(3);
      const { read, applied } = await h.poll();
      const crossed = lastPage(before, 50, nextOnFullPage) !== lastPage(h.api.sampleCount, 50, nextOnFullPage);
      if (crossed) boundaries++;
      expect(read.requests, `poll ${poll}`).toBe(crossed ? 2 : 1);
      // The resume page is read whole again (a record that appeared mid-page is not lost); the store
      // applies only the 3 new samples.
      expect(read.samples.length).toBeGreaterThanOrEqual(3);
      expect(read.samples.length).toBeLessThanOrEqual(50 + 3);
      expect(applied).toEqual({ applied: 3, observed: 3, duplicates: read.samples.length - 3, tooLate: 0 });
    }
    expect(boundaries).toBeGreaterThanOrEqual(2);

    const quiet = await h.poll();
    expect(quiet.read.requests).toBe(1);
    expect(quiet.applied.applied).toBe(0);

    // Every sample applied exactly once, in time order, none lost.
    expect(h.appliedTimestamps).toHaveLength(480);
    expect(new Set(h.appliedTimestamps).size).toBe(480);
    expect(h.appliedTimestamps).toEqual([...h.appliedTimestamps].sort((a, b) => a - b));
    expect(h.store.lastTimestamp(CALL_1, 'sdk_edge', 'both')).toBe(T0 + 479 * 10_000);
  });

  it('reads a burst larger than a page in as many requests as pages it spans', async () => {
    const h = harness({ order: 'asc', pageSize: 50 });
    h.api.add(360);
    await h.poll();

    h.api.add(120);
    const { read, applied } = await h.poll();

    expect(read.requests).toBe(lastPage(480, 50) - lastPage(360, 50) + 1);
    expect(applied.applied).toBe(120);
  });

  it('keeps both streams of a gateway edge and advances each high-water mark', async () => {
    const h = harness({ order: 'asc', pageSize: 50, edge: 'carrier_edge', directions: ['inbound', 'outbound'] });
    h.api.add(101);
    await h.poll();
    h.api.add(4);

    const { read, applied } = await h.poll();

    expect(read.requests).toBe(1);
    expect(applied.applied).toBe(4);
    expect(h.cursor.highWater.get('carrier_edge/inbound')).toBe(h.store.lastTimestamp(CALL_1, 'carrier_edge', 'inbound'));
    expect(h.cursor.highWater.get('carrier_edge/outbound')).toBe(h.store.lastTimestamp(CALL_1, 'carrier_edge', 'outbound'));
  });
});

describe('readQuery, descending order', () => {
  it('reads a long history once, then 1 request per poll, every new sample applied once', async () => {
    // The lateness read-back off: this pins the ordinary poll (the read-back has its own tests below).
    const h = harness({ order: 'desc', pageSize: 50, maxLatenessMs: 0 });
    h.api.add(360);

    const first = await h.poll();
    expect(first.read.requests).toBe(8);
    expect(first.applied.applied).toBe(360);
    expect(h.cursor.order).toBe('desc');
    expect(h.cursor.resumeUrl).toBeNull();

    for (let poll = 0; poll < 40; poll++) {
      h.api.add(3);
      const { read, applied } = await h.poll();
      expect(read.requests, `poll ${poll}`).toBe(1);
      // Newest first: the first page is re-read, the store drops what was seen.
      expect(applied).toEqual({ applied: 3, observed: 3, duplicates: 47, tooLate: 0 });
    }

    expect(h.appliedTimestamps).toHaveLength(480);
    expect(new Set(h.appliedTimestamps).size).toBe(480);
    expect(h.store.lastTimestamp(CALL_1, 'sdk_edge', 'both')).toBe(T0 + 479 * 10_000);
  });

  it('reads a burst in the pages it spans, down to the newest sample seen before it', async () => {
    const h = harness({ order: 'desc', pageSize: 50, maxLatenessMs: 0 });
    h.api.add(360);
    await h.poll();

    h.api.add(120);
    const { read, applied } = await h.poll();

    // 120 new records: two whole pages, and the third reaches the newest seen.
    expect(read.requests).toBe(3);
    expect(applied.applied).toBe(120);
    expect(h.appliedTimestamps).toHaveLength(480);
  });

  // A page of 10 holds 100 s of one stream: a poll that read 5 minutes back every time cost 4 requests (probe I).
  it('costs one request per poll when a page holds less than 5 minutes of samples', async () => {
    const h = harness({ order: 'desc', pageSize: 10 });
    h.api.add(100);
    await h.poll();
    const requests: number[] = [];
    for (let poll = 0; poll < 20; poll++) {
      h.api.add(1);
      requests.push((await h.poll()).read.requests);
    }
    // Steady polls cost one request; the lateness read-back (every 5 minutes of data) reaches 15 minutes back.
    expect(requests.filter((r) => r === 1).length).toBeGreaterThanOrEqual(18);
    expect(h.appliedTimestamps).toHaveLength(120);
  });

  // One direction of a gateway edge may be published minutes after the other (probe I): until both are seen, an
  // ordinary poll still reads 5 minutes back, so the late direction's series shows up with its first samples.
  it('reads 5 minutes back while only one direction of a gateway edge has been seen', async () => {
    const h = harness({ order: 'desc', pageSize: 10, edge: 'sip_edge', directions: ['inbound', 'outbound'], maxLatenessMs: 0 });
    h.api.add(80);
    const outbound = (r: unknown): boolean => (r as { direction: string }).direction === 'outbound';
    const held = h.api.records.filter(outbound);
    h.api.records.splice(0, h.api.records.length, ...h.api.records.filter((r) => !outbound(r)));
    await h.poll();
    expect(h.cursor.highWater.size).toBe(1);
    // Outbound is published 240 s behind inbound: rounds 0..15 of 40.
    const published = held.slice(0, 16);
    for (const r of published) {
      const at = h.api.records.findIndex((x) => (x as { timestamp: string }).timestamp > (r as { timestamp: string }).timestamp);
      h.api.records.splice(at, 0, r);
    }
    await h.poll();
    expect(h.store.lastTimestamp(CALL_1, 'sip_edge', 'outbound')).toBe(T0 + 15 * 10_000 + 1000);
  });

  it('reads back far enough for both streams of a gateway edge', async () => {
    const h = harness({ order: 'desc', pageSize: 10, edge: 'sip_edge', directions: ['inbound', 'outbound'] });
    h.api.add(40);
    await h.poll();
    h.api.add(25);

    const { applied } = await h.poll();

    expect(applied.applied).toBe(25);
    expect(h.appliedTimestamps).toHaveLength(65);
  });
});

describe('readQuery when the saved PageToken is refused', () => {
  it('resets, re-reads from the first page, and the store applies no sample twice and loses none', async () => {
    const h = harness({ order: 'asc', pageSize: 50 });
    h.api.add(360);
    await h.poll();
    const resumeUrl = h.cursor.resumeUrl;
    expect(resumeUrl).toContain('PageToken=');

    h.api.invalidateTokens();
    h.api.add(3);
    const { read, applied } = await h.poll();

    expect(read.reset).toBe(true);
    // One refused request, then the whole history again: 363 records on 8 pages.
    expect(read.requests).toBe(1 + 8);
    expect(h.api.requests[h.api.requests.length - 9]).toBe(resumeUrl);
    expect(h.api.requests[h.api.requests.length - 8]).not.toContain('PageToken=');
    expect(applied).toEqual({ applied: 3, observed: 3, duplicates: 360, tooLate: 0 });
    expect(h.appliedTimestamps).toHaveLength(363);
    expect(new Set(h.appliedTimestamps).size).toBe(363);

    // The fresh cursor is back to steady state.
    h.api.add(3);
    const next = await h.poll();
    expect(next.read.reset).toBe(false);
    expect(next.read.requests).toBe(1);
    expect(next.applied.applied).toBe(3);
  });

  it('does not treat a 400 on the first page as a refused cursor', async () => {
    const h = harness({ order: 'asc', pageSize: 50 });
    h.api.add(10);
    const refused = new TwilioError({ code: 'bad_request', endpoint: 'metrics', status: 400 });
    h.api.failNext(refused);

    await expect(h.poll()).rejects.toBe(refused);
    expect(h.api.requests).toHaveLength(1);
  });

  it('keeps the pages before a refused next-page token of a fresh read, and the next read goes on from the last good page', async () => {
    const h = harness({ order: 'asc', pageSize: 50 });
    h.api.add(200);
    const refused = new TwilioError({ code: 'bad_request', endpoint: 'metrics', status: 400 });
    h.api.failRequest(3, refused);

    const first = await h.poll();
    expect(first.read.stopped).toEqual({ reason: 'page_failed', error: refused });
    expect(first.applied.applied).toBe(100);

    const { read, applied } = await h.poll();
    expect(h.api.requests.at(-3)).toBe(h.api.requests[1]);
    expect(read.requests).toBe(3);
    expect(applied.applied).toBe(100);
  });
});

describe('readQuery when a page fails', () => {
  it('leaves an ascending cursor unchanged so the next read repeats the same request', async () => {
    const h = harness({ order: 'asc', pageSize: 50 });
    h.api.add(360);
    await h.poll();
    h.api.add(3);
    const before = snapshot(h.cursor);
    h.api.failNext(upstream503());

    await expect(h.poll()).rejects.toMatchObject({ code: 'upstream', status: 503 });
    expect(snapshot(h.cursor)).toEqual(before);

    const { read, applied } = await h.poll();
    expect(h.api.requests.at(-1)).toBe(h.api.requests.at(-2));
    expect(read.requests).toBe(1);
    expect(applied.applied).toBe(3);
  });

  it('keeps the pages read before a later page fails for good, and the next read goes on from the last good page', async () => {
    const h = harness({ order: 'asc', pageSize: 50 });
    h.api.add(360);
    const failure = upstream503();
    h.api.failRequest(4, failure);

    const first = await h.poll();
    expect(first.read.stopped).toEqual({ reason: 'page_failed', error: failure });
    expect(first.applied.applied).toBe(150);
    expect(h.appliedTimestamps).toEqual([...h.appliedTimestamps].sort((a, b) => a - b));

    const { read, applied } = await h.poll();
    // Page 3 again, then pages 4 to 8.
    expect(read.requests).toBe(6);
    expect(read.stopped).toBeUndefined();
    expect(applied.applied).toBe(210);
  });

  it('loses nothing when the second page of a descending burst fails: the cursor stays put and the next read applies it all', async () => {
    const h = harness({ order: 'desc', pageSize: 50 });
    h.api.add(100);
    await h.poll();
    h.api.add(80);
    const before = snapshot(h.cursor);
    h.api.failRequest(h.api.requests.length + 2, upstream503());

    const first = await h.poll();
    expect(first.read.stopped?.reason).toBe('page_failed');
    expect(first.applied.applied).toBe(0);
    expect(snapshot(h.cursor)).toEqual(before);

    const { read, applied } = await h.poll();
    // 80 new records span two pages of 50, the second reaching the newest sample seen before.
    expect(read.requests).toBe(2);
    expect(applied.applied).toBe(80);
    expect(new Set(h.appliedTimestamps).size).toBe(180);
  });
});

describe('readQuery learns the order from the data', () => {
  it.each(['asc', 'desc'] as const)('learns %s from the first page', async (order) => {
    const h = harness({ order, pageSize: 50 });
    h.api.add(5);
    await h.poll();
    expect(h.cursor.order).toBe(order);
  });

  it('stays unknown with a single sample and reads the first page again, then learns', async () => {
    const h = harness({ order: 'asc', pageSize: 50 });
    h.api.add(1);
    await h.poll();
    expect(h.cursor.order).toBe('unknown');
    expect(h.cursor.resumeUrl).toBeNull();

    h.api.add(2);
    const { read, applied } = await h.poll();
    expect(h.api.requests[1]).not.toContain('PageToken');
    expect(read.requests).toBe(1);
    expect(applied.applied).toBe(2);
    expect(h.cursor.order).toBe('asc');
  });

  it('reads nothing but one request from an empty history and keeps a fresh cursor', async () => {
    const h = harness({ order: 'desc', pageSize: 50 });
    const { read } = await h.poll();
    expect(read).toEqual({ samples: [], rejected: [], requests: 1, reset: false });
    expect(h.cursor.order).toBe('unknown');
  });
});

describe('readQuery with malformed records', () => {
  const bad = { timestamp: 'yesterday', call_sid: CALL_1, account_sid: ACCOUNT_A, edge: 'sdk_edge', direction: 'both', sdk_edge: {} };

  it('reports a malformed record, keeps the rest of the page, and does not report it again when resuming', async () => {
    const h = harness({ order: 'asc', pageSize: 50 });
    h.api.add(20);
    h.api.addRaw(bad);
    h.api.add(20);

    const first = await h.poll();
    expect(first.read.rejected).toEqual([{ reason: 'bad_timestamp', detail: expect.stringContaining('yesterday') as unknown }]);
    expect(first.applied.applied).toBe(40);

    h.api.add(3);
    const next = await h.poll();
    expect(next.read.rejected).toEqual([]);
    expect(next.applied.applied).toBe(3);
  });

  it('reports a malformed record once in descending order, though its page is read again', async () => {
    const h = harness({ order: 'desc', pageSize: 50 });
    h.api.add(20);
    h.api.addRaw(bad);
    h.api.add(20);

    let rejected = (await h.poll()).read.rejected.length;
    for (let i = 0; i < 5; i++) {
      h.api.add(3);
      rejected += (await h.poll()).read.rejected.length;
    }

    expect(rejected).toBe(1);
    expect(h.appliedTimestamps).toHaveLength(55);
  });

  it('reports a malformed record once when a refused cursor forces a full re-read', async () => {
    const h = harness({ order: 'asc', pageSize: 10 });
    h.api.add(5);
    h.api.addRaw(bad);
    h.api.add(30);
    expect((await h.poll()).read.rejected).toHaveLength(1);

    h.api.invalidateTokens();
    h.api.add(2);
    const { read } = await h.poll();

    expect(read.reset).toBe(true);
    expect(read.rejected).toEqual([]);
  });

  it('reports a malformed record that arrived after the last poll', async () => {
    const h = harness({ order: 'desc', pageSize: 50 });
    h.api.add(20);
    await h.poll();
    h.api.add(1);
    h.api.addRaw(bad);
    h.api.add(1);

    const { read } = await h.poll();
    expect(read.rejected).toHaveLength(1);
  });
});

describe('readQuery against a misbehaving server', () => {
  it('stops with bad_payload when a next_page_url points back at a page already read', async () => {
    const h = harness({ order: 'asc', pageSize: 50 });
    h.api.add(120);
    let requests = 0;
    // Page 1 links back to page 0 (by its absolute URL), which links to page 1 again: a cycle.
    const cyclic: PageFetcher = async (req) => {
      requests++;
      if (requests > 50) throw new Error('reader is looping');
      const page = await h.api.fetch(req);
      return page.page === 1 ? { ...page, nextPageUrl: h.api.requests[1]! } : page;
    };

    await expect(h.poll(cyclic)).rejects.toMatchObject({ code: 'bad_payload', endpoint: 'metrics' });
    expect(requests).toBeLessThanOrEqual(4);
    expect(snapshot(h.cursor)).toEqual(snapshot(newCursor()));
  });

  it('stops with bad_payload when a page names itself as the next page', async () => {
    const h = harness({ order: 'desc', pageSize: 50 });
    h.api.add(10);
    let requests = 0;
    const selfLinked: PageFetcher = async (req) => {
      requests++;
      if (requests > 50) throw new Error('reader is looping');
      const page = await h.api.fetch(req);
      return { ...page, nextPageUrl: page.requestUrl };
    };

    await expect(h.poll(selfLinked)).rejects.toMatchObject({ code: 'bad_payload' });
    expect(requests).toBe(1);
  });
});

// The real API's sort order is not documented, and a page may be out of order: the order the cursor works with is
// where new records appear, learned from the data and corrected when the data says otherwise (probe I).
describe('readQuery learns the order from the data, and corrects it', () => {
  // A history of `first` samples read, then `polls` polls that each add `each` more.
  async function grow(h: ReturnType<typeof harness>, first: number, polls: number, each: number): Promise<void> {
    h.api.add(first);
    await h.poll();
    for (let poll = 0; poll < polls; poll++) {
      h.api.add(each);
      await h.poll();
    }
  }

  it('is not misled by one out-of-order first page of an ascending history', async () => {
    const h = harness({ order: 'asc', pageSize: 100, swapFirstPage: true });
    await grow(h, 93, 40, 3);
    expect(h.cursor.order).toBe('asc');
    expect(h.appliedTimestamps).toHaveLength(213);
    expect(h.store.lastTimestamp(CALL_1, 'sdk_edge', 'both')).toBe(T0 + 212 * 10_000);
  });

  it('reads every sample of an ascending history whose pages each list their records newest first', async () => {
    const h = harness({ order: 'asc', pageSize: 20, reversePages: true });
    await grow(h, 30, 30, 2);
    expect(h.appliedTimestamps).toHaveLength(90);
    expect(h.store.lastTimestamp(CALL_1, 'sdk_edge', 'both')).toBe(T0 + 89 * 10_000);
  });

  it('learns the order from pages that share a timestamp at their seam (both directions of a gateway edge)', async () => {
    // Three rounds in pages of 3: the second page starts with the second round's outbound sample, of the same time
    // as the first page's oldest record (the second round's inbound one).
    const h = harness({ order: 'desc', pageSize: 3, edge: 'sip_edge', directions: ['inbound', 'outbound'], sameTimestamp: true });
    await grow(h, 6, 0, 0);
    expect({ order: h.cursor.order, from: h.cursor.orderFrom }).toEqual({ order: 'desc', from: 'pages' });
    await grow(h, 0, 10, 2);
    expect(h.appliedTimestamps).toHaveLength(26);
  });

  it('corrects an order learned wrong: a descending cursor over an ascending history switches once its first page is plainly ascending', async () => {
    const h = harness({ order: 'asc', pageSize: 20 });
    h.api.add(50);
    h.cursor.order = 'desc';
    for (let poll = 0; poll < 10; poll++) {
      await h.poll();
      h.api.add(2);
    }
    await h.poll();
    expect(h.cursor.order).toBe('asc');
    expect(h.appliedTimestamps).toHaveLength(70);
  });
});

describe('ReportedRejections', () => {
  it('remembers the last 256 fingerprints, unsigned 32-bit ones included, and forgets the oldest past them', () => {
    const r = new ReportedRejections();
    const fingerprints = Array.from({ length: REPORTED_REJECTIONS + 44 }, (_, i) => (0xffff_0000 + i * 7919) >>> 0);
    for (const f of fingerprints) r.add(f);
    expect(fingerprints.slice(0, 44).some((f) => r.has(f))).toBe(false);
    expect(fingerprints.slice(44).every((f) => r.has(f))).toBe(true);
    expect(r.has(12345)).toBe(false);
  });
});

// Probe N F1: an upstream that answers every page with the same, already-read record and a fresh next_page_url
// (a 300 KB PageToken) grew a call's cursor by up to a page cap of URLs every poll, for good: the pages a deep read
// may start from were pruned only as sample time moved on, which it never did. 16 MB/s, then out of memory.
describe('a cursor against pages that never move on', () => {
  it('keeps what it remembers of pages bounded, however many polls read new page URLs', async () => {
    const h = harness({ order: 'asc', pageSize: 50 });
    h.api.add(3);
    let token = 0;
    const base = 'https://insights.twilio.com/v1/Voice/' + CALL_1 + '/Metrics';
    const stuck: PageFetcher = async (req) => {
      const first = await h.api.fetch({ callSid: CALL_1, edge: 'sdk_edge', pageSize: 50 });
      const url = 'url' in req ? req.url : `${base}?Edge=sdk_edge&PageSize=50`;
      return { ...first, requestUrl: url, records: first.records.slice(0, 1), nextPageUrl: `${base}?PageSize=50&Page=${++token}&PageToken=${'P'.repeat(900)}${token}` };
    };
    for (let poll = 0; poll < 40; poll++) await h.poll(stuck);
    const remembered = [...h.cursor.pages.keys()].reduce((n, url) => n + url.length, 0);
    expect(token).toBeGreaterThan(200);
    expect(remembered).toBeLessThanOrEqual(16_384);
  });
});
