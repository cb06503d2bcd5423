import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, eventually, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { exported, simControl, visible } from '../helpers/sim-control.ts';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

const ACCOUNT = DEMO_ACCOUNT.accountSid;

// Probe M #1: a polled call that only the admin API (or a callback) announced, live or draining at a restart, was
// never polled again after it: nothing announces it again, so what Twilio published after the stop was lost.
describe('polled calls over a restart', () => {
  it('tracks again the calls live at the save, and reads what was published while the exporter was down, once', { timeout: 60_000 }, async () => {
    let simNow = Date.now();
    sim = await startSimulator({ lagSeconds: 0, seed: 21, now: () => simNow });
    const statePath = join(mkdtempSync(join(tmpdir(), 'tie-retrack-')), 'state.json');
    const config = { backfill: true, state: { path: statePath } };
    exp = await startTestExporter(sim.url, config);
    const sid = (await simControl(sim.url).createCall({ type: 'carrier', age_seconds: 60, duration_seconds: 3600 })).sid;
    // Announced once, as the admin API or a status callback would.
    exp.exporter.registry.track(sid, ACCOUNT, 'admin');
    await eventually(async () => (JSON.stringify(exported(await exp!.scrape())) === JSON.stringify(await visible(sim!.url, [sid])) ? true : undefined), 20_000, 'the first polls');
    const before = await visible(sim.url, [sid]);
    await exp.close();

    simNow += 120_000;
    const after = await visible(sim.url, [sid]);
    const whileDown = Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n - (before[k] ?? 0)]));
    expect(Object.values(whileDown).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    exp = await startTestExporter(sim.url, config);
    expect(exp.exporter.registry.get(sid)?.sources).toEqual(new Set(['state_file']));
    // Counters restart at 0: the new process counts what was published while it was down, each sample once.
    const text = await eventually(async () => {
      const t = await exp!.scrape();
      return JSON.stringify(exported(t)) === JSON.stringify(whileDown) ? t : undefined;
    }, 20_000, 'the samples published while the exporter was down');
    expect(exported(text)).toEqual(whileDown);
  });

  // Probe L+M retest #1: a call that ended while the exporter was down came back active, and stayed so until its first
  // end check, end_check_after (3 min) later.
  it('asks the Summary of a call tracked again at once, so one that ended while the exporter was down ends', { timeout: 60_000 }, async () => {
    let simNow = Date.now();
    sim = await startSimulator({ lagSeconds: 0, seed: 22, now: () => simNow });
    const statePath = join(mkdtempSync(join(tmpdir(), 'tie-retrack-')), 'state.json');
    const config = { backfill: true, state: { path: statePath }, end_check_after: '10m' };
    exp = await startTestExporter(sim.url, config);
    const sid = (await simControl(sim.url).createCall({ type: 'carrier', age_seconds: 60, duration_seconds: 90 })).sid;
    exp.exporter.registry.track(sid, ACCOUNT, 'admin');
    await eventually(async () => (Object.keys(exported(await exp!.scrape())).length > 0 ? true : undefined), 20_000, 'the first polls');
    await exp.close();

    simNow += 120_000;
    exp = await startTestExporter(sim.url, config);
    expect(exp.exporter.registry.get(sid)?.endedAtMs).toBeUndefined();
    await eventually(() => (exp!.exporter.registry.get(sid)?.endedAtMs !== undefined ? true : undefined), 15_000, 'the call ended by its Summary');
  });
});
