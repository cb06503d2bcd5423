import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { simControl } from '../helpers/sim-control.ts';

const TYPES = ['carrier', 'sip', 'client', 'trunking_originating', 'trunking_terminating'] as const;
let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

type Counts = Record<string, number>;
const streamKey = (edge: unknown, direction: unknown) => `${String(edge)}/${String(direction)}`;

async function visible(simUrl: string, sids: string[]): Promise<Counts> {
  const out: Counts = {};
  for (const sid of sids) {
    for (const s of await simControl(simUrl).samples(sid)) {
      const k = streamKey(s['edge'], s['direction']);
      out[k] = (out[k] ?? 0) + 1;
    }
  }
  return out;
}

function exported(text: string, metric: string): Counts {
  const out: Counts = {};
  for (const s of seriesOf(text, metric)) {
    const k = streamKey(s.labels['edge'], s.labels['direction']);
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}

const same = (a: Counts, b: Counts) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
const sum = (t: string, metric: string, where: (l: Record<string, string>) => boolean = () => true) =>
  seriesOf(t, metric).filter((s) => where(s.labels)).reduce((a, s) => a + s.value, 0);

describe('chaos', () => {
  it('loses and doubles no sample through 429s, 5xx, timeouts, truncated bodies and resets while calls start and end', { timeout: 120_000 }, async () => {
    let simNow = Date.parse('2026-11-27T10:00:00Z');
    sim = await startSimulator({ lagSeconds: 0, seed: 3, now: () => simNow });
    const control = simControl(sim.url);
    const sids: string[] = [];
    for (let i = 0; i < 8; i++) sids.push((await control.createCall({ type: TYPES[i % TYPES.length]!, age_seconds: 300 })).sid);

    exp = await startTestExporter(sim.url, {
      accounts: [
        {
          account_sid: DEMO_ACCOUNT.accountSid,
          auth_token: DEMO_ACCOUNT.authToken,
          insights_base_url: sim.url,
          api_base_url: sim.url,
          max_concurrent_requests: 3,
        },
      ],
      discovery: { enabled: true, interval: '1s' },
      backfill: true,
      page_size: 20,
      poll_interval: '1s',
      request_timeout: '400ms',
      drain_period: '10m',
      call_retention: '10m',
    });

    const faults = {
      rate_429: 0.15,
      rate_500: 0.08,
      rate_503: 0.08,
      timeout_rate: 0.04,
      timeout_hold_ms: 1000,
      truncate_rate: 0.08,
      reset_rate: 0.04,
      latency_rate: 0.2,
      latency_ms: 50,
    };
    // Two phases: 429s with Retry-After, then without it.
    for (const retryAfter of [1, null]) {
      await control.setFaults({ ...faults, retry_after_429_seconds: retryAfter });
      for (let step = 0; step < 4; step++) {
        simNow += 10_000;
        if (step === 1) sids.push((await control.createCall({ type: TYPES[step], age_seconds: 60 })).sid);
        if (step === 2) await control.endCall(sids[step]!);
        await new Promise((r) => setTimeout(r, 1500));
      }
    }

    await control.setFaults({});
    for (const sid of sids) await control.endCall(sid).catch(() => undefined);
    simNow += 30_000;
    const want = await visible(sim.url, sids);
    const text = await eventually(
      async () => {
        const t = await exp!.scrape();
        return same(exported(t, 'twilio_voice_samples_total'), want) ? t : undefined;
      },
      60_000,
      'every sample once after the faults stop',
    ).catch(async (err: unknown) => {
      expect(exported(await exp!.scrape(), 'twilio_voice_samples_total')).toEqual(want);
      throw err;
    });
    expect(exported(text, 'twilio_voice_packet_loss_ratio_count')).toEqual(want);

    const ledger = await control.ledger();
    expect(ledger.peak_concurrency[DEMO_ACCOUNT.accountSid]).toBeLessThanOrEqual(3);
    // The faults really happened and were ridden through.
    expect(sum(text, 'twilio_insights_exporter_api_requests_total', (l) => l['outcome'] === '429')).toBeGreaterThan(0);
    expect(sum(text, 'twilio_insights_exporter_api_requests_total', (l) => l['outcome'] === '503')).toBeGreaterThan(0);
    expect(sum(text, 'twilio_insights_exporter_api_requests_total', (l) => l['outcome'] === 'timeout')).toBeGreaterThan(0);
    expect(sum(text, 'twilio_insights_exporter_api_requests_total', (l) => l['outcome'] === 'network')).toBeGreaterThan(0);
    expect(sum(text, 'twilio_insights_exporter_api_requests_total', (l) => l['outcome'] === 'bad_payload')).toBeGreaterThan(0);
    expect(sum(text, 'twilio_insights_exporter_api_retries_total')).toBeGreaterThan(0);
  });

  it('skips corrupted records one by one, counts them by reason, and keeps the rest of the page', { timeout: 60_000 }, async () => {
    const simNow = Date.parse('2026-11-27T10:00:00Z');
    sim = await startSimulator({ lagSeconds: 0, seed: 5, now: () => simNow });
    const control = simControl(sim.url);
    const sids: string[] = [];
    for (const type of TYPES) sids.push((await control.createCall({ type, age_seconds: 600 })).sid);
    await control.setFaults({ corrupt_record_rate: 0.05 });
    exp = await startTestExporter(sim.url, { calls: sids, backfill: true });
    const want = await visible(sim.url, sids);
    const total = Object.values(want).reduce((a, b) => a + b, 0);
    const text = await eventually(async () => {
      const t = await exp!.scrape();
      const applied = sum(t, 'twilio_voice_samples_total');
      const rejected = sum(t, 'twilio_insights_exporter_samples_rejected_total');
      return applied > 0 && rejected > 0 && seriesOf(t, 'twilio_insights_exporter_call_poll_success').length === sids.length ? t : undefined;
    });
    const applied = sum(text, 'twilio_voice_samples_total');
    const rejected = sum(text, 'twilio_insights_exporter_samples_rejected_total');
    // Nothing doubled; what is missing is at most what was rejected, and most of each page was kept.
    expect(applied).toBeLessThanOrEqual(total);
    expect(applied + rejected).toBeGreaterThanOrEqual(total);
    expect(applied).toBeGreaterThan(total * 0.8);
    const reasons = new Set(seriesOf(text, 'twilio_insights_exporter_samples_rejected_total').filter((s) => s.value > 0).map((s) => s.labels['reason']));
    expect(reasons.size).toBeGreaterThan(1);
  });
});
