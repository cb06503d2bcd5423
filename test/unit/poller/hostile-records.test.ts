import { describe, expect, it, onTestFinished } from 'vitest';
import { eventually, seriesOf } from '../../helpers/exporter.ts';
import { ACCOUNT_1, startExporter } from './hostile-exporter.ts';
import { hostileInsights } from './hostile-insights.ts';
import type { FakeCall, HostileOptions } from './hostile-insights.ts';

// Regression tests for issue 11 items 4, 5 and 6 and issue 13 item 4: a fake Insights API over a real
// socket serves hostile records to an exporter started from a real config file; the assertions read /metrics.

const sid = (n: number): string => `CA${n.toString(16).padStart(32, '0')}`;

async function fakeWith(calls: FakeCall[], extra: Partial<HostileOptions> = {}) {
  const fake = await hostileInsights({ calls, ...extra });
  onTestFinished(() => fake.close());
  return fake;
}

const config = (calls: FakeCall[], extra: Record<string, unknown> = {}) => ({
  calls: calls.map((c) => ({ call_sid: c.callSid, account_sid: c.accountSid })),
  ...extra,
});

// Newest sample time of one stream, in ms, as /metrics shows it.
function newestMs(text: string, callSid: string, direction: string): number | undefined {
  const s = seriesOf(text, 'twilio_call_sample_timestamp_seconds').find(
    (x) => x.labels['call_sid'] === callSid && x.labels['direction'] === direction && x.labels['edge'] === 'carrier_edge',
  );
  return s === undefined ? undefined : s.value * 1000;
}

describe('records the query did not ask for', () => {
  it('a record dated years ahead is rejected as future_timestamp and never becomes the stream newest', async () => {
    const call: FakeCall = { callSid: sid(1), accountSid: ACCOUNT_1, behaviour: 'future' };
    const fake = await fakeWith([call]);
    const exp = await startExporter(fake, config([call]));

    await eventually(async () => ((await exp.total('twilio_insights_exporter_samples_rejected_total', { reason: 'future_timestamp' })) === 1 ? true : undefined), 8_000, 'the future record counted');
    fake.freeze();
    const newest = fake.ledger().newestMs!;
    const text = await eventually(async () => {
      const t = await exp.scrape();
      return newestMs(t, call.callSid, 'outbound') === newest ? t : undefined;
    }, 8_000, 'the outbound stream caught up');
    expect(newestMs(text, call.callSid, 'inbound')).toBe(newest);
  }, 20_000);

  it('a record naming another call, account or edge is rejected by reason and never applied to the call it names', async () => {
    const victim: FakeCall = { callSid: sid(2), accountSid: ACCOUNT_1, behaviour: 'good' };
    const attacker: FakeCall = { callSid: sid(3), accountSid: ACCOUNT_1, behaviour: 'cross', target: victim.callSid };
    const fake = await fakeWith([victim, attacker]);
    const exp = await startExporter(fake, config([victim, attacker]));

    for (const reason of ['wrong_call', 'wrong_account', 'wrong_edge']) {
      await eventually(async () => ((await exp.total('twilio_insights_exporter_samples_rejected_total', { reason })) === 1 ? true : undefined), 8_000, `${reason} counted`);
    }
    const text = await exp.scrape();
    const codecs = seriesOf(text, 'twilio_call_info').map((s) => s.labels['codec_name']);
    expect(codecs).not.toContain('stolen');
    // The attacker's own carrier_edge streams and nothing on sip_edge: the stray edge record went nowhere.
    const edges = seriesOf(text, 'twilio_call_sample_timestamp_seconds').map((s) => s.labels['edge']);
    expect(edges).not.toContain('sip_edge');
    fake.freeze();
    const newest = fake.ledger().newestMs!;
    await eventually(async () => {
      const t = await exp.scrape();
      return [victim, attacker].every((c) => newestMs(t, c.callSid, 'inbound') === newest) ? t : undefined;
    }, 8_000, 'both calls at the ledger newest');
    // Exactly once per reason: pages read again do not count their strays again.
    for (const reason of ['wrong_call', 'wrong_account', 'wrong_edge']) {
      expect(await exp.total('twilio_insights_exporter_samples_rejected_total', { reason })).toBe(1);
    }
  }, 25_000);

  it('a timestamp nested 200000 deep costs only its own record: the rest of its page is applied', async () => {
    const call: FakeCall = { callSid: sid(4), accountSid: ACCOUNT_1, behaviour: 'nested' };
    const fake = await fakeWith([call]);
    const exp = await startExporter(fake, config([call]));

    fake.freeze();
    const newest = fake.ledger().newestMs!;
    await eventually(async () => (newestMs(await exp.scrape(), call.callSid, 'inbound') === newest ? true : undefined), 8_000, 'the page applied');
    expect(await exp.total('twilio_insights_exporter_samples_rejected_total', { reason: 'bad_timestamp' })).toBe(1);
    expect(await exp.total('twilio_voice_samples_total', { account_sid: ACCOUNT_1 })).toBe(fake.ledger().count);
  }, 20_000);
});

describe('a page whose next_page_url leaves the configured origin', () => {
  it('keeps the records already read, counts the refusal, and never contacts the other origin', async () => {
    const foreign = await fakeWith([]);
    const call: FakeCall = { callSid: sid(5), accountSid: ACCOUNT_1, behaviour: 'foreign_next' };
    const fake = await fakeWith([call], { foreignBaseUrl: foreign.baseUrl });
    const exp = await startExporter(fake, config([call], { page_size: 4 }));

    await eventually(async () => ((await exp.total('twilio_insights_exporter_paging_stopped_total', { reason: 'foreign_origin' })) >= 1 ? true : undefined), 8_000, 'the refusal counted');
    fake.freeze();
    const text = await exp.scrape();
    // The first page holds rounds 0 and 1, both directions.
    const { newestMs: newest, count } = fake.ledger();
    expect(newestMs(text, call.callSid, 'inbound')).toBe(newest! - (count / 2 - 2) * 10_000);
    expect(await exp.total('twilio_voice_samples_total', { account_sid: ACCOUNT_1 })).toBe(4);
    expect(foreign.metricsRequests.size).toBe(0);
  }, 20_000);
});
