import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { signDelivery } from '../../src/simulator/event-signing.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';

const ACCOUNT = DEMO_ACCOUNT.accountSid;
const TOKEN = DEMO_ACCOUNT.authToken;
const CALL = 'CA7569efe0253644fa4a88aa97beca3310';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

function metricEvent(id: string, second: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    type: 'com.twilio.voice.insights.call-metrics.gateway',
    source: `/v1/Voice/${CALL}/Metrics`,
    id,
    dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallMetric/2',
    time: '2024-01-01T00:02:00Z',
    data: {
      timestamp: `2024-01-01T00:00:${String(second).padStart(2, '0')}Z`,
      call_sid: CALL,
      account_sid: ACCOUNT,
      edge: 'carrier_edge',
      direction: 'inbound',
      carrier_edge: { codec_name: 'pcmu', cumulative: { jitter: { avg: 3, max: 9 }, packets_received: second * 50 }, interval: { packets_loss_percentage: 0.5 } },
    },
    ...extra,
  };
}

// A call-metrics event of `call` dated `atMs` (epoch ms), for tests that need samples near the exporter's clock.
function metricAt(id: string, atMs: number, call = CALL): Record<string, unknown> {
  const e = metricEvent(id, 0);
  const data = e['data'] as Record<string, unknown>;
  return { ...e, source: `/v1/Voice/${call}/Metrics`, data: { ...data, call_sid: call, timestamp: new Date(atMs).toISOString() } };
}

async function start(extra: Record<string, unknown> = {}, deps: Parameters<typeof startTestExporter>[2] = {}): Promise<string> {
  sim = await startSimulator({ lagSeconds: 0 });
  exp = await startTestExporter(sim.url, {
    accounts: [{ account_sid: ACCOUNT, auth_token: TOKEN, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'push' }],
    backfill: true,
    ...extra,
  }, deps);
  return `${exp.url}/webhooks/twilio/event-streams/${ACCOUNT}`;
}

// A second configured account, and an exporter with both in push mode (which asks Twilio nothing: the base URLs are
// never used).
const OTHER = `AC${'e'.repeat(32)}`;
const OTHER_TOKEN = 'other-account-token';
async function startTwoAccounts(): Promise<void> {
  const pushAccount = (account_sid: string, auth_token: string) => ({ account_sid, auth_token, insights_base_url: 'http://127.0.0.1:9', api_base_url: 'http://127.0.0.1:9', ingest_mode: 'push' });
  await start({ accounts: [pushAccount(ACCOUNT, TOKEN), pushAccount(OTHER, OTHER_TOKEN)] });
}

async function deliver(url: string, body: string, signature: string | undefined, contentType = 'application/json'): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(signature === undefined ? {} : { 'x-twilio-signature': signature }) },
    body,
  });
}

const samplesTotal = (text: string): number => seriesOf(text, 'twilio_voice_samples_total').reduce((n, s) => n + s.value, 0);
const counter = (text: string, name: string, label: string, value: string): number =>
  seriesOf(text, name).find((s) => s.labels[label] === value)?.value ?? Number.NaN;

// Posts events signed for `sink` and returns the 200 answer's body.
function signedSender(sink: string): (events: unknown[]) => Promise<unknown> {
  return async (events) => {
    const body = JSON.stringify(events);
    const d = signDelivery(TOKEN, sink, body);
    const res = await deliver(d.url, body, d.signature);
    expect(res.status).toBe(200);
    return res.json();
  };
}

describe('Event Streams receiver', () => {
  it('answers 403 to forged, replayed-with-changed-body and unsigned deliveries, changes nothing, and twilio agrees', async () => {
    const sink = await start();
    const body = JSON.stringify([metricEvent('EV1', 10)]);
    const good = signDelivery(TOKEN, sink, body);
    const forged = signDelivery('not-the-auth-token', sink, body);
    const changed = body.replace('"packets_loss_percentage":0.5', '"packets_loss_percentage":0.6');
    const attempts = [
      { name: 'forged', url: forged.url, signature: forged.signature as string | undefined, body },
      { name: 'replayed with a changed body', url: good.url, signature: good.signature as string | undefined, body: changed },
      { name: 'unsigned', url: good.url, signature: undefined, body },
      { name: 'no bodySHA256', url: sink, signature: twilio.getExpectedTwilioSignature(TOKEN, sink, {}) as string | undefined, body },
    ];
    for (const a of attempts) {
      const res = await deliver(a.url, a.body, a.signature);
      expect({ name: a.name, status: res.status }).toEqual({ name: a.name, status: 403 });
      expect({ name: a.name, oracle: twilio.validateRequestWithBody(TOKEN, a.signature ?? '', a.url, a.body) }).toEqual({ name: a.name, oracle: false });
    }
    expect(exp!.exporter.registry.size).toBe(0);
    const text = await exp!.scrape();
    expect(counter(text, 'twilio_insights_exporter_event_streams_deliveries_total', 'outcome', 'forbidden')).toBe(4);
    expect(samplesTotal(text)).toBe(0);

    // The same body, correctly signed, is accepted: the 403s were about the signatures alone.
    expect(twilio.validateRequestWithBody(TOKEN, good.signature, good.url, body)).toBe(true);
    const ok = await deliver(good.url, body, good.signature);
    expect(ok.status).toBe(200);
    expect(exp!.exporter.registry.get(CALL)?.sources).toEqual(new Set(['event_streams']));
  });

  it('applies a batch once: a redelivery, and the same sample under a new event id, count nothing twice', async () => {
    const sink = await start();
    const body = JSON.stringify([metricEvent('EV1', 10), metricEvent('EV2', 20), { bad: 'event' }, { ...metricEvent('EV3', 30), type: 'com.twilio.unknown' }]);
    const d = signDelivery(TOKEN, sink, body);
    const first = await deliver(d.url, body, d.signature);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ applied: 2, duplicates: 0, too_late: 0, refused: 0, skipped: 1, unknown_types: 1 });
    const again = await deliver(d.url, body, d.signature);
    expect(await again.json()).toEqual({ applied: 0, duplicates: 2, too_late: 0, refused: 0, skipped: 1, unknown_types: 1 });
    const reissued = JSON.stringify([metricEvent('EV9', 20)]);
    const r = signDelivery(TOKEN, sink, reissued);
    const re = await deliver(r.url, reissued, r.signature);
    expect(await re.json()).toEqual({ applied: 0, duplicates: 1, too_late: 0, refused: 0, skipped: 0, unknown_types: 0 });
    const text = await exp!.scrape();
    expect(samplesTotal(text)).toBe(2);
    expect(counter(text, 'twilio_insights_exporter_event_streams_events_skipped_total', 'reason', 'bad_envelope')).toBe(2);
    expect(counter(text, 'twilio_insights_exporter_event_streams_events_total', 'outcome', 'unknown_type')).toBe(2);
    // Two redelivered ids and one sample already held under another id.
    expect(counter(text, 'twilio_insights_exporter_event_streams_events_total', 'outcome', 'duplicate')).toBe(3);
  });

  // Probe D #1: a delivery signed by one configured account, naming a call tracked for another, ended that call and
  // relabelled it; its samples would have been counted as the other account's.
  it('leaves a call tracked for another account alone: samples, call events and summaries of it are skipped as wrong_account', async () => {
    await startTwoAccounts();
    const own = JSON.stringify([metricEvent('EV1', 10)]);
    const d = signDelivery(TOKEN, `${exp!.url}/webhooks/twilio/event-streams/${ACCOUNT}`, own);
    expect((await deliver(d.url, own, d.signature)).status).toBe(200);
    const before = await exp!.scrape();

    const asOther = (e: Record<string, unknown>): Record<string, unknown> => ({ ...e, data: { ...(e['data'] as object), account_sid: OTHER } });
    const forged = JSON.stringify([
      asOther(metricEvent('EV2', 20)),
      asOther({ specversion: '1.0', id: 'EV3', type: 'com.twilio.voice.insights.call-event.gateway', source: 'x', dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallEvent/2', data: { call_sid: CALL, account_sid: ACCOUNT, name: 'completed', level: 'INFO', group: 'connection', edge: 'carrier_edge', timestamp: '2024-01-01T00:00:30Z' } }),
      asOther({ specversion: '1.0', id: 'EV4', type: 'com.twilio.voice.insights.call-summary.complete', source: 'x', dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallSummary/2', data: { call_sid: CALL, account_sid: ACCOUNT, call_type: 'sip', tags: [] } }),
    ]);
    const f = signDelivery(OTHER_TOKEN, `${exp!.url}/webhooks/twilio/event-streams/${OTHER}`, forged);
    const res = await deliver(f.url, forged, f.signature);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ applied: 0, skipped: 3 });

    const call = exp!.exporter.registry.get(CALL);
    expect(call?.accountSid).toBe(ACCOUNT);
    expect(call?.endedAtMs).toBeUndefined();
    expect([...call!.sources]).toEqual(['event_streams']);
    expect(exp!.exporter.store.get(CALL)?.callType).not.toBe('sip');
    const after = await exp!.scrape();
    expect(samplesTotal(after)).toBe(samplesTotal(before));
    expect(counter(after, 'twilio_insights_exporter_event_streams_events_skipped_total', 'reason', 'wrong_account')).toBe(3);
  });

  // Probe L #1: a summary that came before its call's first metrics waited keyed by CallSid alone, so one account's
  // summary of a call no one tracked yet became the call type and summary of another account's call of that SID.
  it('keeps a waiting summary for its own account: another account\'s call of that SID never takes it', async () => {
    await startTwoAccounts();
    const summary = JSON.stringify([
      { specversion: '1.0', id: 'EVs', type: 'com.twilio.voice.insights.call-summary.complete', source: 'x', dataschema: 'https://events-schemas.twilio.com/VoiceInsights.CallSummary/2', data: { call_sid: CALL, account_sid: OTHER, call_type: 'trunking', processing_state: 'complete', tags: ['high_jitter', 'low_mos'] } },
    ]);
    const f = signDelivery(OTHER_TOKEN, `${exp!.url}/webhooks/twilio/event-streams/${OTHER}`, summary);
    expect((await deliver(f.url, summary, f.signature)).status).toBe(200);
    const own = JSON.stringify([metricEvent('EV1', 10)]);
    const d = signDelivery(TOKEN, `${exp!.url}/webhooks/twilio/event-streams/${ACCOUNT}`, own);
    expect(await (await deliver(d.url, own, d.signature)).json()).toMatchObject({ applied: 1 });

    expect(exp!.exporter.registry.get(CALL)?.accountSid).toBe(ACCOUNT);
    expect(exp!.exporter.store.get(CALL)?.callType).not.toBe('trunking');
    const text = await exp!.scrape();
    expect(seriesOf(text, 'twilio_call_summary_tags')).toEqual([]);
    expect(seriesOf(text, 'twilio_call_info').map((s) => s.labels['call_type'])).not.toContain('trunking');
  });

  // Probe E #2: pushed samples skipped the max_clock_skew check. One dated a year ahead became its stream's newest,
  // and every real sample after it was refused as too late (silently) until that year passed.
  it('skips a pushed sample dated past max_clock_skew as future_timestamp, keeps the rest of its batch, and later samples still count', async () => {
    const send = signedSender(await start());
    const now = Date.now();
    await send([metricAt('EV0', now - 60_000)]);
    const yearAhead = metricAt('EV1', now + 365 * 86_400_000);
    const year9999 = { ...metricAt('EV2', now), data: { ...(metricAt('EV2', now)['data'] as object), timestamp: '9999-12-31T23:59:59Z' } };
    const mixed = await send([yearAhead, metricAt('EV3', now - 55_000), year9999]);
    expect(mixed).toMatchObject({ skipped: 2 });
    // Ten real samples after the fake ones, the last within the allowed skew (5m): every one counts.
    await send(Array.from({ length: 10 }, (_, i) => metricAt(`EVr${i}`, now - 50_000 + i * 10_000)));
    const text = await exp!.scrape();
    expect(samplesTotal(text)).toBe(12);
    expect(counter(text, 'twilio_insights_exporter_event_streams_events_skipped_total', 'reason', 'future_timestamp')).toBe(2);
    const newest = seriesOf(text, 'twilio_call_sample_timestamp_seconds').map((s) => s.value);
    expect(newest).toEqual([(now + 40_000) / 1000]);
    // A redelivery of the refused event is refused again: it was never applied, so its id was not remembered.
    expect(await send([yearAhead])).toMatchObject({ skipped: 1 });
  });

  // Probe E #3: a pushed sample the store refused as too late was dropped with no count, and the answer called it
  // applied, as it did duplicates under a new id and events of calls refused at max_calls.
  it('counts a pushed sample refused as too late like a polled one, and answers what each event came to', async () => {
    const send = signedSender(await start({ max_calls: 1 }));
    const now = Date.now();
    const OTHER_CALL = `CA${'b'.repeat(32)}`;
    expect(await send([metricAt('EV1', now)])).toEqual({ applied: 1, duplicates: 0, too_late: 0, refused: 0, skipped: 0, unknown_types: 0 });
    const answer = await send([
      metricAt('EV2', now - 20 * 60_000), // 20 min behind its stream's newest: past max_sample_lateness (10m)
      metricAt('EV3', now), // the sample of EV1 under a new id
      metricAt('EV4', now, OTHER_CALL), // a second call, past max_calls
      metricAt('EV1', now), // a redelivery
      { bad: 'event' },
    ]);
    // Every event of the body in exactly one count.
    expect(answer).toEqual({ applied: 0, duplicates: 2, too_late: 1, refused: 1, skipped: 1, unknown_types: 0 });
    const text = await exp!.scrape();
    expect(samplesTotal(text)).toBe(1);
    expect(counter(text, 'twilio_insights_exporter_samples_rejected_total', 'reason', 'too_late')).toBe(1);
    expect(seriesOf(text, 'twilio_insights_exporter_samples_duplicate_total').map((s) => s.value)).toEqual([1]);
    const events = (outcome: string): number => counter(text, 'twilio_insights_exporter_event_streams_events_total', 'outcome', outcome);
    expect(['applied', 'duplicate', 'too_late', 'refused', 'skipped'].map(events)).toEqual([1, 2, 1, 1, 1]);
  });

  it('counts a batch of thousands of bad events by reason, with one log line per reason and not one per event', async () => {
    // Event counts are bounded only by the body limit: 16 MB holds millions of `{}`. Per-event metric updates and
    // log calls took such a batch past Twilio's 5 s deadline; the work per bad event is now its parse alone.
    const lines: Array<{ msg?: string; reason?: string; count?: number; detail?: string }> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const sink = await start({}, { logger });
    const badSid = (i: number): Record<string, unknown> => {
      const e = metricEvent(`EVsid${i}`, 1);
      return { ...e, data: { ...(e['data'] as Record<string, unknown>), call_sid: 'CAnot-a-sid' } };
    };
    const events = [...Array.from({ length: 1500 }, () => ({})), ...Array.from({ length: 1500 }, (_, i) => badSid(i)), metricEvent('EVgood', 5)];
    const body = JSON.stringify(events);
    const d = signDelivery(TOKEN, sink, body);
    const res = await deliver(d.url, body, d.signature);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ applied: 1, duplicates: 0, too_late: 0, refused: 0, skipped: 3000, unknown_types: 0 });
    const text = await exp!.scrape();
    expect(samplesTotal(text)).toBe(1);
    expect(counter(text, 'twilio_insights_exporter_event_streams_events_skipped_total', 'reason', 'bad_envelope')).toBe(1500);
    expect(counter(text, 'twilio_insights_exporter_event_streams_events_skipped_total', 'reason', 'bad_call_sid')).toBe(1500);
    expect(counter(text, 'twilio_insights_exporter_event_streams_events_total', 'outcome', 'skipped')).toBe(3000);
    const logged = lines.filter((l) => l.msg === 'pushed events skipped');
    expect(logged.map((l) => [l.reason, l.count])).toEqual([['bad_envelope', 1500], ['bad_call_sid', 1500]]);
    expect(logged[1]!.detail).toMatch(/^call_sid /);
  });

  it('refuses a wrong content type (415), an oversized body (413), a non-array body (400), and a poll-mode account (403)', async () => {
    const sink = await start({ event_streams: { max_body_bytes: 2048 } });
    const body = JSON.stringify([metricEvent('EV1', 10)]);
    const d = signDelivery(TOKEN, sink, body);
    expect((await deliver(d.url, body, d.signature, 'text/plain')).status).toBe(415);
    const big = JSON.stringify(Array.from({ length: 10 }, (_, i) => metricEvent(`EV${i}`, i)));
    const b = signDelivery(TOKEN, sink, big);
    const tooBig = await deliver(b.url, big, b.signature);
    expect(tooBig.status).toBe(413);
    expect(await tooBig.text()).toBe('body exceeds 2048 bytes\n');
    const obj = JSON.stringify({ events: [] });
    const o = signDelivery(TOKEN, sink, obj);
    const notArray = await deliver(o.url, obj, o.signature);
    expect(notArray.status).toBe(400);
    expect(await notArray.text()).toBe('body must be a JSON array of CloudEvents\n');
    const other = `${exp!.url}/webhooks/twilio/event-streams/ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb`;
    const x = signDelivery(TOKEN, other, body);
    expect((await deliver(x.url, body, x.signature)).status).toBe(403);
    expect(exp!.exporter.registry.size).toBe(0);
  });

  it('answers 400, not 500, to a signed delivery whose Content-Encoding does not match its body (probe A #4)', async () => {
    // zlib failures reach the route as a 400 without a body-parser `type`; answered 500, Twilio retried them for hours.
    const sink = await start();
    const body = 'this is not compressed data';
    const d = signDelivery(TOKEN, sink, body);
    for (const encoding of ['deflate', 'gzip']) {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding, 'x-twilio-signature': d.signature },
        body,
      });
      expect({ encoding, status: res.status, body: await res.text() }).toEqual({ encoding, status: 400, body: 'body could not be read\n' });
    }
    const text = await exp!.scrape();
    expect(counter(text, 'twilio_insights_exporter_event_streams_deliveries_total', 'outcome', 'bad_request')).toBe(2);
    expect(counter(text, 'twilio_insights_exporter_event_streams_deliveries_total', 'outcome', 'error')).toBe(0);
  });

  it('checks the signature against webhooks.public_url behind a proxy', async () => {
    const sink = await start({ webhooks: { public_url: 'https://exporter.example.com/base' } });
    const body = JSON.stringify([metricEvent('EV1', 10)]);
    const publicSink = `https://exporter.example.com/base/webhooks/twilio/event-streams/${ACCOUNT}`;
    const viaProxy = signDelivery(TOKEN, publicSink, body);
    const query = viaProxy.url.slice(viaProxy.url.indexOf('?'));
    expect((await deliver(`${sink}${query}`, body, viaProxy.signature)).status).toBe(200);
    const direct = signDelivery(TOKEN, sink, body);
    expect((await deliver(direct.url, body, direct.signature)).status).toBe(403);
  });

  it('still asks for basic auth when the web config has users, though deliveries skip express otherwise (issue 14)', async () => {
    const sink = await start({}, { webConfig: { users: new Map([['prom', bcrypt.hashSync('scrape-pass', 4)]]) } });
    const body = JSON.stringify([metricEvent('EV1', 10)]);
    const d = signDelivery(TOKEN, sink, body);
    const res = await deliver(d.url, body, d.signature);
    expect(res.status).toBe(401);
    expect(exp!.exporter.registry.size).toBe(0);
    const authorized = await fetch(d.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-twilio-signature': d.signature, authorization: `Basic ${Buffer.from('prom:scrape-pass').toString('base64')}` },
      body,
    });
    expect(authorized.status).toBe(200);
    expect(exp!.exporter.registry.get(CALL)?.sources).toEqual(new Set(['event_streams']));
  });
});
