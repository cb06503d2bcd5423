import type { CallType, Direction, Edge } from '../samples/sample.ts';
import { CALL_TYPES, EDGES } from '../samples/sample.ts';
import type { SimulatorAccount } from './accounts.ts';
import { AccountRegistry } from './accounts.ts';
import { ConcurrencyTracker } from './concurrency.ts';
import { DEMO_ACCOUNT } from './demo-account.ts';
import type { FaultConfig } from './faults.ts';
import { FaultInjector, noFaults } from './faults.ts';
import { hashString, unitAt } from './hash.ts';
import type { LedgerSnapshot } from './ledger.ts';
import { Ledger } from './ledger.ts';
import type { MetricRecord } from './metric-record.ts';
import type { MetricSequence } from './metric-sequence.ts';
import { metricSequence } from './metric-sequence.ts';
import { edgeDirections } from '../samples/sample.ts';
import type { Cursor } from './page-selection.ts';
import { PageTokenCodec } from './page-token.ts';
import { StreamCheckpoints } from './stream-checkpoints.ts';
import type { SimCall } from './sim-call.ts';
import { callEdges, callStatusAt, visibleSampleCount } from './sim-call.ts';
import { deterministicSid, isCallSid } from './sid.ts';
import { ApiError } from './twilio-error.ts';
import type { SimulatorVariant } from './variant.ts';
import { DEFAULT_VARIANT } from './variant.ts';
import { sampleIntervalMs, streamVisibility } from './visibility.ts';

/** Options of the in-process model (the HTTP server adds host, port and public URL). */
export interface SimulatorModelOptions {
  /** Accounts served. Default: the demo account with its API key. */
  accounts?: SimulatorAccount[];
  /** Seed of every generated value. Default 1. */
  seed?: number;
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Visibility lag of samples, seconds. Default 90. */
  lagSeconds?: number;
  /** Metrics sort order. Default `asc`. */
  order?: SimulatorVariant['order'];
  /** Page token lifetime, ms; null or absent: no expiry. */
  pageTokenTtlMs?: number | null;
  /** In-flight requests per account before 429. Default 100. */
  concurrencyLimit?: number;
  /** `Retry-After` seconds on concurrency 429s; absent: none. */
  retryAfterSeconds?: number | null;
  /** PageSize outside 1..1000: `reject` (default) or `clamp`. */
  pageSizeMode?: SimulatorVariant['pageSizeMode'];
  /** Delay from call end to a complete summary, seconds. Default 1800. */
  summaryDelaySeconds?: number;
  /** Any other variant setting at start (applied after the single options above). */
  variant?: Partial<SimulatorVariant>;
}

/** Input of `createCall`. */
export interface CreateCallInput {
  /** Voice Insights call type. */
  type: CallType;
  /** Owning account. Default: the first configured account. */
  accountSid?: string;
  /** Call SID to use. Default: a deterministic one. */
  sid?: string;
  /** The call ends this long after it is answered; absent: it runs until `endCall`. */
  durationSeconds?: number;
  /** The call was created this long ago, so its history exists at once. Default 0. */
  ageSeconds?: number;
  /** Seconds between creation and answer (status `ringing`). Default 0. */
  ringingSeconds?: number;
  /** Frequent, severe quality episodes. Default false. */
  degraded?: boolean;
  /** `seconds` gives `…:10Z` timestamps, `milliseconds` `…:10.123Z`. Default: chosen per call. */
  timestampPrecision?: 'seconds' | 'milliseconds';
  /** Codec name served instead of the derived one (any string: tests send hostile ones). */
  codecName?: string;
  /** Media region served instead of the derived one (any string). */
  region?: string;
}

/** Voice Insights settings of one account (`GET /v1/Voice/Settings`). */
export interface AccountSettings {
  /** Advanced Features on; when off, per-call Insights routes answer 403/17000. */
  advancedFeatures: boolean;
  /** Voice Trace on. */
  voiceTrace: boolean;
}

/** A filter on a call's samples. */
export interface SampleFilter {
  /** Only this edge. */
  edge?: Edge;
  /** Only this direction. */
  direction?: Direction;
}

const EDGE_ORDER = new Map(EDGES.map((edge, rank) => [edge, rank]));

/**
 * The in-process Twilio model: accounts, calls and their lazily computed samples, the runtime
 * variant, faults, page tokens, concurrency and the ledger. The HTTP layer only translates.
 */
export class Simulator {
  /** Seed of every generated value. */
  readonly seed: number;
  /** The configured accounts and their credentials. */
  readonly accounts: AccountRegistry;
  /** In-flight requests per account. */
  readonly concurrency = new ConcurrencyTracker();
  /** Fault configuration and dice. */
  readonly faults: FaultInjector;
  /** Served samples and request counts. */
  readonly ledgerStore = new Ledger();
  /** Running totals of recently read streams, so polling the tail of a long call stays cheap. */
  readonly checkpoints = new StreamCheckpoints();
  readonly #clock: () => number;
  readonly #startVariant: SimulatorVariant;
  #variant: SimulatorVariant;
  readonly #calls = new Map<string, SimCall>();
  readonly #settings = new Map<string, AccountSettings>();
  readonly #tokens: PageTokenCodec;
  #tokenEpoch = 0;
  #nextSeq = 0;

  /** Builds the model; throws on a bad account list. */
  constructor(options: SimulatorModelOptions = {}) {
    this.seed = options.seed ?? 1;
    this.#clock = options.now ?? Date.now;
    this.accounts = new AccountRegistry(
      options.accounts ?? [
        {
          accountSid: DEMO_ACCOUNT.accountSid,
          authToken: DEMO_ACCOUNT.authToken,
          apiKeys: [{ sid: DEMO_ACCOUNT.apiKeySid, secret: DEMO_ACCOUNT.apiKeySecret }],
        },
      ],
    );
    for (const sid of this.accounts.accountSids()) this.#settings.set(sid, { advancedFeatures: true, voiceTrace: false });
    this.#startVariant = {
      ...DEFAULT_VARIANT,
      ...(options.lagSeconds === undefined ? {} : { lagSeconds: options.lagSeconds }),
      ...(options.order === undefined ? {} : { order: options.order }),
      ...(options.pageTokenTtlMs === undefined ? {} : { pageTokenTtlMs: options.pageTokenTtlMs }),
      ...(options.concurrencyLimit === undefined ? {} : { concurrencyLimit: options.concurrencyLimit }),
      ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }),
      ...(options.pageSizeMode === undefined ? {} : { pageSizeMode: options.pageSizeMode }),
      ...(options.summaryDelaySeconds === undefined ? {} : { summaryDelaySeconds: options.summaryDelaySeconds }),
      ...options.variant,
    };
    this.#variant = this.#startVariant;
    this.faults = new FaultInjector(noFaults(this.seed));
    this.#tokens = new PageTokenCodec(`simulator-${this.seed}-${hashString(String(this.#clock()))}`);
  }

  /** The simulator clock, epoch ms. */
  now(): number {
    return this.#clock();
  }

  /** The current variant. */
  variant(): SimulatorVariant {
    return this.#variant;
  }

  /** Replaces the variant: the start options, overridden by `patch` (so `{}` restores the start). */
  setVariant(patch: Partial<SimulatorVariant>): SimulatorVariant {
    this.#variant = { ...this.#startVariant, ...patch };
    return this.#variant;
  }

  /** Replaces the fault configuration: no faults, overridden by `patch` (so `{}` turns faults off). */
  setFaults(patch: Partial<FaultConfig>): FaultConfig {
    this.faults.configure({ ...noFaults(this.seed), ...patch });
    return this.faults.config();
  }

  /** Makes every page token issued so far invalid (a forced cursor reset). Returns the new epoch. */
  invalidateTokens(): number {
    this.#tokenEpoch += 1;
    return this.#tokenEpoch;
  }

  /** Issues a page token for a position in a list sorted in `order` (default: the metrics order). */
  issueToken(scope: string, cursor: Cursor, order = this.#variant.order): string {
    return this.#tokens.encode({ scope, cursor, order, epoch: this.#tokenEpoch, issuedMs: this.now() });
  }

  /**
   * The position a page token stands for. Throws 400 (code `pageTokenErrorCode`) when the token is
   * not ours, belongs to another list or sort order, was invalidated, or is older than the TTL.
   */
  readToken(scope: string, token: string, order = this.#variant.order): Cursor {
    const code = this.#variant.pageTokenErrorCode;
    const payload = this.#tokens.decode(token);
    if (payload === undefined || !PageTokenCodec.inScope(payload, scope)) {
      throw new ApiError(400, code, `Invalid PageToken: ${token} is not a page token of this list`);
    }
    if (payload.order !== order) {
      throw new ApiError(400, code, 'Invalid PageToken: the sort order changed since it was issued');
    }
    if (payload.epoch !== this.#tokenEpoch) {
      throw new ApiError(400, code, 'Invalid PageToken: the page token is no longer valid, start again from the first page');
    }
    const ttl = this.#variant.pageTokenTtlMs;
    if (ttl !== null && this.now() - payload.issuedMs > ttl) {
      throw new ApiError(400, code, `Invalid PageToken: the page token expired (older than ${ttl} ms)`);
    }
    return payload.cursor;
  }

  /** Creates a call. Throws a plain Error with a clear message on bad input. */
  createCall(input: CreateCallInput): SimCall {
    if (!CALL_TYPES.includes(input.type)) throw new Error(`type must be one of ${CALL_TYPES.join(', ')}`);
    const accountSid = input.accountSid ?? this.accounts.accountSids()[0] ?? '';
    if (!this.accounts.has(accountSid)) throw new Error(`account_sid ${accountSid} is not a configured account`);
    for (const [name, value] of [
      ['duration_seconds', input.durationSeconds],
      ['age_seconds', input.ageSeconds],
      ['ringing_seconds', input.ringingSeconds],
    ] as const) {
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new Error(`${name} must be a number >= 0`);
    }
    const seq = this.#nextSeq++;
    let sid = input.sid;
    if (sid === undefined) {
      for (let attempt = 0; sid === undefined || this.#calls.has(sid); attempt++) {
        sid = deterministicSid('CA', `${this.seed}|call|${attempt}`, seq);
      }
    } else if (!isCallSid(sid)) {
      throw new Error('sid must match ^CA[0-9a-fA-F]{32}$');
    } else if (this.#calls.has(sid)) {
      throw new Error(`call ${sid} already exists`);
    }
    const key = hashString(`${this.seed}|${sid}`);
    const precision = input.timestampPrecision ?? (unitAt(key, 0, 1) < 0.5 ? 'seconds' : 'milliseconds');
    // Whole-second calls start on a whole second (so their timestamps have no fraction); the
    // others keep their milliseconds. Rounding down keeps "N seconds old" at N seconds or more.
    const toPrecision = (ms: number): number => (precision === 'seconds' ? Math.floor(ms / 1000) * 1000 : ms);
    const createdMs = toPrecision(this.now() - Math.round((input.ageSeconds ?? 0) * 1000));
    const startMs = toPrecision(createdMs + Math.round((input.ringingSeconds ?? 0) * 1000));
    const call: SimCall = {
      sid,
      accountSid,
      type: input.type,
      seq,
      createdMs,
      startMs,
      endMs: input.durationSeconds === undefined ? undefined : startMs + Math.round(input.durationSeconds * 1000),
      degraded: input.degraded ?? false,
      from: partyAddress(input.type, key, 'from'),
      to: partyAddress(input.type, key, 'to'),
      ...(input.codecName !== undefined && { codecName: input.codecName }),
      ...(input.region !== undefined && { region: input.region }),
    };
    this.#calls.set(sid, call);
    return call;
  }

  /** Ends a call now (if it has not ended already); its sample set freezes. Throws if unknown. */
  endCall(sid: string): SimCall {
    const call = this.#calls.get(sid);
    if (call === undefined) throw new Error(`call ${sid} does not exist`);
    const now = this.now();
    if (call.endMs === undefined || call.endMs > now) call.endMs = now;
    return call;
  }

  /** A call by SID. */
  getCall(sid: string): SimCall | undefined {
    return this.#calls.get(sid);
  }

  /** Every call, oldest first. */
  listCalls(): SimCall[] {
    return [...this.#calls.values()];
  }

  /** Visible samples per 10 s stream of a call now (on time; late publication and SDK cadence aside). */
  visibleCount(call: SimCall): number {
    return visibleSampleCount(call, this.now(), this.#variant.lagSeconds * 1000);
  }

  /**
   * The visible samples of some directions of one edge of a call now, as a lazy sequence in key
   * order (cadence and late publication as the variant says).
   */
  edgeSequence(call: SimCall, edge: Edge, directions: readonly Direction[]): MetricSequence {
    const variant = this.#variant;
    const now = this.now();
    const streams = directions.map((direction) => ({
      direction,
      visibility: streamVisibility(this.seed, call, edge, direction, now, variant),
    }));
    return metricSequence(this.seed, call, edge, streams, { checkpoints: this.checkpoints, intervalMs: sampleIntervalMs(edge, variant) });
  }

  /**
   * Every sample of a call visible now, as wire records, in (timestamp, edge, direction) order.
   * Without an edge filter all the call's edges are included (the API itself returns one edge).
   */
  visibleSamples(sid: string, filter: SampleFilter = {}): MetricRecord[] {
    const call = this.#calls.get(sid);
    if (call === undefined) throw new Error(`call ${sid} does not exist`);
    const edges = callEdges(call).filter((edge) => filter.edge === undefined || edge === filter.edge);
    const all: MetricRecord[] = [];
    for (const edge of edges) {
      const directions = edgeDirections(edge).filter((d) => filter.direction === undefined || d === filter.direction);
      const sequence = this.edgeSequence(call, edge, directions);
      all.push(...sequence.records(Array.from({ length: sequence.length }, (_, p) => p)).records);
    }
    // ISO strings of one call share a format, so they sort as text.
    return all.sort(
      (a, b) =>
        a.timestamp.localeCompare(b.timestamp) ||
        (EDGE_ORDER.get(a.edge) ?? 0) - (EDGE_ORDER.get(b.edge) ?? 0) ||
        (a.direction === b.direction ? 0 : a.direction === 'inbound' ? -1 : 1),
    );
  }

  /** The Voice Insights settings of an account. */
  settings(accountSid: string): AccountSettings {
    const settings = this.#settings.get(accountSid);
    if (settings === undefined) throw new Error(`account ${accountSid} is not configured`);
    return settings;
  }

  /** Changes an account's Voice Insights settings. */
  updateSettings(accountSid: string, patch: Partial<AccountSettings>): AccountSettings {
    const next = { ...this.settings(accountSid), ...patch };
    this.#settings.set(accountSid, next);
    return next;
  }

  /** The ledger: distinct samples served per stream, request counts, peak concurrency. */
  ledger(): LedgerSnapshot {
    return this.ledgerStore.snapshot(this.concurrency.peaks());
  }

  /** Clears the ledger and the concurrency peaks. */
  resetStats(): void {
    this.ledgerStore.reset();
    this.concurrency.resetPeaks();
  }

  /** The 2010 status of a call now. */
  statusOf(call: SimCall): ReturnType<typeof callStatusAt> {
    return callStatusAt(call, this.now());
  }
}

/** A fictional party address (555 numbers, example.com SIP URIs, client identities). */
function partyAddress(type: CallType, key: number, side: 'from' | 'to'): string {
  const digits = String(Math.floor(unitAt(key, side === 'from' ? 1 : 2, 7) * 10_000)).padStart(4, '0');
  const phone = `+1555010${digits}`.slice(0, 12);
  if (type === 'client' && side === 'from') return `client:agent-${digits}`;
  if (type === 'sip' && side === 'to') return `sip:desk-${digits}@sip.example.com`;
  return phone;
}
