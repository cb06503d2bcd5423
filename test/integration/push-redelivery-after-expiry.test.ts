import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { signDelivery } from '../../src/simulator/event-signing.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';

// Probe K #1: the registry remembers an ended call for Twilio's 4 h retry horizon, the store its exactly-once state for
// max_sample_lateness + 2 min. A sample redelivered (under a new id, or the same one after a restart) once that state
// expired was applied again: 6 samples counted 12 times.
const ACCOUNT = DEMO_ACCOUNT.accountSid;
const CALL = 'CA7777777777777777777777777777aaaa';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

describe('a sample redelivered after its ended call left the store', () => {
  it('is refused as too late, not counted again, for as long as the call is remembered ended', { timeout: 30_000 }, async () => {
    let skew = 0;
    sim = await startSimulator({ lagSeconds: 0 });
    exp = await startTestExporter(
      sim.url,
      {
        accounts: [{ account_sid: ACCOUNT, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'push' }],
        backfill: true,
        call_retention: '1s',
        drain_period: '0s',
        max_sample_lateness: '5s',
      },
      { now: () => Date.now() + skew },
    );
    const sink = `${exp.url}/webhooks/twilio/event-streams/${ACCOUNT}`;
    const t0 = Math.floor(Date.now() / 10_000) * 10_000 - 120_000;
    const metric = (id: string, i: number): Record<string, unknown> => {
      const at = new Date(t0 + i * 10_000).toISOString();
      return {
        specversion: '1.0', type: 'com.twilio.voice.insights.call-metrics.gateway', source: `/v1/Voice/${CALL}/Metrics`, id,
        dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/2', time: at,
        data: { timestamp: at, call_sid: CALL, account_sid: ACCOUNT, edge: 'carrier_edge', direction: 'inbound', carrier_edge: { codec_name: 'pcmu' } },
      };
    };
    const completed = {
      specversion: '1.0', type: 'com.twilio.voice.insights.call-event.gateway', source: `/v1/Voice/${CALL}`, id: 'EVend',
      dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallEvent/3', time: new Date(t0 + 60_000).toISOString(),
      data: { call_sid: CALL, account_sid: ACCOUNT, edge: 'carrier_edge', name: 'completed', group: 'call-progress', level: 'INFO' },
    };
    const post = async (events: unknown[]): Promise<Record<string, number>> => {
      const body = JSON.stringify(events);
      const d = signDelivery(DEMO_ACCOUNT.authToken, sink, body);
      const res = await fetch(d.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': d.signature }, body });
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, number>;
    };
    const total = async (): Promise<number> => seriesOf(await exp!.scrape(), 'twilio_voice_samples_total').reduce((n, s) => n + s.value, 0);

    expect(await post([...[0, 1, 2, 3, 4, 5].map((i) => metric(`EA${i}`, i)), completed])).toMatchObject({ applied: 7 });
    expect(await total()).toBe(6);
    // Removed after call_retention, then its exactly-once state expires (5 s lateness + 2 min), while the call is
    // still remembered ended.
    await eventually(() => (exp!.exporter.registry.get(CALL) === undefined ? true : undefined), 10_000, 'the call removed');
    skew = 130_000;
    await eventually(() => (exp!.exporter.store.parkedSize === 0 ? true : undefined), 10_000, 'its state expired');

    const again = await post([0, 1, 2, 3, 4, 5].map((i) => metric(`EC${i}`, i)));
    expect(again['applied']).toBe(0);
    expect(await total()).toBe(6);
    expect(seriesOf(await exp.scrape(), 'twilio_insights_exporter_samples_rejected_total').find((s) => s.labels['reason'] === 'too_late')?.value).toBe(6);
  });
});
