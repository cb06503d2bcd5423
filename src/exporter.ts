import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { CallRegistry } from './calls/registry.ts';
import { CALL_SOURCES } from './calls/registry.ts';
import type { CallSource } from './calls/registry.ts';
import { REJECT_REASONS } from './samples/parse.ts';
import { Discovery } from './calls/discovery.ts';
import { owns } from './calls/shard.ts';
import type { Shard } from './calls/shard.ts';
import { metricAllowed } from './config/glob.ts';
import type { AccountConfig, Config } from './config/types.ts';
import { adminRoutes } from './http/admin-routes.ts';
import { createApp } from './http/app.ts';
import { WEBHOOK_OUTCOMES, webhookRoutes } from './http/webhook-routes.ts';
import { DELIVERY_OUTCOMES, eventStreamsRoutes } from './http/event-streams-routes.ts';
import { EVENT_SKIP_REASONS } from './events/cloud-event.ts';
import { createPushIngest } from './events/push-ingest.ts';
import { basicAuth } from './http/web-config.ts';
import type { WebConfig } from './http/web-config.ts';
import type { Readiness } from './http/app.ts';
import type { MetricDefinition } from './metrics/definitions.ts';
import { createOtelExposition } from './metrics/otel.ts';
import type { OtelExposition } from './metrics/otel.ts';
import { createPrometheusExposition } from './metrics/prometheus.ts';
import type { PrometheusExposition } from './metrics/prometheus.ts';
import { createAccountPolicy } from './poller/account-policy.ts';
import { Poller } from './poller/poller.ts';
import type { PollerAccount, PollObserver } from './poller/poller.ts';
import { SampleStore } from './store/sample-store.ts';
import { createTwilioClient } from './twilio/client.ts';
import { TwilioError } from './twilio/errors.ts';
import { userAgent } from './twilio/user-agent.ts';
import { VERSION } from './version.ts';

/** What the composition needs from outside: the config and, for tests, a clock and a connection pool. */
export interface ExporterDeps {
  readonly config: Config;
  readonly logger: Logger;
  /** Connection pool for Twilio requests [a keep-alive undici Agent]. */
  readonly dispatcher?: Dispatcher;
  /** Clock, epoch ms. */
  readonly now?: () => number;
  /** The slice of calls this replica owns [all]. */
  readonly shard?: Shard;
  /** TLS and basic auth for the HTTP listener (`--web.config.file`). */
  readonly webConfig?: WebConfig;
  /** Re-reads the configuration (SIGHUP, `POST /-/reload`); throws a ConfigError when it is invalid. */
  readonly loadConfig?: () => Config;
}

/** What a reload did. */
export interface ReloadResult {
  readonly ok: boolean;
  /** Why it failed, or which changed settings need a restart to take effect. */
  readonly message: string;
}

/** A wired exporter: the HTTP app plus the loops behind it. */
export interface Exporter {
  /** The HTTP app (not listening). */
  readonly app: Express;
  readonly registry: CallRegistry;
  readonly store: SampleStore;
  readonly poller: Poller;
  readonly prometheus: PrometheusExposition;
  /** The OTLP push, when an endpoint is configured. */
  readonly otel: OtelExposition | undefined;
  /** Starts polling, discovery and housekeeping, and tracks the configured calls. */
  start(): Promise<void>;
  /** Stops every loop, aborting requests in flight. */
  stop(): Promise<void>;
  /** Whether every account has answered once. */
  readiness(): Readiness;
  /** Re-reads the configuration atomically: a bad file keeps the running one and says why. */
  reload(): ReloadResult;
}

interface AccountRuntime extends PollerAccount {
  answered: boolean;
}

/** Wires sources, registry, poller, client, store and expositions from a validated config. */
export function createExporter(deps: ExporterDeps): Exporter {
  const { logger } = deps;
  const config = deps.config;
  // Settings that can change on reload are read through `current`; the rest is fixed at start.
  let current = config;
  // The running settings of an account (credentials rotate on reload), or undefined once it is gone.
  const accountConfig = (accountSid: string): AccountConfig | undefined => current.accounts.find((a) => a.accountSid === accountSid);
  const now = deps.now ?? Date.now;
  const ownDispatcher = deps.dispatcher ? undefined : new Agent({ keepAliveTimeout: 30_000, connections: 128 });
  const dispatcher = deps.dispatcher ?? ownDispatcher!;

  const store = new SampleStore({ backfill: config.backfill });
  const registry = new CallRegistry({
    maxCalls: config.maxCalls,
    drainPeriodMs: config.drainPeriodMs,
    retentionMs: config.callRetentionMs,
    now,
    ...(deps.shard && deps.shard.total > 1 && { owns: (callSid: string) => owns(deps.shard!, callSid) }),
    onRefused: (source: CallSource) => {
      prometheus.self.callsRefused.inc({ source });
      logger.warn({ source, max_calls: config.maxCalls }, 'call refused: max_calls reached');
    },
  });
  // Both expositions show the same metrics and the same active-call counts.
  const include = (def: MetricDefinition): boolean => metricAllowed(def.name, config.metrics.include, config.metrics.exclude);
  const activeCalls = (): Map<string, number> => registry.activeByAccount();
  const prometheus = createPrometheusExposition({
    store,
    perCallSeries: config.perCallSeries,
    activeCalls,
    version: VERSION,
    include,
  });
  const self = prometheus.self;
  self.shardOrdinal.set(deps.shard?.ordinal ?? 0);
  self.totalShards.set(deps.shard?.total ?? 1);
  // Counters over closed label sets start at 0, so rate() and increase() see their first event.
  for (const source of CALL_SOURCES) self.callsRefused.inc({ source }, 0);
  for (const reason of REJECT_REASONS) self.samplesRejected.inc({ reason }, 0);
  for (const outcome of WEBHOOK_OUTCOMES) self.webhookCallbacks.inc({ outcome }, 0);
  store.addListener(prometheus.listener);
  const otel = createOtelExposition({
    store,
    perCallSeries: config.perCallSeries,
    activeCalls,
    otlp: config.otlp,
    accounts: config.accounts.length,
    version: VERSION,
    include,
    onExportResult: (ok, err) => {
      self.otlpExports.inc({ outcome: ok ? 'success' : 'failure' });
      if (!ok) logger.warn({ err: String(err) }, 'OTLP export failed');
    },
    onWarning: (message) => logger.warn(message),
  });
  if (otel) {
    store.addListener(otel.listener);
    for (const outcome of ['success', 'failure']) self.otlpExports.inc({ outcome }, 0);
  }
  registry.addListener({
    onTracked: (call) => {
      store.addCall(call.callSid, call.accountSid, call.trackedAtMs);
      logger.debug({ call_sid: call.callSid, sources: [...call.sources] }, 'tracking call');
    },
    onEnded: (call) => logger.debug({ call_sid: call.callSid }, 'call ended, draining'),
    onRemoved: (call) => {
      store.removeCall(call.callSid);
      logger.debug({ call_sid: call.callSid }, 'call removed');
    },
  });

  const accounts = new Map<string, AccountRuntime>();
  for (const account of config.accounts) {
    const accountSid = account.accountSid;
    const client = createTwilioClient({
      accountSid,
      credentials: () => (accountConfig(accountSid) ?? account).credentials,
      insightsBaseUrl: account.insightsBaseUrl,
      apiBaseUrl: account.apiBaseUrl,
      dispatcher,
      userAgent: userAgent(VERSION),
      requestTimeoutMs: config.requestTimeoutMs,
      onRequest: (e) => {
        self.apiRequests.inc({ account_sid: accountSid, endpoint: e.endpoint, outcome: e.outcome });
        self.apiRequestDuration.observe({ account_sid: accountSid, endpoint: e.endpoint }, e.durationSeconds);
      },
    });
    const policy = createAccountPolicy({
      maxConcurrent: account.maxConcurrentRequests,
      // A request we gave up on may still hold one of Twilio's concurrency slots for a while.
      timeoutSlotHoldMs: config.requestTimeoutMs,
      now,
      onRetry: (err) => self.apiRetries.inc({ account_sid: accountSid, endpoint: err.endpoint, reason: err.code }),
      onCircuit: (open) => {
        self.circuitOpen.set({ account_sid: accountSid }, open ? 1 : 0);
        if (open) logger.warn({ account_sid: accountSid }, 'Twilio keeps failing: circuit open, requests fail fast until a probe succeeds');
        else logger.info({ account_sid: accountSid }, 'circuit closed: Twilio answers again');
      },
      onAuthFailure: (err) => {
        self.up.set({ account_sid: accountSid }, 0);
        logger.error(
          { account_sid: accountSid, status: err.status, twilio_code: err.twilioCode },
          'Twilio refused the credentials; retrying slowly until they work or the config is reloaded',
        );
      },
    });
    self.circuitOpen.set({ account_sid: accountSid }, 0);
    self.cursorResets.inc({ account_sid: accountSid }, 0);
    // Four polls per request slot keep the slots busy without queueing unbounded work behind them.
    accounts.set(accountSid, { accountSid, client, policy, maxPolls: account.maxConcurrentRequests * 4, answered: false });
  }

  const markAnswered = (accountSid: string, err?: unknown): void => {
    const a = accounts.get(accountSid);
    if (!a) return;
    if (err === undefined) {
      a.answered = true;
      self.up.set({ account_sid: accountSid }, 1);
    } else if (err instanceof TwilioError && (err.code === 'auth' || err.code === 'upstream')) {
      self.up.set({ account_sid: accountSid }, 0);
    }
  };

  const observer: PollObserver = {
    pollFinished: (e) => {
      self.pollDuration.observe({ account_sid: e.accountSid }, e.durationSeconds);
      self.pollLag.set({ account_sid: e.accountSid }, e.lagSeconds);
      if (config.perCallSeries && registry.get(e.callSid)) {
        self.callPollSuccess.set({ call_sid: e.callSid }, e.ok ? 1 : 0);
      }
      if (e.ok) {
        self.lastSuccessfulPoll.set({ account_sid: e.accountSid }, now() / 1000);
        markAnswered(e.accountSid);
      } else {
        markAnswered(e.accountSid, e.error);
        const code = e.error instanceof TwilioError ? e.error.code : 'internal';
        logger.debug({ call_sid: e.callSid, code, err: String(e.error) }, 'poll failed');
      }
    },
    applied: (_accountSid, result) => {
      if (result.duplicates > 0) self.samplesDuplicate.inc(result.duplicates);
    },
    cursorReset: (accountSid, callSid) => {
      self.cursorResets.inc({ account_sid: accountSid });
      logger.info({ call_sid: callSid }, 'paging cursor refused by Twilio; re-reading the call with de-duplication');
    },
    rejected: (_accountSid, callSid, r) => {
      self.samplesRejected.inc({ reason: r.reason });
      logger.debug({ call_sid: callSid, reason: r.reason, detail: r.detail }, 'metric record skipped');
    },
    callNotFound: (_accountSid, callSid) => {
      logger.info({ call_sid: callSid }, 'Twilio has no metrics for this call (404); ending it');
    },
  };

  for (const outcome of DELIVERY_OUTCOMES) self.eventStreamsDeliveries.inc({ outcome }, 0);
  for (const outcome of ['applied', 'duplicate', 'skipped', 'unknown_type']) self.eventStreamsEvents.inc({ outcome }, 0);
  for (const reason of EVENT_SKIP_REASONS) self.eventStreamsSkipped.inc({ reason }, 0);
  const push = createPushIngest({
    registry,
    store,
    now,
    mode: (accountSid) => accountConfig(accountSid)?.ingestMode,
    hybridGapMs: () => current.eventStreams.hybridGapMs,
    silenceTimeoutMs: () => current.eventStreams.silenceTimeoutMs,
    onApplied: (_accountSid, r) => {
      self.eventStreamsEvents.inc({ outcome: 'applied' }, r.events);
      self.eventStreamsEvents.inc({ outcome: 'duplicate' }, r.duplicateEvents);
      if (r.duplicateSamples > 0) self.samplesDuplicate.inc(r.duplicateSamples);
    },
    onSkipped: (_accountSid, s) => {
      self.eventStreamsEvents.inc({ outcome: 'skipped' });
      self.eventStreamsSkipped.inc({ reason: s.reason });
      logger.debug({ reason: s.reason, detail: s.detail }, 'pushed event skipped');
    },
    onUnknownTypes: (_accountSid, n) => self.eventStreamsEvents.inc({ outcome: 'unknown_type' }, n),
  });

  const poller = new Poller({
    accounts,
    registry,
    store,
    observer,
    pollIntervalMs: config.pollIntervalMs,
    pageSize: config.pageSize,
    now,
    skip: (call, nowMs) => push.skipPoll(call, nowMs),
  });

  const discovery = config.discovery.enabled
    ? new Discovery({
        accounts: [...accounts.values()],
        registry,
        intervalMs: config.discovery.intervalMs,
        filter: config.discovery,
        onListed: (accountSid, r) => {
          markAnswered(accountSid, r.error);
          if (!r.ok) logger.warn({ account_sid: accountSid, err: String(r.error) }, 'call discovery failed');
        },
      })
    : undefined;

  const readiness = (): Readiness => {
    const waiting = [...accounts.values()].filter((a) => !a.answered).map((a) => a.accountSid);
    return waiting.length === 0 ? { ready: true } : { ready: false, reason: `no successful request yet for ${waiting.join(', ')}` };
  };

  const reload = (): ReloadResult => {
    if (!deps.loadConfig) return { ok: false, message: 'no configuration file to reload' };
    let next: Config;
    try {
      next = deps.loadConfig();
    } catch (err) {
      self.configReloadSuccess.set(0);
      const message = err instanceof Error ? err.message : String(err);
      logger.error({ err: message }, 'configuration reload failed; keeping the running configuration');
      return { ok: false, message };
    }
    const restart = restartNeeded(current, next);
    current = next;
    // Rotated credentials get a chance at once instead of waiting out the 401 hold.
    for (const a of accounts.values()) a.policy.resetAuth();
    for (const call of next.calls) registry.track(call.callSid, call.accountSid, 'config');
    logger.level = next.log.level;
    self.configReloadSuccess.set(1);
    self.configReloadTime.set(now() / 1000);
    const message = restart.length === 0 ? 'reloaded' : `reloaded; restart to apply: ${restart.join(', ')}`;
    logger.info({ restart_needed: restart }, 'configuration reloaded');
    return { ok: true, message };
  };

  const app = createApp({
    render: (format) => prometheus.render(format),
    telemetryPath: config.web.telemetryPath,
    readiness,
    version: VERSION,
    onError: (err) => logger.error({ err: String(err) }, 'rendering metrics failed'),
    reload: () => reload(),
    ...(deps.webConfig && deps.webConfig.users.size > 0 && { guard: basicAuth(deps.webConfig.users) }),
    mount: (a) => {
      if (config.webhooks.enabled) {
        a.use(
          webhookRoutes({
            registry,
            authToken: (accountSid) => {
              const acc = accountConfig(accountSid);
              return acc?.credentials.kind === 'auth_token' ? acc.credentials.password.reveal() : undefined;
            },
            publicUrl: () => current.webhooks.publicUrl,
            onCallback: (outcome) => self.webhookCallbacks.inc({ outcome }),
          }),
        );
      }
      a.use(
        eventStreamsRoutes({
          // Only push and hybrid accounts have a sink; any other path is answered 403 like a bad signature.
          authToken: (accountSid) => {
            const acc = accountConfig(accountSid);
            if (!acc || acc.ingestMode === 'poll' || acc.credentials.kind !== 'auth_token') return undefined;
            return acc.credentials.password.reveal();
          },
          publicUrl: () => current.webhooks.publicUrl,
          maxBodyBytes: config.eventStreams.maxBodyBytes,
          apply: (accountSid, batch) => push.apply(accountSid, batch),
          onDelivery: (outcome, failure) => {
            self.eventStreamsDeliveries.inc({ outcome });
            if (failure) logger.debug({ failure }, 'Event Streams delivery refused');
          },
        }),
      );
      a.use(
        adminRoutes({
          registry,
          store,
          token: () => current.admin.bearerToken?.reveal(),
          accountSids: () => current.accounts.map((x) => x.accountSid),
        }),
      );
    },
  });

  let housekeeping: NodeJS.Timeout | undefined;
  const updateTracked = (): void => {
    self.trackedCalls.reset();
    for (const [accountSid, states] of registry.countByState()) {
      for (const [state, n] of states) self.trackedCalls.set({ account_sid: accountSid, state }, n);
    }
  };

  return {
    app,
    registry,
    store,
    poller,
    prometheus,
    otel,
    readiness,
    reload,
    async start(): Promise<void> {
      self.configReloadSuccess.set(1);
      self.configReloadTime.set(now() / 1000);
      for (const call of config.calls) registry.track(call.callSid, call.accountSid, 'config');
      // Settings answer fast and prove the credentials: an account is ready once Twilio answered it.
      await Promise.all(
        [...accounts.values()].map(async (a) => {
          try {
            const s = await a.policy.run((signal) => a.client.fetchSettings(signal));
            markAnswered(a.accountSid);
            if (s.advancedFeatures === false) {
              logger.warn({ account_sid: a.accountSid }, 'Voice Insights Advanced Features are off: Twilio serves no call metrics');
            }
          } catch (err) {
            markAnswered(a.accountSid, err);
            logger.error({ account_sid: a.accountSid, err: String(err) }, 'Twilio account check failed; will keep trying while polling');
          }
        }),
      );
      poller.start();
      discovery?.start();
      updateTracked();
      housekeeping = setInterval(() => {
        registry.sweep();
        const silent = push.endSilent(now());
        if (silent > 0) logger.debug({ calls: silent }, 'push-mode calls silent for event_streams.silence_timeout: ended');
        updateTracked();
      }, 1000);
    },
    async stop(): Promise<void> {
      if (housekeeping) clearInterval(housekeeping);
      await Promise.all([poller.stop(), discovery?.stop()]);
      // One last push, bounded, so a shutdown never hangs on an unreachable collector.
      await otel?.shutdown();
      await ownDispatcher?.close();
    },
  };
}

// Settings wired into long-lived objects at start; a reload that changes them says a restart is needed.
function restartNeeded(a: Config, b: Config): string[] {
  const out: string[] = [];
  const accounts = (c: Config): string =>
    JSON.stringify(c.accounts.map((x) => [x.accountSid, x.insightsBaseUrl, x.apiBaseUrl, x.maxConcurrentRequests, x.credentials.kind]));
  if (accounts(a) !== accounts(b)) out.push('accounts');
  const fixed: Array<[string, (c: Config) => unknown]> = [
    ['poll_interval', (c) => c.pollIntervalMs],
    ['request_timeout', (c) => c.requestTimeoutMs],
    ['page_size', (c) => c.pageSize],
    ['max_calls', (c) => c.maxCalls],
    ['call_retention', (c) => c.callRetentionMs],
    ['drain_period', (c) => c.drainPeriodMs],
    ['backfill', (c) => c.backfill],
    ['per_call_series', (c) => c.perCallSeries],
    ['metrics', (c) => JSON.stringify(c.metrics)],
    ['discovery', (c) => JSON.stringify(c.discovery)],
    ['webhooks.enabled', (c) => c.webhooks.enabled],
    ['event_streams.max_body_bytes', (c) => c.eventStreams.maxBodyBytes],
    ['otlp', (c) => JSON.stringify({ ...c.otlp, headers: Object.keys(c.otlp.headers) })],
    ['web', (c) => JSON.stringify(c.web)],
  ];
  for (const [key, get] of fixed) if (get(a) !== get(b)) out.push(key);
  return out;
}
