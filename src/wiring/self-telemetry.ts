import type { Logger } from 'pino';
import { CALL_SOURCES } from '../calls/registry.ts';
import type { CallRegistry, CallSource, RegistryListener } from '../calls/registry.ts';
import type { Readiness } from '../http/app.ts';
import { WEBHOOK_OUTCOMES } from '../http/webhook-routes.ts';
import type { WebhookOutcome } from '../http/webhook-routes.ts';
import type { SelfMetrics } from '../metrics/prometheus.ts';
import type { AccountPolicyOptions } from '../poller/account-policy.ts';
import { isUnreachable, isUnreachableOutcome } from '../poller/account-policy.ts';
import { PAGING_STOP_REASONS } from '../poller/cursor.ts';
import { FailureEpisodes } from '../poller/failure-episodes.ts';
import type { PollObserver } from '../poller/poller.ts';
import { REJECT_REASONS } from '../samples/parse.ts';
import { STORE_REJECT_REASONS } from '../store/sample-store.ts';
import type { TwilioClientOptions } from '../twilio/client.ts';
import { TwilioError } from '../twilio/errors.ts';
import type { AccountActivity } from '../status/account-activity.ts';
import type { ApplyEventsResult } from '../events/apply-events.ts';
import { EVENT_OUTCOMES } from '../events/push-ingest.ts';
import type { DeliveryAnswer } from '../events/push-ingest.ts';
import { EVENT_SKIP_REASONS } from '../events/cloud-event.ts';
import type { SkippedGroup } from '../events/cloud-event.ts';
import type { SignatureFailure } from '../events/body-signature.ts';
import { DELIVERY_OUTCOMES } from '../http/event-streams-routes.ts';
import type { DeliveryOutcome } from '../http/event-streams-routes.ts';
import type { PollLog } from '../status/poll-log.ts';

/** What the self telemetry needs: the exporter's own metrics, a logger, a clock and the registry it reports on. */
export interface SelfTelemetryOptions {
  readonly self: SelfMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  readonly registry: CallRegistry;
  /** Whether per-call series (`call_poll_success`) are on. */
  readonly perCallSeries: boolean;
  /** `max_calls`, named in the refusal log line. */
  readonly maxCalls: number;
  readonly shard: { readonly ordinal: number; readonly total: number };
  /**
   * How long an account may give no usable answer before `up` turns 0 (a poll interval plus a request timeout):
   * one hanging call among answering ones does not flip it, refused connections and hangs of them all do.
   */
  readonly unreachableAfterMs: number;
  /** The status page's record of each account's answers and each call's polls, fed from the same hooks. */
  readonly status?: { readonly activity: AccountActivity; readonly polls: PollLog };
}

/** The hooks of one account's Twilio client and request policy. */
export interface AccountHooks {
  readonly onRequest: NonNullable<TwilioClientOptions['onRequest']>;
  readonly onRetry: NonNullable<AccountPolicyOptions['onRetry']>;
  readonly onCircuit: NonNullable<AccountPolicyOptions['onCircuit']>;
  readonly onAuthFailure: NonNullable<AccountPolicyOptions['onAuthFailure']>;
}

/**
 * Every place the exporter reports on itself (metrics and log lines), in one object: the root hands its hooks
 * to the parts it wires, and no other module touches the self metrics. Counters over closed label sets start at
 * 0 here, so rate() and increase() see their first event.
 */
export class SelfTelemetry {
  readonly #o: SelfTelemetryOptions;
  readonly #self: SelfMetrics;
  readonly #log: Logger;
  // Accounts that answered a request at least once: readiness.
  readonly #answered = new Set<string>();
  readonly #accounts: string[] = [];
  // When each account last gave an HTTP answer that was not a 5xx, epoch ms.
  readonly #lastOkMs = new Map<string, number>();
  // Failures repeat on every poll and listing while they last: logged when they start and when they end.
  readonly #pollFailures: FailureEpisodes;
  readonly #listingFailures: FailureEpisodes;
  readonly #otlpFailures: FailureEpisodes;
  // Set by a refused call, cleared when a call is tracked: one warn line per stretch at max_calls, not one per call.
  #refusing = false;

  /** Sets the gauges known at start and the closed counters to 0. */
  constructor(options: SelfTelemetryOptions) {
    this.#o = options;
    this.#self = options.self;
    this.#log = options.logger;
    this.#pollFailures = new FailureEpisodes(options.now);
    this.#listingFailures = new FailureEpisodes(options.now);
    this.#otlpFailures = new FailureEpisodes(options.now);
    const self = this.#self;
    self.shardOrdinal.set(options.shard.ordinal);
    self.totalShards.set(options.shard.total);
    for (const source of CALL_SOURCES) self.callsRefused.inc({ source }, 0);
    for (const reason of [...REJECT_REASONS, ...STORE_REJECT_REASONS]) self.samplesRejected.inc({ reason }, 0);
    for (const outcome of WEBHOOK_OUTCOMES) self.webhookCallbacks.inc({ outcome }, 0);
  }

  /** Registers an account: its per-account series start at 0, and it counts against readiness. */
  addAccount(accountSid: string): AccountHooks {
    const self = this.#self;
    const log = this.#log;
    const activity = this.#o.status?.activity;
    this.#accounts.push(accountSid);
    this.#lastOkMs.set(accountSid, 0);
    self.circuitOpen.set({ account_sid: accountSid }, 0);
    self.cursorResets.inc({ account_sid: accountSid }, 0);
    for (const reason of PAGING_STOP_REASONS) self.pagingStopped.inc({ account_sid: accountSid, reason }, 0);
    return {
      onRequest: (e) => {
        this.#requestSeen(accountSid, e.outcome);
        activity?.request(accountSid, e);
        self.apiRequests.inc({ account_sid: accountSid, endpoint: e.endpoint, outcome: e.outcome });
        self.apiRequestDuration.observe({ account_sid: accountSid, endpoint: e.endpoint }, e.durationSeconds);
      },
      onRetry: (err) => {
        // A failure retried is one Twilio gave too: once the circuit opens mid-retry, the request's final error is
        // the circuit's refusal, and this was the last thing Twilio said.
        activity?.failed(accountSid, err);
        self.apiRetries.inc({ account_sid: accountSid, endpoint: err.endpoint, reason: err.code });
      },
      onCircuit: (open) => {
        activity?.circuit(accountSid, open);
        self.circuitOpen.set({ account_sid: accountSid }, open ? 1 : 0);
        if (open) this.#setUp(accountSid, false);
        if (open) log.warn({ account_sid: accountSid }, 'Twilio keeps failing: circuit open, requests fail fast until a probe succeeds');
        else log.info({ account_sid: accountSid }, 'circuit closed: Twilio answers again');
      },
      onAuthFailure: (err) => {
        activity?.failed(accountSid, err);
        this.#setUp(accountSid, false);
        log.error(
          { account_sid: accountSid, status: err.status, twilio_code: err.twilioCode },
          'Twilio refused the credentials; retrying slowly until they work or the config is reloaded',
        );
      },
    };
  }

  /** Records that an account answered (no error) or failed a request: `up` and readiness follow. */
  answered(accountSid: string, err?: unknown): void {
    if (!this.#accounts.includes(accountSid)) return;
    if (err === undefined) {
      this.#answered.add(accountSid);
      this.#lastOkMs.set(accountSid, this.#o.now());
      this.#setUp(accountSid, true);
      return;
    }
    this.#o.status?.activity.failed(accountSid, err);
    if ((err instanceof TwilioError && err.code === 'auth') || (isUnreachable(err) && this.#stale(accountSid))) this.#setUp(accountSid, false);
  }

  // Every change of `up` goes through here: the gauge and the status page's up/down column are set together, so they cannot disagree.
  #setUp(accountSid: string, up: boolean): void {
    this.#self.up.set({ account_sid: accountSid }, up ? 1 : 0);
    this.#o.status?.activity.up(accountSid, up);
  }

  #stale(accountSid: string): boolean {
    return this.#o.now() - (this.#lastOkMs.get(accountSid) ?? 0) >= this.#o.unreachableAfterMs;
  }

  // Every request's outcome: an HTTP answer below 500 proves the account reachable; a run of unreachable outcomes
  // longer than `unreachableAfterMs` turns `up` to 0.
  #requestSeen(accountSid: string, outcome: string): void {
    if (!isUnreachableOutcome(outcome)) {
      if (/^\d{3}$/.test(outcome)) this.#lastOkMs.set(accountSid, this.#o.now());
    } else if (this.#stale(accountSid)) {
      this.#setUp(accountSid, false);
    }
  }

  /** Ready once every account has answered a request. */
  readiness(): Readiness {
    const waiting = this.#accounts.filter((a) => !this.#answered.has(a));
    return waiting.length === 0 ? { ready: true } : { ready: false, reason: `no successful request yet for ${waiting.join(', ')}` };
  }

  /** What the poller reports: poll outcomes, samples applied, rejected and duplicated, cursor resets, 404s. */
  pollObserver(): PollObserver {
    const self = this.#self;
    const log = this.#log;
    const o = this.#o;
    return {
      pollFinished: (e) => {
        self.pollDuration.observe({ account_sid: e.accountSid }, e.durationSeconds);
        self.pollLag.set({ account_sid: e.accountSid }, e.lagSeconds);
        const tracked = o.registry.get(e.callSid) !== undefined;
        if (tracked) o.status?.polls.finished(e);
        if (o.perCallSeries && tracked) self.callPollSuccess.set({ call_sid: e.callSid }, e.ok ? 1 : 0);
        if (e.ok) {
          self.lastSuccessfulPoll.set({ account_sid: e.accountSid }, o.now() / 1000);
          this.answered(e.accountSid);
          // A call removed while this poll ran has no episode to close (the removal forgot it), nor to open below.
          const ended = tracked ? this.#pollFailures.succeeded(e.callSid) : undefined;
          if (ended) log.info({ call_sid: e.callSid, failures: ended.failures }, 'polling the call works again');
        } else {
          this.answered(e.accountSid, e.error);
          const code = e.error instanceof TwilioError ? e.error.code : 'internal';
          const fields = { call_sid: e.callSid, account_sid: e.accountSid, code, err: String(e.error) };
          // Shutdown aborts polls, and a 404 is the call's own news (logged once when it ends the call).
          if (code === 'aborted' || code === 'not_found') log.debug(fields, 'poll failed');
          else if (tracked && this.#pollFailures.failed(e.callSid)) log.warn(fields, 'poll failed; the call is polled again every interval, and a line follows when it works again');
          else log.debug(fields, 'poll failed again');
        }
      },
      applied: (_accountSid, result) => {
        if (result.duplicates > 0) self.samplesDuplicate.inc(result.duplicates);
        if (result.tooLate > 0) self.samplesRejected.inc({ reason: 'too_late' }, result.tooLate);
      },
      pagingStopped: (accountSid, callSid, stop) => {
        self.pagingStopped.inc({ account_sid: accountSid, reason: stop.reason });
        log.debug({ call_sid: callSid, reason: stop.reason }, 'metrics read stopped before the last page; the next poll goes on');
      },
      cursorReset: (accountSid, callSid) => {
        self.cursorResets.inc({ account_sid: accountSid });
        log.info({ call_sid: callSid }, 'paging cursor refused by Twilio; re-reading the call with de-duplication');
      },
      rejected: (_accountSid, callSid, r) => {
        self.samplesRejected.inc({ reason: r.reason });
        o.status?.polls.rejected(callSid, r.reason);
        log.debug({ call_sid: callSid, reason: r.reason, detail: r.detail }, 'metric record skipped');
      },
      callNotFound: (_accountSid, callSid) => {
        log.info({ call_sid: callSid }, 'Twilio has no metrics for this call (404); ending it');
      },
      endedBySummary: (_accountSid, callSid, summary) => {
        log.info({ call_sid: callSid, call_state: summary.callState, processing_state: summary.processingState }, 'no new sample for end_check_after and the Call Summary says the call ended; ending it');
      },
    };
  }

  /** Log lines of the call lifecycle. */
  registryListener(): RegistryListener {
    const log = this.#log;
    return {
      onTracked: (call) => {
        this.#refusing = false;
        log.debug({ call_sid: call.callSid, sources: [...call.sources] }, 'tracking call');
      },
      onEnded: (call) => log.debug({ call_sid: call.callSid }, 'call ended, draining'),
      onRemoved: (call) => {
        this.#pollFailures.forget(call.callSid);
        log.debug({ call_sid: call.callSid }, 'call removed');
      },
    };
  }

  /** A call refused because `max_calls` is reached. */
  callRefused(source: CallSource): void {
    this.#self.callsRefused.inc({ source });
    // A listing of thousands of calls past the cap would write thousands of lines: the counter has them all.
    if (this.#refusing) {
      this.#log.debug({ source, max_calls: this.#o.maxCalls }, 'call refused: max_calls reached');
      return;
    }
    this.#refusing = true;
    this.#log.warn({ source, max_calls: this.#o.maxCalls }, 'call refused: max_calls reached; further refusals are counted in twilio_insights_exporter_calls_refused_total and logged at debug until a call is tracked again');
  }

  /** The outcome of one discovery listing of an account. */
  discoveryListed(accountSid: string, r: { readonly ok: boolean; readonly error?: unknown }): void {
    this.answered(accountSid, r.error);
    if (!r.ok) {
      if (this.#listingFailures.failed(accountSid)) {
        this.#log.warn({ account_sid: accountSid, err: String(r.error) }, 'call discovery failed; it runs again every interval, and a line follows when it works again');
      }
    } else {
      const ended = this.#listingFailures.succeeded(accountSid);
      if (ended) this.#log.info({ account_sid: accountSid, failures: ended.failures }, 'call discovery works again');
    }
  }

  /** The outcome of one status callback. */
  webhookCallback(outcome: WebhookOutcome): void {
    this.#self.webhookCallbacks.inc({ outcome });
  }

  /** Turns the state file's save counter on (both outcomes at 0) when a state file is configured. */
  stateEnabled(): void {
    for (const outcome of ['success', 'failure']) this.#self.stateSaves.inc({ outcome }, 0);
  }

  /** The outcome of one state file save. */
  stateSaved(ok: boolean): void {
    this.#self.stateSaves.inc({ outcome: ok ? 'success' : 'failure' });
    if (ok) this.#self.stateLastSave.set(this.#o.now() / 1000);
  }

  /** Turns the OTLP outcome counter on (both outcomes at 0) when the push is configured. */
  otlpEnabled(): void {
    for (const outcome of ['success', 'failure']) this.#self.otlpExports.inc({ outcome }, 0);
  }

  /** The outcome of one OTLP export. */
  otlpExported(ok: boolean, err?: unknown): void {
    this.#self.otlpExports.inc({ outcome: ok ? 'success' : 'failure' });
    // A collector down fails every interval: logged when that starts and when it ends, the counter has each.
    if (!ok) {
      if (this.#otlpFailures.failed('otlp')) this.#log.warn({ err: String(err) }, 'OTLP export failed; it is tried again every interval, and a line follows when it works again');
      return;
    }
    const ended = this.#otlpFailures.succeeded('otlp');
    if (ended) this.#log.info({ failures: ended.failures }, 'OTLP export works again');
  }

  /** A configuration (re)load: successful or not, at the clock's time. */
  configLoaded(ok: boolean): void {
    this.#self.configReloadSuccess.set(ok ? 1 : 0);
    if (ok) this.#self.configReloadTime.set(this.#o.now() / 1000);
  }

  /** Turns the Event Streams counters on (every outcome and reason at 0). */
  eventStreamsEnabled(): void {
    const self = this.#self;
    for (const outcome of DELIVERY_OUTCOMES) self.eventStreamsDeliveries.inc({ outcome }, 0);
    for (const outcome of Object.keys(EVENT_OUTCOMES)) self.eventStreamsEvents.inc({ outcome }, 0);
    for (const reason of EVENT_SKIP_REASONS) self.eventStreamsSkipped.inc({ reason }, 0);
  }

  /** One sink delivery's outcome (and why its signature failed, when it did). */
  pushDelivery(outcome: DeliveryOutcome, failure?: SignatureFailure): void {
    this.#self.eventStreamsDeliveries.inc({ outcome });
    if (failure) this.#log.debug({ failure }, 'Event Streams delivery refused');
  }

  /** A delivery answered 500 because applying it failed: the outcome counter has it, the log says why. */
  pushNotApplied(err: unknown): void {
    this.#log.error({ err: String(err) }, 'Event Streams delivery not applied; answered 500, so Twilio delivers it again');
  }

  /**
   * What one applied batch of an account did: its events by outcome, as the sink answered them (the counter and
   * the answers add up alike), and the call-event and tag counters.
   */
  pushApplied(r: ApplyEventsResult, answer: DeliveryAnswer, accountSid: string): void {
    for (const l of r.callEventLabels) this.#self.callEvents.inc({ account_sid: accountSid, ...l });
    for (const t of r.newTags) this.#self.callTags.inc({ account_sid: accountSid, edge: t.edge, tag: t.tag });
    for (const [outcome, count] of Object.entries(EVENT_OUTCOMES)) {
      if (answer[count] > 0) this.#self.eventStreamsEvents.inc({ outcome }, answer[count]);
    }
    if (r.duplicateSamples > 0) this.#self.samplesDuplicate.inc(r.duplicateSamples);
    // As the poll path counts them: a sample never seen and too late to judge is refused, never silently dropped.
    if (r.tooLate > 0) this.#self.samplesRejected.inc({ reason: 'too_late' }, r.tooLate);
  }

  /**
   * Sets each account's ingest-mode gauge (1 for its running mode, 0 for the others); a push or hybrid account's
   * silent-calls counter starts at 0 here, also when a reload turns the mode on, so increase() sees its first call.
   */
  ingestModes(accounts: Iterable<{ readonly accountSid: string; readonly ingestMode: string }>): void {
    for (const a of accounts) {
      for (const mode of ['poll', 'push', 'hybrid']) this.#self.ingestMode.set({ account_sid: a.accountSid, mode }, a.ingestMode === mode ? 1 : 0);
      if (a.ingestMode === 'push' || a.ingestMode === 'hybrid') this.#self.eventStreamsSilentCalls.inc({ account_sid: a.accountSid }, 0);
    }
  }

  /** A push or hybrid call ended because no source had a new sample for event_streams.silence_timeout. */
  silentCallEnded(accountSid: string): void {
    this.#self.eventStreamsSilentCalls.inc({ account_sid: accountSid });
  }

  /** A hybrid-mode account's calls may be polled to fill push gaps: its gap-fill counter starts at 0. */
  gapFillEnabled(accountSid: string): void {
    this.#self.eventStreamsGapFillPolls.inc({ account_sid: accountSid }, 0);
  }

  /** A hybrid-mode call was polled because its pushes stopped for longer than the gap. */
  gapFillPoll(accountSid: string): void {
    this.#self.eventStreamsGapFillPolls.inc({ account_sid: accountSid });
  }

  /** The pushed events of one batch skipped for one reason: counted at once, one log line with the first's detail. */
  pushSkipped(g: SkippedGroup): void {
    this.#self.eventStreamsSkipped.inc({ reason: g.reason }, g.count);
    this.#log.debug({ reason: g.reason, count: g.count, detail: g.detail }, 'pushed events skipped');
  }

  /** Refreshes the tracked-calls gauge from the registry (housekeeping, every second). */
  updateTracked(): void {
    const self = this.#self;
    self.trackedCalls.reset();
    for (const [accountSid, states] of this.#o.registry.countByState()) {
      for (const [state, n] of states) self.trackedCalls.set({ account_sid: accountSid, state }, n);
    }
  }
}
