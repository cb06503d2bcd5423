import { parseArgs } from 'node:util';
import { Agent } from 'undici';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { parsePublicBaseUrl } from '../config/schema.ts';
import type { AccountConfig, Config } from '../config/types.ts';
import { createEventsClient } from '../twilio/events-client.ts';
import { userAgent } from '../twilio/user-agent.ts';
import { VERSION } from '../version.ts';
import { findSink, setupSink, wantedTypes } from './sink-setup.ts';

/** Usage of `event-streams`. */
export const EVENT_STREAMS_HELP = `Usage: twilio-insights-exporter event-streams <setup|status> [flags]

  setup    create or update each push/hybrid account's webhook Sink and Subscription (idempotent)
  status   show each push/hybrid account's sink state and subscribed types

Flags:
  --config.file=PATH   YAML configuration file (default: TWILIO_* environment variables)
  --public-url=URL     base URL Twilio calls the exporter on (default: webhooks.public_url)
  -h, --help           print this help and exit
`;

/** Where output goes (tests capture it). */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

// Push and hybrid accounts of the config: the ones that have a sink.
function pushAccounts(config: Config): AccountConfig[] {
  // Only these accept deliveries: a sink for a poll account would get 403s, which Twilio retries for 4 hours.
  return config.accounts.filter((a) => a.ingestMode !== 'poll');
}

/** Runs `event-streams setup|status`; returns the exit code (0 ok or help, 1 failed, 2 usage). */
export async function runEventStreamsCommand(argv: string[], io: CommandIo): Promise<number> {
  let values: { 'config.file'?: string | undefined; 'public-url'?: string | undefined; help?: boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { 'config.file': { type: 'string' }, 'public-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${EVENT_STREAMS_HELP}`);
    return 2;
  }
  if (values.help === true) {
    io.out(EVENT_STREAMS_HELP);
    return 0;
  }
  const action = positionals[0];
  if ((action !== 'setup' && action !== 'status') || positionals.length !== 1) {
    io.err(EVENT_STREAMS_HELP);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig({ ...(values['config.file'] !== undefined && { file: values['config.file'] }), env: io.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`invalid configuration:\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`);
      return 1;
    }
    throw err;
  }
  const given = values['public-url'] ?? config.webhooks.publicUrl;
  if (given === '') {
    io.err('--public-url=https://… (or webhooks.public_url) is required: it is the URL Twilio delivers to\n');
    return 2;
  }
  // Checked as webhooks.public_url is: the sink path is appended, so a query or fragment would swallow it. The value
  // is not echoed, since it may hold credentials.
  const base = parsePublicBaseUrl(given);
  if (base === null) {
    io.err('--public-url must be an http(s) URL with no query, fragment or credentials: Twilio delivers to it plus /webhooks/twilio/event-streams/{AccountSid}\n');
    return 2;
  }
  const accounts = pushAccounts(config);
  if (accounts.length === 0) {
    io.err('no account can receive pushes: set ingest_mode: push or hybrid on an account with an auth_token\n');
    return 1;
  }
  let failed = false;
  // One pool for the run, closed at the end so the process can exit.
  const dispatcher = new Agent();
  try {
    for (const account of accounts) {
      const client = createEventsClient({
        baseUrl: account.eventsBaseUrl,
        credentials: () => account.credentials,
        dispatcher,
        requestTimeoutMs: config.requestTimeoutMs,
        userAgent: userAgent(VERSION),
      });
      const sinkUrl = `${base}/webhooks/twilio/event-streams/${account.accountSid}`;
      try {
        if (action === 'setup') {
          const r = await setupSink(client, sinkUrl);
          io.out(
            `${account.accountSid}: sink ${r.sinkSid} ${r.sink} (status ${r.sinkStatus}), subscription ${r.subscriptionSid} ${r.subscription}` +
              `${r.changedTypes.length > 0 ? ` (${r.changedTypes.length} types)` : ''} -> ${sinkUrl}\n`,
          );
        } else {
          await printStatus(client, sinkUrl, account.accountSid, io);
        }
      } catch (err) {
        failed = true;
        io.err(`${account.accountSid}: ${(err as Error).message}\n`);
      }
    }
  } finally {
    await dispatcher.close();
  }
  return failed ? 1 : 0;
}

async function printStatus(client: ReturnType<typeof createEventsClient>, sinkUrl: string, accountSid: string, io: CommandIo): Promise<void> {
  const sink = await findSink(client, sinkUrl);
  if (!sink) {
    io.out(`${accountSid}: no sink delivers to ${sinkUrl}; run event-streams setup\n`);
    return;
  }
  const subs = await client.listSubscriptions(sink.sid);
  const have = new Map<string, number>();
  for (const s of subs) for (const t of await client.listSubscribedEvents(s.sid)) have.set(t.type, t.schema_version);
  const missing = wantedTypes().filter((t) => have.get(t.type) !== t.schema_version).map((t) => t.type);
  io.out(`${accountSid}: sink ${sink.sid} status ${sink.status} -> ${sinkUrl}\n`);
  io.out(`${accountSid}: ${subs.length} subscription(s), ${have.size} type(s)${missing.length > 0 ? `; missing or other version: ${missing.join(', ')}` : '; every type the exporter reads'}\n`);
}
