import type { CallRegistry } from '../calls/registry.ts';
import type { CallSourceUnit } from '../calls/source.ts';
import type { AccountConfig, Config } from '../config/types.ts';
import { createPushIngest } from '../events/push-ingest.ts';
import type { PushIngest } from '../events/push-ingest.ts';
import { eventStreamsRoutes } from '../http/event-streams-routes.ts';
import type { PollObserver } from '../poller/poller.ts';
import type { SampleStore } from '../store/sample-store.ts';
import type { SelfTelemetry } from './self-telemetry.ts';

/** What Event Streams push needs from the root. */
export interface EventStreamsWiring {
  readonly config: Config;
  readonly registry: CallRegistry;
  readonly store: SampleStore;
  readonly telemetry: SelfTelemetry;
  readonly now: () => number;
  /** The running configuration (modes, gaps and tokens are read through it, so a reload applies them). */
  readonly running: () => Config;
  readonly runningAccount: (accountSid: string) => AccountConfig | undefined;
  /** Whether an account is polled by this process (an account added by a reload waits for a restart). */
  readonly isRunning: (accountSid: string) => boolean;
}

/**
 * Event Streams as a call and sample source: its sink route applies signed CloudEvents batches to the same
 * exactly-once store the poller applies to; `push.skipPoll` tells the poller which calls push covers.
 */
export function eventStreamsSource(w: EventStreamsWiring): {
  readonly source: CallSourceUnit;
  readonly push: PushIngest;
  readonly observePolls: (observer: PollObserver) => PollObserver;
  /** Refreshes the ingest-mode gauge from the running configuration (modes change on reload). */
  readonly refreshModes: () => void;
} {
  const t = w.telemetry;
  t.eventStreamsEnabled();
  for (const acc of w.config.accounts) if (acc.ingestMode === 'hybrid') t.gapFillEnabled(acc.accountSid);
  const push = createPushIngest({
    registry: w.registry,
    store: w.store,
    now: w.now,
    // Fixed at start, as the poller's is (max_clock_skew needs a restart): both paths refuse the same records.
    maxClockSkewMs: w.config.maxClockSkewMs,
    mode: (accountSid) => w.runningAccount(accountSid)?.ingestMode,
    hybridGapMs: () => w.running().eventStreams.hybridGapMs,
    silenceTimeoutMs: () => w.running().eventStreams.silenceTimeoutMs,
    onApplied: (accountSid, r, answer) => t.pushApplied(r, answer, accountSid),
    onSkipped: (_accountSid, s) => t.pushSkipped(s),
    onEndedSilent: (accountSid) => t.silentCallEnded(accountSid),
  });
  const sink = eventStreamsRoutes({
    // Only push and hybrid accounts have a sink; any other path is answered 403 like a bad signature.
    authToken: (accountSid) => {
      const acc = w.isRunning(accountSid) ? w.runningAccount(accountSid) : undefined;
      if (!acc || acc.ingestMode === 'poll' || acc.credentials.kind !== 'auth_token') return undefined;
      return acc.credentials.password.reveal();
    },
    publicUrl: () => w.running().webhooks.publicUrl,
    maxBodyBytes: w.config.eventStreams.maxBodyBytes,
    apply: (accountSid, batch) => push.apply(accountSid, batch),
    onDelivery: (outcome, failure) => t.pushDelivery(outcome, failure),
    onError: (err) => t.pushNotApplied(err),
  });
  // The poller skips a hybrid call while its pushes are fresh, so every poll of a hybrid call is a gap fill.
  // Counted when the poll finishes, not when skip() is asked (a poll held back by the account's cap is asked again).
  const observePolls = (observer: PollObserver): PollObserver => ({
    ...observer,
    pollFinished: (e) => {
      if (w.runningAccount(e.accountSid)?.ingestMode === 'hybrid') t.gapFillPoll(e.accountSid);
      observer.pollFinished(e);
    },
  });
  const refreshModes = (): void => t.ingestModes(w.running().accounts.filter((a) => w.isRunning(a.accountSid)));
  refreshModes();
  return { source: { name: 'event_streams', routes: sink.router, directRoute: sink.direct }, push, observePolls, refreshModes };
}
