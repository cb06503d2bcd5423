import { open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { DIRECTIONS, EDGES, streamKey } from '../samples/sample.ts';
import type { SampleValues } from '../samples/sample.ts';
import type { CallState, StreamState } from './sample-store.ts';
import { SeenIntervals } from './seen-intervals.ts';
import { ACCOUNT_SID_RE, CALL_SID_RE } from '../samples/ids.ts';
import { labelValue } from '../samples/label-value.ts';
import type { SavedEndedCall } from '../samples/ended-call.ts';
import { fromSavedSummary, isMemoryLine, KeepNewestEntries, memoryLines, memoryOf, savedSummary, toSavedSummary } from './state-memories.ts';
import type { MemoryEntry, MemoryKind } from './state-memories.ts';

/** Names the file's format, so a file written by something else is told apart from a corrupt one. */
export const STATE_FORMAT = 'twilio-insights-exporter-state';
/**
 * The version this build writes: JSON Lines, a header line, then one call a line, one line per ended call, and the
 * memories (see state-memories.ts), a thousand entries a line. It reads version 2 too, which had no memory lines.
 * Version 1 (one JSON document, written by unreleased builds before 0.1.0 shipped) is refused like any other: a
 * fresh start.
 */
export const STATE_VERSION = 3;
/** The versions this build reads. */
export const READ_VERSIONS: readonly number[] = [2, 3];
/**
 * Largest state file read: a bound on the time a start spends reading (memory no longer grows with the file,
 * see parseStateChunks), and so on the lines read: every call line is well over 100 bytes.
 */
export const MAX_STATE_BYTES = 256 * 1024 * 1024;
/**
 * Longest line read; a longer one makes the file corrupt. The longest call this build writes is about 0.6 MB:
 * 20 streams of 512 runs of three 16-digit numbers, and labels of 64 characters.
 */
export const MAX_STATE_LINE_BYTES = 1024 * 1024;
// Bytes read from the file at a time.
const CHUNK_BYTES = 256 * 1024;

// Every value a gauge can show; a saved key outside it means the file is not ours.
const VALUE_KEYS = [
  'mos', 'rttSeconds', 'jitterSeconds', 'jitterAvgSeconds', 'jitterMaxSeconds', 'packetLossRatio', 'audioInLevel',
  'audioOutLevel', 'packetsSent', 'packetsReceived', 'packetsLost', 'bytesSent', 'bytesReceived',
] as const satisfies readonly (keyof SampleValues)[];

const ms = () => z.number().int();
const run = z.tuple([ms(), ms(), ms()]);
const stream = z.strictObject({
  edge: z.enum(EDGES),
  direction: z.enum(DIRECTIONS),
  last_timestamp_ms: ms(),
  values: z.partialRecord(z.enum(VALUE_KEYS), z.number()),
  seen: z.strictObject({ runs: z.array(run), step: ms(), floor: ms().nullable() }),
});
const call = z.strictObject({
  call_sid: z.string().regex(CALL_SID_RE),
  account_sid: z.string().regex(ACCOUNT_SID_RE),
  tracked_at_ms: ms(),
  parked_at_ms: ms().nullable(),
  // Optional labels: any string is read and an odd one dropped in toEntry, so a call saved with a label the
  // parser no longer keeps (or an older build kept) loses that label, not the whole file its state.
  call_type: z.string().nullable(),
  codec_name: z.string().nullable(),
  media_region: z.string().nullable(),
  // Whether a Summary named the call type (the edges with data no longer change it), and the most final summary.
  call_type_named: z.boolean().optional(),
  summary: savedSummary.optional(),
  streams: z.array(stream).max(EDGES.length * DIRECTIONS.length),
});
// A call known to have ended (the registry's memory), a line of its own after the calls' lines.
const endedLine = z.strictObject({
  ended: z.strictObject({
    call_sid: z.string().regex(CALL_SID_RE),
    account_sid: z.string().regex(ACCOUNT_SID_RE),
    ended_at_ms: ms(),
    remembered_at_ms: ms(),
  }),
});
const header = z.object({ format: z.literal(STATE_FORMAT), version: z.number() });
const headerLine = z.strictObject({ format: z.literal(STATE_FORMAT), version: z.number(), saved_at: z.string() });
// How a version 1 file began (JSON.stringify's key order), to name its version even when it is one huge line.
const V1_START = `{"format":"${STATE_FORMAT}","version":1,`;

type SavedCall = z.infer<typeof call>;

/** A call as saved: its state, and when it was removed (null: it was tracked when saved). */
export interface StateEntry {
  readonly call: CallState;
  readonly parkedAtMs: number | null;
}

/** What reading the state file found: the calls kept, how many calls the file held, and the ended calls kept. */
export type LoadResult =
  | {
      readonly ok: true;
      readonly entries: StateEntry[];
      readonly read: number;
      readonly ended: SavedEndedCall[];
      /** Each memory's newest entries (at most its `keepMemories`), oldest first. */
      readonly memories: Record<MemoryKind, MemoryEntry[]>;
      readonly savedAt: string;
    }
  | { readonly ok: false; readonly reason: 'missing' | 'unreadable' | 'too_large' | 'corrupt' | 'foreign_version'; readonly detail: string };

/** How much of a state file a load keeps. */
export interface LoadOptions {
  /**
   * Most calls kept: the ones restore would keep of all of them, live calls first, then the most recently
   * removed. The others are read, checked and dropped, so a load holds at most this many calls and one line.
   */
  readonly keep: number;
  /** The clock a live call's removal is counted from (restore parks live calls now), epoch ms. */
  readonly nowMs: number;
  /**
   * Which ended calls are kept: only those of `accounts` (the configured ones), at most `perAccount` of each, the
   * most recently remembered [none].
   */
  readonly keepEnded?: { readonly perAccount: number; readonly accounts: ReadonlySet<string> };
  /** Most entries kept of each memory, the newest [none]. */
  readonly keepMemories?: Partial<Record<MemoryKind, number>>;
}

/**
 * The store's entries, as the state file's lines: a header line, then one call a line, then one line per call known
 * to have ended (the registry's memory), then the memories' entries, each line ending in a newline.
 */
export function* stateLines(
  entries: Iterable<{ readonly call: Readonly<CallState>; readonly parkedAtMs: number | null }>,
  nowMs: number,
  ended: Iterable<SavedEndedCall> = [],
  memories: Iterable<{ readonly kind: MemoryKind; readonly entries: Iterable<MemoryEntry> }> = [],
): Generator<string> {
  yield `${JSON.stringify({ format: STATE_FORMAT, version: STATE_VERSION, saved_at: new Date(nowMs).toISOString() })}\n`;
  for (const { call: c, parkedAtMs } of entries) {
    const saved: SavedCall = {
      call_sid: c.callSid,
      account_sid: c.accountSid,
      tracked_at_ms: c.trackedAtMs,
      parked_at_ms: parkedAtMs,
      // Applied on load too; applied here as well so no line carries an unbounded label (see MAX_STATE_LINE_BYTES).
      call_type: labelValue(c.callType) ?? null,
      codec_name: labelValue(c.codecName) ?? null,
      media_region: labelValue(c.mediaRegion) ?? null,
      ...(c.callTypeNamed === true && { call_type_named: true }),
      ...(c.summary !== undefined && { summary: toSavedSummary(c.summary) }),
      streams: [...c.streams.values()].map((s) => {
        const seen = s.seen.snapshot();
        return {
          edge: s.edge,
          direction: s.direction,
          last_timestamp_ms: s.lastTimestampMs,
          values: { ...s.values },
          seen: { runs: seen.runs.map((r) => [...r] as [number, number, number]), step: seen.step, floor: seen.floor },
        };
      }),
    };
    yield `${JSON.stringify(saved)}\n`;
  }
  for (const e of ended) {
    yield `${JSON.stringify({ ended: { call_sid: e.callSid, account_sid: e.accountSid, ended_at_ms: e.endedAtMs, remembered_at_ms: e.rememberedAtMs } })}\n`;
  }
  for (const m of memories) yield* memoryLines(m.kind, m.entries);
}

/** The state file's text, in one string or in any cut of chunks: parses it; never throws (see readStateFile). */
export function parseState(text: string | readonly Uint8Array[], options: LoadOptions): LoadResult {
  const chunks = typeof text === 'string' ? [Buffer.from(text, 'utf8')] : text;
  let i = 0;
  return parseStateChunks(() => chunks[i++] ?? null, options);
}

/**
 * Parses the state file from its bytes, pulled chunk by chunk (`next` returns null at the end, and may reuse
 * the buffer of the chunk before), line by line. Every call is checked, and only the `keep` best are held, so
 * memory is those calls plus one line (at most MAX_STATE_LINE_BYTES), whatever the file's size. Never throws:
 * a bad file is a reason and a detail naming what is wrong and where.
 */
export function parseStateChunks(next: () => Uint8Array | null, options: LoadOptions): LoadResult {
  const memories = new KeepNewestEntries(options.keepMemories);
  // A call the load drops past the cap is remembered as expired: announced again, it is not counted again.
  const kept = new KeepNewest(options.keep, options.nowMs, (key) => memories.offer('expired_calls', [[key, options.nowMs]]));
  const ended = new KeepRecentEnded(options.keepEnded);
  try {
    const lines = new LineReader(next);
    const savedAt = readHeader(lines);
    readCalls(lines, kept, ended, memories);
    return { ok: true, entries: kept.entries(), read: kept.offered, ended: ended.entries(), memories: memories.entries(), savedAt };
  } catch (err) {
    if (err instanceof StateFileError) return { ok: false, reason: err.reason, detail: err.message };
    throw err;
  }
}

class StateFileError extends Error {
  readonly reason: 'too_large' | 'corrupt' | 'foreign_version';

  constructor(reason: 'too_large' | 'corrupt' | 'foreign_version', detail: string) {
    super(detail);
    this.reason = reason;
  }
}

const corrupt = (detail: string): StateFileError => new StateFileError('corrupt', detail);
const notOurs = (): StateFileError => corrupt(`not a ${STATE_FORMAT} file`);
const foreign = (version: unknown): StateFileError =>
  new StateFileError('foreign_version', `version ${JSON.stringify(version)}, this build reads versions ${READ_VERSIONS.join(' and ')}`);

// Line 1: the format, the version and when the file was saved.
function readHeader(lines: LineReader): string {
  let line: Buffer | null;
  try {
    line = lines.next(MAX_STATE_LINE_BYTES, 'line 1');
  } catch (err) {
    // A version 1 file is one line, often longer than any line of version 2.
    if (err instanceof LineTooLong && err.start.startsWith(V1_START)) throw foreign(1);
    throw err;
  }
  if (line === null || isBlank(line)) throw corrupt('not JSON (the file is empty)');
  // A byte order mark, which some editors add, is not part of the JSON.
  const raw = jsonOf(line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf ? line.subarray(3) : line, 'line 1');
  const h = header.safeParse(raw);
  if (!h.success) throw notOurs();
  if (!READ_VERSIONS.includes(h.data.version)) throw foreign(h.data.version);
  const checked = headerLine.safeParse(raw);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw corrupt(`line 1: ${issue.path.join('.') || 'header'}: ${issue.message}`);
  }
  return checked.data.saved_at;
}

// The calls, one a line after the header, the ended calls and the memories; blank lines are skipped.
function readCalls(lines: LineReader, kept: KeepNewest, ended: KeepRecentEnded, memories: KeepNewestEntries): void {
  for (let n = 2; ; n++) {
    const where = `line ${n}`;
    const line = lines.next(MAX_STATE_LINE_BYTES, where);
    if (line === null) return;
    if (isBlank(line)) continue;
    const text = line.toString('utf8');
    const raw = jsonOf(text, where);
    if (typeof raw === 'object' && raw !== null && Object.hasOwn(raw, 'ended')) ended.offer(endedOf(raw, where));
    else if (isMemoryLine(raw)) {
      let m: ReturnType<typeof memoryOf>;
      try {
        m = memoryOf(raw, where);
      } catch (err) {
        throw corrupt((err as Error).message);
      }
      memories.offer(m.kind, m.entries);
    } else kept.offer(text, raw, where);
  }
}

function endedOf(raw: unknown, where: string): SavedEndedCall {
  const parsed = endedLine.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw corrupt(`${[where, ...issue.path].join('.')}: ${issue.message}`);
  }
  const e = parsed.data.ended;
  return { callSid: e.call_sid, accountSid: e.account_sid, endedAtMs: e.ended_at_ms, rememberedAtMs: e.remembered_at_ms };
}

/**
 * Holds, for each account it keeps, at most `perAccount` ended calls, the most recently remembered: past twice the
 * bound an account's oldest are dropped, so a file of any number of ended lines costs at most twice the bound per
 * kept account, and one account's lines (one no longer configured, say) never push another's out.
 */
class KeepRecentEnded {
  readonly #perAccount: number;
  readonly #accounts: ReadonlySet<string>;
  readonly #held = new Map<string, SavedEndedCall[]>();

  constructor(keep: LoadOptions['keepEnded']) {
    this.#perAccount = Math.max(0, keep?.perAccount ?? 0);
    this.#accounts = keep?.accounts ?? new Set();
  }

  offer(e: SavedEndedCall): void {
    if (this.#perAccount === 0 || !this.#accounts.has(e.accountSid)) return;
    let mine = this.#held.get(e.accountSid);
    if (mine === undefined) this.#held.set(e.accountSid, (mine = []));
    mine.push(e);
    if (mine.length >= 2 * this.#perAccount) this.#trim(mine);
  }

  entries(): SavedEndedCall[] {
    const out: SavedEndedCall[] = [];
    for (const mine of this.#held.values()) out.push(...this.#trim(mine));
    this.#held.clear();
    return out;
  }

  #trim(mine: SavedEndedCall[]): SavedEndedCall[] {
    mine.sort((a, b) => b.rememberedAtMs - a.rememberedAtMs);
    mine.length = Math.min(mine.length, this.#perAccount);
    return mine;
  }
}

function jsonOf(bytes: Buffer | string, where: string): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    throw corrupt(`not JSON (${where}: ${(err as Error).message})`);
  }
}

function callOf(raw: unknown, where: string): StateEntry {
  const parsed = call.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw corrupt(`${[where, ...issue.path].join('.')}: ${issue.message}`);
  }
  try {
    return toEntry(parsed.data);
  } catch (err) {
    throw corrupt(`${where}: ${(err as Error).message}`);
  }
}

function isBlank(line: Buffer): boolean {
  for (const c of line) if (c !== SPACE && c !== TAB && c !== CR && c !== LF) return false;
  return true;
}

function toEntry(saved: SavedCall): StateEntry {
  const streams = new Map<string, StreamState>();
  for (const s of saved.streams) {
    const seen = SeenIntervals.restore(s.seen);
    if (seen.newest !== s.last_timestamp_ms) throw new TypeError(`${saved.call_sid} ${s.edge}/${s.direction}: newest sample is not the last applied`);
    streams.set(streamKey(s.edge, s.direction), { edge: s.edge, direction: s.direction, lastTimestampMs: s.last_timestamp_ms, values: s.values, seen });
  }
  const call: CallState = {
    callSid: saved.call_sid,
    accountSid: saved.account_sid,
    trackedAtMs: saved.tracked_at_ms,
    callType: labelValue(saved.call_type),
    codecName: labelValue(saved.codec_name),
    mediaRegion: labelValue(saved.media_region),
    streams,
    lastAppliedAtMs: undefined,
  };
  if (saved.call_type_named === true && call.callType !== undefined) call.callTypeNamed = true;
  const summary = fromSavedSummary(saved.summary);
  if (summary !== undefined) call.summary = summary;
  return { call, parkedAtMs: saved.parked_at_ms };
}

/** Reads and parses the state file at `path`, bounded in size, a chunk at a time (see parseStateChunks); never throws. */
export function readStateFile(path: string, options: LoadOptions & { readonly maxBytes?: number }): LoadResult {
  const maxBytes = options.maxBytes ?? MAX_STATE_BYTES;
  try {
    // Opened without blocking and checked on the open file: a FIFO with no writer would block the start for ever,
    // and a device (/dev/zero reports size 0) would be read without end. The exporter only ever writes a file.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) return { ok: false, reason: 'unreadable', detail: 'not a regular file' };
      if (stat.size > maxBytes) return { ok: false, reason: 'too_large', detail: `${stat.size} bytes, more than ${maxBytes}` };
      let total = 0;
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      return parseStateChunks(() => {
        const n = readSync(fd, chunk, 0, CHUNK_BYTES, null);
        if (n === 0) return null;
        total += n;
        // A file that grows while it is read is read no further than the bound.
        if (total > maxBytes) throw new StateFileError('too_large', `more than ${maxBytes} bytes (the file grew while read)`);
        return chunk.subarray(0, n);
      }, options);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: 'missing', detail: 'no such file' };
    return { ok: false, reason: 'unreadable', detail: code ?? String(err) };
  }
}

/**
 * Removes what interrupted saves left beside the state file: its temporary file, and those of builds that named it
 * after their pid (`state.json.<pid>.tmp`), each the size of the store. Returns the names removed; never throws.
 */
export function removeLeftovers(path: string): string[] {
  const base = basename(path);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return removed;
  }
  for (const name of names.sort()) {
    if (!name.startsWith(`${base}.`) || !/^(?:\d+\.)?tmp$/.test(name.slice(base.length + 1))) continue;
    try {
      unlinkSync(join(dirname(path), name));
      removed.push(name);
    } catch {
      // Not ours to remove (permissions): the next save's own temporary file is still written.
    }
  }
  return removed;
}

/**
 * The file a save writes: `path`, or the file a symlink there points to (a state file kept on another volume through a
 * link stays there, and the link stays a link). Throws an error with code `not a regular file` when something else
 * is there (a FIFO, a device such as /dev/null, a directory): a save renames over its target, which would replace it.
 */
export function stateFileTarget(path: string): string {
  let target: string;
  try {
    target = realpathSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // Nothing there yet, or a link to a file not written yet: the link's target is created.
    const link = lstatSync(path, { throwIfNoEntry: false });
    return link?.isSymbolicLink() === true ? resolve(dirname(path), readlinkSync(path)) : path;
  }
  if (!statSync(target).isFile()) throw Object.assign(new Error(`${target} is not a regular file`), { code: 'not a regular file' });
  return target;
}

/**
 * Writes the state file atomically: a temporary file next to it, flushed to disk, then renamed over it, so a
 * crash at any moment leaves the old file or the new one, never half of one. The lines are written as they
 * come, about a megabyte at a time, so the file's text is never one string. Through a symlink, the file it points
 * to is written; over anything but a regular file, nothing is (see stateFileTarget). Rejects with the fs error.
 */
export async function writeStateFile(path: string, lines: Iterable<string>): Promise<void> {
  const target = stateFileTarget(path);
  // One name, whatever the process: a save cut short by a crash leaves at most this file, which the next save
  // truncates (and the next start removes).
  const tmp = `${target}.tmp`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      let batch = '';
      for (const line of lines) {
        batch += line;
        if (batch.length >= WRITE_BATCH_CHARS) {
          await writeAll(fh, batch);
          batch = '';
        }
      }
      if (batch !== '') await writeAll(fh, batch);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

const WRITE_BATCH_CHARS = 1024 * 1024;

async function writeAll(fh: FileHandle, text: string): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; ) at += (await fh.write(bytes, at, bytes.length - at)).bytesWritten;
}

/**
 * The `keep` entries restore would keep of all it is given, chosen while reading: restore parks calls oldest
 * first (a live call counts as removed now) and the removed-call cap drops the oldest, so the newest are kept;
 * of equals, live ones, then the later in the file. A min-heap in that order; a call (account and SID) saved twice
 * is kept once (the newer). entries() hands them over in that order, which restore's stable sort keeps.
 */
class KeepNewest {
  readonly #keep: number;
  readonly #nowMs: number;
  readonly #heap: Ranked[] = [];
  readonly #byKey = new Map<string, Ranked>();
  readonly #dropped: (key: string) => void;
  /** Calls offered, kept or not. */
  offered = 0;

  /** `dropped` hears of each call (account/SID) pushed out past the cap (not of an older copy of a kept call). */
  constructor(keep: number, nowMs: number, dropped: (key: string) => void = () => undefined) {
    this.#keep = Math.max(0, keep);
    this.#nowMs = nowMs;
    this.#dropped = dropped;
  }

  /**
   * Checks one call's text in full and keeps the text if the call is among the best so far. The text, one flat
   * string, is what waits: a call kept for a while and then pushed out is cheaper garbage as text than built.
   */
  offer(text: string, raw: unknown, where: string): void {
    const entry = callOf(raw, where);
    // One account's call of a SID and another's are two calls, as the store keeps them.
    const r: Ranked = { text, where, key: `${entry.call.accountSid}/${entry.call.callSid}`, at: entry.parkedAtMs ?? this.#nowMs, live: entry.parkedAtMs === null, seq: this.offered++, index: -1 };
    const heap = this.#heap;
    const key = r.key;
    const same = this.#byKey.get(key);
    if (same) {
      if (!before(same, r)) return;
      this.#place(r, same.index);
      this.#byKey.set(key, r);
      this.#down(r.index);
      return;
    }
    if (heap.length < this.#keep) {
      heap.push(r);
      this.#place(r, heap.length - 1);
      this.#byKey.set(key, r);
      this.#up(r.index);
      return;
    }
    if (heap.length === 0 || !before(heap[0]!, r)) {
      this.#dropped(key);
      return;
    }
    this.#byKey.delete(heap[0]!.key);
    this.#dropped(heap[0]!.key);
    this.#place(r, 0);
    this.#byKey.set(key, r);
    this.#down(0);
  }

  /** The kept entries, oldest first (the order restore sorts them in). */
  entries(): StateEntry[] {
    const ranked = [...this.#heap].sort((a, b) => (before(a, b) ? -1 : 1));
    this.#heap.length = 0;
    this.#byKey.clear();
    return ranked.map((r) => callOf(jsonOf(r.text, r.where), r.where));
  }

  #place(r: Ranked, index: number): void {
    this.#heap[index] = r;
    r.index = index;
  }

  #up(i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < heap.length && before(heap[l]!, heap[least]!)) least = l;
      if (r < heap.length && before(heap[r]!, heap[least]!)) least = r;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }

  #swap(a: number, b: number): void {
    const x = this.#heap[a]!;
    this.#place(this.#heap[b]!, a);
    this.#place(x, b);
  }
}

interface Ranked {
  /** The call's text, checked. */
  readonly text: string;
  readonly where: string;
  /** Account and SID: the call's identity in the store. */
  readonly key: string;
  /** When restore will count the call as removed. */
  readonly at: number;
  readonly live: boolean;
  /** Position in the file. */
  readonly seq: number;
  index: number;
}

// At the same time a removed call goes before a live one (a live call is newer than any removal it was saved with).
function before(a: Ranked, b: Ranked): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.live !== b.live) return b.live;
  return a.seq < b.seq;
}

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

/** A line longer than its bound; `start` is its first bytes, as text, to tell what the file is. */
class LineTooLong extends StateFileError {
  readonly start: string;

  constructor(where: string, max: number, start: string) {
    super('corrupt', `${where} is longer than ${max} bytes`);
    this.start = start;
  }
}

/** Bytes pulled chunk by chunk, cut into lines without holding more than the line (bounded by the caller) and its chunk. */
class LineReader {
  readonly #next: () => Uint8Array | null;
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #ended = false;

  constructor(next: () => Uint8Array | null) {
    this.#next = next;
  }

  /** The bytes up to the next newline (consumed, not returned), or to the end; null at the end. */
  next(max: number, where: string): Buffer | null {
    const parts: Uint8Array[] = [];
    let length = 0;
    while (this.#fill()) {
      const buf = this.#buf;
      const nl = buf.indexOf(LF, this.#pos);
      const end = nl === -1 ? buf.length : nl;
      const piece = buf.subarray(this.#pos, end);
      length += piece.length;
      if (length > max) throw new LineTooLong(where, max, Buffer.concat([...parts, piece]).subarray(0, 64).toString('utf8'));
      this.#pos = nl === -1 ? end : nl + 1;
      if (nl !== -1) {
        parts.push(piece);
        return joined(parts);
      }
      // The source may reuse its buffer for the next chunk.
      parts.push(Uint8Array.from(piece));
    }
    return parts.length === 0 ? null : joined(parts);
  }

  #fill(): boolean {
    while (this.#pos >= this.#buf.length) {
      if (this.#ended) return false;
      const chunk = this.#next();
      if (chunk === null) {
        this.#ended = true;
        return false;
      }
      this.#buf = chunk;
      this.#pos = 0;
    }
    return true;
  }
}

function joined(parts: readonly Uint8Array[]): Buffer {
  if (parts.length === 1) return Buffer.from(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.byteLength);
  return Buffer.concat(parts);
}
