import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { Discovery } from './calls/discovery.ts';
import { CallRegistry } from './calls/registry.ts';
import { owns } from './calls/shard.ts';
import type { Shard } from './calls/shard.ts';
import { startSources, stopSources } from './calls/source.ts';
import type { CallSourceUnit } from './calls/source.ts';
import type { CallSource } from './calls/registry.ts';
import { restoredCallsSource } from './calls/restored-source.ts';
import { staticCallsSource } from './calls/static-source.ts';
import { metricAllowed } from './config/glob.ts';
import type { AccountConfig, Config } from './config/types.ts';
import { adminRoutes, adminTokenHolders } from './http/admin-routes.ts';
import { createApp } from './http/app.ts';
import type { Readiness } from './http/app.ts';
import { basicAuth } from './http/basic-auth.ts';
import { CallbackForwarder } from './http/callback-forward.ts';
import { withDirectRoutes } from './http/direct-routes.ts';
import type { WebConfig } from './http/web-config.ts';
import { webhookRoutes } from './http/webhook-routes.ts';
import type { MetricDefinition } from './metrics/definitions.ts';
import { createOtelExposition } from './metrics/otel.ts';
import type { OtelExposition } from './metrics/otel.ts';
import { createPrometheusExposition } from './metrics/prometheus.ts';
import type { PrometheusExposition } from './metrics/prometheus.ts';
import { Poller } from './poller/poller.ts';
import type { PollerAccount } from './poller/poller.ts';
import { SampleStore } from './store/sample-store.ts';
import { StateSaver } from './store/state-saver.ts';
import type { SavedMemory } from './store/state-memories.ts';
import { VERSION } from './version.ts';
import { createAccounts } from './wiring/accounts.ts';
import { DEDUPE_HORIZON_MS } from './events/id-dedupe.ts';
import type { PushIngest } from './events/push-ingest.ts';
import { eventStreamsSource } from './wiring/event-streams.ts';
import { createReloader } from './wiring/reload.ts';
import type { ReloadResult } from './wiring/reload.ts';
import { SelfTelemetry } from './wiring/self-telemetry.ts';
import { StatusParts } from './wiring/status.ts';
import { statusRoutes } from './http/status-page/routes.ts';
import type { StatusSources } from './http/status-page/status-model.ts';

export type { ReloadResult } from './wiring/reload.ts';

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

/** A wired exporter: the HTTP app plus the loops behind it. */
export interface Exporter {
  /** The HTTP request listener (not listening): express, behind the sources' direct routes. */
  readonly app: RequestListener;
  readonly registry: CallRegistry;
  readonly store: SampleStore;
  readonly poller: Poller;
  readonly prometheus: PrometheusExposition;
  /** The OTLP push, when an endpoint is configured. */
  readonly otel: OtelExposition | undefined;
  /** What the status page reads (benchmarks render it directly). */
  readonly status: StatusSources;
  /** Starts polling, the call sources and housekeeping. */
  start(): Promise<void>;
  /** Stops every loop, aborting requests in flight. */
  stop(): Promise<void>;
  /** Whether every account has answered once. */
  readiness(): Readiness;
  /** Re-reads the configuration atomically: a bad file keeps the running one and says why. */
  reload(): ReloadResult;
}

/**
 * The composition root: wires the stages of the pipeline (sources ─► registry ─► poller ─► Twilio client ─► parse
 * ─► store ─► writers) from a validated config, top to bottom. Settings a reload can change are read through
 * `running`; everything else is fixed at start (`src/config/reloadability.ts` says which is which).
 */
export function createExporter(deps: ExporterDeps): Exporter {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  let running = config;
  const runningAccount = (sid: string): AccountConfig | undefined => running.accounts.find((a) => a.accountSid === sid);
  const ownDispatcher = deps.dispatcher ? undefined : new Agent({ keepAliveTimeout: 30_000, connections: 128 });
  const dispatcher = deps.dispatcher ?? ownDispatcher!;

  const { store, registry } = createCore(deps, now, { onRefused: (source) => telemetry.callRefused(source) });
  const { prometheus, otel, telemetry, statusParts } = createOutputs(deps, store, registry, now);

  // Twilio: one client and request policy per account, and the poller over them; calls that Event Streams
  // pushes are left to the push (hybrid: until their pushes stop for `event_streams.hybrid_gap`).
  const accounts = createAccounts({ config, running: runningAccount, dispatcher, telemetry, now });
  const isRunning = (accountSid: string): boolean => accounts.has(accountSid);
  const eventStreams = eventStreamsSource({ config, registry, store, telemetry, now, running: () => running, runningAccount, isRunning });
  // The state file carries over a restart all that counts each thing once: the store's state, the registry's ended
  // calls, and the memories of expired calls, summaries waiting for their call, pushed event ids and counted tags.
  const stateSaver = createStateSaver(deps, now, { store, registry, memories: [store.expiredCalls, store.waitingSummaries, ...eventStreams.push.memories], onSaved: (ok) => telemetry.stateSaved(ok) });
  if (stateSaver) telemetry.stateEnabled();
  const poller = new Poller({
    accounts,
    registry,
    store,
    observer: eventStreams.observePolls(telemetry.pollObserver()),
    pollIntervalMs: config.pollIntervalMs,
    pageSize: config.pageSize,
    maxClockSkewMs: config.maxClockSkewMs,
    maxSampleLatenessMs: config.maxSampleLatenessMs,
    endCheckAfterMs: config.endCheckAfterMs,
    now,
    skip: (call, nowMs) => eventStreams.push.skipPoll(call, nowMs),
  });

  // Call sources, in the order they start.
  const restored = restoredCallsSource({ announcer: registry, liveAtSave: () => stateSaver?.liveAtSave ?? [], mode: (sid) => (isRunning(sid) ? runningAccount(sid)?.ingestMode : undefined) });
  const sources = [...callSources({ deps, accounts, registry, store, telemetry, running: () => running, runningAccount }), restored, eventStreams.source];

  const reload = createReloader({
    started: config,
    load: deps.loadConfig,
    apply: (next) => (running = next),
    accounts,
    sources,
    telemetry,
    logger,
  });
  const shard = { ordinal: deps.shard?.ordinal ?? 0, total: deps.shard?.total ?? 1 };
  const status = statusParts.sources({ config, registry, store, poller, accounts, running: () => running, shard, now });
  const guard = deps.webConfig && deps.webConfig.users.size > 0 ? basicAuth(deps.webConfig.users) : undefined;
  const expressApp = createApp({
    render: (format) => prometheus.render(format),
    telemetryPath: config.web.telemetryPath,
    readiness: () => telemetry.readiness(),
    version: VERSION,
    onError: (err) => logger.error({ err: String(err) }, 'HTTP request failed'),
    reload,
    ...(guard && { guard, ownCredentialRoutes: sources.flatMap((s) => s.ownCredentialRoutes ?? []) }),
    status: statusRoutes(status),
    mount: (a) => {
      for (const s of sources) if (s.routes) a.use(s.routes);
    },
  });
  // Direct routes would skip the basic-auth guard: with users configured, every request goes through express.
  const app = withDirectRoutes(expressApp, guard ? [] : sources.flatMap((s) => s.directRoute ?? []));

  return {
    app,
    status,
    registry,
    store,
    poller,
    prometheus,
    otel,
    readiness: () => telemetry.readiness(),
    reload,
    ...lifecycle({ logger, now, store, stateSaver, registry, sources, accounts, telemetry, poller, push: eventStreams.push, refreshModes: () => eventStreams.refreshModes(), otel, guard, ownDispatcher }),
  };
}

// Store and registry: what is tracked, and every sample applied exactly once. A removed call's exactly-once state
// outlives its series long enough for a source to bring it back; the state file carries it over a restart.
function createCore(deps: ExporterDeps, now: () => number, on: { onRefused: (source: CallSource) => void }) {
  const { config } = deps;
  const { onRefused } = on;
  const registry = new CallRegistry({
    maxCalls: config.maxCalls,
    drainPeriodMs: config.drainPeriodMs,
    retentionMs: config.callRetentionMs,
    // Ended calls are remembered as long as pushed events about them may still arrive, retries included.
    endedMemoryMs: DEDUPE_HORIZON_MS,
    now,
    ...(deps.shard && deps.shard.total > 1 && { owns: (callSid: string) => owns(deps.shard!, callSid) }),
    onRefused,
  });
  const store = new SampleStore({
    backfill: config.backfill,
    maxSampleLatenessMs: config.maxSampleLatenessMs,
    maxParked: config.maxCalls,
    // An ended call the registry remembers, tracked again, must find its state or know it expired (else it would
    // start over and count again): the store remembers as many expired calls per account as the registry does ended ones.
    maxExpired: registry.endedMemory,
    accounts: config.accounts.length,
    now,
  });
  registry.addListener({
    // A call tracked already ended is one the registry remembered: a redelivery of what it already applied, maybe.
    onTracked: (call) => store.addCall(call.callSid, call.accountSid, call.trackedAtMs, { ended: call.endedAtMs !== undefined }),
    onRemoved: (call) => store.removeCall(call.callSid),
  });
  return { store, registry };
}

// The state file, when `state.path` is set. The registry's ended calls ride along, so a call that ended before a
// restart stays ended after it.
function createStateSaver(
  deps: ExporterDeps,
  now: () => number,
  o: { readonly store: SampleStore; readonly registry: CallRegistry; readonly memories: readonly SavedMemory[]; readonly onSaved: (ok: boolean) => void },
): StateSaver | undefined {
  const { config, logger } = deps;
  if (config.state.path === '') return undefined;
  const ended = { calls: o.registry, accounts: () => new Set(config.accounts.map((a) => a.accountSid)) };
  return new StateSaver({ path: config.state.path, flushIntervalMs: config.state.flushIntervalMs, store: o.store, ended, memories: o.memories, logger, now, onSaved: o.onSaved });
}

// Outputs: Prometheus text and the OTLP push show the same metrics from one fleet aggregator, the live quality
// verdicts included; the self telemetry and the status page's trackers report on the rest.
function createOutputs(deps: ExporterDeps, store: SampleStore, registry: CallRegistry, now: () => number) {
  const { config, logger } = deps;
  const statusParts = new StatusParts(config, store, registry, now);
  const quality = statusParts.quality;
  // The allow/deny lists apply to the runtime families (by name) as to the table's.
  const allowed = (name: string): boolean => metricAllowed(name, config.metrics.include, config.metrics.exclude);
  const include = (def: MetricDefinition): boolean => allowed(def.name);
  const activeCalls = (): Map<string, number> => registry.activeByAccount();
  const prometheus = createPrometheusExposition({ store, perCallSeries: config.perCallSeries, activeCalls, version: VERSION, include, includeProcessMetric: allowed, quality });
  store.addListener(prometheus.listener);
  const telemetry = new SelfTelemetry({
    status: statusParts,
    self: prometheus.self,
    logger,
    now,
    registry,
    perCallSeries: config.perCallSeries,
    maxCalls: config.maxCalls,
    shard: { ordinal: deps.shard?.ordinal ?? 0, total: deps.shard?.total ?? 1 },
    unreachableAfterMs: config.pollIntervalMs + config.requestTimeoutMs,
  });
  registry.addListener(telemetry.registryListener());
  const otel = createOtelExposition({
    store,
    perCallSeries: config.perCallSeries,
    activeCalls,
    quality,
    otlp: config.otlp,
    accounts: config.accounts.length,
    version: VERSION,
    include,
    fleet: prometheus.fleet,
    selfRegistry: prometheus.registry,
    onExportResult: (ok, err) => telemetry.otlpExported(ok, err),
    onWarning: (message) => logger.warn(message),
  });
  if (otel) telemetry.otlpEnabled();
  return { prometheus, otel, telemetry, statusParts };
}

interface Running {
  readonly logger: Logger;
  readonly now: () => number;
  readonly store: SampleStore;
  readonly stateSaver: StateSaver | undefined;
  readonly registry: CallRegistry;
  readonly sources: readonly CallSourceUnit[];
  readonly accounts: ReadonlyMap<string, PollerAccount>;
  readonly telemetry: SelfTelemetry;
  readonly poller: Poller;
  readonly push: PushIngest;
  /** Refreshes each account's ingest-mode gauge (a reload may change it). */
  readonly refreshModes: () => void;
  readonly otel: OtelExposition | undefined;
  readonly guard: { close(): Promise<void> } | undefined;
  readonly ownDispatcher: Agent | undefined;
}

// Start: saved state first, then the sources, the account check, the poller and housekeeping. Stop: the loops,
// the last state save, the last OTLP push, then the pools.
// A stop while start() is still under way (a signal during the account check) aborts the check, and start()
// starts nothing more: no poller or housekeeping outlives the stop.
function lifecycle(r: Running): Pick<Exporter, 'start' | 'stop'> {
  let housekeeping: NodeJS.Timeout | undefined;
  const stopping = new AbortController();
  return {
    async start(): Promise<void> {
      r.telemetry.configLoaded(true);
      // Before any call is tracked, so each saved call resumes when its source announces it again.
      r.stateSaver?.load();
      r.stateSaver?.start();
      await startSources(r.sources);
      if (stopping.signal.aborted) return;
      await checkAccounts(r.accounts, r.telemetry, r.logger, stopping.signal);
      if (stopping.signal.aborted) return;
      r.poller.start();
      r.telemetry.updateTracked();
      housekeeping = setInterval(() => {
        r.registry.sweep();
        r.store.sweep();
        const silent = r.push.endSilent(r.now());
        if (silent > 0) r.logger.debug({ calls: silent }, 'push and hybrid calls silent in every source for event_streams.silence_timeout: ended');
        r.telemetry.updateTracked();
        r.refreshModes();
      }, 1000);
    },
    async stop(): Promise<void> {
      stopping.abort();
      if (housekeeping) clearInterval(housekeeping);
      await Promise.all([r.poller.stop(), stopSources(r.sources)]);
      // After the poller: nothing is applied once the last save is taken.
      await r.stateSaver?.stop();
      // One last push, bounded, so a shutdown never hangs on an unreachable collector.
      await r.otel?.shutdown();
      await r.guard?.close();
      await r.ownDispatcher?.close();
    },
  };
}

interface SourceWiring {
  readonly deps: ExporterDeps;
  readonly accounts: ReadonlyMap<string, PollerAccount>;
  readonly registry: CallRegistry;
  readonly store: SampleStore;
  readonly telemetry: SelfTelemetry;
  readonly running: () => Config;
  readonly runningAccount: (accountSid: string) => AccountConfig | undefined;
}

// The call sources this configuration asks for: the static list, discovery, status callbacks and the admin API.
// Callbacks and the admin API see only the running accounts: a call of an account added by a reload is never polled.
function callSources(w: SourceWiring): CallSourceUnit[] {
  const { config } = w.deps;
  const isRunning = (accountSid: string): boolean => w.accounts.has(accountSid);
  const sources: CallSourceUnit[] = [staticCallsSource({ announcer: w.registry, calls: config.calls, isRunning })];
  if (config.discovery.enabled) {
    sources.push(
      new Discovery({
        accounts: [...w.accounts.values()],
        registry: w.registry,
        intervalMs: config.discovery.intervalMs,
        filter: config.discovery,
        onListed: (accountSid, r) => w.telemetry.discoveryListed(accountSid, r),
      }),
    );
  }
  if (config.webhooks.enabled) {
    // With shards, a callback for another shard's call goes on to its owner (webhooks.shard_peer_url).
    const shard = w.deps.shard && w.deps.shard.total > 1 ? w.deps.shard : undefined;
    const forwarder = shard && new CallbackForwarder({ ordinal: shard.ordinal, peerTemplate: () => w.running().webhooks.shardPeerUrl, logger: w.deps.logger });
    const routes = webhookRoutes({
      registry: w.registry,
      authToken: (accountSid) => {
        const acc = isRunning(accountSid) ? w.runningAccount(accountSid) : undefined;
        return acc?.credentials.kind === 'auth_token' ? acc.credentials.password.reveal() : undefined;
      },
      publicUrl: () => w.running().webhooks.publicUrl,
      onCallback: (outcome) => w.telemetry.webhookCallback(outcome),
      ...(shard && { shard, forwarder }),
    });
    sources.push({ name: 'webhook', routes, ...(forwarder && { stop: () => forwarder.close() }) });
  }
  const adminToken = (): string | undefined => w.running().admin.bearerToken?.reveal();
  const admin = adminRoutes({
    registry: w.registry,
    store: w.store,
    token: adminToken,
    accountSids: () => [...w.accounts.keys()],
    pendingAccountSids: () => w.running().accounts.map((x) => x.accountSid).filter((sid) => !isRunning(sid)),
  });
  sources.push({ name: 'admin', routes: admin, ownCredentialRoutes: adminTokenHolders(admin, adminToken) });
  return sources;
}

// Settings answer fast and prove the credentials: an account is ready once Twilio answered it.
async function checkAccounts(accounts: ReadonlyMap<string, PollerAccount>, telemetry: SelfTelemetry, logger: Logger, stopping: AbortSignal): Promise<void> {
  await Promise.all(
    [...accounts.values()].map(async (a) => {
      try {
        const s = await a.policy.run((signal) => a.client.fetchSettings(signal), stopping);
        telemetry.answered(a.accountSid);
        if (s.advancedFeatures === false) {
          logger.warn({ account_sid: a.accountSid }, 'Voice Insights Advanced Features are off: Twilio serves no call metrics');
        }
      } catch (err) {
        if (stopping.aborted) return;
        telemetry.answered(a.accountSid, err);
        logger.error({ account_sid: a.accountSid, err: String(err) }, 'Twilio account check failed; will keep trying while polling');
      }
    }),
  );
}
