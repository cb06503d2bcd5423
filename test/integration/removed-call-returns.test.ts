import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { simControl } from '../helpers/sim-control.ts';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

const TOKEN = 'adm1n-t0ken';

const samplesTotal = async (): Promise<number> =>
  seriesOf(await exp!.scrape(), 'twilio_voice_samples_total').reduce((a, s) => a + s.value, 0);

async function deleteCall(sid: string): Promise<void> {
  const res = await fetch(`${exp!.url}/api/v1/calls/${sid}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(204);
}

// Deletes the call through the admin API and waits for discovery, which still lists it, to bring it back.
async function deleteAndWaitForReturn(sid: string): Promise<void> {
  await deleteCall(sid);
  expect(exp!.exporter.registry.get(sid)).toBeUndefined();
  await eventually(() => (exp!.exporter.registry.get(sid) ? true : undefined), 15_000, 'discovery to list the call again');
  // Several polls of the returned call.
  await new Promise((r) => setTimeout(r, 3000));
}

describe('a deleted call that discovery brings back', () => {
  it('observes each of its samples once over the delete and the return (backfill, against the ledger)', { timeout: 60_000 }, async () => {
    let simNow = Date.now();
    sim = await startSimulator({ lagSeconds: 0, seed: 3, now: () => simNow });
    const control = simControl(sim.url);
    const call = await control.createCall({ type: 'carrier', age_seconds: 300, duration_seconds: 3600 });
    exp = await startTestExporter(sim.url, {
      discovery: { enabled: true, interval: '1s' },
      admin: { bearer_token: TOKEN },
      backfill: true,
    });
    const visible = async (): Promise<number> => (await control.samples(call.sid)).length;
    await eventually(async () => ((await samplesTotal()) === (await visible()) ? true : undefined), 15_000, 'every sample observed');

    await deleteAndWaitForReturn(call.sid);
    simNow += 30_000;
    const want = await visible();
    await eventually(async () => ((await samplesTotal()) >= want ? true : undefined), 15_000, 'the new samples observed');
    await new Promise((r) => setTimeout(r, 2000));

    expect(await samplesTotal()).toBe(want);
    const served = (await control.ledger()).streams.filter((s) => s.call_sid === call.sid).reduce((a, s) => a + s.served, 0);
    expect(served).toBe(want);
  });

  it('observes nothing again with the default config (history not replayed, tracking time resumed)', { timeout: 60_000 }, async () => {
    // Frozen clock: no new samples, so anything counted after the return is a sample counted twice.
    const simNow = Date.now();
    sim = await startSimulator({ lagSeconds: 0, seed: 4, now: () => simNow });
    const call = await simControl(sim.url).createCall({ type: 'sip', age_seconds: 300, duration_seconds: 3600 });
    exp = await startTestExporter(sim.url, { discovery: { enabled: true, interval: '1s' }, admin: { bearer_token: TOKEN } });
    // The two minutes before tracking started are observed: 12 samples per direction.
    const before = await eventually(async () => {
      const n = await samplesTotal();
      return n >= 24 ? n : undefined;
    }, 15_000, 'the recent samples observed');

    await deleteAndWaitForReturn(call.sid);

    expect(await samplesTotal()).toBe(before);
  });
});
