import { once } from 'node:events';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { ConfigError } from './config/errors.ts';
import { dumpConfig } from './config/dump.ts';
import { loadConfig, loadWebSettings } from './config/load.ts';
import type { LoadConfigOptions } from './config/load.ts';
import { parseListenAddress } from './config/listen-address.ts';
import type { Config } from './config/types.ts';
import { demoConfig, startDemo } from './demo.ts';
import type { Demo } from './demo.ts';
import { createExporter } from './exporter.ts';
import { createLogger } from './logger.ts';
import { ALL_METRICS } from './metrics/definitions.ts';
import { PROCESS_METRIC_NAMES } from './metrics/process-metrics.ts';
import { resolveOtelSettings } from './metrics/otel-settings.ts';
import { resolveShard } from './calls/shard.ts';
import type { Shard } from './calls/shard.ts';
import { healthcheckMain } from './http/healthcheck-main.ts';
import type { HealthcheckFlags } from './http/healthcheck-main.ts';
import { trackRequests } from './http/drain.ts';
import { createWebServer, loadWebConfig } from './http/web-config.ts';
import type { WebConfig } from './http/web-config.ts';
import { DEMO_ACCOUNT } from './simulator/demo-account.ts';
import { VERSION } from './version.ts';
import { runEventStreamsCommand } from './events/event-streams-command.ts';

const HELP = `Usage: twilio-insights-exporter [flags]

Streams Twilio Voice Insights call-quality metrics to Prometheus (/metrics) and OpenTelemetry (OTLP).

Flags:
  --config.file=PATH          YAML configuration file (see config/example.yaml)
  --config.check              validate the configuration and exit (0 valid, 1 invalid)
  --config.dump               print the effective configuration (secrets redacted) and exit
  --web.listen-address=ADDR   host:port to serve on (overrides web.listen_address; default :9487)
  --web.config.file=PATH      TLS and basic-auth settings (Prometheus exporter-toolkit format)
  --log.level=LEVEL           debug|info|warn|error (overrides log.level)
  --shard=N                   this replica's shard, 0..total-1 (default: the StatefulSet ordinal in POD_NAME)
  --total-shards=M            split calls across M replicas by CallSid hash (default 1)
  --demo                      with no config file and no TWILIO_* credentials, run against the built-in simulator
  --healthcheck               ask the running exporter's /-/healthy (same --config.file, --web.listen-address and
                              --web.config.file as the exporter) and exit: 0 healthy, 1 unhealthy, 2 config error
  --healthcheck.username=U    basic-auth user of the check [the web config's only user]
  --healthcheck.password-file=PATH  that user's password, when the web config requires basic auth
  --version                   print the version and exit
  -h, --help                  print this help and exit

Commands:
  event-streams setup|status  create or check the Event Streams sink and subscription (see event-streams --help)

Without --config.file the single-account case is read from TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN
(or TWILIO_API_KEY and TWILIO_API_SECRET).
`;

interface Flags {
  configFile?: string;
  check: boolean;
  dump: boolean;
  listenAddress?: string;
  webConfigFile?: string;
  logLevel?: string;
  shard?: string;
  totalShards?: string;
  demo: boolean;
  healthcheck?: HealthcheckFlags;
}

function parseFlags(argv: string[]): Flags | 'help' | 'version' {
  const { values } = parseArgs({
    args: argv,
    options: {
      'config.file': { type: 'string' },
      'config.check': { type: 'boolean', default: false },
      'config.dump': { type: 'boolean', default: false },
      'web.listen-address': { type: 'string' },
      'web.config.file': { type: 'string' },
      'log.level': { type: 'string' },
      shard: { type: 'string' },
      'total-shards': { type: 'string' },
      demo: { type: 'boolean', default: false },
      healthcheck: { type: 'boolean', default: false },
      'healthcheck.username': { type: 'string' },
      'healthcheck.password-file': { type: 'string' },
      version: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values.version) return 'version';
  return {
    ...(values['config.file'] !== undefined && { configFile: values['config.file'] }),
    check: values['config.check'],
    dump: values['config.dump'],
    ...(values['web.listen-address'] !== undefined && { listenAddress: values['web.listen-address'] }),
    ...(values['web.config.file'] !== undefined && { webConfigFile: values['web.config.file'] }),
    ...(values['log.level'] !== undefined && { logLevel: values['log.level'] }),
    ...(values.shard !== undefined && { shard: values.shard }),
    ...(values['total-shards'] !== undefined && { totalShards: values['total-shards'] }),
    demo: values.demo,
    ...(values.healthcheck && {
      healthcheck: {
        ...(values['healthcheck.username'] !== undefined && { username: values['healthcheck.username'] }),
        ...(values['healthcheck.password-file'] !== undefined && { passwordFile: values['healthcheck.password-file'] }),
      },
    }),
  };
}

function hasEnvCredentials(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env['TWILIO_ACCOUNT_SID'] || env['TWILIO_API_KEY']);
}

// This replica's shard from --shard, --total-shards and POD_NAME; bad values are configuration problems, named by flag.
function shardOf(flags: Flags): Shard {
  try {
    return resolveShard({
      ...(flags.shard !== undefined && { shard: flags.shard }),
      ...(flags.totalShards !== undefined && { totalShards: flags.totalShards }),
      ...(process.env['POD_NAME'] !== undefined && { podName: process.env['POD_NAME'] }),
    });
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
}

// Settings decided by how the exporter was started, handed to the config loader as data (never as environment edits).
function loadOptions(flags: Flags): LoadConfigOptions {
  return {
    metricNames: [...ALL_METRICS.map((d) => d.name), ...PROCESS_METRIC_NAMES],
    ...(flags.configFile !== undefined && { file: flags.configFile }),
    // Configured from the environment alone there is no call list: track the account's in-progress calls.
    ...(flags.configFile === undefined && { defaults: { discovery: { enabled: true } } }),
    // Flags are checked with the rest, by the same rules as the keys they override, and their problems name them.
    overrides: {
      ...(flags.logLevel !== undefined && { log: { level: flags.logLevel } }),
      ...(flags.listenAddress !== undefined && { web: { listen_address: flags.listenAddress } }),
    },
    overrideFlags: {
      ...(flags.logLevel !== undefined && { 'log.level': '--log.level' }),
      ...(flags.listenAddress !== undefined && { 'web.listen_address': '--web.listen-address' }),
    },
  };
}

// The address the exporter listens on: the flag as given, else the configured one (the demo's on loopback only:
// it is a local tool, not a service).
function servedAddress(flags: Flags, configured: string, demo: boolean): string {
  return flags.listenAddress ?? (demo ? `127.0.0.1:${parseListenAddress(configured).port}` : configured);
}

const LISTEN_PROBLEMS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address in use',
  EACCES: 'permission denied (a port below 1024 needs privileges)',
  EADDRNOTAVAIL: 'no such address on this machine',
  ENOTFOUND: 'unknown host',
};

function listenProblem(err: NodeJS.ErrnoException): string {
  const known = err.code === undefined ? undefined : LISTEN_PROBLEMS[err.code];
  return known === undefined ? err.message : `${known} (${err.code}); choose another with --web.listen-address`;
}

async function listen(server: Server, address: string, tls: boolean): Promise<string> {
  const { host, port } = parseListenAddress(address);
  server.listen(port, host === '' ? undefined : host);
  await once(server, 'listening');
  const a = server.address();
  if (a === null || typeof a === 'string') return String(a);
  const shown = a.family === 'IPv6' ? (a.address === '::' ? 'localhost' : `[${a.address}]`) : a.address === '0.0.0.0' ? 'localhost' : a.address;
  return `${tls ? 'https' : 'http'}://${shown}:${a.port}`;
}

function banner(metricsUrl: string, statusUrl: string, simulatorUrl: string): string {
  return `
  ┌──────────────────────────────────────────────────────────────────────────┐
    DEMO MODE: polling the built-in Twilio simulator, not Twilio.
    Metrics:   ${metricsUrl}
    Status:    ${statusUrl}  (tracked calls, live quality verdicts)
    Simulator: ${simulatorUrl}  (demo account ${DEMO_ACCOUNT.accountSid})
    To poll a real account: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN
    (or TWILIO_API_KEY + TWILIO_API_SECRET), or pass --config.file=config.yaml.
    Stop with Ctrl-C.
  └──────────────────────────────────────────────────────────────────────────┘
`;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'event-streams') {
    return runEventStreamsCommand(argv.slice(1), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env });
  }
  let flags: Flags | 'help' | 'version';
  try {
    flags = parseFlags(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (flags === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (flags === 'version') {
    process.stdout.write(`twilio-insights-exporter ${VERSION} (node ${process.version})\n`);
    return 0;
  }

  const demoMode = flags.demo && flags.configFile === undefined && !hasEnvCredentials(process.env);
  let demo: Demo | undefined;
  let config: Config;
  let webConfig: WebConfig | undefined;
  let shard: Shard;
  let options = loadOptions(flags);
  if (flags.healthcheck) {
    // The demo's listener address does not depend on where its simulator runs.
    const asRun = demoMode ? { ...options, raw: demoConfig('http://127.0.0.1'), credentialsFromEnv: false } : options;
    // The check reads only the web section: the exporter's credentials may come from where the check cannot see
    // them (the image's config file leaves them to the environment), and the check has no use for them.
    return healthcheckMain(() => servedAddress(flags, loadWebSettings(asRun).listenAddress, demoMode), flags.webConfigFile, flags.healthcheck);
  }
  try {
    if (demoMode) {
      const bootLogger = createLogger('info', 'json');
      demo = await startDemo(bootLogger);
      options = { ...options, raw: demoConfig(demo.simulator.url), credentialsFromEnv: false };
    }
    // Every problem of the configuration file, the flags and the web config file, in one pass.
    const problems: string[] = [];
    const checked = <T>(load: () => T): T | undefined => {
      try {
        return load();
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.problems);
        return undefined;
      }
    };
    const loaded = checked(() => loadConfig(options));
    const resolved = checked(() => shardOf(flags));
    const webConfigFile = flags.webConfigFile;
    webConfig = webConfigFile === undefined ? undefined : checked(() => loadWebConfig(webConfigFile));
    if (loaded === undefined || resolved === undefined || problems.length > 0) throw new ConfigError(problems);
    config = loaded;
    shard = resolved;
  } catch (err) {
    await demo?.stop();
    if (err instanceof ConfigError) {
      process.stderr.write(`invalid configuration:\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`);
      return 1;
    }
    throw err;
  }
  if (flags.check) {
    process.stdout.write('configuration is valid\n');
    await demo?.stop();
    return 0;
  }
  if (flags.dump) {
    // The push as it would run: the standard OTEL_* variables fill in what the config leaves unset, or turn it off.
    const otlp = resolveOtelSettings(config.otlp, process.env) ?? { ...config.otlp, endpoint: '' };
    // The address as served: the demo's is on loopback whatever the configured one says.
    const web = { ...config.web, listenAddress: servedAddress(flags, config.web.listenAddress, demo !== undefined) };
    process.stdout.write(dumpConfig({ ...config, web }, otlp));
    await demo?.stop();
    return 0;
  }

  return serve({ flags, config, options, shard, demo, ...(webConfig && { webConfig }) });
}

interface Serving {
  readonly flags: Flags;
  readonly config: Config;
  readonly options: LoadConfigOptions;
  readonly shard: Shard;
  /** The embedded simulator, in demo mode. */
  readonly demo: Demo | undefined;
  readonly webConfig?: WebConfig;
}

// Runs the exporter until SIGTERM or SIGINT: listen, start, reload on SIGHUP, then stop cleanly (a second signal
// cuts the requests in flight, a third exits at once). The signals are handled from before the server listens: the
// start-up account check can wait on Twilio for a minute while the server already answers, and a SIGHUP or SIGTERM
// in that window killed the process (Node's default action) with no log line and no last state save.
async function serve({ flags, config, options, shard, demo, webConfig }: Serving): Promise<number> {
  const logger: Logger = createLogger(config.log.level, config.log.format);
  const exporter = createExporter({
    config,
    logger,
    ...(webConfig && { webConfig }),
    shard,
    ...((options.file !== undefined || options.raw !== undefined) && { loadConfig: () => loadConfig(options) }),
  });
  const signalled = new Promise<NodeJS.Signals>((done) => {
    process.once('SIGTERM', () => done('SIGTERM'));
    process.once('SIGINT', () => done('SIGINT'));
  });
  // A reload asked for while starting waits for the start to end: it rebuilds what the start is setting up.
  let started = false;
  let reloadAsked = false;
  // The exporter logs the outcome, failures included, in the configured log format: stderr holds log lines only.
  const reload = (): void => void exporter.reload();
  process.on('SIGHUP', () => {
    if (started) reload();
    else reloadAsked = true;
  });
  const server = createWebServer(exporter.app, webConfig);
  const requests = trackRequests(server);
  const listenAddress = servedAddress(flags, config.web.listenAddress, demo !== undefined);
  let baseUrl: string;
  try {
    baseUrl = await listen(server, listenAddress, webConfig?.tls !== undefined);
  } catch (err) {
    // A busy or forbidden address is the operator's to fix: one line naming it, not a stack trace.
    process.stderr.write(`cannot listen on ${listenAddress}: ${listenProblem(err as NodeJS.ErrnoException)}\n`);
    await demo?.stop();
    return 1;
  }
  const early = await Promise.race([exporter.start().then(() => undefined), signalled]);
  if (early === undefined) {
    started = true;
    logger.info(
      { version: VERSION, address: baseUrl, accounts: config.accounts.length, poll_interval_ms: config.pollIntervalMs },
      'twilio-insights-exporter started',
    );
    if (demo) process.stdout.write(banner(`${baseUrl}${config.web.telemetryPath}`, `${baseUrl}/`, demo.simulator.url));
    else process.stdout.write(`Serving metrics on ${baseUrl}${config.web.telemetryPath}\n`);
    if (reloadAsked) reload();
  }
  const signal = early ?? (await signalled);
  logger.info({ signal, ...(!started && { during: 'start-up' }) }, 'shutting down');
  // A second signal while shutting down cuts the requests still in flight (unanswered, so Twilio sends them again)
  // and goes on to the last save; a third exits at once.
  let more = 0;
  const hurry = (): void => {
    if (++more > 1) process.exit(1);
    logger.warn('second signal: cutting the requests still in flight, then saving and stopping (a third exits at once)');
    requests.cut();
  };
  process.on('SIGTERM', hurry);
  process.on('SIGINT', hurry);
  // Requests in flight are answered first: a push or callback answered 2xx is applied before the last state save and
  // OTLP push. stop() also ends a start still under way: its account check is aborted and nothing more is started.
  await requests.drain();
  await exporter.stop();
  await demo?.stop();
  logger.info('stopped');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
