import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { createExporter } from '../../src/exporter.ts';
import type { Sample } from '../../src/samples/sample.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { parseExposition, seriesOf } from '../helpers/exporter.ts';

const sid = (i: number): string => `CA${i.toString(16).padStart(32, '0')}`;

describe('call churn', () => {
  it('10,000 calls tracked, sampled, ended and expired leave nothing behind but the fleet counts', { timeout: 60_000 }, async () => {
    let now = Date.parse('2026-11-27T10:00:00Z');
    const config = loadConfig({
      env: {
        TWILIO_ACCOUNT_SID: DEMO_ACCOUNT.accountSid,
        TWILIO_AUTH_TOKEN: DEMO_ACCOUNT.authToken,
        TWILIO_INSIGHTS_EXPORTER_MAX_CALLS: '20000',
      },
    });
    // Not started: no loop runs, the registry and store are driven directly with a fake clock.
    const exporter = createExporter({ config, logger: pino({ level: 'silent' }), now: () => now });
    const { registry, store, prometheus } = exporter;
    const baseline = parseExposition((await prometheus.render('text')).text()).size;

    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 1000; i++) {
        const callSid = sid(round * 1000 + i);
        expect(registry.track(callSid, DEMO_ACCOUNT.accountSid, i % 2 ? 'discovery' : 'webhook')).toBe('tracked');
        const sample: Sample = {
          callSid,
          accountSid: DEMO_ACCOUNT.accountSid,
          edge: 'sdk_edge',
          direction: 'both',
          timestampMs: now,
          values: { mos: 4.2, rttSeconds: 0.08, packetLossRatio: 0, packetsReceived: 100 },
        };
        store.apply([sample, sample]);
        registry.end(callSid);
      }
      expect(seriesOf((await prometheus.render('text')).text(), 'twilio_call_mos')).toHaveLength(1000);
      now += config.callRetentionMs + 1;
      registry.sweep(now);
      expect(registry.size).toBe(0);
      expect(store.size).toBe(0);
    }

    const text = (await prometheus.render('text')).text();
    expect(seriesOf(text, 'twilio_call_mos')).toEqual([]);
    expect(seriesOf(text, 'twilio_call_info')).toEqual([]);
    expect(seriesOf(text, 'twilio_voice_samples_total')[0]?.value).toBe(10_000);
    expect(seriesOf(text, 'twilio_voice_mos_count')[0]?.value).toBe(10_000);
    // Only the fleet series (one label set) were added to the baseline exposition.
    expect(parseExposition(text).size - baseline).toBeLessThan(60);
    // Removed calls' exactly-once state is kept for their return, then forgotten.
    expect(store.parkedSize).toBeGreaterThan(0);
    now += config.maxSampleLatenessMs + 120_000 + 1;
    store.sweep();
    expect(store.parkedSize).toBe(0);
  });
});
