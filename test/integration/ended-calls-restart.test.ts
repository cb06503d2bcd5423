import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { closeAfterEach, eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { pushSigned, pushedCompleted, pushedMetric } from '../helpers/event-streams.ts';

// The registry's memory of ended calls was not in the state file: after a restart, a late pushed sample (Event
// Streams retries for 4 hours) or a source announcing the call again made a call that had ended active again.

const ACCOUNT = DEMO_ACCOUNT.accountSid;
const TOKEN = DEMO_ACCOUNT.authToken;

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
let dir: string | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const push = (events: unknown[]): Promise<Record<string, number>> => pushSigned(exp!.url, events);

async function start(extra: Record<string, unknown> = {}): Promise<void> {
  sim ??= await startSimulator({ lagSeconds: 0 });
  dir ??= mkdtempSync(join(tmpdir(), 'tie-ended-restart-'));
  exp = await startTestExporter(sim.url, {
    accounts: [{ account_sid: ACCOUNT, auth_token: TOKEN, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'push' }],
    backfill: true,
    drain_period: '1s',
    call_retention: '2s',
    state: { path: join(dir, 'state.jsonl') },
    ...extra,
  });
}

async function restart(extra: Record<string, unknown> = {}): Promise<void> {
  await exp!.close();
  exp = undefined;
  await start(extra);
}

const total = (text: string, name: string): number => seriesOf(text, name).reduce((n, s) => n + s.value, 0);
const activeCalls = async (): Promise<number> => total(await exp!.scrape(), 'twilio_voice_active_calls');
// The call is not tracked, or tracked in the ended state: never active again.
const notActive = (sid: string): boolean => {
  const call = exp!.exporter.registry.get(sid);
  return call === undefined || exp!.exporter.registry.lifecycle(call) !== 'active';
};

describe('an ended call stays ended over a restart (the state file keeps the registry\'s ended calls)', () => {
  it('a call ended and removed before the restart: a late pushed sample after it leaves the call ended', { timeout: 30_000 }, async () => {
    await start();
    const R = `CA${'8a'.repeat(16)}`;
    const now = Date.now();
    await push([pushedMetric('R1', R, now - 60_000), pushedCompleted('R2', R)]);
    await eventually(() => (exp!.exporter.registry.get(R) === undefined ? true : undefined), 10_000, `${R} removed after retention`);
    await restart();
    expect(await push([pushedMetric('R3', R, now - 50_000)])).toMatchObject({ applied: 1 });
    expect(notActive(R)).toBe(true);
    expect(await activeCalls()).toBe(0);
  });

  it('a call ended but still retained at the restart is tracked ended at its first end time after it', { timeout: 30_000 }, async () => {
    await start({ call_retention: '1m' });
    const Q = `CA${'8b'.repeat(16)}`;
    const now = Date.now();
    await push([pushedMetric('Q1', Q, now - 60_000), pushedCompleted('Q2', Q)]);
    const endedAtMs = exp!.exporter.registry.get(Q)?.endedAtMs;
    expect(endedAtMs).toBeDefined();
    await restart({ call_retention: '1m' });
    expect(await push([pushedMetric('Q3', Q, now - 50_000)])).toMatchObject({ applied: 1 });
    expect(notActive(Q)).toBe(true);
    expect(exp!.exporter.registry.get(Q)?.endedAtMs).toBe(endedAtMs);
    expect(await activeCalls()).toBe(0);
    // Both samples count once over the restart.
    expect(total(await exp!.scrape(), 'twilio_voice_samples_total')).toBe(1);
  });

  it('an active call at the restart is active again when its samples come back', { timeout: 30_000 }, async () => {
    await start();
    const A = `CA${'8c'.repeat(16)}`;
    const now = Date.now();
    await push([pushedMetric('A1', A, now - 60_000)]);
    await restart();
    expect(await push([pushedMetric('A2', A, now - 50_000)])).toMatchObject({ applied: 1 });
    expect(notActive(A)).toBe(false);
    expect(await activeCalls()).toBe(1);
  });
});
