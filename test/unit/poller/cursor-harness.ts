import { newCursor, readQuery } from '../../../src/poller/cursor.ts';
import type { PageFetcher, QueryRead } from '../../../src/poller/cursor.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import type { ApplyResult } from '../../../src/store/sample-store.ts';
import type { MetricsQuery } from '../../../src/twilio/client.ts';
import { ACCOUNT_A, CALL_1, T0 } from '../store/sample-builder.ts';
import { FakeMetricsApi } from './fake-metrics-api.ts';
import type { FakeMetricsApiOptions } from './fake-metrics-api.ts';

const QUERY: MetricsQuery = { callSid: CALL_1, edge: 'sdk_edge', pageSize: 50 };

// One (call, edge) as the poller drives it: a cursor, the fake API and a store that applies what is read.
export function harness(options: FakeMetricsApiOptions & { maxLatenessMs?: number }) {
  const api = new FakeMetricsApi(options);
  const cursor = newCursor();
  const store = new SampleStore({ backfill: true });
  store.addCall(CALL_1, ACCOUNT_A, T0);
  const appliedTimestamps: number[] = [];
  store.addListener({ onSample: (s) => appliedTimestamps.push(s.timestampMs) });
  const query: MetricsQuery = { ...QUERY, ...(options.edge !== undefined && { edge: options.edge }), pageSize: options.pageSize };
  async function poll(fetch: PageFetcher = api.fetch): Promise<{ read: QueryRead; applied: ApplyResult }> {
    const read = await readQuery(cursor, query, fetch, options.maxLatenessMs === undefined ? {} : { maxLatenessMs: options.maxLatenessMs });
    return { read, applied: store.apply(read.samples) };
  }
  return { api, cursor, store, poll, query, appliedTimestamps };
}

