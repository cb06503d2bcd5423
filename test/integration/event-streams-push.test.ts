import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { deliveryLedger, setDelivery, subscribeSink } from '../helpers/event-streams.ts';
import { closeAfterEach, eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { exported, simControl, visible } from '../helpers/sim-control.ts';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

const ACCOUNT = DEMO_ACCOUNT.accountSid;

// The ledger's samples (`call/edge/direction` → n) by `edge/direction`.
function byStream(samples: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(samples)) {
    const stream = k.split('/').slice(1).join('/');
    out[stream] = (out[stream] ?? 0) + n;
  }
  return out;
}

async function startPair(mode: 'push' | 'hybrid', extra: Record<string, unknown> = {}): Promise<string> {
  sim = await startSimulator({ lagSeconds: 0, seed: 11 });
  exp = await startTestExporter(sim.url, {
    accounts: [{ account_sid: ACCOUNT, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: mode }],
    backfill: true,
    discovery: { enabled: true, interval: '1s' },
    ...extra,
  });
  return subscribeSink(sim.url, `${exp.url}/webhooks/twilio/event-streams/${ACCOUNT}`);
}

describe('push mode', () => {
  it('counts exactly what the simulator delivered, through duplicates, reordering and delays, with 0 Insights requests', { timeout: 60_000 }, async () => {
    await startPair('push');
    await setDelivery(sim!.url, { duplicateRate: 0.3, reorder: true, maxDelayMs: 400, batchSize: 7, concurrency: 4 });
    const control = simControl(sim!.url);
    const sids: string[] = [];
    for (const type of ['carrier', 'sip', 'client', 'trunking_originating'] as const) {
      sids.push((await control.createCall({ type, age_seconds: 300, duration_seconds: 3600 })).sid);
    }
    const want = await visible(sim!.url, sids);
    const ledger = await eventually(async () => {
      const l = await deliveryLedger(sim!.url);
      return l.pending === 0 && sumOf(byStream(l.samples)) >= sumOf(want) ? l : undefined;
    }, 30_000, 'every visible sample delivered');
    expect(ledger.duplicatesSent).toBeGreaterThan(0);
    const text = await eventually(async () => {
      const t = await exp!.scrape();
      return sumOf(exported(t)) >= sumOf(byStream(ledger.samples)) ? t : undefined;
    }, 10_000, 'the exporter to count every delivered sample').catch(async () => exp!.scrape());
    expect(sorted(exported(text))).toEqual(sorted(byStream(ledger.samples)));
    expect(sorted(byStream(ledger.samples))).toEqual(sorted(want));
    // Discovery lists calls (a 2010 API request); no Insights request was made for any pushed call.
    const requests = (await control.ledger()).requests;
    expect({ metrics: requests.by_route.metrics, summary: requests.by_route.summary, events: requests.by_route.events }).toEqual({ metrics: 0, summary: 0, events: 0 });
    for (const sid of sids) expect(exp!.exporter.registry.get(sid)?.sources.has('event_streams')).toBe(true);
  });
});

describe('hybrid mode', () => {
  it('fills a push outage by polling, with 0 samples lost and 0 counted twice', { timeout: 90_000 }, async () => {
    let simNow = Date.now();
    sim = await startSimulator({ lagSeconds: 0, seed: 12, now: () => simNow });
    exp = await startTestExporter(sim.url, {
      accounts: [{ account_sid: ACCOUNT, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'hybrid' }],
      backfill: true,
      discovery: { enabled: true, interval: '1s' },
      event_streams: { hybrid_gap: '2s' },
    });
    await subscribeSink(sim.url, `${exp.url}/webhooks/twilio/event-streams/${ACCOUNT}`);
    await setDelivery(sim.url, { duplicateRate: 0.2, reorder: false, batchSize: 20, concurrency: 1 });
    const control = simControl(sim.url);
    const sids = [(await control.createCall({ type: 'carrier', age_seconds: 120, duration_seconds: 3600 })).sid, (await control.createCall({ type: 'sip', age_seconds: 120, duration_seconds: 3600 })).sid];
    await eventually(async () => ((await deliveryLedger(sim!.url)).pending === 0 && sumOf(exported(await exp!.scrape())) === sumOf(await visible(sim!.url, sids)) ? true : undefined), 20_000, 'pushed samples applied');
    const before = (await control.ledger()).requests.by_route.metrics;
    expect(before).toBe(0);
    const gapFills = (text: string): number => seriesOf(text, 'twilio_insights_exporter_event_streams_gap_fill_polls_total').reduce((n, s) => n + s.value, 0);
    expect(seriesOf(await exp.scrape(), 'twilio_insights_exporter_event_streams_gap_fill_polls_total')).toEqual([expect.objectContaining({ labels: { account_sid: ACCOUNT }, value: 0 })]);

    // Outage: Twilio holds the events; the calls keep producing samples (5 minutes of them).
    await setDelivery(sim.url, { paused: true });
    simNow += 300_000;
    const want = await visible(sim.url, sids);
    const filled = await eventually(async () => {
      const t = await exp!.scrape();
      return sumOf(exported(t)) === sumOf(want) ? t : undefined;
    }, 30_000, 'polling to fill the outage');
    expect(sorted(exported(filled))).toEqual(sorted(want));
    expect((await control.ledger()).requests.by_route.metrics).toBeGreaterThan(0);
    expect(gapFills(await exp.scrape())).toBeGreaterThan(0);

    // The held events arrive late: every one is a sample already counted.
    await setDelivery(sim.url, { paused: false });
    await eventually(async () => ((await deliveryLedger(sim!.url)).pending === 0 ? true : undefined), 20_000, 'held events delivered');
    const ledger = await deliveryLedger(sim.url);
    expect(sorted(byStream(ledger.samples))).toEqual(sorted(want));
    expect(sorted(exported(await exp.scrape()))).toEqual(sorted(want));
  });
});

describe('hybrid mode over a restart', () => {
  // Hybrid calls known only from pushes have no other source to announce them after a restart: the calls live at the
  // last save are tracked again, so a push outage that spans the restart is still filled by polling (probe K).
  it('tracks again the calls live at the save and fills a push outage across the restart, 0 lost and 0 doubled', { timeout: 90_000 }, async () => {
    let simNow = Date.now();
    sim = await startSimulator({ lagSeconds: 0, seed: 13, now: () => simNow });
    const statePath = join(mkdtempSync(join(tmpdir(), 'tie-hybrid-')), 'state.json');
    const config = {
      accounts: [{ account_sid: ACCOUNT, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'hybrid' }],
      backfill: true,
      event_streams: { hybrid_gap: '2s' },
      state: { path: statePath },
    };
    exp = await startTestExporter(sim.url, config);
    await subscribeSink(sim.url, `${exp.url}/webhooks/twilio/event-streams/${ACCOUNT}`);
    await setDelivery(sim.url, { reorder: false, batchSize: 20, concurrency: 1 });
    const control = simControl(sim.url);
    const sids = [(await control.createCall({ type: 'carrier', age_seconds: 120, duration_seconds: 3600 })).sid];
    await eventually(async () => ((await deliveryLedger(sim!.url)).pending === 0 && sumOf(exported(await exp!.scrape())) === sumOf(await visible(sim!.url, sids)) ? true : undefined), 20_000, 'pushed samples applied');
    const before = await visible(sim.url, sids);

    // The push stops, the exporter restarts, and the call goes on for 5 minutes.
    await setDelivery(sim.url, { paused: true });
    await exp.close();
    simNow += 300_000;
    const after = await visible(sim.url, sids);
    const outage = Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n - (before[k] ?? 0)]));
    expect(sumOf(outage)).toBeGreaterThan(0);
    exp = await startTestExporter(sim.url, config);
    expect(exp.exporter.registry.get(sids[0]!)?.sources.has('event_streams')).toBe(true);
    // Counters restart at 0: the new process counts the outage's samples, each once.
    const filled = await eventually(async () => {
      const t = await exp!.scrape();
      return sumOf(exported(t)) === sumOf(outage) ? t : undefined;
    }, 30_000, 'polling to fill the outage after the restart');
    expect(sorted(exported(filled))).toEqual(sorted(outage));
  });
});

function sumOf(m: Record<string, number>): number {
  return Object.values(m).reduce((a, b) => a + b, 0);
}

function sorted(m: Record<string, number>): Array<[string, number]> {
  return Object.entries(m).sort(([a], [b]) => a.localeCompare(b));
}
