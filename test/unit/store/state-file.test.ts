import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { parseState, readStateFile, serializeState, STATE_FORMAT, writeStateFile } from '../../../src/store/state-file.ts';
import { StateSaver } from '../../../src/store/state-saver.ts';
import { ACCOUNT_A, ACCOUNT_B, CALL_1, CALL_2, CALL_3, T0, sample } from './sample-builder.ts';

const dir = (): string => mkdtempSync(join(tmpdir(), 'tie-state-'));

// A store holding CALL_1 (live, with a gap in its stream) and CALL_2 (removed, so parked).
function filledStore(now: () => number): SampleStore {
  const store = new SampleStore({ backfill: true, now });
  store.addCall(CALL_1, ACCOUNT_A, T0 - 60_000);
  store.addCall(CALL_2, ACCOUNT_B, T0);
  store.apply([0, 10, 20, 40].map((at) => sample({ at, codecName: 'opus', region: 'de1' })));
  store.apply([sample({ callSid: CALL_2, accountSid: ACCOUNT_B, edge: 'carrier_edge', direction: 'inbound', at: 5, values: { packetsReceived: 500 } })]);
  store.setCallType(CALL_1, 'client');
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
    const text = serializeState(filledStore(() => now).entries(), now);
    const r = parseState(text);
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
    const good = JSON.parse(serializeState(filledStore(() => T0).entries(), T0)) as { calls: Array<{ streams: Array<{ seen: { runs: number[][] } }> }> };
    const broken = structuredClone(good);
    broken.calls[0]!.streams[0]!.seen.runs = [[5, 1, 0]];
    const badSid = structuredClone(good) as unknown as { calls: Array<{ call_sid: string }> };
    badSid.calls[0]!.call_sid = 'CAnope';

    expect(parseState('{"format": "twilio-insights-exporter-st')).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^not JSON/) as string });
    expect(parseState('{"hello": 1}')).toEqual({ ok: false, reason: 'corrupt', detail: `not a ${STATE_FORMAT} file` });
    expect(parseState(JSON.stringify({ ...good, version: 2 }))).toEqual({
      ok: false,
      reason: 'foreign_version',
      detail: 'version 2, this build reads version 1',
    });
    expect(parseState(JSON.stringify(badSid))).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/^calls\.0\.call_sid: /) as string });
    expect(parseState(JSON.stringify(broken))).toMatchObject({ ok: false, reason: 'corrupt', detail: expect.stringMatching(/invalid run \[5, 1, 0\]/) as string });
  });

  // Regression test (probe B, defect 2): a codec name over 64 characters was saved as is and refused on load,
  // and the refusal threw away every call's exactly-once state, so each sample since was counted again.
  it('a call whose saved label is odd loses that label on load, and every call keeps its state', () => {
    const now = T0 + 100_000;
    const store = filledStore(() => now);
    store.addCall(CALL_3, ACCOUNT_A, T0);
    store.apply([sample({ callSid: CALL_3, at: 0, codecName: 'x'.repeat(150_000), region: 'us1\n' })]);
    store.setCallType(CALL_3, 'carrier\u0000');
    const r = parseState(serializeState(store.entries(), now));
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
    expect(readStateFile(join(d, 'none.json'))).toEqual({ ok: false, reason: 'missing', detail: 'no such file' });
    writeFileSync(join(d, 'big.json'), 'x'.repeat(2000));
    expect(readStateFile(join(d, 'big.json'), 1000)).toEqual({ ok: false, reason: 'too_large', detail: '2000 bytes, more than 1000' });
  });

  // Probe D #2: a FIFO at the path blocked the start for ever (SIGTERM ignored), and /dev/zero (size 0) grew the
  // process to 3.3 GB until it was killed.
  it('refuses what is not a regular file, promptly: a FIFO with no writer, a device, a directory', () => {
    const d = dir();
    execFileSync('mkfifo', [join(d, 'fifo.json')]);
    symlinkSync('/dev/zero', join(d, 'zero.json'));
    mkdirSync(join(d, 'dir.json'));
    for (const name of ['fifo.json', 'zero.json', 'dir.json']) {
      expect(readStateFile(join(d, name)), name).toEqual({ ok: false, reason: 'unreadable', detail: 'not a regular file' });
    }
  });

  it('writes through a temporary file and leaves none behind', async () => {
    const d = dir();
    const path = join(d, 'state.json');
    writeFileSync(path, 'old');
    await writeStateFile(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(d)).toEqual(['state.json']);
  });
});

describe('StateSaver', () => {
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
    expect(new StateSaver({ path, flushIntervalMs: 60_000, store: next, logger }).load()).toBe(1);
    expect(next.addCall(CALL_1, ACCOUNT_A, T0).streams.get('sdk_edge/both')!.lastTimestampMs).toBe(T0 + 50_000);
  });

  it('an unwritable path is logged once per episode and never throws', async () => {
    const d = dir();
    writeFileSync(join(d, 'file'), '');
    const store = filledStore(() => T0);
    const { logger, lines } = logged();
    const saver = new StateSaver({ path: join(d, 'file', 'state.json'), flushIntervalMs: 60_000, store, logger });

    await saver.flush();
    store.apply([sample({ at: 50 })]);
    await saver.flush();
    await saver.stop();

    expect(lines.map((l) => [l['msg'], l['code']])).toEqual([['cannot write the state file; still running, but a restart may count samples again', 'ENOTDIR']]);
  });
});
