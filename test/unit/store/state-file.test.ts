import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { MAX_STATE_LINE_BYTES, parseState, readStateFile, STATE_FORMAT, stateLines, writeStateFile } from '../../../src/store/state-file.ts';
import type { LoadOptions } from '../../../src/store/state-file.ts';
import { SeenIntervals } from '../../../src/store/seen-intervals.ts';
import type { CallState, SampleStoreOptions } from '../../../src/store/sample-store.ts';
import { StateSaver } from '../../../src/store/state-saver.ts';
import { ACCOUNT_A, ACCOUNT_B, CALL_1, CALL_2, CALL_3, T0, sample } from './sample-builder.ts';
import { DIRECTIONS, EDGES } from '../../../src/samples/sample.ts';

const dir = (): string => mkdtempSync(join(tmpdir(), 'tie-state-'));
// Keeps everything a test writes.
const ALL: LoadOptions = { keep: 1000, nowMs: T0 };
const text = (lines: Iterable<string>): string => [...lines].join('');

// What builds before version 2 wrote: one JSON document holding every call.
function version1(lines: Iterable<string>): string {
  const [head, ...calls] = text(lines).trimEnd().split('\n');
  const h = JSON.parse(head!) as Record<string, unknown>;
  return JSON.stringify({ ...h, version: 1, calls: calls.map((c) => JSON.parse(c) as unknown) });
}

// A store holding CALL_1 (live, with a gap in its stream) and CALL_2 (removed, so parked).
function filledStore(now: () => number): SampleStore {
  const store = new SampleStore({ backfill: true, now });
  store.addCall(CALL_1, ACCOUNT_A, T0 - 60_000);
  store.addCall(CALL_2, ACCOUNT_B, T0);
  store.apply([0, 10, 20, 40].map((at) => sample({ at, codecName: 'opus', region: 'de1' })));
  store.apply([sample({ callSid: CALL_2, accountSid: ACCOUNT_B, edge: 'carrier_edge', direction: 'inbound', at: 5, values: { packetsReceived: 500 } })]);
  store.setCallType(CALL_1, ACCOUNT_A, 'client');
  store.removeCall(CALL_2);
  return store;
}

function logged(level = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('state file contents', () => {
  it('round-trips every call, live and removed, so each resumes exactly where it stopped', () => {
    const now = T0 + 100_000;
    const r = parseState(text(stateLines(filledStore(() => now).entries(), now)), ALL);
    if (!r.ok) throw new Error(r.detail);
    expect(r.entries.map((e) => [e.call.callSid, e.parkedAtMs])).toEqual([[CALL_1, null], [CALL_2, now]]);

    const next = new SampleStore({ backfill: true, now: () => now });
    next.restore(r.entries);
    const c1 = next.addCall(CALL_1, ACCOUNT_A, now);
    expect(c1).toMatchObject({ trackedAtMs: T0 - 60_000, callType: 'client', codecName: 'opus', mediaRegion: 'de1' });
    expect(c1.streams.get('sdk_edge/both')).toMatchObject({ lastTimestampMs: T0 + 40_000, values: { packetsSent: 2000 } });
    expect(next.apply([0, 10, 20, 30, 40, 50].map((at) => sample({ at })))).toEqual({ applied: 2, observed: 2, duplicates: 4, tooLate: 0 });
    next.addCall(CALL_2, ACCOUNT_B, now);
    expect(next.apply([sample({ callSid: CALL_2, accountSid: ACCOUNT_B, edge: 'carrier_edge', direction: 'inbound', at: 5 })]).duplicates).toBe(1);
  });

  it('refuses a file that is not JSON, not ours, of another version, or breaks a rule, naming what is wrong', () => {
    const [head, first, ...rest] = [...stateLines(filledStore(() => T0).entries(), T0)];
    const call = JSON.parse(first!) as { call_sid: string; streams: Array<{ seen: { runs: number[][] } }> };
    const withCall = (c: unknown): string => text([head!, `${JSON.stringify(c)}\n`, ...rest]);
    const broken = structuredClone(call);
    broken.streams[0]!.seen.runs = [[5, 1, 0]];

    expect(parseState('{"format": "twilio-insights-exporter-st', ALL)).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^not JSON/) as string });
    expect(parseState('', ALL)).toEqual({ ok: false, reason: 'corrupt', detail: 'not JSON (the file is empty)' });
    expect(parseState('{"hello": 1}', ALL)).toEqual({ ok: false, reason: 'corrupt', detail: `not a ${STATE_FORMAT} file` });
    expect(parseState(text([head!.replace('"version":3', '"version":4'), first!]), ALL)).toEqual({
      ok: false,
      reason: 'foreign_version',
      detail: 'version 4, this build reads versions 2 and 3',
    });
    expect(parseState(text([head!.replace('"saved_at"', '"calls":[],"saved_at"'), first!]), ALL)).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 1: /) as string });
    expect(parseState(withCall({ ...call, call_sid: 'CAnope' }), ALL)).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 2\.call_sid: /) as string });
    expect(parseState(withCall(broken), ALL)).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 2: .*invalid run \[5, 1, 0\]/) as string });
  });

  // Version 1 was one JSON document, so one line however large: its version is named even past the line bound.
  it('refuses a version 1 file (one document) as another version, small or past the line bound', () => {
    const small = version1(stateLines(filledStore(() => T0).entries(), T0));
    const large = `${small.slice(0, -2)},${JSON.stringify(`${'x'.repeat(MAX_STATE_LINE_BYTES)}`)}]}`;
    for (const doc of [small, large]) {
      expect(parseState(doc, ALL)).toEqual({ ok: false, reason: 'foreign_version', detail: 'version 1, this build reads versions 2 and 3' });
    }
  });

  // Regression test (probe B, defect 2): a codec name over 64 characters was saved as is and refused on load,
  // and the refusal threw away every call's exactly-once state, so each sample since was counted again.
  it('a call whose saved label is odd loses that label on load, and every call keeps its state', () => {
    const now = T0 + 100_000;
    const store = filledStore(() => now);
    store.addCall(CALL_3, ACCOUNT_A, T0);
    store.apply([sample({ callSid: CALL_3, at: 0, codecName: 'x'.repeat(150_000), region: 'us1\n' })]);
    store.setCallType(CALL_3, ACCOUNT_A, 'carrier\u0000');
    const r = parseState(text(stateLines(store.entries(), now)), ALL);
    if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
    expect(r.entries.map((e) => e.call.callSid).sort()).toEqual([CALL_1, CALL_2, CALL_3].sort());

    const next = new SampleStore({ backfill: true, now: () => now });
    next.restore(r.entries);
    expect(next.addCall(CALL_1, ACCOUNT_A, now)).toMatchObject({ callType: 'client', codecName: 'opus', mediaRegion: 'de1' });
    const odd = next.addCall(CALL_3, ACCOUNT_A, now);
    expect([odd.callType, odd.codecName, odd.mediaRegion]).toEqual([undefined, undefined, undefined]);
    expect(odd.streams.get('sdk_edge/both')!.lastTimestampMs).toBe(T0);
    expect(next.apply([0, 10, 20].map((at) => sample({ at }))).duplicates).toBe(3);
  });

  it('reads a missing file as missing and an oversized one as too large, without reading it', () => {
    const d = dir();
    expect(readStateFile(join(d, 'none.json'), ALL)).toEqual({ ok: false, reason: 'missing', detail: 'no such file' });
    writeFileSync(join(d, 'big.json'), 'x'.repeat(2000));
    expect(readStateFile(join(d, 'big.json'), { ...ALL, maxBytes: 1000 })).toEqual({ ok: false, reason: 'too_large', detail: '2000 bytes, more than 1000' });
  });

  // Probe D #2: a FIFO at the path blocked the start for ever (SIGTERM ignored), and /dev/zero (size 0) grew the
  // process to 3.3 GB until it was killed.
  it('refuses what is not a regular file, promptly: a FIFO with no writer, a device, a directory', () => {
    const d = dir();
    execFileSync('mkfifo', [join(d, 'fifo.json')]);
    symlinkSync('/dev/zero', join(d, 'zero.json'));
    mkdirSync(join(d, 'dir.json'));
    for (const name of ['fifo.json', 'zero.json', 'dir.json']) {
      expect(readStateFile(join(d, name), ALL), name).toEqual({ ok: false, reason: 'unreadable', detail: 'not a regular file' });
    }
  });

  it('writes through a temporary file and leaves none behind', async () => {
    const d = dir();
    const path = join(d, 'state.json');
    writeFileSync(path, 'old');
    await writeStateFile(path, ['n', 'e', 'w']);
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(d)).toEqual(['state.json']);
  });

  it('carries the ended calls after the calls, at most keepEnded.perAccount of each account, the most recently remembered', () => {
    const now = T0 + 100_000;
    const ended = [CALL_1, CALL_2, CALL_3].map((callSid, i) => ({ callSid, accountSid: ACCOUNT_A, endedAtMs: T0 + i, rememberedAtMs: T0 + 10 * i }));
    const lines = [...stateLines(filledStore(() => now).entries(), now, ended)];
    expect(lines.slice(-3).map((l) => Object.keys(JSON.parse(l) as object))).toEqual([['ended'], ['ended'], ['ended']]);
    const all = parseState(text(lines), { ...ALL, keepEnded: { perAccount: 10, accounts: new Set([ACCOUNT_A, ACCOUNT_B]) } });
    if (!all.ok) throw new Error(all.detail);
    expect(all.entries.map((e) => e.call.callSid)).toEqual([CALL_1, CALL_2]);
    expect(new Set(all.ended.map((e) => JSON.stringify(e)))).toEqual(new Set(ended.map((e) => JSON.stringify(e))));
    const two = parseState(text(lines), { ...ALL, keepEnded: { perAccount: 2, accounts: new Set([ACCOUNT_A, ACCOUNT_B]) } });
    expect(two.ok && two.ended.map((e) => e.callSid)).toEqual([CALL_3, CALL_2]);
    // Without a bound (the default), none is held.
    expect(parseState(text(lines), ALL)).toMatchObject({ ok: true, ended: [] });
    // Many more ended lines than the bound: the most recent still win.
    const many = Array.from({ length: 50 }, (_, i) => ({ callSid: `CA${i.toString(16).padStart(32, '0')}`, accountSid: ACCOUNT_B, endedAtMs: T0, rememberedAtMs: T0 + i }));
    const r = parseState(text(stateLines([], now, many)), { ...ALL, keepEnded: { perAccount: 3, accounts: new Set([ACCOUNT_A, ACCOUNT_B]) } });
    expect(r.ok && r.ended.map((e) => e.rememberedAtMs - T0)).toEqual([49, 48, 47]);
  });

  // Probe H #1: the bound was one total over every account, most recent first, so 10,000 fresh ended lines of an
  // account no longer configured pushed a configured account's ended call out, and it came back active.
  it('keeps ended calls per configured account: another account\'s lines, however many and recent, push none out', () => {
    const now = T0 + 100_000;
    const mine = { callSid: CALL_1, accountSid: ACCOUNT_A, endedAtMs: T0, rememberedAtMs: T0 };
    const foreign = Array.from({ length: 50 }, (_, i) => ({ callSid: `CA${i.toString(16).padStart(32, '0')}`, accountSid: ACCOUNT_B, endedAtMs: T0, rememberedAtMs: T0 + 1 + i }));
    const lines = text(stateLines([], now, [mine, ...foreign]));
    const r = parseState(lines, { ...ALL, keepEnded: { perAccount: 3, accounts: new Set([ACCOUNT_A]) } });
    expect(r.ok && r.ended).toEqual([mine]);
    const both = parseState(lines, { ...ALL, keepEnded: { perAccount: 3, accounts: new Set([ACCOUNT_A, ACCOUNT_B]) } });
    expect(both.ok && both.ended.map((e) => e.rememberedAtMs - T0)).toEqual([0, 50, 49, 48]);
  });

  it('names what is wrong in an ended call\'s line', () => {
    const now = T0 + 100_000;
    const [head] = [...stateLines([], now)];
    const bad = (ended: unknown): string => text([head!, `${JSON.stringify({ ended })}\n`]);
    const good = { call_sid: CALL_1, account_sid: ACCOUNT_A, ended_at_ms: T0, remembered_at_ms: T0 };
    expect(parseState(bad({ ...good, call_sid: 'CAnope' }), { ...ALL, keepEnded: { perAccount: 5, accounts: new Set([ACCOUNT_A, ACCOUNT_B]) } })).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 2\.ended\.call_sid: /) as string });
    expect(parseState(bad({ ...good, ended_at_ms: 1.5 }), { ...ALL, keepEnded: { perAccount: 5, accounts: new Set([ACCOUNT_A, ACCOUNT_B]) } })).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 2\.ended\.ended_at_ms: /) as string });
    expect(parseState(bad({ ...good, extra: 1 }), { ...ALL, keepEnded: { perAccount: 5, accounts: new Set([ACCOUNT_A, ACCOUNT_B]) } })).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 2\.ended: /) as string });
    expect(parseState(bad(good), { ...ALL, keepEnded: { perAccount: 5, accounts: new Set([ACCOUNT_A, ACCOUNT_B]) } })).toMatchObject({ ok: true, ended: [{ callSid: CALL_1 }] });
  });
});

describe('state file memories (probe K #4: what push ingestion counts once, carried over a restart)', () => {
  const ids = (n: number, from = 0): Array<[string, number]> => Array.from({ length: n }, (_, i) => [`EV${from + i}`, T0 + from + i]);

  it('carries each memory after the ended calls, a thousand entries a line, and loads its newest entries oldest first', () => {
    const now = T0 + 100_000;
    const expired: Array<[string, number]> = [[`${ACCOUNT_A}/${CALL_3}`, T0]];
    const lines = [...stateLines(filledStore(() => now).entries(), now, [], [{ kind: 'expired_calls', entries: expired }, { kind: 'event_ids', entries: ids(2500) }])];
    expect(lines.slice(-4).map((l) => [(JSON.parse(l) as { memory: string }).memory, (JSON.parse(l) as { entries: unknown[] }).entries.length])).toEqual([
      ['expired_calls', 1], ['event_ids', 1000], ['event_ids', 1000], ['event_ids', 500],
    ]);
    const all = parseState(text(lines), { ...ALL, keepMemories: { expired_calls: 10, event_ids: 10_000, counted_tags: 10 } });
    if (!all.ok) throw new Error(all.detail);
    expect(all.entries.map((e) => e.call.callSid)).toEqual([CALL_1, CALL_2]);
    expect(all.memories).toEqual({ expired_calls: expired, event_ids: ids(2500), counted_tags: [], waiting_summaries: [] });
    // At most each memory's bound, the newest; none of a memory the load does not keep.
    const few = parseState(text(lines), { ...ALL, keepMemories: { event_ids: 3 } });
    expect(few.ok && few.memories).toEqual({ expired_calls: [], event_ids: ids(3, 2497), counted_tags: [], waiting_summaries: [] });
  });

  it('reads a version 2 file, which had no memories', () => {
    const now = T0 + 100_000;
    const [head, ...rest] = [...stateLines(filledStore(() => now).entries(), now)];
    const r = parseState(text([head!.replace('"version":3', '"version":2'), ...rest]), { ...ALL, keepMemories: { event_ids: 10 } });
    expect(r).toMatchObject({ ok: true, memories: { expired_calls: [], event_ids: [], counted_tags: [], waiting_summaries: [] } });
    expect(r.ok && r.entries.length).toBe(2);
  });

  it('names what is wrong in a memory line', () => {
    const [head] = [...stateLines([], T0)];
    const bad = (line: unknown): unknown => parseState(text([head!, `${JSON.stringify(line)}\n`]), { ...ALL, keepMemories: { expired_calls: 5, event_ids: 5, counted_tags: 5 } });
    expect(bad({ memory: 'secrets', entries: [] })).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 2\.memory: /) as string });
    expect(bad({ memory: 'event_ids', entries: [['EV1', 1.5]] })).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 2\.entries\.0\.1: /) as string });
    expect(bad({ memory: 'event_ids', entries: [['x'.repeat(257), 1]] })).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 2\.entries\.0\.0: /) as string });
    expect(bad({ memory: 'expired_calls', entries: [[CALL_1, 1]] })).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 2\.entries\.0: not an AccountSid\/CallSid/) as string });
    expect(bad({ memory: 'counted_tags', entries: [[`${CALL_1}/sdk_edge/low_mos`, 1]], extra: 1 })).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 2: /) as string });
    expect(bad({ memory: 'counted_tags', entries: [[`${CALL_1}/sdk_edge/low_mos`, 1]] })).toMatchObject({ ok: true, memories: { counted_tags: [[`${CALL_1}/sdk_edge/low_mos`, 1]] } });
  });

  // Probe M #3: a removed call's state expiring changed nothing a save compared, so the file kept the expired calls.
  it('a saver saves when removed calls\' state expired, and the file no longer holds them', async () => {
    const path = join(dir(), 'state.json');
    let now = T0;
    const store = new SampleStore({ backfill: true, maxSampleLatenessMs: 5000, historyWindowMs: 0, now: () => now });
    store.addCall(CALL_1, ACCOUNT_A, T0);
    store.apply([sample({ at: 0 })]);
    store.removeCall(CALL_1);
    const saver = new StateSaver({ path, flushIntervalMs: 60_000, store, logger: logged().logger, now: () => now, memories: [store.expiredCalls] });
    await saver.flush();
    expect(readFileSync(path, 'utf8')).toContain(`"call_sid":"${CALL_1}"`);
    now += 60_000;
    store.sweep();
    await saver.flush();
    expect(readFileSync(path, 'utf8')).not.toContain(`"call_sid":"${CALL_1}"`);
    expect(readFileSync(path, 'utf8')).toContain(`["${ACCOUNT_A}/${CALL_1}",`);
  });

  it('a saver saves when only a memory changed, and restores each memory after the calls', async () => {
    const path = join(dir(), 'state.json');
    const store = filledStore(() => T0);
    const held: Array<[string, number]> = [];
    let changes = 0;
    const memory = { kind: 'event_ids' as const, capacity: 10, changes: () => changes, entries: () => held, restore: () => undefined };
    const saver = new StateSaver({ path, flushIntervalMs: 60_000, store, logger: logged().logger, memories: [memory] });
    await saver.flush();
    writeFileSync(path, 'sentinel');
    await saver.flush();
    expect(readFileSync(path, 'utf8')).toBe('sentinel');
    held.push(['EV1', T0]);
    changes++;
    await saver.flush();
    expect(readFileSync(path, 'utf8')).toContain('{"memory":"event_ids","entries":[["EV1",');

    const restored: unknown[] = [];
    const next = new SampleStore({ backfill: false, now: () => T0 });
    const log = logged();
    new StateSaver({ path, flushIntervalMs: 60_000, store: next, logger: log.logger, now: () => T0, memories: [{ ...memory, restore: (e) => restored.push(next.isParked(ACCOUNT_A, CALL_1), e) }] }).load();
    expect(restored).toEqual([true, [['EV1', T0]]]);
    expect(log.lines[0]).toMatchObject({ remembered: { event_ids: 1 } });
  });
});

describe('the store\'s expired calls over a restart', () => {
  const opts = (now: () => number, extra: Partial<SampleStoreOptions> = {}): SampleStoreOptions => ({ backfill: true, maxSampleLatenessMs: 5000, historyWindowMs: 0, now, ...extra });
  // Saves `store` as the saver does and loads it into a new store.
  const reload = (store: SampleStore, now: number, extra: Partial<SampleStoreOptions> = {}, keep = 10): SampleStore => {
    const calls = [...store.entries()];
    const r = parseState(text(stateLines(calls, now, [], [{ kind: 'expired_calls', entries: [...store.expiredCalls.entries()] }])), { keep, nowMs: now, keepMemories: { expired_calls: 1000 } });
    if (!r.ok) throw new Error(r.detail);
    const next = new SampleStore(opts(() => now, extra));
    next.restore(r.entries);
    next.expiredCalls.restore(r.memories.expired_calls);
    return next;
  };
  const endedAndExpired = (store: SampleStore, callSid: string, clock: { now: number }): void => {
    store.addCall(callSid, ACCOUNT_A, clock.now);
    store.apply([sample({ callSid, at: 0 }), sample({ callSid, at: 10 })]);
    store.removeCall(callSid);
    clock.now += 60_000;
    store.sweep();
  };

  // Probe K retest #6: a call's summary and whether a Summary named its type were not saved, so after a restart a late
  // partial summary replaced the complete one, and the edges with data could rename the call type.
  it('carries a call\'s summary and named call type over a restart', () => {
    const clock = { now: T0 };
    const store = new SampleStore(opts(() => clock.now));
    store.addCall(CALL_1, ACCOUNT_A, clock.now);
    store.apply([sample({ edge: 'carrier_edge', direction: 'inbound', at: 0 })]);
    store.setCallType(CALL_1, ACCOUNT_A, 'trunking');
    store.setSummary(CALL_1, ACCOUNT_A, { processingState: 'complete', rank: 2, tagCount: 3 });
    const next = reload(store, clock.now);
    const call = next.addCall(CALL_1, ACCOUNT_A, clock.now);
    expect([call.callType, call.callTypeNamed, call.summary]).toEqual(['trunking', true, { processingState: 'complete', rank: 2, tagCount: 3 }]);
    next.setSummary(CALL_1, ACCOUNT_A, { processingState: 'partial', rank: 0, tagCount: 1 });
    next.apply([sample({ edge: 'sip_edge', direction: 'inbound', at: 10 })]);
    expect([next.get(CALL_1)!.callType, next.get(CALL_1)!.summary?.processingState]).toEqual(['trunking', 'complete']);
  });

  // Probe K retest #6, second half: a summary waiting for its call's first metrics was lost in a restart.
  it('carries a summary that waits for its call over a restart, for that account\'s call only', () => {
    const clock = { now: T0 };
    const store = new SampleStore(opts(() => clock.now));
    store.setCallType(CALL_2, ACCOUNT_A, 'sip');
    store.setSummary(CALL_2, ACCOUNT_A, { processingState: 'partial', rank: 0, tagCount: 1 });
    const r = parseState(text(stateLines([], clock.now, [], [{ kind: 'waiting_summaries', entries: [...store.waitingSummaries.entries()] }])), { keep: 10, nowMs: clock.now, keepMemories: { waiting_summaries: 10 } });
    if (!r.ok) throw new Error(r.detail);
    const next = new SampleStore(opts(() => clock.now));
    next.waitingSummaries.restore(r.memories.waiting_summaries);
    expect(next.addCall(CALL_2, ACCOUNT_B, clock.now).summary).toBeUndefined();
    next.removeCall(CALL_2);
    const call = next.addCall(CALL_2, ACCOUNT_A, clock.now);
    expect([call.callType, call.summary]).toEqual(['sip', { processingState: 'partial', rank: 0, tagCount: 1 }]);
  });

  // Probe K retest #1: a call tracked again after its state expired was parked with no streams when removed, and
  // saved so; the load let that empty state win over the expired memory, and the next redelivery counted again.
  it('a call tracked again after its state expired is saved as expired, removed or still held', () => {
    for (const removeFirst of [true, false]) {
      const clock = { now: T0 };
      const store = new SampleStore(opts(() => clock.now));
      endedAndExpired(store, CALL_1, clock);
      store.addCall(CALL_1, ACCOUNT_A, clock.now, { ended: true });
      expect(store.apply([sample({ at: 0 })])).toMatchObject({ applied: 0, tooLate: 1 });
      if (removeFirst) store.removeCall(CALL_1);
      const next = reload(store, clock.now);
      next.addCall(CALL_1, ACCOUNT_A, clock.now, { ended: true });
      expect(next.apply([sample({ at: 0 }), sample({ at: 10 })]), `removed first: ${removeFirst}`).toMatchObject({ applied: 0, tooLate: 2 });
    }
  });

  // Probe K retest #3: calls the load dropped past the cap were not remembered as expired.
  it('remembers the calls a load drops past the cap as expired', () => {
    const clock = { now: T0 };
    const store = new SampleStore(opts(() => clock.now));
    for (const callSid of [CALL_1, CALL_2, CALL_3]) {
      store.addCall(callSid, ACCOUNT_A, clock.now);
      store.apply([sample({ callSid, at: 0 })]);
      store.removeCall(callSid);
      clock.now += 1;
    }
    const next = reload(store, clock.now, {}, 1);
    expect([CALL_1, CALL_2, CALL_3].map((c) => next.isParked(ACCOUNT_A, c))).toEqual([false, false, true]);
    next.addCall(CALL_1, ACCOUNT_A, clock.now, { ended: true });
    expect(next.apply([sample({ at: 0 })])).toMatchObject({ applied: 0, tooLate: 1 });
  });

  // Probe K retest #2: the expired memory held 4 x max_calls calls, fewer than the registry's ended-call memory.
  it('remembers as many expired calls as it is told to (the registry\'s ended-call memory), past 4 x maxParked', () => {
    const clock = { now: T0 };
    const store = new SampleStore(opts(() => clock.now, { maxParked: 1, maxExpired: 50 }));
    const sids = Array.from({ length: 20 }, (_, i) => `CA${i.toString(16).padStart(32, '0')}`);
    for (const sid of sids) endedAndExpired(store, sid, clock);
    for (const sid of sids) {
      store.addCall(sid, ACCOUNT_A, clock.now, { ended: true });
      expect(store.apply([sample({ callSid: sid, at: 0 })]), sid).toMatchObject({ applied: 0, tooLate: 1 });
      store.removeCall(sid);
    }
  });

  it('refuses an ended call\'s samples after a restart when its state had expired before the save', () => {
    let now = T0;
    const store = new SampleStore({ backfill: true, maxSampleLatenessMs: 5000, historyWindowMs: 0, now: () => now });
    store.addCall(CALL_1, ACCOUNT_A, T0);
    store.apply([sample({ at: 0 }), sample({ at: 10 })]);
    store.removeCall(CALL_1);
    now += 60_000;
    const lines = text(stateLines(store.entries(), now, [], [{ kind: 'expired_calls', entries: [...store.expiredCalls.entries()] }]));
    const r = parseState(lines, { keep: 10, nowMs: now, keepMemories: { expired_calls: 10 } });
    if (!r.ok) throw new Error(r.detail);
    expect(r.entries).toEqual([]);

    const next = new SampleStore({ backfill: true, maxSampleLatenessMs: 5000, historyWindowMs: 0, now: () => now });
    next.restore(r.entries);
    next.expiredCalls.restore(r.memories.expired_calls);
    next.addCall(CALL_1, ACCOUNT_A, now, { ended: true });
    expect(next.apply([sample({ at: 0 }), sample({ at: 10 })])).toMatchObject({ applied: 0, tooLate: 2 });
    // A live call announced again starts over, as before a restart.
    const live = new SampleStore({ backfill: true, maxSampleLatenessMs: 5000, historyWindowMs: 0, now: () => now });
    live.expiredCalls.restore(r.memories.expired_calls);
    live.addCall(CALL_1, ACCOUNT_A, now);
    expect(live.apply([sample({ at: 0 })])).toMatchObject({ applied: 1 });
  });
});

describe('state file of any size', () => {
  // A file of `n` calls, each with a stream; every twentieth is live, the others removed at scattered times (ties
  // included) and in no order; call 3 is saved a second time at the end, removed just before `now`.
  function manyCalls(n: number, now: number): string {
    const calls: CallState[] = [];
    const parked: Array<number | null> = [];
    for (let i = 0; i < n; i++) {
      const seen = new SeenIntervals();
      seen.add(T0 + i * 1000, 0);
      calls.push({
        callSid: `CA${i.toString(16).padStart(32, '0')}`,
        accountSid: ACCOUNT_A,
        trackedAtMs: T0,
        callType: 'sip',
        codecName: undefined,
        mediaRegion: undefined,
        streams: new Map([['sip_edge/inbound', { edge: 'sip_edge', direction: 'inbound', lastTimestampMs: T0 + i * 1000, values: { mos: 4 }, seen }]]),
      });
      parked.push(i % 20 === 0 ? null : now - (1 + ((i * 7919) % 97)) * 1000);
    }
    const entries = calls.map((call, i) => ({ call, parkedAtMs: parked[i]! }));
    return text(stateLines([...entries, { call: calls[3]!, parkedAtMs: now - 1 }], now));
  }

  const sidsOf = (store: SampleStore): string[] => [...store.entries()].map((e) => `${e.call.callSid} ${e.parkedAtMs}`);

  it('holds only the calls restore keeps of them all, the same ones, and counts every call it read', () => {
    const now = T0 + 600_000;
    const file = manyCalls(400, now);
    const all = parseState(file, { keep: 10_000, nowMs: now });
    const capped = parseState(file, { keep: 25, nowMs: now });
    if (!all.ok || !capped.ok) throw new Error('not loaded');
    expect([all.read, all.entries.length, capped.read, capped.entries.length]).toEqual([401, 400, 401, 25]);

    // The old way (every call read, restore trims) and the new (25 read, restore keeps them) leave the same store.
    const before = new SampleStore({ backfill: false, now: () => now, maxParked: 25 });
    const after = new SampleStore({ backfill: false, now: () => now, maxParked: 25 });
    expect(before.restore(all.entries)).toBe(25);
    expect(after.restore(capped.entries)).toBe(25);
    expect(sidsOf(after)).toEqual(sidsOf(before));
    // The 20 live calls first, then the most recently removed, among them call 3 as saved the second time, once.
    expect(capped.entries.filter((e) => e.parkedAtMs === null)).toHaveLength(20);
    expect(capped.entries.filter((e) => e.call.callSid === `CA${'3'.padStart(32, '0')}`).map((e) => e.parkedAtMs)).toEqual([now - 1]);
  });

  it('reads a file the same whatever chunks its bytes arrive in', () => {
    const now = T0 + 600_000;
    const whole = Buffer.from(manyCalls(30, now) + '\n\n');
    const options = { keep: 12, nowMs: now };
    const expected = parseState([whole], options);
    if (!expected.ok) throw new Error(expected.detail);
    for (const size of [1, 7, 4096]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < whole.length; at += size) chunks.push(whole.subarray(at, at + size));
      expect(parseState(chunks, options), `chunks of ${size}`).toEqual(expected);
    }
  });

  it('a line longer than MAX_STATE_LINE_BYTES, or a line that is not a call, is corrupt, named', () => {
    const lines = [...stateLines(filledStore(() => T0).entries(), T0)];
    const long = `{"call_sid":"${'x'.repeat(MAX_STATE_LINE_BYTES)}"}\n`;
    expect(parseState(text([lines[0]!, lines[1]!, long, lines[2]!]), ALL)).toEqual({
      ok: false,
      reason: 'corrupt',
      detail: `line 3 is longer than ${MAX_STATE_LINE_BYTES} bytes`,
    });
    expect(parseState(text([lines[0]!, '{"call_sid": "CA1"}\n']), ALL)).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^line 2\.call_sid: /) as string });
    expect(parseState(text([lines[0]!, '{"call_sid": \n']), ALL)).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^not JSON \(line 2: /) as string });
  });

  // A file the exporter wrote must always load: its longest call is well under the line bound.
  it('the longest call this build can write fits in a line and loads', () => {
    const runs: Array<[number, number, number]> = [];
    for (let i = 0; i < 512; i++) {
      const start = -9_007_199_254_740_991 + i * 10_000_000_000_000;
      runs.push([start, start + 9_999_999_999_999, 9_999_999_999_999]);
    }
    const newest = runs[511]![1];
    const values = Object.fromEntries(
      ['mos', 'rttSeconds', 'jitterSeconds', 'jitterAvgSeconds', 'jitterMaxSeconds', 'packetLossRatio', 'audioInLevel', 'audioOutLevel', 'packetsSent', 'packetsReceived', 'packetsLost', 'bytesSent', 'bytesReceived'].map((k) => [k, -2.2250738585072014e-308]),
    );
    const streams = new Map<string, CallState['streams'] extends Map<string, infer S> ? S : never>();
    for (const edge of EDGES) {
      for (const direction of DIRECTIONS) {
        streams.set(`${edge}/${direction}`, { edge, direction, lastTimestampMs: newest, values, seen: SeenIntervals.restore({ runs, step: 9_999_999_999_999, floor: -9_007_199_254_740_991 }) });
      }
    }
    // Label characters of three UTF-8 bytes each, and quotes, which JSON doubles.
    const label = '\u0800'.repeat(32) + '"'.repeat(32);
    const call: CallState = { callSid: CALL_1, accountSid: ACCOUNT_A, trackedAtMs: -9_007_199_254_740_991, callType: label, codecName: label, mediaRegion: label, streams };
    const lines = [...stateLines([{ call, parkedAtMs: -9_007_199_254_740_991 }], T0)];
    const bytes = Buffer.byteLength(lines[1]!);
    expect(bytes).toBeLessThan(MAX_STATE_LINE_BYTES * 0.7);
    const r = parseState(text(lines), ALL);
    if (!r.ok) throw new Error(r.detail);
    expect(r.entries[0]!.call.streams.size).toBe(EDGES.length * DIRECTIONS.length);
    expect(r.entries[0]!.call.codecName).toBe(label);
  });
});

describe('StateSaver', () => {
  // Probe L #2: a FIFO, device or symlink at the path was refused at load, then replaced by a regular file at the first
  // save (state.path: /dev/null replaced the machine's /dev/null).
  it('never saves over what is not a regular file: a FIFO stays a FIFO, and each save is counted as failed', async () => {
    const d = dir();
    const path = join(d, 'fifo.json');
    execFileSync('mkfifo', [path]);
    const log = logged();
    const saves: boolean[] = [];
    const saver = new StateSaver({ path, flushIntervalMs: 60_000, store: filledStore(() => T0), logger: log.logger, onSaved: (ok) => saves.push(ok) });
    expect(saver.load()).toBe(0);
    await saver.flush();
    await saver.stop();
    expect(lstatSync(path).isFIFO()).toBe(true);
    expect(readdirSync(d).sort()).toEqual(['fifo.json']);
    expect(saves).toEqual([false, false]);
    expect(log.lines.filter((l) => l['level'] === 50).map((l) => [l['msg'], l['code']])).toEqual([
      ['cannot write the state file; still running, but a restart may count samples again', 'not a regular file'],
      ['cannot write the state file at stop; the next start may count samples again', 'not a regular file'],
    ]);
  });

  // Probe L+M retest #2: the lock was taken beside the link while saves went to its target, so two exporters given two
  // links to one file both ran, and each save wiped the other's state.
  it('locks the file a symlink points to: a second exporter through another link to it runs without it', async () => {
    const d = dir();
    const target = join(d, 'state.json');
    writeFileSync(target, text(stateLines(filledStore(() => T0).entries(), T0)));
    symlinkSync(target, join(d, 'b.json'));
    // Another exporter holds the file, through a link of its own: its lock is beside the file.
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(`${target}.lock`, JSON.stringify({ pid: other.pid, hostname: hostname() }));
      const log = logged();
      const saves: boolean[] = [];
      const b = new StateSaver({ path: join(d, 'b.json'), flushIntervalMs: 60_000, store: new SampleStore({ backfill: false, now: () => T0 }), logger: log.logger, now: () => T0, onSaved: (ok) => saves.push(ok) });
      expect(b.load()).toBe(0);
      expect(log.lines[0]).toMatchObject({ msg: 'state file in use by another exporter; running without it (a restart may count samples again)', holder_pid: other.pid });
      await b.stop();
      expect(saves).toEqual([false]);
      expect(readFileSync(target, 'utf8')).toContain(CALL_1);
    } finally {
      other.kill();
    }
  });

  it('saves through a symlink to the file it points to, and keeps the link', async () => {
    const d = dir();
    mkdirSync(join(d, 'volume'));
    const target = join(d, 'volume', 'state.json');
    const path = join(d, 'state.json');
    symlinkSync(target, path);
    const store = filledStore(() => T0);
    const saver = new StateSaver({ path, flushIntervalMs: 60_000, store, logger: logged().logger });
    expect(saver.load()).toBe(0);
    await saver.stop();
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toContain(CALL_1);
    expect(readdirSync(join(d, 'volume'))).toEqual(['state.json']);

    // A corrupt file behind the link is kept aside beside the file, and the link still leads to the new saves.
    writeFileSync(target, 'not json');
    const next = new StateSaver({ path, flushIntervalMs: 60_000, store: filledStore(() => T0), logger: logged('warn').logger });
    expect(next.load()).toBe(0);
    await next.stop();
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    expect(readdirSync(join(d, 'volume')).sort()).toEqual(['state.json', 'state.json.bad']);
    expect(readFileSync(target, 'utf8')).toContain(CALL_1);
  });

  it('a missing, corrupt or foreign-version file is logged and the store starts fresh', () => {
    const d = dir();
    const cases: Array<[string, string | undefined, string]> = [
      ['missing.json', undefined, 'no state file yet; starting fresh'],
      ['corrupt.json', '{"calls": [', 'state file not usable; starting fresh (samples since the last run may be counted again)'],
      ['foreign.json', JSON.stringify({ format: STATE_FORMAT, version: 99 }), 'state file not usable; starting fresh (samples since the last run may be counted again)'],
    ];
    for (const [name, content, message] of cases) {
      const path = join(d, name);
      if (content !== undefined) writeFileSync(path, content);
      const { logger, lines } = logged();
      const store = new SampleStore({ backfill: false });
      expect(new StateSaver({ path, flushIntervalMs: 1000, store, logger }).load()).toBe(0);
      expect(lines.map((l) => l['msg'])).toEqual([message]);
      expect(store.parkedSize).toBe(0);
    }
  });

  // Probe F #4: two exporters given one state file (a volume mounted twice, a path copied between configs) wrote
  // over each other without a word, and a restart of either loaded the other's calls.
  it('leaves a state file whose lock a live exporter holds alone: no load, no save, each save counted as failed', async () => {
    const d = dir();
    const path = join(d, 'state.json');
    await writeStateFile(path, stateLines(filledStore(() => T0).entries(), T0));
    const before = readFileSync(path, 'utf8');
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(`${path}.lock`, JSON.stringify({ pid: other.pid, hostname: hostname() }));
      const { logger, lines } = logged();
      const saved: boolean[] = [];
      const store = filledStore(() => T0);
      const saver = new StateSaver({ path, flushIntervalMs: 60_000, store, logger, onSaved: (ok) => saved.push(ok) });
      expect(saver.load()).toBe(0);
      store.apply([sample({ at: 50 })]);
      await saver.flush();
      store.apply([sample({ at: 60 })]);
      await saver.flush();
      expect(readFileSync(path, 'utf8')).toBe(before);
      expect(saved).toEqual([false, false]);
      expect(lines[0]).toMatchObject({ msg: 'state file in use by another exporter; running without it (a restart may count samples again)', holder_pid: other.pid });

      // Once that exporter is gone, the next save takes the lock over and writes; the stop gives the lock up.
      other.kill();
      await once(other, 'exit');
      await saver.stop();
      expect(saved).toEqual([false, false, true]);
      expect(readFileSync(path, 'utf8')).not.toBe(before);
      expect(existsSync(`${path}.lock`)).toBe(false);
    } finally {
      other.kill();
    }
  });

  it('takes over a lock whose holder is gone or stale, and gives its own up at stop', async () => {
    const d = dir();
    const path = join(d, 'state.json');
    await writeStateFile(path, stateLines(filledStore(() => T0).entries(), T0));
    const gone = spawnSync('true').pid;
    const holders: Array<[Record<string, unknown>, number]> = [
      [{ pid: gone, hostname: hostname() }, 0],
      [{ pid: 1, hostname: 'another-host' }, 200_000],
      [{ pid: process.pid, hostname: hostname() }, 0],
    ];
    for (const [holder, age] of holders) {
      writeFileSync(`${path}.lock`, JSON.stringify(holder));
      const old = new Date(Date.now() - age);
      utimesSync(`${path}.lock`, old, old);
      const saver = new StateSaver({ path, flushIntervalMs: 60_000, store: new SampleStore({ backfill: false, now: () => T0 }), logger: logged().logger, now: () => T0 });
      expect(saver.load(), JSON.stringify(holder)).toBe(2);
      await saver.stop();
      expect(existsSync(`${path}.lock`)).toBe(false);
    }
    // A holder on another host that refreshed its lock a moment ago is not taken over.
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: 1, hostname: 'another-host' }));
    expect(new StateSaver({ path, flushIntervalMs: 60_000, store: new SampleStore({ backfill: false }), logger: logged().logger }).load()).toBe(0);
  });

  // Probe F #7: a hand-edited (pretty-printed) file was 'not JSON (line 1: …)' with no word of the format, and the
  // first save overwrote it, the user's edits with it. A BOM an editor adds made a good file unreadable.
  it('keeps an unusable file as <path>.bad, says the format is JSON Lines, and reads past a BOM', () => {
    const d = dir();
    const path = join(d, 'state.json');
    const lines = [...stateLines(filledStore(() => T0).entries(), T0)];
    const pretty = JSON.stringify(JSON.parse(lines[0]!), null, 2);
    writeFileSync(path, pretty);
    const { logger, lines: logLines } = logged();
    expect(new StateSaver({ path, flushIntervalMs: 1000, store: new SampleStore({ backfill: false }), logger }).load()).toBe(0);
    expect(logLines[0]).toMatchObject({ reason: 'corrupt', kept_as: `${path}.bad`, format: expect.stringContaining('JSON Lines') as string });
    expect(readdirSync(d).sort()).toEqual(['state.json.bad', 'state.json.lock']);
    expect(readFileSync(`${path}.bad`, 'utf8')).toBe(pretty);

    writeFileSync(path, `\ufeff${text(lines)}`);
    const r = parseState(readFileSync(path, 'utf8'), ALL);
    expect(r.ok && r.entries.length).toBe(2);
  });

  // Probe E #6: a read-only state directory gave one error line, then silence: no metric, and the failed save at
  // SIGTERM said nothing.
  it('reports each save to onSaved, logs a failing file once while running and again when the last save fails', async () => {
    const d = dir();
    writeFileSync(join(d, 'file'), '');
    const path = join(d, 'file', 'state.json');
    const store = filledStore(() => T0);
    const { logger, lines } = logged();
    const saved: boolean[] = [];
    const saver = new StateSaver({ path, flushIntervalMs: 60_000, store, logger, onSaved: (ok) => saved.push(ok) });
    await saver.flush();
    store.apply([sample({ at: 50 })]);
    await saver.flush();
    await saver.stop();
    expect(saved).toEqual([false, false, false]);
    expect(lines.map((l) => [l['msg'], l['code']])).toEqual([
      ['cannot write the state file; still running, but a restart may count samples again', 'ENOTDIR'],
      ['cannot write the state file at stop; the next start may count samples again', 'ENOTDIR'],
    ]);
  });

  // Probe F #1: each crash during a save left a `state.json.<pid>.tmp` of the store's size beside the file, and nothing
  // removed it: a crash loop filled the volume.
  it('removes what a crashed save left beside the file when it loads, and saves through one temporary name', async () => {
    const d = dir();
    const path = join(d, 'state.json');
    const store = filledStore(() => T0);
    await new StateSaver({ path, flushIntervalMs: 60_000, store, logger: logged().logger }).flush();
    for (const leftover of ['state.json.4242.tmp', 'state.json.tmp']) writeFileSync(join(d, leftover), 'half a save');
    writeFileSync(join(d, 'other.json.4242.tmp'), 'not ours');
    const { logger, lines } = logged();
    const next = new StateSaver({ path, flushIntervalMs: 60_000, store: new SampleStore({ backfill: false, now: () => T0 }), logger, now: () => T0 });
    expect(next.load()).toBe(2);
    expect(readdirSync(d).sort()).toEqual(['other.json.4242.tmp', 'state.json', 'state.json.lock']);
    expect(lines.map((l) => [l['msg'], l['files']])).toContainEqual(['removed what an interrupted save left beside the state file', ['state.json.4242.tmp', 'state.json.tmp']]);
  });

  it('saves only when the store changed, and loads what it saved', async () => {
    const path = join(dir(), 'state.json');
    const store = filledStore(() => T0);
    const { logger } = logged();
    const saver = new StateSaver({ path, flushIntervalMs: 60_000, store, logger });
    await saver.flush();
    const first = readFileSync(path, 'utf8');
    writeFileSync(path, 'sentinel');
    await saver.flush();
    expect(readFileSync(path, 'utf8')).toBe('sentinel');
    store.apply([sample({ at: 50 })]);
    await saver.stop();
    expect(readFileSync(path, 'utf8')).not.toBe(first);

    // Of the two calls saved, the one removed at T0 is past its retention by this store's clock: one is kept.
    const next = new SampleStore({ backfill: false });
    const log = logged();
    expect(new StateSaver({ path, flushIntervalMs: 60_000, store: next, logger: log.logger }).load()).toBe(1);
    expect(log.lines.map((l) => [l['msg'], l['calls'], l['dropped']])).toEqual([['state file loaded: calls resume where they stopped', 1, 1]]);
    expect(next.addCall(CALL_1, ACCOUNT_A, T0).streams.get('sdk_edge/both')!.lastTimestampMs).toBe(T0 + 50_000);
  });

  it('saves every call and loads the newest the caps hold, each resuming exactly where it stopped', async () => {
    const now = T0 + 100_000;
    const path = join(dir(), 'state.json');
    const sid = (i: number): string => `CA${i.toString(16).padStart(32, '0')}`;
    const store = new SampleStore({ backfill: true, now: () => now, maxParked: 50 });
    for (let i = 0; i < 40; i++) {
      store.addCall(sid(i), ACCOUNT_A, T0);
      store.apply([0, 10, 20].map((at) => sample({ callSid: sid(i), at: at + i })));
    }
    for (let i = 0; i < 30; i++) store.removeCall(sid(i));
    const { logger, lines } = logged();
    await new StateSaver({ path, flushIntervalMs: 60_000, store, logger, now: () => now }).flush();
    expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toHaveLength(41);

    // A store capped at 15: the 10 live calls, then the 5 removed last.
    const next = new SampleStore({ backfill: true, now: () => now, maxParked: 15 });
    expect(new StateSaver({ path, flushIntervalMs: 60_000, store: next, logger, now: () => now }).load()).toBe(15);
    expect(lines.map((l) => [l['msg'], l['calls'], l['dropped']])).toEqual([['state file loaded: calls resume where they stopped', 15, 25]]);
    expect([...next.entries()].map((e) => e.call.callSid).sort()).toEqual([...Array.from({ length: 15 }, (_, k) => sid(25 + k))].sort());
    for (let i = 25; i < 40; i++) {
      next.addCall(sid(i), ACCOUNT_A, now);
      expect(next.apply([0, 10, 20, 30].map((at) => sample({ callSid: sid(i), at: at + i }))), sid(i)).toMatchObject({ applied: 1, duplicates: 3 });
    }
  });
});
