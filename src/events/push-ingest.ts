import type { CallRegistry, TrackedCall } from '../calls/registry.ts';
import type { IngestMode } from '../config/types.ts';
import type { SampleStore } from '../store/sample-store.ts';
import { applyEvents } from './apply-events.ts';
import type { ApplyEventsResult } from './apply-events.ts';
import { skipFutureSamples, skippedTotal } from './cloud-event.ts';
import type { ParsedBatch, SkippedGroup } from './cloud-event.ts';
import { DEDUPE_MAX_IDS, IdDedupe } from './id-dedupe.ts';
import type { IdDedupeOptions } from './id-dedupe.ts';
import type { MemoryKind, SavedMemory } from '../store/state-memories.ts';
import { skipPoll } from './ingest-mode.ts';
import { PushTracker } from './push-tracker.ts';

/** What push ingestion needs. */
export interface PushIngestOptions {
  readonly registry: CallRegistry;
  readonly store: SampleStore;
  /** The running ingest mode of an account (undefined once the account is gone). */
  readonly mode: (accountSid: string) => IngestMode | undefined;
  /** In hybrid mode, how long pushes may stop before a call is polled. */
  readonly hybridGapMs: () => number;
  /** How long a push-mode call may go without a pushed sample, and a hybrid one without any new sample, before it is ended. */
  readonly silenceTimeoutMs: () => number;
  /** Clock, epoch ms. */
  readonly now?: () => number;
  /** How far ahead of the clock a pushed sample may be dated before it is skipped as `future_timestamp` [5 min]. */
  readonly maxClockSkewMs?: number;
  /** CloudEvent id memory bounds. */
  readonly dedupe?: IdDedupeOptions;
  /** Called per applied batch, for self-metrics, with what the sink answers for it (each event in one count). */
  readonly onApplied?: (accountSid: string, r: ApplyEventsResult, answer: DeliveryAnswer) => void;
  /** Called per reason events of a batch were skipped for, with how many. */
  readonly onSkipped?: (accountSid: string, skipped: SkippedGroup) => void;
  /** Called per call `endSilent` ended, with the call's account. */
  readonly onEndedSilent?: (accountSid: string) => void;
}

/** What became of a pushed event: a closed set, used as a metric label value, each the name of a count of the answer. */
export const EVENT_OUTCOMES = {
  applied: 'applied',
  duplicate: 'duplicates',
  too_late: 'too_late',
  refused: 'refused',
  skipped: 'skipped',
  unknown_type: 'unknown_types',
} as const satisfies Record<string, keyof DeliveryAnswer>;

/** What the sink answers for an applied delivery: each event of its body in exactly one count. */
export interface DeliveryAnswer {
  /** Events that took effect: a sample newly applied, or a call event or summary counted. */
  readonly applied: number;
  /** Events already applied: a redelivered event id, or a sample already held (pushed under another id, or polled). */
  readonly duplicates: number;
  /** Events whose never-seen sample was refused as older than `max_sample_lateness` behind its stream's newest. */
  readonly too_late: number;
  /** Events about a call this replica does not track: refused at `max_calls`, or owned by another shard. */
  readonly refused: number;
  /** Events skipped as malformed, not the sink's account's, or dated past `max_clock_skew`. */
  readonly skipped: number;
  /** Events of types the exporter does not read. */
  readonly unknown_types: number;
}

/** Push ingestion: applies authenticated batches and tells the poller which calls to leave alone. */
export interface PushIngest {
  /** Applies one authenticated, parsed delivery; returns what the sink answers. */
  apply(accountSid: string, batch: ParsedBatch): DeliveryAnswer;
  /** Whether the poller skips a call now (its account's mode and the call's pushes decide). */
  skipPoll(call: Readonly<TrackedCall>, nowMs: number): boolean;
  /** Ends active calls silent in every source for the silence timeout (push and hybrid modes); returns how many. */
  endSilent(nowMs: number): number;
  /** When each call was last pushed. */
  readonly pushes: PushTracker;
  /** What the state file carries, so a restart counts nothing again: call event and summary ids, and counted tags. */
  readonly memories: readonly SavedMemory[];
}

/** Wires the dedupe memory, the push tracker and the registry listener that forgets removed calls. */
export function createPushIngest(options: PushIngestOptions): PushIngest {
  const now = options.now ?? Date.now;
  const dedupe = new IdDedupe({ now, ...options.dedupe });
  const pushes = new PushTracker({ now });
  // Summaries of a call arrive over hours (partial, then complete ~30 min after the call), often after the call
  // left the registry: counted tags are remembered for the retry horizon, like event ids, not with the call.
  const countedTags = new IdDedupe({ now, ...options.dedupe });
  const savedIds = new IdDedupe({ now, ...options.dedupe });
  options.registry.addListener({ onRemoved: (call) => pushes.forget(call.callSid) });
  const capacity = options.dedupe?.maxIds ?? DEDUPE_MAX_IDS;
  const saved = (kind: MemoryKind, memory: IdDedupe, restoreAlso?: IdDedupe): SavedMemory => ({
    kind,
    capacity,
    changes: () => memory.changes,
    entries: () => memory.entries(),
    restore: (entries) => {
      memory.restore(entries);
      restoreAlso?.restore(entries);
    },
  });
  return {
    pushes,
    // A restored id is known to the id memory as well, which every delivery asks.
    memories: [saved('event_ids', savedIds, dedupe), saved('counted_tags', countedTags)],
    apply(accountSid, batch) {
      skipFutureSamples(batch, now() + (options.maxClockSkewMs ?? 300_000));
      const r = applyEvents(batch.events, { registry: options.registry, store: options.store, dedupe, pushes, countedTags, savedIds });
      for (const g of batch.skipped) options.onSkipped?.(accountSid, g);
      if (r.otherAccount > 0) options.onSkipped?.(accountSid, { reason: 'wrong_account', detail: 'the call is tracked for another account', count: r.otherAccount });
      // Each event of the delivery is in exactly one count.
      const answer: DeliveryAnswer = {
        applied: r.events,
        duplicates: r.duplicateEvents + r.duplicateSamples,
        too_late: r.tooLate,
        refused: r.refused,
        skipped: skippedTotal(batch) + r.otherAccount,
        unknown_types: batch.unknownTypes,
      };
      options.onApplied?.(accountSid, r, answer);
      return answer;
    },
    endSilent(nowMs) {
      // Silent in every source: in push mode no pushed sample; in hybrid mode no pushed sample and no new polled
      // one either (a call whose end never came is otherwise polled for as long as Twilio serves its metrics).
      const timeout = options.silenceTimeoutMs();
      const silent: Array<Readonly<TrackedCall>> = [];
      for (const call of options.registry.calls()) {
        if (call.endedAtMs !== undefined) continue;
        const mode = options.mode(call.accountSid);
        if (mode !== 'push' && mode !== 'hybrid') continue;
        const polled = mode === 'hybrid' ? (options.store.get(call.callSid)?.lastAppliedAtMs ?? 0) : 0;
        const last = Math.max(pushes.lastPushMs(call.callSid) ?? call.trackedAtMs, polled);
        if (nowMs - last > timeout) silent.push(call);
      }
      for (const call of silent) if (options.registry.end(call.callSid)) options.onEndedSilent?.(call.accountSid);
      return silent.length;
    },
    skipPoll(call, nowMs) {
      const mode = options.mode(call.accountSid) ?? 'poll';
      return skipPoll({ mode, trackedAtMs: call.trackedAtMs, lastPushMs: pushes.lastPushMs(call.callSid) }, nowMs, options.hybridGapMs());
    },
  };
}
