import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { simControl } from '../helpers/sim-control.ts';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
let proxy: Server | undefined;
afterEach(async () => {
  await exp?.close();
  await sim?.close();
  proxy?.closeAllConnections();
  await new Promise((done) => (proxy ? proxy.close(done) : done(undefined)));
  exp = sim = proxy = undefined;
});

// A fake Twilio in front of the simulator that keeps chosen samples unpublished until told: the late
// publication nothing in Twilio's docs rules out. Everything else passes through unchanged.
async function lateProxy(hidden: Set<string>): Promise<{ url: string; setTarget: (url: string) => void }> {
  let target = '';
  proxy = createServer((req, res) => {
    void (async () => {
      const upstream = await fetch(`${target}${req.url}`, { headers: { authorization: req.headers.authorization ?? '' } });
      let body = await upstream.text();
      if (upstream.ok && /\/Metrics(\?|$)/.test(req.url ?? '')) {
        const page = JSON.parse(body) as { metrics: Array<{ direction: string; timestamp: string }> };
        page.metrics = page.metrics.filter((m) => !hidden.has(`${m.direction}@${m.timestamp}`));
        body = JSON.stringify(page);
      }
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(body);
    })();
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const addr = proxy.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${addr.port}`, setTarget: (url) => (target = url) };
}

const samplesTotal = async (): Promise<number> =>
  seriesOf(await exp!.scrape(), 'twilio_voice_samples_total').reduce((a, s) => a + s.value, 0);

describe('late publication', () => {
  it('a sample published after newer ones of its stream is observed once, and the gauges stay on the newest', { timeout: 60_000 }, async () => {
    const hidden = new Set<string>();
    const fake = await lateProxy(hidden);
    const simNow = Date.now();
    sim = await startSimulator({ lagSeconds: 0, seed: 5, now: () => simNow, publicUrl: fake.url });
    fake.setTarget(sim.url);
    const control = simControl(sim.url);
    const call = await control.createCall({ type: 'carrier', age_seconds: 300, duration_seconds: 3600 });
    const inbound = await control.samples(call.sid, { direction: 'inbound' });
    // Three inbound samples 40 to 60 s older than the newest one stay invisible at first.
    for (const s of inbound.slice(-7, -4)) hidden.add(`inbound@${s.timestamp}`);
    const visible = (await control.samples(call.sid)).length;

    exp = await startTestExporter(fake.url, { calls: [call.sid], backfill: true });
    await eventually(async () => ((await samplesTotal()) === visible - 3 ? true : undefined), 15_000, 'the published samples observed');

    hidden.clear();
    await eventually(async () => ((await samplesTotal()) === visible ? true : undefined), 15_000, 'the late samples observed');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await samplesTotal()).toBe(visible);
    const newest = seriesOf(await exp.scrape(), 'twilio_call_sample_timestamp_seconds').find((s) => s.labels['direction'] === 'inbound');
    expect(newest?.value).toBe(Date.parse(inbound.at(-1)!.timestamp) / 1000);
  });
});
