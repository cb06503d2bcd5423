import type { CallRegistry } from '../calls/registry.ts';
import type { Sample } from '../samples/sample.ts';
import type { SampleStore } from '../store/sample-store.ts';
import { SUMMARY_STATES } from './cloud-event.ts';
import type { CallEvent, ParsedEvent, SummaryEvent } from './cloud-event.ts';
import { callEventLabels } from './event-labels.ts';
import type { CallEventLabels } from './event-labels.ts';
import { DeliveryIds } from './id-dedupe.ts';
import type { IdDedupe } from './id-dedupe.ts';
import type { PushTracker } from './push-tracker.ts';

/** Call-progress names that end a call, as Twilio's status callbacks do. */
export const ENDING_EVENT_NAMES: ReadonlySet<string> = new Set(['completed', 'failed', 'busy', 'no-answer', 'canceled']);

/** What applying a batch needs. */
export interface ApplyEventsDeps {
  readonly registry: CallRegistry;
  readonly store: SampleStore;
  readonly dedupe: IdDedupe;
  readonly pushes: PushTracker;
  /** Which (call, edge, tag) were counted, so a tag repeated by later summaries of the call counts once. */
  readonly countedTags?: IdDedupe;
  /**
   * The ids of call events and summaries, again: the part of `dedupe` the state file saves. A pushed sample needs no
   * saved id (the store's saved state counts it once); an event or a summary has nothing else to be known by.
   */
  readonly savedIds?: IdDedupe;
}

/** One tag of one call, counted for the first time. */
export interface NewCallTag {
  readonly tag: string;
  readonly edge: string;
}

/** What applying a batch did. */
export interface ApplyEventsResult {
  /** Events that took effect: a sample newly applied, or a call event or summary of a call this replica owns. */
  events: number;
  /** Events whose CloudEvent id was already applied. */
  duplicateEvents: number;
  /** Events about a call tracked for another account than the one that signed the delivery (skipped). */
  otherAccount: number;
  /** Events about a call this replica does not track: refused at `max_calls`, or owned by another shard. */
  refused: number;
  /** New samples applied to the store. */
  samples: number;
  /** Samples the store already held (pushed before under another id, or polled). */
  duplicateSamples: number;
  /** Never-seen samples the store refused as too late (older than `max_sample_lateness` behind their stream's newest). */
  tooLate: number;
  /** Calls this batch ended. */
  ended: number;
  /** Summary events, for the summary metrics. */
  readonly summaries: SummaryEvent[];
  /** Call events, for the event metrics. */
  readonly callEvents: CallEvent[];
  /** The bounded labels of each new call event, for `twilio_voice_call_events_total`. */
  readonly callEventLabels: CallEventLabels[];
  /** Tags of calls counted for the first time in this batch, for `twilio_voice_call_tags_total`. */
  readonly newTags: NewCallTag[];
}

function applySummary(e: SummaryEvent, deps: ApplyEventsDeps, result: ApplyEventsResult): void {
  const { countedTags, store } = deps;
  for (const t of e.edgeTags) {
    const key = `${e.callSid}/${t.edge}/${t.tag}`;
    if (countedTags?.has(key)) continue;
    countedTags?.add(key);
    result.newTags.push(t);
  }
  if (e.callType !== undefined) store.setCallType(e.callSid, e.accountSid, e.callType);
  const tagCount = new Set(e.edgeTags.map((t) => t.tag)).size;
  store.setSummary(e.callSid, e.accountSid, { processingState: e.processingState, rank: SUMMARY_STATES.indexOf(e.processingState), tagCount });
}

// Reused by every delivery: applying one is synchronous, so no two use it at once.
const deliveryIds = new DeliveryIds();

/**
 * Applies the events of one authenticated delivery: each CloudEvent id once; samples through the store
 * (so a sample also polled counts once); a call first seen in a push is tracked with source
 * `event_streams`; call progress that ends a call, and any summary, end it (samples first, so a batch
 * holding both keeps its samples). An end that comes before the call's first metrics, or a sample that comes
 * after the ended call was removed, leaves the call ended: the registry remembers ended calls.
 */
export function applyEvents(events: readonly ParsedEvent[], deps: ApplyEventsDeps): ApplyEventsResult {
  const { registry, store, dedupe, pushes } = deps;
  const result: ApplyEventsResult = { events: 0, duplicateEvents: 0, otherAccount: 0, refused: 0, samples: 0, duplicateSamples: 0, tooLate: 0, ended: 0, summaries: [], callEvents: [], callEventLabels: [], newTags: [] };
  // Each id is hashed once, for the memory's lookup, the in-delivery check and the memory's add alike.
  const fresh: ParsedEvent[] = [];
  const freshIds: string[] = [];
  const freshHashes: number[] = [];
  const hashes = events.map((e) => dedupe.hashOf(e.id));
  // Looked up in a loop of their own: at the cap the memory's table is megabytes and a lookup's first read a cache
  // miss; lookups that follow each other do not wait on each other's reads, where one per event amid other work did.
  const known = events.map((e, i) => dedupe.has(e.id, hashes[i]));
  deliveryIds.reset(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const h = hashes[i]!;
    if (known[i]! || !deliveryIds.add(e.id, h)) {
      result.duplicateEvents++;
      continue;
    }
    // Set apart, and not remembered: the id stays in the delivery's ids, so a repeat within it is a duplicate.
    const about = e.kind === 'call_metrics' ? e.sample : e;
    if (registry.trackedForAnother(about.callSid, about.accountSid)) {
      result.otherAccount++;
      continue;
    }
    fresh.push(e);
    freshIds.push(e.id);
    freshHashes.push(h);
  }
  const samples: Sample[] = [];
  for (const e of fresh) {
    if (e.kind !== 'call_metrics') continue;
    const t = registry.track(e.sample.callSid, e.sample.accountSid, 'event_streams');
    // 'other_account' cannot come here (such events were set apart above), and is never applied if it did.
    if (t === 'refused' || t === 'not_owned' || t === 'other_account') {
      result.refused++;
      continue;
    }
    samples.push(e.sample);
  }
  pushes.pushedAll(samples);
  const applied = store.apply(samples);
  result.samples = applied.applied;
  result.duplicateSamples = applied.duplicates;
  result.tooLate = applied.tooLate;
  result.events = applied.applied;
  for (const e of fresh) {
    if (e.kind === 'call_metrics') continue;
    deps.savedIds?.add(e.id);
    // With one sink per shard every replica receives every event: only the call's owner counts it, so the
    // shards' counters add up to one replica's.
    if (!registry.owns(e.callSid)) {
      result.refused++;
      continue;
    }
    result.events++;
    if (e.kind === 'call_event') {
      result.callEvents.push(e);
      result.callEventLabels.push(callEventLabels(e));
      if (ENDING_EVENT_NAMES.has(e.name) && registry.end(e.callSid, e.accountSid)) result.ended++;
    } else {
      result.summaries.push(e);
      applySummary(e, deps, result);
      // Twilio emits a summary only after the call; the first one ends it (later ones find it ended).
      if (registry.end(e.callSid, e.accountSid)) result.ended++;
    }
  }
  // Every fresh id is remembered (applied, refused, or left to the call's owner) once the delivery is applied.
  dedupe.addAll(freshIds, freshHashes);
  return result;
}
