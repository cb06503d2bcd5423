import { parseArgs } from 'node:util';
import type { SimulatorAccount } from './accounts.ts';
import type { SimulatorOptions } from './server.ts';
import type { SimulatorVariant } from './variant.ts';

/** Usage text of `npm run simulator`. */
export const USAGE = `Usage: npm run simulator -- [options]

A local simulator of the Twilio Voice Insights (v1) and Calls (2010) APIs, plus a control API
under /_simulator/. Without account flags it serves the documented demo account
(ACdec0de00000000000000000000000000 / demo-auth-token, key SKdec0de… / demo-api-key-secret).

  --web.listen-address=HOST:PORT  where to listen (default 127.0.0.1:8089; port 0 picks one)
  --account-sid=AC…               an account (repeatable; paired in order with --auth-token)
  --auth-token=TOKEN              that account's auth token (repeatable)
  --api-key-sid=SK…               an API key (repeatable; paired in order with --api-key-secret);
                                  key i belongs to account i, or to the only account
  --api-key-secret=SECRET         that key's secret (repeatable)
  --seed=N                        seed of all generated data and faults (default 1)
  --lag=SECONDS                   visibility lag of samples (default 90)
  --order=asc|desc                metrics sort order (default asc)
  --page-token-ttl-ms=MS          page tokens older than this are refused (default: never)
  --concurrency-limit=N           in-flight requests per account before 429 (default 100)
  --partial-summary=after_end|during_call
                                  when a partial Summary is served (default after_end: 404 during the call)
  --sdk-sample-seconds=1|10       sdk_edge cadence (default 10)
  --late-publication=none|direction|samples
                                  samples visible after newer ones of their stream (default none)
  --late-seconds=30..600          the longest extra delay of a late sample (default 300)
  --public-url=URL                base URL for paging links (default: from the Host header)
  --calls=N                       start N demo calls of mixed types (default 0)
  -h, --help                      print this help
`;

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new Error(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

// The variant flags beyond the ones with their own start option.
function variantFlags(values: Record<string, string | boolean | string[] | undefined>): Partial<SimulatorVariant> {
  const str = (name: string): string | undefined => (typeof values[name] === 'string' ? values[name] : undefined);
  const partialSummary = oneOf('partial-summary', str('partial-summary'), ['after_end', 'during_call'] as const);
  const sdk = oneOf('sdk-sample-seconds', str('sdk-sample-seconds'), ['1', '10'] as const);
  const late = oneOf('late-publication', str('late-publication'), ['none', 'direction', 'samples'] as const);
  const lateSeconds = number('late-seconds', str('late-seconds'), 30, false);
  if (lateSeconds !== undefined && lateSeconds > 600) throw new Error(`--late-seconds must be at most 600, got ${lateSeconds}`);
  return {
    ...(partialSummary === undefined ? {} : { partialSummary }),
    ...(sdk === undefined ? {} : { sdkSampleSeconds: sdk === '1' ? 1 : 10 }),
    ...(late === undefined ? {} : { latePublication: late }),
    ...(lateSeconds === undefined ? {} : { lateSeconds }),
  };
}

/** What the command line asks for. */
export type SimulatorCommand =
  | { readonly help: true }
  | { readonly help: false; readonly options: SimulatorOptions; readonly calls: number };

function number(name: string, raw: string | undefined, min: number, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** `HOST:PORT` (`[::1]:PORT` for IPv6; an empty host means 127.0.0.1). */
export function parseListenAddress(raw: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[3]);
  if (match === null || port > 65_535) {
    throw new Error(`--web.listen-address must be host:port, e.g. 127.0.0.1:8089, got ${JSON.stringify(raw)}`);
  }
  return { host: match[1] ?? (match[2] === '' || match[2] === undefined ? '127.0.0.1' : match[2]), port };
}

function accountsFrom(values: {
  'account-sid'?: string[];
  'auth-token'?: string[];
  'api-key-sid'?: string[];
  'api-key-secret'?: string[];
}): SimulatorAccount[] | undefined {
  const sids = values['account-sid'] ?? [];
  const tokens = values['auth-token'] ?? [];
  const keySids = values['api-key-sid'] ?? [];
  const keySecrets = values['api-key-secret'] ?? [];
  if (sids.length !== tokens.length) {
    throw new Error(`give one --auth-token per --account-sid (got ${sids.length} SIDs and ${tokens.length} tokens)`);
  }
  if (keySids.length !== keySecrets.length) {
    throw new Error(`give one --api-key-secret per --api-key-sid (got ${keySids.length} keys and ${keySecrets.length} secrets)`);
  }
  if (sids.length === 0) {
    if (keySids.length > 0) throw new Error('--api-key-sid needs an --account-sid to belong to');
    return undefined;
  }
  if (sids.length > 1 && keySids.length > sids.length) {
    throw new Error('with several accounts, give at most one API key per account (key i belongs to account i)');
  }
  return sids.map((accountSid, i) => {
    const keys = keySids
      .map((sid, k) => ({ sid, secret: keySecrets[k] ?? '' }))
      .filter((_, k) => (sids.length === 1 ? true : k === i));
    return { accountSid, authToken: tokens[i] ?? '', apiKeys: keys };
  });
}

/** Parses the simulator's command line; throws an Error whose message says what is wrong. */
export function parseSimulatorArgs(argv: readonly string[]): SimulatorCommand {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      'web.listen-address': { type: 'string' },
      'account-sid': { type: 'string', multiple: true },
      'auth-token': { type: 'string', multiple: true },
      'api-key-sid': { type: 'string', multiple: true },
      'api-key-secret': { type: 'string', multiple: true },
      seed: { type: 'string' },
      lag: { type: 'string' },
      order: { type: 'string' },
      'page-token-ttl-ms': { type: 'string' },
      'concurrency-limit': { type: 'string' },
      'public-url': { type: 'string' },
      'partial-summary': { type: 'string' },
      'sdk-sample-seconds': { type: 'string' },
      'late-publication': { type: 'string' },
      'late-seconds': { type: 'string' },
      calls: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return { help: true };
  const order = values.order;
  if (order !== undefined && order !== 'asc' && order !== 'desc') {
    throw new Error(`--order must be asc or desc, got ${JSON.stringify(order)}`);
  }
  const { host, port } = parseListenAddress(values['web.listen-address'] ?? '127.0.0.1:8089');
  const accounts = accountsFrom(values);
  const seed = number('seed', values.seed, 0, true);
  const lag = number('lag', values.lag, 0, false);
  const ttl = number('page-token-ttl-ms', values['page-token-ttl-ms'], 1, false);
  const limit = number('concurrency-limit', values['concurrency-limit'], 1, true);
  const options: SimulatorOptions = {
    host,
    port,
    ...(accounts === undefined ? {} : { accounts }),
    ...(seed === undefined ? {} : { seed }),
    ...(lag === undefined ? {} : { lagSeconds: lag }),
    ...(order === undefined ? {} : { order }),
    ...(ttl === undefined ? {} : { pageTokenTtlMs: ttl }),
    ...(limit === undefined ? {} : { concurrencyLimit: limit }),
    ...(values['public-url'] === undefined ? {} : { publicUrl: values['public-url'] }),
  };
  const variant = variantFlags(values);
  if (Object.keys(variant).length > 0) options.variant = variant;
  return { help: false, options, calls: number('calls', values.calls, 0, true) ?? 0 };
}
