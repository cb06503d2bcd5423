import type { RouteName } from './routes.ts';
import type { RandomSource } from './seeded-random.ts';
import { seededRandom } from './seeded-random.ts';

/** Ways a single metric record can be corrupted by the `corruptRecordRate` fault. */
export const CORRUPTION_KINDS = ['wrong_type', 'nan_string', 'negative_counter', 'unknown_edge', 'bad_timestamp'] as const;
/** One way of corrupting a record. */
export type CorruptionKind = (typeof CORRUPTION_KINDS)[number];

/** Fault injection knobs. Rates are probabilities 0..1 drawn per request (per record for corruption). */
export interface FaultConfig {
  /** Seed of the fault dice, so a run replays identically. Default: the simulator seed. */
  readonly seed: number;
  /** Random 429/20429 (on top of the concurrency limit). */
  readonly rate429: number;
  /** `Retry-After` seconds on random 429s; null sends none. */
  readonly retryAfter429Seconds: number | null;
  /** Random 500 (code 20500). */
  readonly rate500: number;
  /** Random 503 (code 20503). */
  readonly rate503: number;
  /** Added latency, ms, applied with probability `latencyRate`. */
  readonly latencyMs: number;
  /** Probability of the added latency. Default 1. */
  readonly latencyRate: number;
  /** Probability that a request is held for `timeoutHoldMs` (longer than a client's timeout). */
  readonly timeoutRate: number;
  /** How long a timed-out request is held, ms. Default 31 000 (past twilio-node's 30 s). */
  readonly timeoutHoldMs: number;
  /** After the hold: `drop` the connection, or `answer` normally. Default `drop`. */
  readonly timeoutAction: 'drop' | 'answer';
  /** Probability that a 200 body is cut short into invalid JSON. */
  readonly truncateRate: number;
  /** Probability, per metric record, that one of its fields is corrupted. */
  readonly corruptRecordRate: number;
  /** Which corruptions to draw from. Default all. */
  readonly corruptKinds: readonly CorruptionKind[];
  /** Probability that the connection is reset (socket destroyed) without an answer. */
  readonly resetRate: number;
  /** Routes the faults apply to; null means every public route. */
  readonly routes: readonly RouteName[] | null;
  /** Calls the faults apply to (per-call routes only); null means every call. */
  readonly callSids: readonly string[] | null;
}

/** No faults at all. */
export function noFaults(seed: number): FaultConfig {
  return {
    seed,
    rate429: 0,
    retryAfter429Seconds: null,
    rate500: 0,
    rate503: 0,
    latencyMs: 0,
    latencyRate: 1,
    timeoutRate: 0,
    timeoutHoldMs: 31_000,
    timeoutAction: 'drop',
    truncateRate: 0,
    corruptRecordRate: 0,
    corruptKinds: CORRUPTION_KINDS,
    resetRate: 0,
    routes: null,
    callSids: null,
  };
}

/** What the dice decided for one request. */
export interface FaultDecision {
  /** Destroy the socket without answering. */
  readonly reset: boolean;
  /** Extra delay before answering, ms. */
  readonly latencyMs: number;
  /** Hold the request this long, then act; 0 for no hold. */
  readonly holdMs: number;
  /** What to do after a hold. */
  readonly holdAction: 'drop' | 'answer';
  /** Answer with this error status instead of the resource. */
  readonly errorStatus: 429 | 500 | 503 | null;
  /** `Retry-After` for an injected 429. */
  readonly retryAfterSeconds: number | null;
  /** Cut the 200 body short. */
  readonly truncate: boolean;
  /** Per-record corruption probability for this response. */
  readonly corruptRecordRate: number;
}

const NO_DECISION: FaultDecision = {
  reset: false,
  latencyMs: 0,
  holdMs: 0,
  holdAction: 'drop',
  errorStatus: null,
  retryAfterSeconds: null,
  truncate: false,
  corruptRecordRate: 0,
};

/** Holds the fault configuration and rolls its seeded dice, one fixed sequence of draws per request. */
export class FaultInjector {
  #config: FaultConfig;
  #random: RandomSource;

  /** Starts with a configuration (usually no faults). */
  constructor(config: FaultConfig) {
    this.#config = config;
    this.#random = seededRandom(config.seed);
  }

  /** The current configuration. */
  config(): FaultConfig {
    return this.#config;
  }

  /** Replaces the configuration and restarts the dice from its seed. */
  configure(config: FaultConfig): void {
    this.#config = config;
    this.#random = seededRandom(config.seed);
  }

  /** The random source for per-record decisions of the current response. */
  random(): number {
    return this.#random();
  }

  /** Decides the faults of one request to `route` (for `callSid`, when the route is per call). */
  decide(route: RouteName, callSid: string | undefined): FaultDecision {
    const c = this.#config;
    if (c.routes !== null && !c.routes.includes(route)) return NO_DECISION;
    if (c.callSids !== null && (callSid === undefined || !c.callSids.includes(callSid))) return NO_DECISION;
    // Always draw every die, so changing one rate does not shift the others' sequence.
    const [reset, latency, hold, tooMany, error, truncate] = [1, 2, 3, 4, 5, 6].map(() => this.#random()) as [
      number, number, number, number, number, number,
    ];
    let errorStatus: FaultDecision['errorStatus'] = null;
    if (tooMany < c.rate429) errorStatus = 429;
    else if (error < c.rate500) errorStatus = 500;
    else if (error < c.rate500 + c.rate503) errorStatus = 503;
    return {
      reset: reset < c.resetRate,
      latencyMs: latency < c.latencyRate ? c.latencyMs : 0,
      holdMs: hold < c.timeoutRate ? c.timeoutHoldMs : 0,
      holdAction: c.timeoutAction,
      errorStatus,
      retryAfterSeconds: errorStatus === 429 ? c.retryAfter429Seconds : null,
      truncate: truncate < c.truncateRate,
      corruptRecordRate: c.corruptRecordRate,
    };
  }
}
