import { open, rename, unlink } from 'node:fs/promises';
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { DIRECTIONS, EDGES, streamKey } from '../samples/sample.ts';
import type { SampleValues } from '../samples/sample.ts';
import type { CallState, StreamState } from './sample-store.ts';
import { SeenIntervals } from './seen-intervals.ts';
import { ACCOUNT_SID_RE, CALL_SID_RE } from '../samples/ids.ts';
import { labelValue } from '../samples/label-value.ts';

/** Names the file's format, so a file written by something else is told apart from a corrupt one. */
export const STATE_FORMAT = 'twilio-insights-exporter-state';
/** The one version this build reads and writes; another is refused with a fresh start. */
export const STATE_VERSION = 1;
/** Largest state file read: far above what max_calls' worth of calls need, far below what would hurt. */
export const MAX_STATE_BYTES = 256 * 1024 * 1024;

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
  streams: z.array(stream).max(EDGES.length * DIRECTIONS.length),
});
const header = z.object({ format: z.literal(STATE_FORMAT), version: z.number() });
const file = z.strictObject({ format: z.literal(STATE_FORMAT), version: z.literal(STATE_VERSION), saved_at: z.string(), calls: z.array(call) });

type SavedCall = z.infer<typeof call>;

/** A call as saved: its state, and when it was removed (null: it was tracked when saved). */
export interface StateEntry {
  readonly call: CallState;
  readonly parkedAtMs: number | null;
}

/** What reading the state file found. */
export type LoadResult =
  | { readonly ok: true; readonly entries: StateEntry[]; readonly savedAt: string }
  | { readonly ok: false; readonly reason: 'missing' | 'unreadable' | 'too_large' | 'corrupt' | 'foreign_version'; readonly detail: string };

/** Renders the store's entries as the state file's text. */
export function serializeState(entries: Iterable<{ readonly call: Readonly<CallState>; readonly parkedAtMs: number | null }>, nowMs: number): string {
  const calls: SavedCall[] = [];
  for (const { call: c, parkedAtMs } of entries) {
    calls.push({
      call_sid: c.callSid,
      account_sid: c.accountSid,
      tracked_at_ms: c.trackedAtMs,
      parked_at_ms: parkedAtMs,
      call_type: c.callType ?? null,
      codec_name: c.codecName ?? null,
      media_region: c.mediaRegion ?? null,
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
    });
  }
  return JSON.stringify({ format: STATE_FORMAT, version: STATE_VERSION, saved_at: new Date(nowMs).toISOString(), calls });
}

/** Parses the state file's text; never throws: a bad file is a reason and a detail naming what is wrong. */
export function parseState(text: string): LoadResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'corrupt', detail: `not JSON (${(err as Error).message})` };
  }
  const h = header.safeParse(raw);
  if (!h.success) return { ok: false, reason: 'corrupt', detail: `not a ${STATE_FORMAT} file` };
  if (h.data.version !== STATE_VERSION) {
    return { ok: false, reason: 'foreign_version', detail: `version ${h.data.version}, this build reads version ${STATE_VERSION}` };
  }
  const parsed = file.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: 'corrupt', detail: `${issue.path.join('.')}: ${issue.message}` };
  }
  try {
    return { ok: true, entries: parsed.data.calls.map(toEntry), savedAt: parsed.data.saved_at };
  } catch (err) {
    return { ok: false, reason: 'corrupt', detail: (err as Error).message };
  }
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
  };
  return { call, parkedAtMs: saved.parked_at_ms };
}

/** Reads and parses the state file at `path`, bounded in size; never throws. */
export function readStateFile(path: string, maxBytes = MAX_STATE_BYTES): LoadResult {
  try {
    // Opened without blocking and checked on the open file: a FIFO with no writer would block the start for ever,
    // and a device (/dev/zero reports size 0) would be read without end. The exporter only ever writes a file.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) return { ok: false, reason: 'unreadable', detail: 'not a regular file' };
      if (stat.size > maxBytes) return { ok: false, reason: 'too_large', detail: `${stat.size} bytes, more than ${maxBytes}` };
      return parseState(readFileSync(fd, 'utf8'));
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
 * Writes the state file atomically: a temporary file next to it, flushed to disk, then renamed over it, so a
 * crash at any moment leaves the old file or the new one, never half of one. Rejects with the fs error.
 */
export async function writeStateFile(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
