import { afterEach, describe, expect, it } from 'vitest';
import type { MetricRecord } from '../../../src/simulator/metric-record.ts';
import type { V1Meta } from '../../../src/simulator/page-links.ts';
import type { TestSimulator } from '../../helpers/simulator.ts';
import { startTestSimulator } from '../../helpers/simulator.ts';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
interface MetricsPage {
  metrics: MetricRecord[];
  meta: V1Meta;
}

let sim: TestSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: Parameters<typeof startTestSimulator>[0] = {}): Promise<{ s: TestSimulator; advance: (seconds: number) => void }> {
  let now = T0;
  sim = await startTestSimulator({ now: () => now, ...options });
  return { s: sim, advance: (seconds) => (now += seconds * 1000) };
}

async function page(s: TestSimulator, url: string): Promise<MetricsPage> {
  const response = await s.api(url);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as MetricsPage;
}

const id = (r: MetricRecord): string => `${r.edge}/${r.direction}/${r.timestamp}`;

describe('metrics paging over HTTP', () => {
  it('asc: walking next_page_url while the call keeps producing samples never skips or repeats a record', async () => {
    const { s, advance } = await start();
    const call = s.simulator.createCall({ type: 'trunking_originating', ageSeconds: 300 });
    const read: MetricRecord[] = [];
    let url: string | null = `/v1/Voice/${call.sid}/Metrics?PageSize=7`;
    let pages = 0;
    while (url !== null) {
      const body = await page(s, url);
      read.push(...body.metrics);
      url = body.meta.next_page_url;
      // New samples arrive between page requests (slower than the walk, so it ends).
      if (pages++ < 8) advance(10);
    }
    const expected = s.simulator.visibleSamples(call.sid, { edge: 'carrier_edge' });
    expect(read.map(id)).toEqual(expected.map(id));
    expect(read).toEqual(expected);
    expect(read.length).toBe((30 + 8) * 2);
  });

  it('desc: the walk reads every record that existed when it started, newest first, once; new ones lead the next poll', async () => {
    const { s, advance } = await start({ order: 'desc' });
    const call = s.simulator.createCall({ type: 'client', ageSeconds: 200 });
    const atStart = s.simulator.visibleSamples(call.sid, { edge: 'sdk_edge' });
    const read: MetricRecord[] = [];
    let url: string | null = `/v1/Voice/${call.sid}/Metrics?PageSize=3`;
    while (url !== null) {
      const body = await page(s, url);
      read.push(...body.metrics);
      url = body.meta.next_page_url;
      advance(10);
    }
    expect(read.map(id)).toEqual([...atStart].reverse().map(id));
    const nextPoll = await page(s, `/v1/Voice/${call.sid}/Metrics?PageSize=3`);
    expect((nextPoll.metrics[0]?.timestamp ?? '') > (read[0]?.timestamp ?? '')).toBe(true);
  });

  it('builds the meta block like the spec: absolute URLs, filters and PageSize repeated, Page/PageToken on next', async () => {
    const { s } = await start();
    const call = s.simulator.createCall({ type: 'client', ageSeconds: 100 });
    const first = await page(s, `/v1/Voice/${call.sid}/Metrics?Edge=sdk_edge&Direction=both&PageSize=4`);
    const base = `${s.url}/v1/Voice/${call.sid}/Metrics`;
    expect(first.meta).toMatchObject({
      page: 0,
      page_size: 4,
      key: 'metrics',
      previous_page_url: null,
      first_page_url: `${base}?Direction=both&Edge=sdk_edge&PageSize=4&Page=0`,
      url: `${base}?Direction=both&Edge=sdk_edge&PageSize=4&Page=0`,
    });
    expect(first.meta.next_page_url).toMatch(new RegExp(`^${base}\\?Direction=both&Edge=sdk_edge&PageSize=4&Page=1&PageToken=PA[\\w-]+\\.[\\w-]+$`));
    const second = await page(s, first.meta.next_page_url ?? '');
    expect(second.meta.page).toBe(1);
    expect(second.meta.url).toBe(`${base}?Direction=both&Edge=sdk_edge&PageSize=4&Page=1`);
    expect(second.meta.previous_page_url).toMatch(/&Page=0&PageToken=PB/);
    const back = await page(s, second.meta.previous_page_url ?? '');
    expect(back.metrics).toEqual(first.metrics);
    const last = await page(s, `/v1/Voice/${call.sid}/Metrics?PageSize=1000`);
    expect(last.metrics).toHaveLength(10);
    expect(last.meta.next_page_url).toBeNull();
  });

  it('derives link URLs from the Host header, or uses publicUrl when given', async () => {
    const { s } = await start();
    const call = s.simulator.createCall({ type: 'carrier', ageSeconds: 100 });
    const body = await page(s, `/v1/Voice/${call.sid}/Metrics?PageSize=2`);
    expect(body.meta.next_page_url?.startsWith(`${s.url}/v1/`)).toBe(true);
    await s.close();
    const other = await start({ publicUrl: 'http://sim.example.com:8089/' });
    const call2 = other.s.simulator.createCall({ type: 'carrier', ageSeconds: 100 });
    const body2 = await page(other.s, `/v1/Voice/${call2.sid}/Metrics?PageSize=2`);
    expect(body2.meta.first_page_url).toBe(`http://sim.example.com:8089/v1/Voice/${call2.sid}/Metrics?PageSize=2&Page=0`);
  });

  it('refuses expired, invalidated, foreign, re-ordered and hand-made tokens with a clear 400', async () => {
    const { s, advance } = await start({ pageTokenTtlMs: 60_000 });
    const call = s.simulator.createCall({ type: 'carrier', ageSeconds: 100 });
    const other = s.simulator.createCall({ type: 'carrier', ageSeconds: 100 });
    const next = async (sid: string): Promise<string> =>
      (await page(s, `/v1/Voice/${sid}/Metrics?PageSize=2`)).meta.next_page_url ?? '';
    const expectRefused = async (url: string, message: RegExp, code = 20400): Promise<void> => {
      const response = await s.api(url);
      expect(response.status).toBe(400);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ code, status: 400, more_info: `https://www.twilio.com/docs/errors/${code}` });
      expect(body.message).toMatch(message);
    };

    const fresh = await next(call.sid);
    advance(59);
    expect((await s.api(fresh)).status).toBe(200);
    advance(2);
    await expectRefused(fresh, /expired/);

    const beforeInvalidation = await next(call.sid);
    await s.control.invalidateTokens();
    await expectRefused(beforeInvalidation, /no longer valid/);

    const foreign = (await next(other.sid)).replace(other.sid, call.sid);
    await expectRefused(foreign, /not a page token of this list/);

    const tampered = (await next(call.sid)).replace(/PageToken=PA(.)/, (_m, c: string) => `PageToken=PA${c === 'A' ? 'B' : 'A'}`);
    await expectRefused(tampered, /Invalid PageToken/);

    const ascToken = await next(call.sid);
    await s.control.setVariant({ order: 'desc', page_token_ttl_ms: 60_000, page_token_error_code: 20001 });
    await expectRefused(ascToken, /sort order changed/, 20001);
  });

  it('reads the default edge without Edge, an explicit edge, and nothing for an edge the call lacks', async () => {
    const { s } = await start();
    const call = s.simulator.createCall({ type: 'client', ageSeconds: 30 });
    const ofEdge = async (query: string): Promise<string[]> =>
      (await page(s, `/v1/Voice/${call.sid}/Metrics${query}`)).metrics.map((r) => `${r.edge}/${r.direction}`);
    expect(await ofEdge('')).toEqual(['sdk_edge/both', 'sdk_edge/both', 'sdk_edge/both']);
    expect(await ofEdge('?Edge=client_edge&PageSize=2')).toEqual(['client_edge/inbound', 'client_edge/outbound']);
    expect(await ofEdge('?Edge=client_edge&Direction=outbound')).toEqual(Array(3).fill('client_edge/outbound'));
    expect(await ofEdge('?Edge=carrier_edge')).toEqual([]);
    expect(await ofEdge('?Edge=unknown_edge')).toEqual([]);
    expect(await ofEdge('?Direction=inbound')).toEqual([]);
  });

  it('clamps PageSize above 1000 in clamp mode and rejects it by default', async () => {
    const { s } = await start();
    const call = s.simulator.createCall({ type: 'carrier', ageSeconds: 30 });
    expect((await s.api(`/v1/Voice/${call.sid}/Metrics?PageSize=5000`)).status).toBe(400);
    await s.control.setVariant({ page_size_mode: 'clamp' });
    const body = await page(s, `/v1/Voice/${call.sid}/Metrics?PageSize=5000`);
    expect(body.meta.page_size).toBe(1000);
    expect(body.meta.url).toContain('PageSize=1000');
  });
});
