import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { pushSigned, pushedEvent } from '../helpers/event-streams.ts';

// Probe G #2: a pushed call's twilio_call_info had call_type="" until a summary came (after the call), while the
// same call polled had its type from the edges with data, as the README says ("The call_type label comes from the
// edges with data until a Summary names it"): pushed and polled series of one call differed.

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

const metric = (id: string, call: string, edge: string, atMs: number): Record<string, unknown> =>
  pushedEvent(id, 'call-metrics.gateway', 'CallMetric/2', call, {
    timestamp: new Date(atMs).toISOString(), edge, direction: 'inbound',
    [edge]: { codec_name: 'pcmu', cumulative: { jitter: { avg: 3, max: 9 } }, interval: { packets_loss_percentage: 0.5 } },
  });
const summary = (id: string, call: string, callType: string): Record<string, unknown> =>
  pushedEvent(id, 'call-summary.partial', 'CallSummary/2', call, { call_type: callType, processing_state: 'partial', tags: [] });

describe('a pushed call\'s call_type comes from the edges with data until a summary names it, as a polled call\'s does', () => {
  it('labels pushed calls client, carrier, sip and trunking by their edges, and keeps a summary\'s type', { timeout: 30_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0 });
    const ACCOUNT = DEMO_ACCOUNT.accountSid;
    exp = await startTestExporter(sim.url, {
      accounts: [{ account_sid: ACCOUNT, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'push' }],
      backfill: true,
      call_retention: '1m',
    });
    const sid = (n: number): string => `CA${String(n).repeat(32)}`;
    const t = Date.now() - 60_000;
    expect(await pushSigned(exp.url, [
      metric('a1', sid(1), 'sdk_edge', t),
      metric('b1', sid(2), 'carrier_edge', t),
      metric('c1', sid(3), 'sip_edge', t),
      metric('d1', sid(4), 'carrier_edge', t),
      metric('d2', sid(4), 'sip_edge', t),
      metric('e1', sid(5), 'carrier_edge', t),
    ])).toMatchObject({ applied: 6 });
    const types = async (): Promise<Record<string, string | undefined>> =>
      Object.fromEntries(seriesOf(await exp!.scrape(), 'twilio_call_info').map((s) => [s.labels['call_sid']!, s.labels['call_type']]));
    expect(await types()).toEqual({ [sid(1)]: 'client', [sid(2)]: 'carrier', [sid(3)]: 'sip', [sid(4)]: 'trunking', [sid(5)]: 'carrier' });

    // A summary names the type; later samples do not take it back. A sip_edge sample turns carrier into trunking.
    expect(await pushSigned(exp.url, [summary('e2', sid(5), 'whatsapp'), metric('e3', sid(5), 'sip_edge', t + 10_000), metric('b2', sid(2), 'sip_edge', t + 10_000)])).toMatchObject({ applied: 3 });
    expect(await types()).toMatchObject({ [sid(2)]: 'trunking', [sid(5)]: 'whatsapp' });
  });
});
