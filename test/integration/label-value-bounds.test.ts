import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, parseExposition, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { startTestSimulator } from '../helpers/simulator.ts';
import type { TestSimulator } from '../helpers/simulator.ts';

// Regression test (probe B, defect 2): codec_name and media_region were exported as Twilio sent them, of any
// length; a 150,000-character codec name made a 150,167-character twilio_call_info line, and a Prometheus with
// label_value_length_limit fails the whole scrape on one such label.

const LONG_CODEC = 'x'.repeat(200);
const CONTROL_REGION = 'us1\u0007';

describe('label values taken from Twilio records, over HTTP from the simulator', () => {
  let sim: TestSimulator;
  let exp: TestExporter;
  let odd: string;
  let plain: string;

  beforeAll(async () => {
    sim = await startTestSimulator();
    odd = (await sim.control.createCall({ type: 'carrier', age_seconds: 120, codec_name: LONG_CODEC, region: CONTROL_REGION })).sid;
    plain = (await sim.control.createCall({ type: 'carrier', age_seconds: 120, codec_name: 'pcmu', region: 'ie1' })).sid;
    exp = await startTestExporter(sim.url, { calls: [odd, plain] });
    await eventually(() => (exp.exporter.store.get(odd)?.streams.size && exp.exporter.store.get(plain)?.streams.size ? true : undefined), 20_000, 'both calls polled');
  }, 60_000);

  afterAll(async () => {
    await exp.close();
    await sim.close();
  });

  it('exposes no label value over 64 characters, and the odd call is still exported with its samples', async () => {
    const text = await exp.scrape();
    const longest = Math.max(
      ...[...parseExposition(text).keys()].flatMap((key) => [...key.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.length)),
    );
    expect(longest).toBeLessThanOrEqual(64);

    const info = (sid: string) => seriesOf(text, 'twilio_call_info').find((s) => s.labels['call_sid'] === sid)?.labels;
    expect(info(odd)).toMatchObject({ codec_name: '', media_region: '' });
    expect(info(plain)).toMatchObject({ codec_name: 'pcmu', media_region: 'ie1' });
    expect(seriesOf(text, 'twilio_call_sample_timestamp_seconds').some((s) => s.labels['call_sid'] === odd)).toBe(true);
  });
});
