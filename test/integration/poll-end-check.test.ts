import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import type { PartialSummaryMode } from '../../src/simulator/variant.ts';
import { closeAfterEach, eventually, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { simControl } from '../helpers/sim-control.ts';

let sim: RunningSimulator | undefined;
let exp: TestExporter | undefined;
closeAfterEach(() => [exp, sim], () => (exp = sim = undefined));

// Client calls with sdk_edge sampled every second: a live call has a new sample at every 1 s poll, far inside
// the 4 s end check, so only an ended (or not yet answered) call goes silent.
const END_CHECK_AFTER_S = 4;
// Longer than the end check: a live call taken for silent would be asked within it.
const WINDOW_MS = (END_CHECK_AFTER_S + 2) * 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function start(partialSummary: PartialSummaryMode): Promise<ReturnType<typeof simControl>> {
  sim = await startSimulator({ lagSeconds: 0, variant: { sdkSampleSeconds: 1, partialSummary } });
  return simControl(sim.url);
}

// Poll mode, discovery off (the default), no callbacks: only the static list announces the calls.
async function exporterFor(calls: string[]): Promise<TestExporter> {
  exp = await startTestExporter(sim!.url, { calls, end_check_after: `${END_CHECK_AFTER_S}s`, drain_period: '1s', call_retention: '10m' });
  return exp;
}

const summaryRequests = async (): Promise<number> => (await simControl(sim!.url).ledger()).requests.by_route.summary;
const ended = (sid: string): boolean => exp!.exporter.registry.get(sid)?.endedAtMs !== undefined;
// The gauge has no series for an account without active calls.
const activeCalls = async (): Promise<number> => seriesOf(await exp!.scrape(), 'twilio_voice_active_calls')[0]?.value ?? 0;

async function sampled(sids: readonly string[]): Promise<void> {
  await eventually(async () => {
    const seen = new Set(seriesOf(await exp!.scrape(), 'twilio_call_sample_timestamp_seconds').map((s) => s.labels['call_sid']));
    return sids.every((sid) => seen.has(sid)) ? true : undefined;
  }, 15_000, 'samples of every call');
  // The first polls ask the Summary for the edges to read; once the data shows them it is not asked again.
  await sleep(1500);
}

describe('poll mode: a call listed by hand ends when its Summary says it ended', () => {
  it('ends the call after its samples stop, and live calls with steady samples cost no Summary request', { timeout: 60_000 }, async () => {
    const control = await start('after_end');
    const a = await control.createCall({ type: 'client', age_seconds: 60 });
    const b = await control.createCall({ type: 'client', age_seconds: 60 });
    await exporterFor([a.sid, b.sid]);
    await sampled([a.sid, b.sid]);

    const before = await summaryRequests();
    await sleep(WINDOW_MS);
    expect(await summaryRequests()).toBe(before);
    expect(ended(a.sid) || ended(b.sid)).toBe(false);

    await control.endCall(a.sid);
    await eventually(() => (ended(a.sid) ? true : undefined), (END_CHECK_AFTER_S + 6) * 1000, 'the ended call to end');
    expect(ended(b.sid)).toBe(false);
    expect(await activeCalls()).toBe(1);

    // The ended call drains and is no longer polled; the live one alone asks nothing more.
    await sleep(1500);
    const after = await summaryRequests();
    await sleep(WINDOW_MS);
    expect(await summaryRequests()).toBe(after);
    expect(ended(b.sid)).toBe(false);
  });

  for (const partialSummary of ['after_end', 'during_call'] as const) {
    it(`checks a silent live call without ending it, and ends the calls that end (partial_summary ${partialSummary})`, { timeout: 60_000 }, async () => {
      const control = await start(partialSummary);
      const live = await control.createCall({ type: 'client', age_seconds: 60 });
      // Ringing: no samples at all while it runs, so its Summary is asked ('ringing', or 404 before the end).
      const ringing = await control.createCall({ type: 'carrier', ringing_seconds: 3600 });
      await exporterFor([live.sid, ringing.sid]);
      await sampled([live.sid]);

      const before = await summaryRequests();
      await sleep(WINDOW_MS);
      expect(await summaryRequests()).toBeGreaterThan(before);
      expect(ended(live.sid) || ended(ringing.sid)).toBe(false);
      expect(await activeCalls()).toBe(2);

      // One completed, one canceled before it was answered: both final.
      await control.endCall(live.sid);
      await control.endCall(ringing.sid);
      await eventually(() => (ended(live.sid) && ended(ringing.sid) ? true : undefined), (END_CHECK_AFTER_S + 6) * 1000, 'both calls to end');
      expect(await activeCalls()).toBe(0);
    });
  }
});
