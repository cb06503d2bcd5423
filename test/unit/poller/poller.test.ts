import { afterEach, describe, expect, it, vi } from 'vitest';
import { CallRegistry } from '../../../src/calls/registry.ts';
import { createAccountPolicy } from '../../../src/poller/account-policy.ts';
import { NOT_FOUND_GRACE_MS, Poller } from '../../../src/poller/poller.ts';
import type { PollEvent, PollObserver, PollerAccount } from '../../../src/poller/poller.ts';
import type { Rejection } from '../../../src/poller/cursor.ts';
import type { Edge } from '../../../src/samples/sample.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import type { ApplyResult } from '../../../src/store/sample-store.ts';
import { TwilioError } from '../../../src/twilio/errors.ts';
import { ACCOUNT_A, ACCOUNT_B, CALL_1, CALL_2, CALL_3, T0 } from '../store/sample-builder.ts';
import { FakeTwilioClient, summary } from './fake-twilio-client.ts';

const ALL_FOUR: Edge[] = ['carrier_edge', 'sip_edge', 'sdk_edge', 'client_edge'];

interface Recorded {
  finished: PollEvent[];
  applied: { accountSid: string; result: ApplyResult }[];
  resets: string[];
  rejected: { callSid: string; rejection: Rejection }[];
  notFound: string[];
}

// The poller with a fake client, a real registry and store wired as main.ts wires them, and a clock.
function setup(options: { summaryRetryMs?: number; accounts?: string[] } = {}) {
  const clock = { now: T0 };
  const now = (): number => clock.now;
  const client = new FakeTwilioClient();
  const registry = new CallRegistry({ maxCalls: 100, drainPeriodMs: 60_000, retentionMs: 600_000, now });
  const store = new SampleStore({ backfill: true });
  registry.addListener({
    onTracked: (c) => store.addCall(c.callSid, c.accountSid, c.trackedAtMs),
    onRemoved: (c) => store.removeCall(c.callSid),
  });
  const rec: Recorded = { finished: [], applied: [], resets: [], rejected: [], notFound: [] };
  const observer: PollObserver = {
    pollFinished: (e) => rec.finished.push(e),
    applied: (accountSid, result) => rec.applied.push({ accountSid, result }),
    cursorReset: (_a, callSid) => rec.resets.push(callSid),
    rejected: (_a, callSid, rejection) => rec.rejected.push({ callSid, rejection }),
    callNotFound: (_a, callSid) => rec.notFound.push(callSid),
  };
  const accounts = new Map<string, PollerAccount>(
    (options.accounts ?? [ACCOUNT_A]).map((accountSid) => [
      accountSid,
      { accountSid, client, policy: createAccountPolicy({ maxConcurrent: 4, random: () => 0, baseDelayMs: 1 }) },
    ]),
  );
  const poller = new Poller({
    accounts,
    registry,
    store,
    observer,
    pollIntervalMs: 10_000,
    pageSize: 50,
    now,
    // The fake histories run ahead of this clock; dating is checked in hostile-records.test.ts.
    maxClockSkewMs: 86_400_000,
    ...(options.summaryRetryMs !== undefined && { summaryRetryMs: options.summaryRetryMs }),
  });
  return { clock, client, registry, store, rec, poller };
}

function lastEvent(rec: Recorded, callSid: string): PollEvent {
  const e = rec.finished.filter((f) => f.callSid === callSid).at(-1);
  if (!e) throw new Error(`no poll finished for ${callSid}`);
  return e;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Poller edges from the call type', () => {
  it.each([
    ['client', ['sdk_edge', 'client_edge']],
    ['trunking', ['carrier_edge', 'sip_edge']],
    ['carrier', ['carrier_edge']],
    ['sip', ['sip_edge']],
  ] as const)('a %s call is read on %j only', async (callType, edges) => {
    const h = setup();
    h.client.setSummary(CALL_1, summary(callType));
    for (const edge of edges) h.client.api(CALL_1, edge).add(4);
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);

    expect(h.client.edgesQueried(CALL_1).sort()).toEqual([...edges].sort());
    expect(h.store.get(CALL_1)!.callType).toBe(callType);
    expect([...h.store.get(CALL_1)!.streams.keys()].map((k) => k.split('/')[0]).sort()).toEqual(
      edges.flatMap((e) => (e === 'sdk_edge' ? [e] : [e, e])).sort(),
    );
    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: true, requests: edges.length });
  });

  it.each([
    ['an unknown call type', summary('whatsapp')],
    ['no call type yet', summary(null)],
    ['a failed Summary (17001)', new TwilioError({ code: 'not_found', endpoint: 'summary', status: 404, twilioCode: 17001 })],
    ['a Summary timing out', new TwilioError({ code: 'timeout', endpoint: 'summary' })],
  ])('reads all four edges (never unknown_edge) after %s', async (_name, answer) => {
    const h = setup();
    h.client.setSummary(CALL_1, answer);
    h.client.api(CALL_1, 'sdk_edge').add(3);
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);

    expect(h.client.edgesQueried(CALL_1).sort()).toEqual([...ALL_FOUR].sort());
    // A Summary that fails is not the call failing: the metrics were read.
    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: true, requests: 4 });
    expect(h.store.lastTimestamp(CALL_1, 'sdk_edge', 'both')).toBe(T0 + 20_000);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'treats a call type named like an Object property (%s) as unknown',
    async (callType) => {
      const h = setup();
      h.client.setSummary(CALL_1, summary(callType));
      h.client.api(CALL_1, 'sdk_edge').add(3);
      h.registry.track(CALL_1, ACCOUNT_A, 'config');

      await h.poller.pollNow(CALL_1);

      expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: true, requests: 4 });
      expect(h.client.edgesQueried(CALL_1).sort()).toEqual([...ALL_FOUR].sort());
    },
  );

  it('asks for the Summary again only after summaryRetryMs, then narrows the edges', async () => {
    const h = setup({ summaryRetryMs: 60_000 });
    h.client.setSummary(CALL_1, summary(null));
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);
    h.clock.now += 10_000;
    await h.poller.pollNow(CALL_1);
    expect(h.client.summaryRequests).toHaveLength(1);
    expect(h.client.edgesQueried(CALL_1)).toHaveLength(8);

    h.client.setSummary(CALL_1, summary('client'));
    h.clock.now += 50_000;
    await h.poller.pollNow(CALL_1);
    expect(h.client.summaryRequests).toHaveLength(2);
    expect(h.client.edgesQueried(CALL_1).slice(8).sort()).toEqual(['client_edge', 'sdk_edge']);

    // Known now: never asked again.
    h.clock.now += 120_000;
    await h.poller.pollNow(CALL_1);
    expect(h.client.summaryRequests).toHaveLength(2);
  });
});

describe('Poller edges without the Summary', () => {
  it('asks only the edge the parties suggest, learns the call type from its data, and stops asking the Summary', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, new TwilioError({ code: 'not_found', endpoint: 'summary', status: 404, twilioCode: 20404 }));
    h.client.api(CALL_1, 'sip_edge').add(4);
    h.registry.track(CALL_1, ACCOUNT_A, 'webhook', { from: '+15550100', to: 'sip:desk@example.com' });

    await h.poller.pollNow(CALL_1);
    expect(h.client.edgesQueried(CALL_1)).toEqual(['sip_edge']);
    expect(h.store.get(CALL_1)!.callType).toBe('sip');

    for (let i = 0; i < 20; i++) {
      h.clock.now += 10_000;
      await h.poller.pollNow(CALL_1);
    }
    // Data on sip_edge, a whole SIP call: the others are probed once (poll 12), the Summary never again.
    expect(h.client.summaryRequests).toHaveLength(1);
    expect(h.client.edgesQueried(CALL_1).filter((e) => e !== 'sip_edge').sort()).toEqual(['carrier_edge', 'client_edge', 'sdk_edge']);
  });

  it('reads all four edges while nothing has data and no hint exists, then only those with data', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, new TwilioError({ code: 'not_found', endpoint: 'summary', status: 404, twilioCode: 20404 }));
    h.registry.track(CALL_1, ACCOUNT_A, 'config');
    await h.poller.pollNow(CALL_1);
    expect(h.client.edgesQueried(CALL_1).sort()).toEqual([...ALL_FOUR].sort());

    h.client.api(CALL_1, 'carrier_edge').add(2);
    h.clock.now += 10_000;
    await h.poller.pollNow(CALL_1);
    const queries = h.client.edgesQueried(CALL_1).length;
    const requests = h.client.metricsRequests.length;
    for (let i = 0; i < 10; i++) {
      h.clock.now += 10_000;
      await h.poller.pollNow(CALL_1);
    }
    // One request per poll, the carrier cursor resuming from its page URL: no other edge asked.
    expect(h.client.metricsRequests.length - requests).toBe(10);
    expect(h.client.edgesQueried(CALL_1).length).toBe(queries);
    expect(h.store.get(CALL_1)!.callType).toBe('carrier');
  });
});

describe('Poller requests', () => {
  it('reads a long history once, then 1 request per edge per poll, each sample applied once', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summary('client'));
    const sdk = h.client.api(CALL_1, 'sdk_edge');
    const client = h.client.api(CALL_1, 'client_edge');
    // Neither last page is full, so the polls below stay on it.
    sdk.add(210);
    client.add(120);
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);
    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: true, requests: 5 + 3, streams: 3 });

    for (let i = 0; i < 5; i++) {
      sdk.add(1);
      client.add(2);
      h.clock.now += 10_000;
      await h.poller.pollNow(CALL_1);
      expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: true, requests: 2 });
    }

    const applied = h.rec.applied.reduce((n, a) => n + a.result.applied, 0);
    expect(applied).toBe(215 + 130);
    expect(h.rec.applied.every((a) => a.accountSid === ACCOUNT_A)).toBe(true);
  });

  it('reports a refused PageToken as a cursor reset and still applies each sample once', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summary('carrier'));
    const carrier = h.client.api(CALL_1, 'carrier_edge');
    carrier.add(120);
    h.registry.track(CALL_1, ACCOUNT_A, 'config');
    await h.poller.pollNow(CALL_1);

    carrier.invalidateTokens();
    carrier.add(4);
    await h.poller.pollNow(CALL_1);

    expect(h.rec.resets).toEqual([CALL_1]);
    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: true, requests: 1 + 3 });
    expect(h.rec.applied.at(-1)!.result).toEqual({ applied: 4, observed: 4, duplicates: 120, tooLate: 0 });
  });

  it('reports each malformed record to the observer and keeps the rest of the page', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summary('client'));
    const sdk = h.client.api(CALL_1, 'sdk_edge');
    sdk.add(2);
    sdk.addRaw({ call_sid: 'nope' });
    sdk.add(2);
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);

    expect(h.rec.rejected).toEqual([{ callSid: CALL_1, rejection: { reason: 'bad_call_sid', detail: expect.any(String) as unknown } }]);
    expect(h.rec.applied.reduce((n, a) => n + a.result.applied, 0)).toBe(4);
    expect(lastEvent(h.rec, CALL_1).ok).toBe(true);
  });

  // Probe O F3: a stream with no good sample had no seen sample to tell new rejections from old ones, so every poll
  // reported every malformed record of the page it read again (118 bad records counted 1,088 times).
  it('reports each malformed record once across polls when its stream never had a good sample', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summary('client'));
    const sdk = h.client.api(CALL_1, 'sdk_edge');
    for (let i = 0; i < 3; i++) sdk.addRaw({ call_sid: CALL_1, account_sid: ACCOUNT_A, edge: 'sdk_edge', direction: 'both', timestamp: `2026-12-01T10:00:0${i}+00:00x` });
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);
    h.clock.now += 10_000;
    await h.poller.pollNow(CALL_1);
    expect(h.rec.rejected).toHaveLength(3);

    sdk.addRaw({ call_sid: 'nope', edge: 'sdk_edge' });
    h.clock.now += 10_000;
    await h.poller.pollNow(CALL_1);
    h.clock.now += 10_000;
    await h.poller.pollNow(CALL_1);
    expect(h.rec.rejected.map((r) => r.rejection.reason)).toEqual(['bad_timestamp', 'bad_timestamp', 'bad_timestamp', 'bad_call_sid']);
  });

  it('reports the lag from when the poll was due', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summary('sip'));
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    // First poll is due within a second of tracking; start it 5 s late.
    h.clock.now += 5_000;
    await h.poller.pollNow(CALL_1);

    const { lagSeconds } = lastEvent(h.rec, CALL_1);
    expect(lagSeconds).toBeGreaterThan(4);
    expect(lagSeconds).toBeLessThanOrEqual(5);
  });
});

describe('Poller failures', () => {
  it('ends a call when Twilio still answers 404 for its metrics once the grace for its first samples is over', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summary('sip'));
    const notFound = new TwilioError({ code: 'not_found', endpoint: 'metrics', status: 404, twilioCode: 20404 });
    h.client.failMetrics(CALL_1, 'sip_edge', notFound);
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);
    expect(h.rec.notFound).toEqual([]);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();

    h.clock.now += NOT_FOUND_GRACE_MS;
    await h.poller.pollNow(CALL_1);

    expect(h.rec.notFound).toEqual([CALL_1]);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBe(h.clock.now);
    expect(h.registry.lifecycle(h.registry.get(CALL_1)!)).toBe('draining');
    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: false, error: notFound });
  });

  it('ends a call of unknown type only when every edge answers 404', async () => {
    const h = setup();
    const notFound = new TwilioError({ code: 'not_found', endpoint: 'metrics', status: 404, twilioCode: 20404 });
    for (const edge of ALL_FOUR) h.client.failMetrics(CALL_1, edge, notFound);
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    h.clock.now += NOT_FOUND_GRACE_MS;
    await h.poller.pollNow(CALL_1);

    expect(h.client.edgesQueried(CALL_1)).toHaveLength(4);
    expect(h.rec.notFound).toEqual([CALL_1]);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeDefined();
  });

  it('does not end a call of unknown type when an edge it does not have answers 404 and another has data', async () => {
    const h = setup();
    h.client.api(CALL_1, 'sdk_edge').add(3);
    const notFound = new TwilioError({ code: 'not_found', endpoint: 'metrics', status: 404, twilioCode: 20404 });
    h.client.failMetrics(CALL_1, 'carrier_edge', notFound);
    h.client.failMetrics(CALL_1, 'sip_edge', notFound);
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);

    expect(h.rec.notFound).toEqual([]);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();
    expect(h.store.lastTimestamp(CALL_1, 'sdk_edge', 'both')).toBe(T0 + 20_000);
    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: false, error: notFound });
  });

  // Whether Twilio serves an in-progress call's metrics before its first sample is published, or answers 404, is
  // not documented: a 404 then must not end a call that goes on to have data.
  it('keeps polling a call whose metrics answer 404 until its first samples are published, and applies them', async () => {
    const h = setup();
    const notFound = new TwilioError({ code: 'not_found', endpoint: 'metrics', status: 404, twilioCode: 20404 });
    for (const edge of ALL_FOUR) h.client.failMetrics(CALL_1, edge, notFound);
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);
    h.clock.now += 30_000;
    await h.poller.pollNow(CALL_1);
    expect(h.rec.notFound).toEqual([]);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();

    // Published now: carrier_edge serves data, the other edges go on answering 404.
    h.client.failMetrics(CALL_1, 'carrier_edge', undefined);
    h.client.api(CALL_1, 'carrier_edge').add(3);
    h.clock.now += 10_000;
    await h.poller.pollNow(CALL_1);
    expect(h.store.lastTimestamp(CALL_1, 'carrier_edge', 'inbound')).toBeDefined();
    h.clock.now += NOT_FOUND_GRACE_MS;
    await h.poller.pollNow(CALL_1);
    expect(h.rec.notFound).toEqual([]);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();
  });

  // Probe O F2: a live call whose metrics answered 404 for its first 3 minutes was ended, never polled again and
  // remembered as ended, so it was lost whole, though the Calls list went on listing it in progress.
  it('does not end a call discovery lists in progress when its metrics answer 404 past the grace, and applies them once published', async () => {
    const h = setup();
    const notFound = new TwilioError({ code: 'not_found', endpoint: 'metrics', status: 404, twilioCode: 20404 });
    for (const edge of ALL_FOUR) h.client.failMetrics(CALL_1, edge, notFound);
    h.registry.track(CALL_1, ACCOUNT_A, 'discovery');

    await h.poller.pollNow(CALL_1);
    h.clock.now += NOT_FOUND_GRACE_MS + 20_000;
    await h.poller.pollNow(CALL_1);
    expect(h.rec.notFound).toEqual([]);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();

    h.client.failMetrics(CALL_1, 'carrier_edge', undefined);
    h.client.api(CALL_1, 'carrier_edge').add(3);
    h.clock.now += 10_000;
    await h.poller.pollNow(CALL_1);
    expect(h.store.lastTimestamp(CALL_1, 'carrier_edge', 'inbound')).toBeDefined();
  });

  it('ends a call discovery ended whose metrics answer 404 past the grace: the 404 rule applies once no listing vouches for it', async () => {
    const h = setup();
    const notFound = new TwilioError({ code: 'not_found', endpoint: 'metrics', status: 404, twilioCode: 20404 });
    for (const edge of ALL_FOUR) h.client.failMetrics(CALL_1, edge, notFound);
    h.registry.track(CALL_1, ACCOUNT_A, 'discovery');
    h.registry.track(CALL_1, ACCOUNT_A, 'config');
    h.clock.now += NOT_FOUND_GRACE_MS;
    h.registry.end(CALL_1);
    await h.poller.pollNow(CALL_1);
    expect(h.rec.notFound).toEqual([CALL_1]);
  });

  it('does not end a call when one edge answers 404 and another fails otherwise', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summary('client'));
    h.client.failMetrics(CALL_1, 'sdk_edge', new TwilioError({ code: 'not_found', endpoint: 'metrics', status: 404 }));
    h.client.failMetrics(CALL_1, 'client_edge', new TwilioError({ code: 'timeout', endpoint: 'metrics' }));
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);

    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();
  });

  it('does not end a call for a 404 of its Summary or a 401 of its metrics', async () => {
    const h = setup();
    h.client.failMetrics(CALL_1, 'carrier_edge', new TwilioError({ code: 'auth', endpoint: 'metrics', status: 401, twilioCode: 20003 }));
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);

    expect(h.rec.notFound).toEqual([]);
    expect(h.registry.get(CALL_1)!.endedAtMs).toBeUndefined();
    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: false, error: { code: 'auth' } });
  });

  it('keeps the samples of the edges that answered when another edge fails', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summary('client'));
    h.client.api(CALL_1, 'sdk_edge').add(5);
    h.client.failMetrics(CALL_1, 'client_edge', new TwilioError({ code: 'upstream', endpoint: 'metrics', status: 500 }));
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await h.poller.pollNow(CALL_1);

    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: false, error: { code: 'upstream', status: 500 } });
    expect(h.store.lastTimestamp(CALL_1, 'sdk_edge', 'both')).toBe(T0 + 40_000);
  });

  it('one call failing does not stop another, in the same or another account', async () => {
    const h = setup({ accounts: [ACCOUNT_A, ACCOUNT_B] });
    for (const sid of [CALL_1, CALL_2, CALL_3]) {
      h.client.setSummary(sid, summary('sip'));
      h.client.api(sid, 'sip_edge', { accountSid: sid === CALL_3 ? ACCOUNT_B : ACCOUNT_A }).add(6);
    }
    h.client.failMetrics(CALL_1, 'sip_edge', new TwilioError({ code: 'bad_payload', endpoint: 'metrics', detail: 'body is not JSON' }));
    h.registry.track(CALL_1, ACCOUNT_A, 'config');
    h.registry.track(CALL_2, ACCOUNT_A, 'discovery');
    h.registry.track(CALL_3, ACCOUNT_B, 'webhook');

    await Promise.all([CALL_1, CALL_2, CALL_3].map((sid) => h.poller.pollNow(sid)));

    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: false, accountSid: ACCOUNT_A, error: { code: 'bad_payload' } });
    expect(lastEvent(h.rec, CALL_2)).toMatchObject({ ok: true, accountSid: ACCOUNT_A, streams: 2 });
    expect(lastEvent(h.rec, CALL_3)).toMatchObject({ ok: true, accountSid: ACCOUNT_B, streams: 2 });
    expect(h.store.get(CALL_2)!.streams.size).toBe(2);
    expect(h.store.get(CALL_3)!.streams.size).toBe(2);
    expect(h.store.get(CALL_1)!.streams.size).toBe(0);
    expect(h.poller.inFlight).toBe(0);

    // The failing call recovers on its own next poll.
    h.client.failMetrics(CALL_1, 'sip_edge', undefined);
    await h.poller.pollNow(CALL_1);
    expect(lastEvent(h.rec, CALL_1).ok).toBe(true);
    expect(h.store.get(CALL_1)!.streams.size).toBe(2);
  });

  it('fails the poll of a call whose account is not configured, without a request', async () => {
    const h = setup();
    h.registry.track(CALL_1, ACCOUNT_B, 'admin');

    await h.poller.pollNow(CALL_1);

    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: false, requests: 0, error: expect.any(Error) as unknown });
    expect(h.client.metricsRequests).toHaveLength(0);
  });
});

describe('Poller lifecycle', () => {
  it('forgets a call removed from the registry', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summary('sip'));
    h.registry.track(CALL_1, ACCOUNT_A, 'config');
    h.registry.remove(CALL_1);

    await h.poller.pollNow(CALL_1);

    expect(h.client.metricsRequests).toHaveLength(0);
    expect(h.rec.finished).toHaveLength(0);
  });

  it('picks up calls tracked before it was built', async () => {
    const h = setup();
    const registry = h.registry;
    registry.track(CALL_2, ACCOUNT_A, 'config');
    h.client.setSummary(CALL_2, summary('sip'));
    const late = new Poller({
      accounts: new Map([[ACCOUNT_A, { accountSid: ACCOUNT_A, client: h.client, policy: createAccountPolicy({ maxConcurrent: 1 }) }]]),
      registry,
      store: h.store,
      observer: { pollFinished: (e) => h.rec.finished.push(e), applied: () => {}, cursorReset: () => {}, rejected: () => {}, callNotFound: () => {} },
      pollIntervalMs: 10_000,
      pageSize: 50,
      now: () => h.clock.now,
    });

    await late.pollNow(CALL_2);

    expect(h.client.edgesQueried(CALL_2)).toEqual(['sip_edge']);
  });

  it('stop() aborts an in-flight poll waiting out a Retry-After instead of waiting for it', async () => {
    vi.useFakeTimers();
    const h = setup();
    h.client.setSummary(CALL_1, summary('sip'));
    h.client.failMetrics(CALL_1, 'sip_edge', new TwilioError({ code: 'rate_limited', endpoint: 'metrics', status: 429, retryAfterMs: 60_000 }));
    h.registry.track(CALL_1, ACCOUNT_A, 'config');
    const poll = h.poller.pollNow(CALL_1);
    await vi.advanceTimersByTimeAsync(0);

    let stopped = false;
    void h.poller.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);

    expect(stopped).toBe(true);
    await poll;
    // Cut short by the stop, it is reported as aborted (logged at debug), with the error it was waiting out.
    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: false, error: { code: 'aborted', cause: { code: 'rate_limited' } } });
    expect(h.client.edgesQueried(CALL_1)).toHaveLength(1);
  });

  it('stop() aborts a request in flight and no new poll starts after it', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summary('sip'));
    h.client.gate = (signal) =>
      new Promise<void>((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(new TwilioError({ code: 'aborted', endpoint: 'metrics' })), { once: true });
      });
    h.registry.track(CALL_1, ACCOUNT_A, 'config');
    const poll = h.poller.pollNow(CALL_1);
    await vi.waitFor(() => expect(h.client.metricsRequests).toHaveLength(1));

    await h.poller.stop();
    await poll;

    expect(lastEvent(h.rec, CALL_1)).toMatchObject({ ok: false, error: { code: 'aborted' } });
    expect(h.poller.inFlight).toBe(0);
  });

  it('stop() reports the polls still queued for a request slot as aborted, not as failures', async () => {
    const h = setup();
    h.client.gate = (signal) =>
      new Promise<void>((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(new TwilioError({ code: 'aborted', endpoint: 'metrics' })), { once: true });
      });
    const calls = Array.from({ length: 12 }, (_, i) => `CA${(0xa00 + i).toString(16).padStart(32, '0')}`);
    for (const c of calls) {
      h.client.setSummary(c, summary('sip'));
      h.registry.track(c, ACCOUNT_A, 'config');
    }
    const polls = calls.map((c) => h.poller.pollNow(c));
    // Four requests hold the account's four slots; the other polls wait for one.
    await vi.waitFor(() => expect(h.client.metricsRequests).toHaveLength(4));

    await h.poller.stop();
    await Promise.all(polls);

    expect(calls.map((c) => (lastEvent(h.rec, c).error as TwilioError | undefined)?.code)).toEqual(calls.map(() => 'aborted'));
  });

  it('keeps polling on schedule, losing no sample, when an observer callback throws', async () => {
    vi.useFakeTimers();
    const h = setup();
    h.client.setSummary(CALL_1, summary('client'));
    h.client.api(CALL_1, 'sdk_edge').add(3);
    h.client.api(CALL_1, 'client_edge').add(4);
    h.registry.track(CALL_1, ACCOUNT_A, 'config');
    const broken = new Poller({
      accounts: new Map([[ACCOUNT_A, { accountSid: ACCOUNT_A, client: h.client, policy: createAccountPolicy({ maxConcurrent: 2 }) }]]),
      registry: h.registry,
      store: h.store,
      observer: {
        pollFinished: (e) => {
          h.rec.finished.push(e);
          throw new Error('observer bug');
        },
        applied: () => {
          throw new Error('observer bug');
        },
        cursorReset: () => {},
        rejected: () => {},
        callNotFound: () => {},
      },
      pollIntervalMs: 10_000,
      pageSize: 50,
      now: () => h.clock.now,
    });

    broken.start();
    for (let i = 0; i < 25; i++) {
      h.clock.now += 1_000;
      await vi.advanceTimersByTimeAsync(1_000);
    }
    await broken.stop();

    // Scheduled polls went on (an unhandled rejection would also fail this test) ...
    expect(h.rec.finished.length).toBeGreaterThanOrEqual(2);
    // ... and the observer's failure did not cost the second edge its samples.
    expect(h.store.get(CALL_1)!.streams.size).toBe(3);
    expect(h.rec.finished.every((e) => e.ok)).toBe(true);
  });

  it('never runs two polls of the same call at once', async () => {
    const h = setup();
    h.client.setSummary(CALL_1, summary('sip'));
    h.client.api(CALL_1, 'sip_edge').add(2);
    let open = 0;
    let peak = 0;
    h.client.gate = async () => {
      open++;
      peak = Math.max(peak, open);
      await new Promise((r) => setImmediate(r));
      open--;
    };
    h.registry.track(CALL_1, ACCOUNT_A, 'config');

    await Promise.all([h.poller.pollNow(CALL_1), h.poller.pollNow(CALL_1), h.poller.pollNow(CALL_1)]);

    expect(peak).toBe(1);
    expect(h.rec.finished).toHaveLength(3);
  });
});
