import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CallRegistry } from '../../../src/calls/registry.ts';
import { ENDING_EVENT_NAMES, applyEvents } from '../../../src/events/apply-events.ts';
import type { ApplyEventsDeps, ApplyEventsResult } from '../../../src/events/apply-events.ts';
import { SUMMARY_STATES } from '../../../src/events/cloud-event.ts';
import type { ParsedEvent, SummaryEvent } from '../../../src/events/cloud-event.ts';
import { callEventLabels } from '../../../src/events/event-labels.ts';
import { IdDedupe } from '../../../src/events/id-dedupe.ts';
import { PushTracker } from '../../../src/events/push-tracker.ts';
import type { Sample } from '../../../src/samples/sample.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import { ACCOUNT_A, ACCOUNT_B, CALL_1, CALL_2, CALL_3, T0, sample } from '../store/sample-builder.ts';

// applyEvents as it was written before its per-delivery savings (one id at a time: a string Set for repeats within
// the delivery, the memory's has and add per id, one clock read per pushed sample, store listeners per sample): what
// the optimised version must answer and change, event for event.
function referenceSummary(e: SummaryEvent, deps: ApplyEventsDeps, result: ApplyEventsResult): void {
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

function referenceApplyEvents(events: readonly ParsedEvent[], deps: ApplyEventsDeps): ApplyEventsResult {
  const { registry, store, dedupe, pushes } = deps;
  const result: ApplyEventsResult = { events: 0, duplicateEvents: 0, otherAccount: 0, refused: 0, samples: 0, duplicateSamples: 0, tooLate: 0, ended: 0, summaries: [], callEvents: [], callEventLabels: [], newTags: [] };
  const fresh: ParsedEvent[] = [];
  const inBatch = new Set<string>();
  for (const e of events) {
    if (inBatch.has(e.id) || dedupe.has(e.id)) {
      result.duplicateEvents++;
      continue;
    }
    inBatch.add(e.id);
    const about = e.kind === 'call_metrics' ? e.sample : e;
    if (registry.trackedForAnother(about.callSid, about.accountSid)) {
      result.otherAccount++;
      continue;
    }
    fresh.push(e);
  }
  const samples: Sample[] = [];
  for (const e of fresh) {
    if (e.kind !== 'call_metrics') continue;
    const t = registry.track(e.sample.callSid, e.sample.accountSid, 'event_streams');
    if (t === 'refused' || t === 'not_owned' || t === 'other_account') {
      result.refused++;
      continue;
    }
    pushes.pushedAll([e.sample]);
    samples.push(e.sample);
  }
  const applied = store.apply(samples);
  result.samples = applied.applied;
  result.duplicateSamples = applied.duplicates;
  result.tooLate = applied.tooLate;
  result.events = applied.applied;
  for (const e of fresh) {
    if (e.kind !== 'call_metrics' && !registry.owns(e.callSid)) {
      result.refused++;
      dedupe.add(e.id);
      continue;
    }
    if (e.kind !== 'call_metrics') result.events++;
    if (e.kind === 'call_event') {
      result.callEvents.push(e);
      result.callEventLabels.push(callEventLabels(e));
      if (ENDING_EVENT_NAMES.has(e.name) && registry.end(e.callSid, e.accountSid)) result.ended++;
    } else if (e.kind === 'call_summary') {
      result.summaries.push(e);
      referenceSummary(e, deps, result);
      if (registry.end(e.callSid, e.accountSid)) result.ended++;
    }
    dedupe.add(e.id);
  }
  return result;
}

const CALLS = [CALL_1, CALL_2, CALL_3, `CA${'d'.repeat(32)}`];
const IDS = Array.from({ length: 12 }, (_, i) => `E${i}`);

interface Setup {
  readonly deps: ApplyEventsDeps & { readonly pushes: PushTracker };
  readonly seen: string[];
}

function setup(clock: { now: number }, maxCalls: number, sharded: boolean): Setup {
  const now = (): number => clock.now;
  const registry = new CallRegistry({ maxCalls, drainPeriodMs: 100, retentionMs: 200, now, ...(sharded && { owns: (sid: string) => sid !== CALL_3 }) });
  const store = new SampleStore({ backfill: false, historyWindowMs: 30_000, now });
  registry.addListener({
    onTracked: (c) => store.addCall(c.callSid, c.accountSid, c.trackedAtMs),
    onRemoved: (c) => store.removeCall(c.callSid),
  });
  const seen: string[] = [];
  store.addListener({ onSample: (s, call, observe, newest) => seen.push(`${call.callSid} ${s.edge} ${s.timestampMs} ${observe} ${newest}`) });
  store.addListener({ onSamples: ({ samples, calls, observe, newest }) => samples.forEach((s, i) => seen.push(`batch ${calls[i]!.callSid} ${s.edge} ${s.timestampMs} ${observe[i]} ${newest[i]}`)) });
  const deps = {
    registry,
    store,
    dedupe: new IdDedupe({ horizonMs: 100, maxIds: 8, now }),
    pushes: new PushTracker({ now }),
    countedTags: new IdDedupe({ horizonMs: 100, now }),
  };
  return { deps, seen };
}

function state(s: Setup): unknown {
  const { registry, store, dedupe, pushes, countedTags } = s.deps;
  return {
    calls: [...registry.calls()].map((c) => ({ ...c, sources: [...c.sources] })),
    ended: registry.rememberedEnded,
    store: [...store.entries()].map(({ call, parkedAtMs }) => ({ parkedAtMs, ...call, streams: [...call.streams].map(([k, v]) => [k, v.lastTimestampMs, v.values]) })),
    ids: IDS.map((id) => dedupe.has(id)),
    idCount: dedupe.size,
    pushes: CALLS.map((sid) => pushes.lastPushMs(sid)),
    tags: countedTags?.size,
    seen: s.seen,
  };
}

const event = fc.oneof(
  fc.record({
    kind: fc.constant('call_metrics' as const),
    id: fc.constantFrom(...IDS),
    call: fc.nat(CALLS.length - 1),
    account: fc.boolean(),
    edge: fc.constantFrom('sdk_edge' as const, 'carrier_edge' as const),
    at: fc.integer({ min: 0, max: 1400 }),
    region: fc.option(fc.constantFrom('us1', 'ie1'), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('call_event' as const), id: fc.constantFrom(...IDS), call: fc.nat(CALLS.length - 1), account: fc.boolean(), name: fc.constantFrom('completed', 'ringing', 'failed') }),
  fc.record({ kind: fc.constant('call_summary' as const), id: fc.constantFrom(...IDS), call: fc.nat(CALLS.length - 1), account: fc.boolean(), state: fc.constantFrom(...SUMMARY_STATES), tag: fc.constantFrom('high_jitter', 'low_mos') }),
);

type Spec = typeof event extends fc.Arbitrary<infer T> ? T : never;

function toEvent(spec: Spec): ParsedEvent {
  const callSid = CALLS[spec.call]!;
  const accountSid = spec.account ? ACCOUNT_A : ACCOUNT_B;
  if (spec.kind === 'call_metrics') return { kind: 'call_metrics', id: spec.id, sample: sample({ at: spec.at, callSid, accountSid, edge: spec.edge, ...(spec.region !== undefined && { region: spec.region }) }) };
  if (spec.kind === 'call_event') return { kind: 'call_event', id: spec.id, callSid, accountSid, edge: 'carrier_edge', group: 'connection', name: spec.name, level: 'INFO' };
  return { kind: 'call_summary', id: spec.id, callSid, accountSid, callType: 'carrier', tags: [spec.tag], processingState: spec.state, edgeTags: [{ tag: spec.tag, edge: 'call' }] };
}

describe('applyEvents against the one-id-at-a-time reference', () => {
  it('answers, counts, remembers, tracks, ends and applies exactly as the reference, delivery after delivery', () => {
    const delivery = fc.record({ events: fc.array(event, { maxLength: 14 }), tickMs: fc.nat(70), sweep: fc.boolean() });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.array(delivery, { minLength: 1, maxLength: 12 }), (maxCalls, sharded, deliveries) => {
        const clock = { now: T0 + 3_600_000 };
        const mine = setup(clock, maxCalls, sharded);
        const ref = setup(clock, maxCalls, sharded);
        for (const d of deliveries) {
          const events = d.events.map(toEvent);
          expect(applyEvents(events, mine.deps)).toEqual(referenceApplyEvents(events, ref.deps));
          expect(state(mine)).toEqual(state(ref));
          clock.now += d.tickMs;
          if (d.sweep) {
            mine.deps.registry.sweep();
            ref.deps.registry.sweep();
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
