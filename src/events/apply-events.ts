import type { CallRegistry } from '../calls/registry.ts';
import type { Sample } from '../samples/sample.ts';
import type { SampleStore } from '../store/sample-store.ts';
import type { ParsedEvent } from './cloud-event.ts';
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
}

/** What applying a batch did. */
export interface ApplyEventsResult {
  /** Events applied (not seen before). */
  events: number;
  /** Events whose CloudEvent id was already applied. */
  duplicateEvents: number;
  /** New samples applied to the store. */
  samples: number;
  /** Samples the store already held (pushed before, or polled). */
  duplicateSamples: number;
  /** Calls this batch ended. */
  ended: number;
  /** Summary events, for the summary metrics. */
  readonly summaries: ParsedEvent[];
  /** Call events, for the event metrics. */
  readonly callEvents: ParsedEvent[];
}

/**
 * Applies the events of one authenticated delivery: each CloudEvent id once; samples through the store
 * (so a sample also polled counts once); a call first seen in a push is tracked with source
 * `event_streams`; call progress that ends a call, and any summary, end it (samples first, so a batch
 * holding both keeps its samples).
 */
export function applyEvents(events: readonly ParsedEvent[], deps: ApplyEventsDeps): ApplyEventsResult {
  const { registry, store, dedupe, pushes } = deps;
  const result: ApplyEventsResult = { events: 0, duplicateEvents: 0, samples: 0, duplicateSamples: 0, ended: 0, summaries: [], callEvents: [] };
  const fresh: ParsedEvent[] = [];
  const inBatch = new Set<string>();
  for (const e of events) {
    if (inBatch.has(e.id) || dedupe.has(e.id)) {
      result.duplicateEvents++;
      continue;
    }
    inBatch.add(e.id);
    fresh.push(e);
  }
  const samples: Sample[] = [];
  for (const e of fresh) {
    if (e.kind !== 'call_metrics') continue;
    const t = registry.track(e.sample.callSid, e.sample.accountSid, 'event_streams');
    if (t === 'refused' || t === 'not_owned') continue;
    pushes.pushed(e.sample.callSid);
    samples.push(e.sample);
  }
  const applied = store.apply(samples);
  result.samples = applied.applied;
  result.duplicateSamples = applied.duplicates;
  for (const e of fresh) {
    if (e.kind === 'call_event') {
      result.callEvents.push(e);
      if (ENDING_EVENT_NAMES.has(e.name) && registry.end(e.callSid)) result.ended++;
    } else if (e.kind === 'call_summary') {
      result.summaries.push(e);
      // Twilio emits a summary only after the call; the first one ends it (later ones find it ended).
      if (registry.end(e.callSid)) result.ended++;
    }
    dedupe.add(e.id);
  }
  result.events = fresh.length;
  return result;
}
