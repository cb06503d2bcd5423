import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../../src/simulator/demo-account.ts';
import { Ledger } from '../../../src/simulator/ledger.ts';
import type { TestSimulator } from '../../helpers/simulator.ts';
import { startTestSimulator } from '../../helpers/simulator.ts';

describe('Ledger (in process)', () => {
  it('counts each (call, edge, direction, timestamp) once, however often and in whatever order it is served', () => {
    const ledger = new Ledger();
    const sample = (index: number): Parameters<Ledger['recordServed']>[0][number] => ({
      callSid: 'CA1',
      accountSid: 'AC1',
      edge: 'sdk_edge',
      direction: 'both',
      index,
      timestamp: `t${index}`,
    });
    ledger.recordServed([sample(5), sample(0), sample(5), sample(1000)]);
    ledger.recordServed([sample(0), sample(999)]);
    const [line] = ledger.snapshot({}).streams;
    expect(line).toEqual({ call_sid: 'CA1', account_sid: 'AC1', edge: 'sdk_edge', direction: 'both', served: 4, last_timestamp: 't1000' });
  });
});

describe('ledger over HTTP', () => {
  let s: TestSimulator;
  let sid: string;
  beforeAll(async () => {
    s = await startTestSimulator();
    sid = s.simulator.createCall({ type: 'sip', ageSeconds: 100 }).sid;
  });
  afterAll(() => s.close());
  beforeEach(() => s.control.resetStats());

  it('records served samples per stream, distinct across repeated pages, with the newest timestamp', async () => {
    for (let i = 0; i < 3; i++) expect((await s.api(`/v1/Voice/${sid}/Metrics?PageSize=6`)).status).toBe(200);
    const body = (await (await s.api(`/v1/Voice/${sid}/Metrics?PageSize=4&Direction=outbound`)).json()) as {
      metrics: Array<{ timestamp: string }>;
    };
    const ledger = await s.control.ledger();
    const samples = s.simulator.visibleSamples(sid);
    expect(ledger.streams).toEqual([
      { call_sid: sid, account_sid: DEMO_ACCOUNT.accountSid, edge: 'sip_edge', direction: 'inbound', served: 3, last_timestamp: samples[4]?.timestamp },
      { call_sid: sid, account_sid: DEMO_ACCOUNT.accountSid, edge: 'sip_edge', direction: 'outbound', served: 4, last_timestamp: body.metrics[3]?.timestamp },
    ]);
  });

  it('counts requests per route, per call and per status, and leaves failures out of the served count', async () => {
    await s.api(`/v1/Voice/${sid}/Metrics`);
    await s.api(`/v1/Voice/${sid}/Events`);
    await s.api(`/v1/Voice/${sid}/Summary`);
    await s.api('/v1/Voice/Settings');
    await s.api(`/2010-04-01/Accounts/${DEMO_ACCOUNT.accountSid}/Calls.json`);
    await s.api(`/v1/Voice/${sid}/Metrics?Edge=bad`);
    await fetch(`${s.url}/v1/Voice/${sid}/Metrics`);
    const ledger = await s.control.ledger();
    expect(ledger.requests).toEqual({
      total: 7,
      by_route: { metrics: 3, events: 1, summary: 1, settings: 1, calls: 1 },
      by_call: { [sid]: 5 },
      by_status: { '200': 4, '400': 1, '401': 1, '404': 1 },
    });
    expect(ledger.streams.map((line) => line.served)).toEqual([10, 10]);
    expect(ledger.peak_concurrency).toEqual({ [DEMO_ACCOUNT.accountSid]: 1 });
    await s.control.resetStats();
    expect((await s.control.ledger()).requests.total).toBe(0);
    expect((await s.control.ledger()).streams).toEqual([]);
  });
});
