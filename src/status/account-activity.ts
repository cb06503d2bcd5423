import { isCircuitRefusal } from '../poller/account-policy.ts';
import type { RequestEvent } from '../twilio/client.ts';
import { summarizeError } from './poll-log.ts';
import type { ErrorSummary } from './poll-log.ts';

const WINDOW_S = 60;

/** What the status page shows of one account. */
export interface AccountView {
  readonly accountSid: string;
  /** What `twilio_insights_exporter_up` says (the exporter's self telemetry sets both), undefined until it is first set. */
  readonly up: boolean | undefined;
  readonly circuitOpen: boolean;
  /** The latest failure Twilio or the network gave, with when it happened; the open circuit's refusals never replace it. */
  readonly lastError?: ErrorSummary & { readonly atMs: number };
  /** Requests per second over the last minute. */
  readonly requestRate: number;
  /** 429 answers in the last minute and since start. */
  readonly rateLimitedLastMinute: number;
  readonly rateLimitedTotal: number;
}

interface Activity {
  up: boolean | undefined;
  circuitOpen: boolean;
  lastError: (ErrorSummary & { atMs: number }) | undefined;
  // Per-second buckets over the last minute, indexed by epoch second modulo WINDOW_S.
  readonly requests: Uint32Array;
  readonly limited: Uint32Array;
  readonly stamps: Float64Array;
  limitedTotal: number;
}

/** Per-account request activity for the status page, fed by the client's request events and the policy. */
export class AccountActivity {
  readonly #now: () => number;
  readonly #accounts = new Map<string, Activity>();

  /** Tracks the given accounts. */
  constructor(accountSids: readonly string[], now: () => number) {
    this.#now = now;
    for (const sid of accountSids) {
      this.#accounts.set(sid, {
        up: undefined,
        circuitOpen: false,
        lastError: undefined,
        requests: new Uint32Array(WINDOW_S),
        limited: new Uint32Array(WINDOW_S),
        stamps: new Float64Array(WINDOW_S).fill(-1),
        limitedTotal: 0,
      });
    }
  }

  /** Counts one HTTP attempt. */
  request(accountSid: string, e: RequestEvent): void {
    const a = this.#accounts.get(accountSid);
    if (!a) return;
    const second = Math.floor(this.#now() / 1000);
    const i = second % WINDOW_S;
    if (a.stamps[i] !== second) {
      a.stamps[i] = second;
      a.requests[i] = 0;
      a.limited[i] = 0;
    }
    a.requests[i]!++;
    if (e.outcome === '429') {
      a.limited[i]!++;
      a.limitedTotal++;
    }
  }

  /**
   * Records a failure of the account as its last error, unless the open circuit refused the request: that refusal
   * never reached Twilio, so the page keeps what Twilio (or the network) last said, and shows the circuit apart.
   */
  failed(accountSid: string, err: unknown): void {
    const a = this.#accounts.get(accountSid);
    if (!a || isCircuitRefusal(err)) return;
    a.lastError = { ...summarizeError(err), atMs: this.#now() };
  }

  /** Records whether the account is up, as `twilio_insights_exporter_up` was just set: the page shows no rule of its own. */
  up(accountSid: string, up: boolean): void {
    const a = this.#accounts.get(accountSid);
    if (a) a.up = up;
  }

  /** Records the circuit breaker's state. */
  circuit(accountSid: string, open: boolean): void {
    const a = this.#accounts.get(accountSid);
    if (a) a.circuitOpen = open;
  }

  /** Every account's view now. */
  views(): AccountView[] {
    const second = Math.floor(this.#now() / 1000);
    return [...this.#accounts].map(([accountSid, a]) => {
      let requests = 0;
      let limited = 0;
      for (let i = 0; i < WINDOW_S; i++) {
        if (a.stamps[i]! > second - WINDOW_S) {
          requests += a.requests[i]!;
          limited += a.limited[i]!;
        }
      }
      return {
        accountSid,
        up: a.up,
        circuitOpen: a.circuitOpen,
        ...(a.lastError && { lastError: a.lastError }),
        requestRate: requests / WINDOW_S,
        rateLimitedLastMinute: limited,
        rateLimitedTotal: a.limitedTotal,
      };
    });
  }
}
