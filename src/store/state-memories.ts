import { z } from 'zod';
import { ACCOUNT_SID_RE, CALL_SID_RE } from '../samples/ids.ts';
import { labelValue } from '../samples/label-value.ts';

/**
 * What else is counted once by remembering keys for a while, and must be remembered over a restart too:
 * - `expired_calls`: removed calls whose exactly-once state expired (account/call), so a redelivery of an ended
 *   call's samples is refused, not counted again (the store);
 * - `event_ids`: the ids of pushed call events and summaries, so a redelivered one is a duplicate (push ingestion;
 *   pushed samples need no id: the store's saved state counts them once);
 * - `counted_tags`: each call's summary tags already counted (call/edge/tag), so the complete summary after a
 *   restart does not count again what the partial one before it counted;
 * - `waiting_summaries`: what pushed summaries said of calls whose first metrics had not come yet (account/call, with
 *   a {@link WaitingSummary}), so the call still gets it when its metrics come after a restart.
 */
export const MEMORY_KINDS = ['expired_calls', 'event_ids', 'counted_tags', 'waiting_summaries'] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

// Entries a line holds: lines stay far below MAX_STATE_LINE_BYTES (keys are at most MAX_KEY_LENGTH).
const ENTRIES_PER_LINE = 1000;
const MAX_KEY_LENGTH = 256;

// A call summary as the store keeps it (sample-store.ts's CallSummaryInfo, by shape: the store imports this module).
interface SummaryInfo {
  readonly processingState: string;
  readonly rank: number;
  readonly tagCount: number;
}

/** A call summary as the state file keeps it: in a call's line, and in a waiting summary. */
export const savedSummary = z.strictObject({
  processing_state: z.string().max(MAX_KEY_LENGTH),
  rank: z.number().int().min(0).max(10),
  tag_count: z.number().int().min(0).max(1000),
});
export type SavedSummary = z.infer<typeof savedSummary>;

/** A call summary as saved (a state that is no label value is saved empty, which a load drops). */
export function toSavedSummary(s: SummaryInfo): SavedSummary {
  return { processing_state: labelValue(s.processingState) ?? '', rank: s.rank, tag_count: s.tagCount };
}

/** A saved call summary, or undefined when its state is no label value (an odd file): the summary goes, not its call. */
export function fromSavedSummary(s: SavedSummary | undefined): SummaryInfo | undefined {
  const processingState = s && labelValue(s.processing_state);
  return s && processingState ? { processingState, rank: s.rank, tagCount: s.tag_count } : undefined;
}

/** What a summary said of a call whose first metrics had not come yet (a `waiting_summaries` entry's third element). */
export interface WaitingSummary {
  readonly call_type?: string;
  readonly summary?: SavedSummary;
}

/** One remembered key, when it was remembered (epoch ms), and for `waiting_summaries` what waits. */
export type MemoryEntry = readonly [key: string, atMs: number, waiting?: WaitingSummary];

/** A memory the state file carries: what it holds, and how to put it back. */
export interface SavedMemory {
  readonly kind: MemoryKind;
  /** Most entries a load keeps: the newest. */
  readonly capacity: number;
  /** Grows with every change worth saving. */
  changes(): number;
  /** What is remembered now, oldest first. */
  entries(): Iterable<MemoryEntry>;
  /** Remembers saved entries (oldest first); the memory skips those that expired meanwhile. */
  restore(saved: readonly MemoryEntry[]): void;
}

// A SID's rule without its anchors, to build a key's rule from.
const sid = (re: RegExp): string => re.source.slice(1, -1);
// An account's call, as the store keys it.
const CALL_KEY = { re: new RegExp(`^${sid(ACCOUNT_SID_RE)}/${sid(CALL_SID_RE)}$`), what: 'an AccountSid/CallSid' };
const KEY_RULES: Record<MemoryKind, { readonly re: RegExp; readonly what: string }> = {
  expired_calls: CALL_KEY,
  // Any string: a CloudEvent id is whatever the sender chose (JSON escapes what it must).
  event_ids: { re: /^[^]+$/, what: 'a CloudEvent id' },
  counted_tags: { re: new RegExp(`^${sid(CALL_SID_RE)}/[a-z_]+/\\P{Cc}+$`, 'u'), what: 'a CallSid/edge/tag' },
  waiting_summaries: CALL_KEY,
};

const waiting = z.strictObject({
  call_type: z.string().max(MAX_KEY_LENGTH).optional(),
  summary: savedSummary.optional(),
});

const memoryLine = z.strictObject({
  memory: z.enum(MEMORY_KINDS),
  entries: z.array(z.tuple([z.string().min(1).max(MAX_KEY_LENGTH), z.number().int(), waiting.optional()])).max(ENTRIES_PER_LINE),
});

/** The state file lines of one memory, ENTRIES_PER_LINE entries a line, each ending in a newline. */
export function* memoryLines(kind: MemoryKind, entries: Iterable<MemoryEntry>): Generator<string> {
  let chunk: MemoryEntry[] = [];
  const rule = KEY_RULES[kind].re;
  for (const e of entries) {
    // Never written: what a load would refuse, so a file this build writes always loads.
    if (e[0].length > MAX_KEY_LENGTH || !rule.test(e[0])) continue;
    chunk.push(e);
    if (chunk.length === ENTRIES_PER_LINE) {
      yield `${JSON.stringify({ memory: kind, entries: chunk })}\n`;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield `${JSON.stringify({ memory: kind, entries: chunk })}\n`;
}

/** Whether a parsed line is a memory line (else it is a call or an ended call). */
export function isMemoryLine(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && Object.hasOwn(raw, 'memory');
}

/** A memory line, checked; throws a TypeError naming what is wrong and where (`where` is the line). */
export function memoryOf(raw: unknown, where: string): { readonly kind: MemoryKind; readonly entries: readonly MemoryEntry[] } {
  const parsed = memoryLine.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TypeError(`${[where, ...issue.path].join('.')}: ${issue.message}`);
  }
  const { memory: kind, entries } = parsed.data;
  const rule = KEY_RULES[kind];
  entries.forEach(([key], i) => {
    if (!rule.re.test(key)) throw new TypeError(`${where}.entries.${i}: not ${rule.what}: ${JSON.stringify(key.slice(0, 80))}`);
  });
  return { kind, entries };
}

/**
 * Holds, per memory, the `capacity` newest entries of a file's lines: past twice the bound the oldest are dropped, so a
 * file of any size costs at most twice each memory's capacity.
 */
export class KeepNewestEntries {
  readonly #capacity: Partial<Record<MemoryKind, number>>;
  readonly #held = new Map<MemoryKind, MemoryEntry[]>();

  constructor(capacity: Partial<Record<MemoryKind, number>> = {}) {
    this.#capacity = capacity;
  }

  offer(kind: MemoryKind, entries: readonly MemoryEntry[]): void {
    const cap = Math.max(0, this.#capacity[kind] ?? 0);
    if (cap === 0) return;
    let mine = this.#held.get(kind);
    if (mine === undefined) this.#held.set(kind, (mine = []));
    for (const e of entries) {
      mine.push(e);
      if (mine.length >= 2 * cap) newest(mine, cap);
    }
  }

  /** Each memory's kept entries, oldest first; empty for a memory the file did not hold. */
  entries(): Record<MemoryKind, MemoryEntry[]> {
    const out = Object.fromEntries(MEMORY_KINDS.map((k) => [k, [] as MemoryEntry[]])) as Record<MemoryKind, MemoryEntry[]>;
    for (const [kind, mine] of this.#held) out[kind] = newest(mine, this.#capacity[kind] ?? 0).reverse();
    this.#held.clear();
    return out;
  }
}

// Cuts `entries` to its `cap` newest, newest first (stable: of equal times, the later in the file first).
function newest(entries: MemoryEntry[], cap: number): MemoryEntry[] {
  const order = entries.map((e, i) => [e, i] as const).sort((a, b) => b[0][1] - a[0][1] || b[1] - a[1]);
  entries.length = 0;
  for (const [e] of order.slice(0, cap)) entries.push(e);
  return entries;
}
