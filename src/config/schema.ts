import { globMatch } from './glob.ts';
import { z } from 'zod';

import { DEFAULTS } from './defaults.ts';
import { DURATION_RULE, formatDuration, parseDuration } from './duration.ts';
import { LISTEN_ADDRESS_RULE, parseListenAddress } from './listen-address.ts';
import { grafanaSchema, qualitySchema } from './quality-schema.ts';
import { httpUrl, intRange, parsePublicBaseUrl } from './rules.ts';
import { Secret } from './secret.ts';
import { DISCOVERY_DIRECTIONS, INGEST_MODES, LOG_FORMATS, LOG_LEVELS } from './types.ts';
import type { AccountConfig, AdminConfig, Config, Credentials, OtlpConfig, StateConfig, StaticCall } from './types.ts';
import { ACCOUNT_SID_RE, API_KEY_SID_RE, CALL_SID_RE } from '../samples/ids.ts';


/** The problem reported when no account is configured, in the file or the environment. */
export const ACCOUNTS_REQUIRED =
  'at least one account is required (or set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)';

// Node fires a timer at once when its delay exceeds 2^31-1 ms (about 24.8 days), so no duration may be longer.
const MAX_DURATION = '24d';
const MAX_DURATION_MS = parseDuration(MAX_DURATION);

// RFC 9110 token characters.
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What the schema needs from outside: reading a `*_file` secret (path as written in the file). */
export interface SchemaDeps {
  /** Returns the file's content with one trailing newline removed; throws a Node fs error when unreadable, `ERR_FILE_TOO_LARGE` past the cap. */
  readSecretFile(path: string): string;
  /** Every metric name, so that a `metrics.include`/`exclude` pattern matching none is an error [not checked]. */
  readonly metricNames?: readonly string[];
  /** Whether a path exists and is not a regular file, symlinks followed (`state.path`) [not checked]. */
  existsAsNonRegularFile?(path: string): boolean;
}

/**
 * The exporter's other routes (mounted in src/http), which the exposition's route, mounted first, would take over:
 * `exact` ones by their path, `below` ones by any path under the prefix, `atOrBelow` ones by the prefix too (the
 * admin API's token check is mounted on `/api/v1` itself). Express matches paths case-insensitively and with or
 * without a trailing slash.
 */
export const RESERVED_ROUTES: readonly ({ readonly exact: string } | { readonly below?: string; readonly atOrBelow?: string; readonly routes: readonly string[] })[] = [
  { exact: '/' },
  { exact: '/-/healthy' },
  { exact: '/-/ready' },
  { exact: '/-/reload' },
  { below: '/calls', routes: ['/calls/{CallSid}'] },
  { atOrBelow: '/api/v1', routes: ['/api/v1/calls', '/api/v1/calls/{CallSid}'] },
  { below: '/webhooks', routes: ['/webhooks/twilio/call-status', '/webhooks/twilio/event-streams/{AccountSid}'] },
];

// Characters path-to-regexp (express's route syntax) gives a meaning: `/*all` would match every path, `/m(x)` throws.
const ROUTE_SYNTAX_RE = /[:*()[\]{}+!\\]/;

// Why a telemetry path cannot be used, or undefined.
function telemetryPathProblem(path: string): string | undefined {
  if (ROUTE_SYNTAX_RE.test(path)) return 'must be a plain path: express reads : * ( ) [ ] { } + ! \\ as route syntax';
  const p = path.toLowerCase().replace(/(?<=.)\/+$/, '');
  for (const r of RESERVED_ROUTES) {
    if ('exact' in r) {
      if (p === r.exact) return `would shadow the route ${r.exact}`;
      continue;
    }
    const prefix = r.below ?? r.atOrBelow ?? '';
    if (!(p.startsWith(`${prefix}/`) || (r.atOrBelow !== undefined && p === prefix))) continue;
    return r.routes.length === 1 ? `would shadow the route ${r.routes[0]}` : `would shadow the routes under ${prefix} (${r.routes.join(', ')})`;
  }
  return undefined;
}

/** The `web` section: where the exporter listens and serves its exposition (needs no secrets, reads no files). */
export const webSchema = z
  .strictObject({
    listen_address: z
      .string()
      .refine(
        (s) => {
          try {
            parseListenAddress(s);
            return true;
          } catch {
            return false;
          }
        },
        { error: LISTEN_ADDRESS_RULE },
      )
      .default(DEFAULTS.listenAddress),
    telemetry_path: z
      .string()
      .regex(/^\/[^?#\s]*$/, { error: 'must be a URL path starting with "/"' })
      .superRefine((path, ctx) => {
        const problem = telemetryPathProblem(path);
        if (problem !== undefined) addProblem(ctx, [], problem);
      })
      .default(DEFAULTS.telemetryPath),
  })
  .transform((w) => ({ listenAddress: w.listen_address, telemetryPath: w.telemetry_path }));

type Ctx = z.core.$RefinementCtx;

function addProblem(ctx: Ctx, path: readonly (string | number)[], message: string): void {
  ctx.addIssue({ code: 'custom', message, path: [...path] });
}

function sid(re: RegExp) {
  return z.string().regex(re, { error: `must match ${re.source}` });
}

const nonEmpty = () => z.string().min(1, { error: 'must not be empty' });

function duration(minMs: number) {
  return z
    .string({
      error: (iss) =>
        typeof iss.input === 'number' || typeof iss.input === 'boolean'
          ? `invalid duration ${String(iss.input)} (${DURATION_RULE})`
          : iss.input === undefined
            ? undefined
            : `must be a duration (${DURATION_RULE})`,
    })
    .transform((s, ctx) => {
      let ms: number;
      try {
        ms = parseDuration(s);
      } catch (err) {
        addProblem(ctx, [], (err as Error).message);
        return z.NEVER;
      }
      if (ms < minMs) addProblem(ctx, [], `must be at least ${formatDuration(minMs)}`);
      if (ms > MAX_DURATION_MS) addProblem(ctx, [], `must be at most ${MAX_DURATION}`);
      return ms;
    });
}

// An API origin: the client appends the versioned paths itself.
const originUrl = () =>
  z.string().transform((s, ctx) => {
    const url = httpUrl(s);
    if (url === null || url.pathname !== '/' || url.search !== '') {
      addProblem(ctx, [], 'must be an http(s) URL with no path, query or credentials');
      return z.NEVER;
    }
    return url.origin;
  });

export { parsePublicBaseUrl } from './rules.ts';

/** The placeholder of `webhooks.shard_peer_url` that a shard's ordinal replaces. */
export const ORDINAL_PLACEHOLDER = '{ordinal}';

// Each replica's own address as a template (`http://exporter-{ordinal}.exporter:9487`), trailing slash stripped; ""
// means unset. With the ordinal put in it must be a base URL as public_url is, so a path can be appended.
const shardPeerUrl = () =>
  z.string().transform((s, ctx) => {
    if (s === '') return '';
    const base = s.includes(ORDINAL_PLACEHOLDER) ? parsePublicBaseUrl(s.replaceAll(ORDINAL_PLACEHOLDER, '0')) : null;
    if (base === null) {
      addProblem(ctx, [], `must be empty or an http(s) URL containing ${ORDINAL_PLACEHOLDER}, with no query, fragment or credentials`);
      return z.NEVER;
    }
    return s.replace(/\/$/, '');
  });

// A base URL that may carry a path prefix (a reverse proxy), trailing slash stripped; "" means unset.
const optionalBaseUrl = () =>
  z.string().transform((s, ctx) => {
    if (s === '') return '';
    const base = parsePublicBaseUrl(s);
    if (base === null) {
      addProblem(ctx, [], 'must be empty or an http(s) URL with no query, fragment or credentials');
      return z.NEVER;
    }
    return base;
  });

const optionalEndpointUrl = () =>
  z.string().refine((s) => s === '' || httpUrl(s) !== null, {
    error: 'must be empty or an http(s) URL with no credentials',
  });

// Reports a problem and returns false when more than one of `keys` is set.
function onlyOne(ctx: Ctx, present: (key: string) => boolean, keys: readonly string[]): boolean {
  const set = keys.filter(present);
  if (set.length > 1) {
    addProblem(ctx, [], `set only one of ${set.join(', ')}`);
    return false;
  }
  return true;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Reports the first credential rule an account breaks: exactly one kind, each secret from exactly one source.
function checkAccountCredentials(a: unknown, ctx: Ctx): void {
  if (!isRecord(a)) return;
  const present = (key: string) => a[key] !== undefined;
  if (!onlyOne(ctx, present, ['auth_token', 'auth_token_file'])) return;
  if (!onlyOne(ctx, present, ['api_key_secret', 'api_key_secret_file'])) return;
  const token = ['auth_token', 'auth_token_file'].find(present);
  const key = ['api_key_sid', 'api_key_secret', 'api_key_secret_file'].find(present);
  if (token !== undefined && key !== undefined) {
    addProblem(ctx, [], `set only one of ${token}, ${key}`);
  } else if (token === undefined && key === undefined) {
    addProblem(ctx, [], 'credentials required: set auth_token, auth_token_file, or api_key_sid with api_key_secret');
  } else if (key !== undefined && !present('api_key_sid')) {
    addProblem(ctx, [], `${key} requires api_key_sid`);
  } else if (key !== undefined && !present('api_key_secret') && !present('api_key_secret_file')) {
    addProblem(ctx, [], 'api_key_sid requires api_key_secret or api_key_secret_file');
  }
}

/**
 * Builds the one declarative schema of the config file: snake_case YAML in, frozen-ready camelCase {@link Config}
 * out. Objects are strict (unknown keys are errors); `*_file` secrets are read through `deps` during parsing.
 */
export function createConfigSchema(deps: SchemaDeps) {
  /** Resolves an inline-or-file secret that the refinements already checked is set at most once. */
  function secret(
    ctx: Ctx,
    inline: string | undefined,
    file: string | undefined,
    fileKey: string,
  ): Secret | undefined {
    if (inline !== undefined) return new Secret(inline);
    if (file === undefined) return undefined;
    let value: string;
    try {
      value = deps.readSecretFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      if (code === 'ERR_FILE_TOO_LARGE') addProblem(ctx, [fileKey], `file ${JSON.stringify(file)} is ${(err as Error).message}`);
      else addProblem(ctx, [fileKey], `cannot read ${JSON.stringify(file)} (${code})`);
      return undefined;
    }
    if (value === '') {
      addProblem(ctx, [fileKey], `file ${JSON.stringify(file)} is empty`);
      return undefined;
    }
    return new Secret(value);
  }

  const account = z
    .strictObject({
      account_sid: sid(ACCOUNT_SID_RE),
      name: nonEmpty().optional(),
      auth_token: nonEmpty().optional(),
      auth_token_file: nonEmpty().optional(),
      api_key_sid: sid(API_KEY_SID_RE).optional(),
      api_key_secret: nonEmpty().optional(),
      api_key_secret_file: nonEmpty().optional(),
      insights_base_url: originUrl().prefault(DEFAULTS.insightsBaseUrl),
      api_base_url: originUrl().prefault(DEFAULTS.apiBaseUrl),
      events_base_url: originUrl().prefault(DEFAULTS.eventsBaseUrl),
      max_concurrent_requests: intRange(1, 100).default(DEFAULTS.maxConcurrentRequests),
      ingest_mode: z.enum(INGEST_MODES).default(DEFAULTS.ingestMode),
    })
    // Reads the keys as written, so it runs even when another key of the account failed: every problem in one pass.
    .superRefine(checkAccountCredentials, { when: (payload) => isRecord(payload.value) })
    .superRefine((a, ctx) => {
      // Event Streams signs with the Auth Token, even where REST uses an API key.
      if (a.ingest_mode !== 'poll' && a.auth_token === undefined && a.auth_token_file === undefined) {
        addProblem(ctx, ['ingest_mode'], `${a.ingest_mode} needs auth_token or auth_token_file: Event Streams signs deliveries with the Auth Token`);
      }
    })
    .transform((a, ctx): AccountConfig => {
      const token = secret(ctx, a.auth_token, a.auth_token_file, 'auth_token_file');
      const keySecret = secret(ctx, a.api_key_secret, a.api_key_secret_file, 'api_key_secret_file');
      let credentials: Credentials;
      if (token !== undefined) {
        credentials = { kind: 'auth_token', username: a.account_sid, password: token };
      } else if (a.api_key_sid !== undefined && keySecret !== undefined) {
        credentials = { kind: 'api_key', username: a.api_key_sid, password: keySecret };
      } else {
        return z.NEVER; // a secret file failed to read; its problem is already reported
      }
      return {
        accountSid: a.account_sid,
        name: a.name ?? a.account_sid,
        credentials,
        insightsBaseUrl: a.insights_base_url,
        apiBaseUrl: a.api_base_url,
        eventsBaseUrl: a.events_base_url,
        maxConcurrentRequests: a.max_concurrent_requests,
        ingestMode: a.ingest_mode,
      };
    });

  // A bare "CA…" string belongs to the only account; the root transform resolves it.
  const call = z.union(
    [
    sid(CALL_SID_RE).transform((callSid) => ({ callSid, accountSid: undefined })),
    z
      .strictObject({ call_sid: sid(CALL_SID_RE), account_sid: sid(ACCOUNT_SID_RE) })
      .transform((c) => ({ callSid: c.call_sid, accountSid: c.account_sid })),
    ],
    { error: 'must be a CallSid or a mapping with call_sid and account_sid' },
  );

  const discovery = z
    .strictObject({
      enabled: z.boolean().default(DEFAULTS.discoveryEnabled),
      interval: duration(1000).prefault(DEFAULTS.discoveryInterval),
      directions: z.array(z.enum(DISCOVERY_DIRECTIONS)).default([]),
      from_prefix: z.string().default(''),
      to_prefix: z.string().default(''),
    })
    .transform((d) => ({
      enabled: d.enabled,
      intervalMs: d.interval,
      directions: d.directions,
      fromPrefix: d.from_prefix,
      toPrefix: d.to_prefix,
    }));

  const webhooks = z
    .strictObject({
      enabled: z.boolean().default(DEFAULTS.webhooksEnabled),
      public_url: optionalBaseUrl().prefault(''),
      shard_peer_url: shardPeerUrl().prefault(''),
    })
    // A forwarded callback reaches the owner at its own address, not at the URL Twilio signed: the owner can only
    // check the signature against the URL configured as the one Twilio calls.
    .superRefine((w, ctx) => {
      if (w.shard_peer_url !== '' && w.public_url === '') {
        addProblem(ctx, ['shard_peer_url'], 'needs webhooks.public_url, the URL Twilio calls, which the shard owning a call checks a forwarded callback\'s signature against');
      }
    })
    .transform((w) => ({ enabled: w.enabled, publicUrl: w.public_url, shardPeerUrl: w.shard_peer_url }));

  const eventStreams = z
    .strictObject({
      hybrid_gap: duration(1000).prefault(DEFAULTS.hybridGap),
      silence_timeout: duration(1000).prefault(DEFAULTS.pushSilenceTimeout),
      max_body_bytes: intRange(1024, 256 * 1024 * 1024).default(DEFAULTS.eventStreamsMaxBodyBytes),
    })
    .transform((e) => ({ hybridGapMs: e.hybrid_gap, silenceTimeoutMs: e.silence_timeout, maxBodyBytes: e.max_body_bytes }));

  const admin = z
    .strictObject({
      bearer_token: nonEmpty().optional(),
      bearer_token_file: nonEmpty().optional(),
    })
    .superRefine((a: unknown, ctx) => {
      if (isRecord(a)) onlyOne(ctx, (k) => a[k] !== undefined, ['bearer_token', 'bearer_token_file']);
    })
    .transform((a, ctx): AdminConfig => {
      const bearerToken = secret(ctx, a.bearer_token, a.bearer_token_file, 'bearer_token_file');
      return bearerToken === undefined ? {} : { bearerToken };
    });

  const otlp = z
    .strictObject({
      endpoint: optionalEndpointUrl().default(''),
      headers: z.record(z.string(), z.string()).default({}),
      export_interval: duration(1000).prefault(DEFAULTS.otlpExportInterval),
      export_timeout: duration(1).prefault(DEFAULTS.otlpExportTimeout),
      service_name: nonEmpty().default(DEFAULTS.otlpServiceName),
    })
    .transform((o, ctx): OtlpConfig => {
      const headers: Record<string, Secret> = {};
      for (const [name, value] of Object.entries(o.headers)) {
        if (!HEADER_NAME_RE.test(name)) addProblem(ctx, ['headers', name], 'must be a valid HTTP header name');
        else if (/[\r\n\0]/.test(value)) addProblem(ctx, ['headers', name], 'must not contain line breaks');
        else headers[name] = new Secret(value);
      }
      // The OpenTelemetry periodic reader refuses a timeout longer than its interval.
      if (o.export_timeout > o.export_interval) {
        addProblem(ctx, ['export_timeout'], 'must not exceed otlp.export_interval');
      }
      return {
        endpoint: o.endpoint,
        headers,
        exportIntervalMs: o.export_interval,
        exportTimeoutMs: o.export_timeout,
        serviceName: o.service_name,
      };
    });


  // Names or `*` globs of exposed metrics; a pattern matching no metric is a typo, so it is an error.
  // The names come from the metrics table through the caller: config is a leaf stage and imports no other.
  const metricNames = deps.metricNames;
  const metricPattern = z.string().refine((p) => metricNames === undefined || metricNames.some((n) => globMatch(p, n)), {
    error: 'matches no metric (see the metrics table in the README)',
  });
  const metrics = z
    .strictObject({
      include: z.array(metricPattern).default([]),
      exclude: z.array(metricPattern).default([]),
    })
    .transform((m) => ({ include: m.include, exclude: m.exclude }));

  const state = z
    .strictObject({
      // Saving renames a new file over the path: over a device, a FIFO or a directory that would destroy it.
      path: z
        .string()
        .refine((p) => p === '' || deps.existsAsNonRegularFile?.(p) !== true, { error: (iss) => `${JSON.stringify(iss.input)} exists and is not a regular file` })
        .default(''),
      flush_interval: duration(100).prefault(DEFAULTS.stateFlushInterval),
    })
    .transform((s): StateConfig => ({ path: s.path, flushIntervalMs: s.flush_interval }));

  const log = z.strictObject({
    level: z.enum(LOG_LEVELS).default(DEFAULTS.logLevel),
    format: z.enum(LOG_FORMATS).default(DEFAULTS.logFormat),
  });

  return z
    .strictObject({
      accounts: z
        .array(account, { error: (iss) => (iss.input === undefined ? ACCOUNTS_REQUIRED : undefined) })
        .min(1, { error: ACCOUNTS_REQUIRED }),
      calls: z.array(call).default([]),
      poll_interval: duration(1000).prefault(DEFAULTS.pollInterval),
      request_timeout: duration(1).prefault(DEFAULTS.requestTimeout),
      page_size: intRange(1, 1000).default(DEFAULTS.pageSize),
      max_calls: intRange(1, 1_000_000).default(DEFAULTS.maxCalls),
      max_clock_skew: duration(0).prefault(DEFAULTS.maxClockSkew),
      call_retention: duration(0).prefault(DEFAULTS.callRetention),
      drain_period: duration(0).prefault(DEFAULTS.drainPeriod),
      /** How long a polled, active call may go without a new sample before its Call Summary is asked whether it ended; 0 never asks [3m]. */
      end_check_after: duration(0).prefault(DEFAULTS.endCheckAfter),
      backfill: z.boolean().default(DEFAULTS.backfill),
      /** How late after newer samples of its stream a sample may be published and still be counted once; an older never-seen one is refused and counted as too late [10m]. */
      max_sample_lateness: duration(1000).prefault(DEFAULTS.maxSampleLateness),
      per_call_series: z.boolean().default(DEFAULTS.perCallSeries),
      metrics: metrics.prefault({}),
      discovery: discovery.prefault({}),
      webhooks: webhooks.prefault({}),
      event_streams: eventStreams.prefault({}),
      admin: admin.prefault({}),
      otlp: otlp.prefault({}),
      web: webSchema.prefault({}),
      log: log.prefault({}),
      state: state.prefault({}),
      quality: qualitySchema.prefault({}),
      grafana: grafanaSchema.prefault({}),
    })
    // Runs even when other keys failed, so a file's duplicate account and its bad duration are told in one pass;
    // it reads the parsed entries where they parsed and the raw SIDs where they did not.
    .superRefine((c, ctx) => void resolveCalls(c as Partial<Record<'accounts' | 'calls', unknown>>, (path, message) => addProblem(ctx, path, message)), {
      when: (payload) => typeof payload.value === 'object' && payload.value !== null,
    })
    .transform((c): Config => {
      // Every problem was reported by the check above, which let nothing through.
      const calls = resolveCalls(c, () => undefined);
      return {
        accounts: c.accounts,
        calls,
        pollIntervalMs: c.poll_interval,
        requestTimeoutMs: c.request_timeout,
        pageSize: c.page_size,
        maxCalls: c.max_calls,
        maxClockSkewMs: c.max_clock_skew,
        callRetentionMs: c.call_retention,
        drainPeriodMs: c.drain_period,
        endCheckAfterMs: c.end_check_after,
        maxSampleLatenessMs: c.max_sample_lateness,
        backfill: c.backfill,
        perCallSeries: c.per_call_series,
        metrics: c.metrics,
        discovery: c.discovery,
        webhooks: c.webhooks,
        eventStreams: c.event_streams,
        admin: c.admin,
        otlp: c.otlp,
        web: c.web,
        log: c.log,
        state: c.state,
        quality: c.quality,
        grafana: c.grafana,
      };
    });
}


// The SID of an entry of `accounts` or `calls` as the cross-entry check sees it: parsed (camelCase) or, where the
// entry's own schema failed, as written. A SID failing its own pattern is left out: its own problem names it.
function sidOf(entry: unknown, parsedKey: 'accountSid' | 'callSid', rawKey: string): string | undefined {
  const re = parsedKey === 'callSid' ? CALL_SID_RE : ACCOUNT_SID_RE;
  if (typeof entry === 'string') return parsedKey === 'callSid' && re.test(entry) ? entry : undefined;
  if (typeof entry !== 'object' || entry === null) return undefined;
  const e = entry as Record<string, unknown>;
  const v = e[parsedKey] ?? e[rawKey];
  return typeof v === 'string' && re.test(v) ? v : undefined;
}

/**
 * The checks across entries: no account twice, every call's account configured (a bare CallSid needs exactly one
 * account), no call twice. Reports each problem through `problem`, and returns the static calls with their accounts.
 */
function resolveCalls(c: Partial<Record<'accounts' | 'calls', unknown>>, problem: (path: readonly (string | number)[], message: string) => void): StaticCall[] {
  const accounts = Array.isArray(c.accounts) ? (c.accounts as unknown[]) : [];
  const entries = Array.isArray(c.calls) ? (c.calls as unknown[]) : [];
  const accountIndex = new Map<string, number>();
  accounts.forEach((a, i) => {
    const accountSid = sidOf(a, 'accountSid', 'account_sid');
    if (accountSid === undefined) return;
    const first = accountIndex.get(accountSid);
    if (first === undefined) accountIndex.set(accountSid, i);
    else problem(['accounts', i, 'account_sid'], `duplicate of accounts[${first}]`);
  });
  const calls: StaticCall[] = [];
  const callIndex = new Map<string, number>();
  entries.forEach((entry, i) => {
    const callSid = sidOf(entry, 'callSid', 'call_sid');
    if (callSid === undefined) return;
    let accountSid = sidOf(entry, 'accountSid', 'account_sid');
    if (accountSid === undefined) {
      const only = accounts.length === 1 ? sidOf(accounts[0], 'accountSid', 'account_sid') : undefined;
      if (accounts.length !== 1) {
        problem(['calls', i], `a bare CallSid needs exactly one configured account (found ${accounts.length}); write {call_sid, account_sid}`);
        return;
      }
      if (only === undefined) return;
      accountSid = only;
    } else if (!accountIndex.has(accountSid)) {
      problem(['calls', i, 'account_sid'], 'must be one of the configured accounts');
      return;
    }
    const first = callIndex.get(callSid);
    if (first !== undefined) {
      problem(['calls', i], `duplicate of calls[${first}]`);
      return;
    }
    callIndex.set(callSid, i);
    calls.push({ callSid, accountSid });
  });
  return calls;
}

/** The config schema type, for code that walks its shape. */
export type ConfigSchema = ReturnType<typeof createConfigSchema>;
