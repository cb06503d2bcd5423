import { describe, expect, it } from 'vitest';
import { CallRegistry } from '../../../src/calls/registry.ts';
import { createAccountPolicy } from '../../../src/poller/account-policy.ts';
import { endCheckDue, summarySaysEnded } from '../../../src/poller/end-check.ts';
import { Poller } from '../../../src/poller/poller.ts';
import type { PollEvent, PollerAccount } from '../../../src/poller/poller.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import type { CallSummary } from '../../../src/twilio/client.ts';
import { TwilioError } from '../../../src/twilio/errors.ts';
import { ACCOUNT_A, CALL_1, T0 } from '../store/sample-builder.ts';
import { FakeTwilioClient } from './fake-twilio-client.ts';

const END_CHECK_AFTER_MS = 60_000;

const summaryOf = (callState: string | null, processingState: string | null = 'partial'): CallSummary => ({
  callType: 'carrier',
  callState,
  processingState,
  raw: {},
});

// The poller with a fake client, a real registry and a real store on one clock, as the exporter wires them.
function setup(endCheckAfterMs = END_CHECK_AFTER_MS, firstSamples = 2) {
  const clock = { now: T0 };
  const now = (): number => clock.now;
  const client = new FakeTwilioClient();
  client.now = now;
  const registry = new CallRegistry({ maxCalls: 10, drainPeriodMs: 60_000, retentionMs: 600_000, now });
  const store = new SampleStore({ backfill: true, now });
  registry.addListener({
    onTracked: (c) => store.addCall(c.callSid, c.accountSid, c.trackedAtMs),
    onRemoved: (c) => store.removeCall(c.callSid),
  });
  const finished: PollEvent[] = [];
  const endedBySummary: Array<{ callSid: string; summary: CallSummary }> = [];
  const accounts = new Map<string, PollerAccount>([
    [ACCOUNT_A, { accountSid: ACCOUNT_A, client, policy: createAccountPolicy({ maxConcurrent: 4, random: () => 0, baseDelayMs: 1 }) }],
  ]);
  const poller = new Poller({
    accounts,
    registry,
    store,
    observer: {
      pollFinished: (e) => finished.push(e),
      applied: () => undefined,
      cursorReset: () => undefined,
      rejected: () => undefined,
      callNotFound: () => undefined,
      endedBySummary: (_a, callSid, summary) => endedBySummary.push({ callSid, summary }),
    },
    pollIntervalMs: 10_000,
    pageSize: 50,
    now,
    maxClockSkewMs: 86_400_000,
    endCheckAfterMs,
  });
  // A carrier call with data from the first poll: the Summary asked for the edges (404) is not asked again for them.
  const carrier = client.api(CALL_1, 'carrier_edge');
  carrier.add(firstSamples);
  registry.track(CALL_1, ACCOUNT_A, 'config');
  const pollFor = async (ms: number, each: () => void = () => undefined): Promise<void> => {
    for (let t = 0; t < ms; t += 10_000) {
      clock.now += 10_000;
      each();
      await poller.pollNow(CALL_1);
    }
  };
  const endChecks = (): number => client.summaryRequests.length - 1;
  return { clock, client, registry, store, poller, carrier, finished, endedBySummary, pollFor, endChecks };
}

describe('summarySaysEnded', () => {
  it.each(['completed', 'busy', 'fail', 'failed', 'noanswer', 'no-answer', 'canceled', 'undialed', 'Completed'])('takes call_state %s as the end', (state) => {
    expect(summarySaysEnded(summaryOf(state))).toBe(true);
  });

  it.each(['ringing', 'answered', 'in-progress', 'initiated', '', null])('takes call_state %j as not ended', (state) => {
    expect(summarySaysEnded(summaryOf(state))).toBe(false);
  });

  it('takes processing_state complete as the end, whatever the call_state', () => {
    expect(summarySaysEnded(summaryOf(null, 'complete'))).toBe(true);
    expect(summarySaysEnded(summaryOf('answered', 'complete'))).toBe(true);
    expect(summarySaysEnded(summaryOf('answered', 'predicted_complete'))).toBe(false);
  });
});

describe('endCheckDue', () => {
  it('is due once silent for afterMs and not asked since nextCheckMs; never with afterMs 0', () => {
    const base = { nowMs: T0 + 60_000, afterMs: 60_000, lastSampleMs: T0, nextCheckMs: 0 };
    expect(endCheckDue(base)).toBe(true);
    expect(endCheckDue({ ...base, lastSampleMs: T0 + 1 })).toBe(false);
    expect(endCheckDue({ ...base, nextCheckMs: T0 + 60_001 })).toBe(false);
    expect(endCheckDue({ ...base, afterMs: 0 })).toBe(false);
  });
});

describe('Poller end check', () => {
  it('never asks the Summary of a call whose samples keep arriving', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summaryOf('completed'));
    // The first poll asks it for the edges (and does not take its answer for an end).
    await h.poller.pollNow(CALL_1);

    await h.pollFor(10 * END_CHECK_AFTER_MS, () => h.carrier.add(2));

    expect(h.client.summaryRequests).toHaveLength(1);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();
  });

  it('asks a silent call at most once per end_check_after, and ends it once the Summary says it ended', async () => {
    const h = setup();
    await h.poller.pollNow(CALL_1);
    const lastSample = h.clock.now;
    // Silent from here on; Twilio serves no Summary yet, then a partial one of a call still answered.
    await h.pollFor(END_CHECK_AFTER_MS - 10_000);
    expect(h.endChecks()).toBe(0);
    await h.pollFor(10_000);
    expect(h.clock.now - lastSample).toBe(END_CHECK_AFTER_MS);
    expect(h.endChecks()).toBe(1);

    h.client.setSummary(CALL_1, summaryOf('answered'));
    await h.pollFor(3 * END_CHECK_AFTER_MS);
    expect(h.endChecks()).toBe(4);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();
    expect(h.finished.every((e) => e.ok)).toBe(true);

    h.client.setSummary(CALL_1, summaryOf('completed'));
    await h.pollFor(END_CHECK_AFTER_MS);
    const call = h.registry.get(CALL_1)!;
    expect(call.endedAtMs).toBe(h.clock.now);
    expect(h.registry.lifecycle(call)).toBe('draining');
    expect(h.endedBySummary).toEqual([{ callSid: CALL_1, summary: summaryOf('completed') }]);

    // Draining: polled for late samples, never asked again.
    const checks = h.endChecks();
    await h.pollFor(50_000);
    expect(h.endChecks()).toBe(checks);
  });

  it('takes the call type the end check\u2019s Summary names, which the edges with data could not tell', async () => {
    const h = setup();
    await h.poller.pollNow(CALL_1);
    expect(h.store.get(CALL_1)!.callType).toBe('carrier');
    // Twilio served no Summary during the call; by the end check it names a trunking call (its sip_edge never seen).
    h.client.setSummary(CALL_1, { ...summaryOf('completed', 'complete'), callType: 'trunking' });
    await h.pollFor(END_CHECK_AFTER_MS);
    expect(h.endChecks()).toBe(1);
    expect(h.store.get(CALL_1)!.callType).toBe('trunking');
  });

  // Oldest first, the lateness read-back follows data time, which stops with the call: a sample published late in
  // the call's last minutes, on a page before the last, was never read (probe I).
  it('reads back the lateness window on the last poll of an ended call: a sample published late near its end is applied', async () => {
    const h = setup(END_CHECK_AFTER_MS, 0);
    let applied = 0;
    h.store.addListener({ onSample: () => applied++ });
    // 120 rounds of both directions in pages of 50; record 160 (400 s before the newest) is published late.
    h.carrier.add(240);
    const held = h.carrier.records.splice(160, 1)[0];
    await h.poller.pollNow(CALL_1);
    expect(applied).toBe(239);
    h.registry.end(CALL_1, ACCOUNT_A);
    h.carrier.records.splice(160, 0, held);
    const before = h.carrier.requests.length;
    await h.pollFor(90_000);
    expect(applied).toBe(240);
    // One read-back (about 5 pages of 50), not one per drain poll (9 polls).
    expect(h.carrier.requests.length - before).toBeLessThan(20);
  });

  // A trunking call's SIP leg may start minutes after its carrier leg: once the call has ended its history is complete,
  // and the last poll asks that edge once more, so a call shorter than the probe gaps does not lose it (probe I).
  it('asks the edge that would complete the call type once more on the last poll of an ended call, and applies its data', async () => {
    const h = setup(END_CHECK_AFTER_MS, 3);
    let sip = 0;
    h.store.addListener({ onSample: (s) => (s.edge === 'sip_edge' ? sip++ : undefined) });
    await h.pollFor(60_000);
    // The SIP leg's data comes after the edge plan's probes of it; the call ends before the next probe.
    h.client.api(CALL_1, 'sip_edge').add(6);
    h.registry.end(CALL_1, ACCOUNT_A);
    await h.pollFor(70_000);
    expect(sip).toBe(6);
    expect(h.store.get(CALL_1)!.callType).toBe('trunking');
  });

  it('counts the silence from when the call was tracked when no sample ever came', async () => {
    const h = setup(END_CHECK_AFTER_MS, 0);
    h.client.setSummary(CALL_1, summaryOf('canceled'));
    await h.poller.pollNow(CALL_1);
    // The first poll asked the Summary for the edges only.
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();
    await h.pollFor(END_CHECK_AFTER_MS);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBe(T0 + END_CHECK_AFTER_MS);
  });

  it.each([
    ['not served yet (20404)', new TwilioError({ code: 'not_found', endpoint: 'summary', status: 404, twilioCode: 20404 })],
    ['not complete yet (17001)', new TwilioError({ code: 'not_found', endpoint: 'summary', status: 404, twilioCode: 17001 })],
    ['timing out', new TwilioError({ code: 'timeout', endpoint: 'summary' })],
    ['a body that is no summary', new TwilioError({ code: 'bad_payload', endpoint: 'summary' })],
  ])('leaves a silent call active with its Summary %s, and asks again an interval later', async (_name, err) => {
    const h = setup();
    await h.poller.pollNow(CALL_1);
    h.client.setSummary(CALL_1, err);

    await h.pollFor(END_CHECK_AFTER_MS);
    const asked = h.endChecks();
    expect(asked).toBeGreaterThan(0);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();
    await h.pollFor(END_CHECK_AFTER_MS - 10_000);
    expect(h.endChecks()).toBe(asked);

    h.client.setSummary(CALL_1, summaryOf('completed'));
    await h.pollFor(10_000);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBe(h.clock.now);
  });

  // Probe H #3: a silent call with no data edge yet had its Summary asked twice in one poll, once for the edges and
  // once by the end check, so more than one request per end_check_after.
  it('asks the Summary once in a poll that wants it for the edges and for the end check alike', async () => {
    // A call that never had data: the edge hint is asked at the first poll (10 s) and 60 s later (70 s), on its own
    // backoff; the end check is due once the call is 70 s silent, so both want the Summary in the poll at 70 s.
    const h = setup(70_000, 0);
    await h.pollFor(10 * END_CHECK_AFTER_MS);
    expect(h.client.summaryRequestTimes).toContain(T0 + 70_000);
    const perPoll = new Map<number, number>();
    for (const at of h.client.summaryRequestTimes) perPoll.set(at, (perPoll.get(at) ?? 0) + 1);
    expect(Math.max(...perPoll.values())).toBe(1);
    h.client.setSummary(CALL_1, summaryOf('completed'));
    await h.pollFor(70_000);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeDefined();
  });

  it('never asks with end_check_after 0', async () => {
    const h = setup(0);
    await h.poller.pollNow(CALL_1);
    h.client.setSummary(CALL_1, summaryOf('completed'));
    await h.pollFor(10 * END_CHECK_AFTER_MS);
    expect(h.endChecks()).toBe(0);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();
  });
});

// Probe O F6: a call whose edges had no data yet asked its Summary for the end check and, 10 s later, again for the
// edge hint: two requests where the README promises one per end_check_after.
describe('the Summary asked for the end check also serves the edge hint', () => {
  it('is not asked again for the hint right after the end check asked it', async () => {
    const h = setup(END_CHECK_AFTER_MS, 0);
    h.client.setSummary(CALL_1, new TwilioError({ code: 'not_found', endpoint: 'summary', status: 404, twilioCode: 20404 }));
    // When each Summary request was made, from the start.
    const askedAt: number[] = [];
    for (let t = 0; t < 400_000; t += 10_000) {
      h.clock.now += 10_000;
      await h.poller.pollNow(CALL_1);
      while (askedAt.length < h.client.summaryRequests.length) askedAt.push(h.clock.now - T0);
    }
    // The hint's first ask, then the end checks, one per end_check_after: never one right after another (the
    // old code asked the hint again 10 s after the first end check).
    expect(askedAt.slice(0, 3)).toEqual([10_000, 10_000 + END_CHECK_AFTER_MS - 10_000, 10_000 + 2 * END_CHECK_AFTER_MS - 10_000]);
    const gaps = askedAt.slice(1).map((t, i) => t - askedAt[i]!);
    expect(Math.min(...gaps)).toBeGreaterThan(2 * 10_000);
  });
});
