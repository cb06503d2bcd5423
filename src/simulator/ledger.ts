import type { Direction, Edge } from '../samples/sample.ts';
import type { RouteName } from './routes.ts';
import { ROUTE_NAMES } from './routes.ts';

/** One sample handed out in a successful, well-formed metrics response. */
export interface ServedSample {
  /** The call. */
  readonly callSid: string;
  /** Its account. */
  readonly accountSid: string;
  /** The edge. */
  readonly edge: Edge;
  /** The direction. */
  readonly direction: Direction;
  /** Sample index within its stream. */
  readonly index: number;
  /** The wire timestamp. */
  readonly timestamp: string;
}

/** Per-stream line of the ledger (`GET /_simulator/ledger`). */
export interface LedgerStream {
  call_sid: string;
  account_sid: string;
  edge: Edge;
  direction: Direction;
  /** Distinct samples served (by call, edge, direction, timestamp). */
  served: number;
  /** Timestamp of the newest sample served. */
  last_timestamp: string;
}

/** The ledger as the control API returns it. */
export interface LedgerSnapshot {
  streams: LedgerStream[];
  requests: {
    total: number;
    by_route: Record<RouteName, number>;
    by_call: Record<string, number>;
    by_status: Record<string, number>;
  };
  /** Highest in-flight request count per account (refused requests included). */
  peak_concurrency: Record<string, number>;
  /** Records a fault corrupted (never counted as served). */
  corrupted_records: number;
}

interface StreamEntry {
  readonly line: LedgerStream;
  bits: Uint8Array;
  maxIndex: number;
}

const emptyRoutes = (): Record<RouteName, number> =>
  Object.fromEntries(ROUTE_NAMES.map((route) => [route, 0])) as Record<RouteName, number>;

/**
 * What the simulator handed out: distinct samples per stream (one bit per sample index, so even long
 * calls stay small) and request counts, for tests that check exactly-once delivery end to end.
 */
export class Ledger {
  #streams = new Map<string, StreamEntry>();
  #total = 0;
  #byRoute = emptyRoutes();
  #byCall = new Map<string, number>();
  #byStatus = new Map<string, number>();
  #corrupted = 0;

  /** Marks samples as served (a sample served twice still counts once). */
  recordServed(samples: readonly ServedSample[]): void {
    for (const sample of samples) {
      const id = `${sample.callSid}/${sample.edge}/${sample.direction}`;
      let entry = this.#streams.get(id);
      if (entry === undefined) {
        entry = {
          line: {
            call_sid: sample.callSid,
            account_sid: sample.accountSid,
            edge: sample.edge,
            direction: sample.direction,
            served: 0,
            last_timestamp: sample.timestamp,
          },
          bits: new Uint8Array(16),
          maxIndex: -1,
        };
        this.#streams.set(id, entry);
      }
      const byte = sample.index >>> 3;
      if (byte >= entry.bits.length) {
        const grown = new Uint8Array(Math.max(byte + 1, entry.bits.length * 2));
        grown.set(entry.bits);
        entry.bits = grown;
      }
      const mask = 1 << (sample.index & 7);
      if (((entry.bits[byte] ?? 0) & mask) === 0) {
        entry.bits[byte] = (entry.bits[byte] ?? 0) | mask;
        entry.line.served += 1;
      }
      if (sample.index > entry.maxIndex) {
        entry.maxIndex = sample.index;
        entry.line.last_timestamp = sample.timestamp;
      }
    }
  }

  /** Counts records that a fault corrupted. */
  recordCorrupted(count: number): void {
    this.#corrupted += count;
  }

  /** Counts one public API request by its outcome: an HTTP status, or `reset`/`dropped` for no answer. */
  recordRequest(route: RouteName, callSid: string | undefined, status: number | 'reset' | 'dropped'): void {
    this.#total += 1;
    this.#byRoute[route] += 1;
    if (callSid !== undefined) this.#byCall.set(callSid, (this.#byCall.get(callSid) ?? 0) + 1);
    const key = String(status);
    this.#byStatus.set(key, (this.#byStatus.get(key) ?? 0) + 1);
  }

  /** The ledger as JSON, with the peaks passed in from the concurrency tracker. */
  snapshot(peaks: Record<string, number>): LedgerSnapshot {
    return {
      streams: [...this.#streams.values()].map((entry) => ({ ...entry.line })),
      requests: {
        total: this.#total,
        by_route: { ...this.#byRoute },
        by_call: Object.fromEntries(this.#byCall),
        by_status: Object.fromEntries(this.#byStatus),
      },
      peak_concurrency: peaks,
      corrupted_records: this.#corrupted,
    };
  }

  /** Forgets everything. */
  reset(): void {
    this.#streams = new Map();
    this.#total = 0;
    this.#byRoute = emptyRoutes();
    this.#byCall = new Map();
    this.#byStatus = new Map();
    this.#corrupted = 0;
  }
}
