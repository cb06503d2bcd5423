import type { CallType, Direction, Edge } from '../samples/sample.ts';
import type { LedgerSnapshot } from './ledger.ts';
import type { MetricRecord } from './metric-record.ts';

/** A call as `/_simulator/calls` returns it. */
export interface ControlCall {
  sid: string;
  account_sid: string;
  type: CallType;
  status: 'ringing' | 'in-progress' | 'completed' | 'canceled';
  degraded: boolean;
  created_time: string;
  start_time: string;
  end_time: string | null;
  edges: Edge[];
  default_edge: Edge;
  visible_samples_per_stream: number;
}

/** Body of `POST /_simulator/calls`. */
export interface CreateCallBody {
  type: CallType;
  account_sid?: string;
  sid?: string;
  duration_seconds?: number;
  age_seconds?: number;
  ringing_seconds?: number;
  degraded?: boolean;
  timestamp_precision?: 'seconds' | 'milliseconds';
  /** Codec name served verbatim instead of the derived one (tests send hostile strings). */
  codec_name?: string;
  /** Media region served verbatim instead of the derived one. */
  region?: string;
}

/** Body of `PUT /_simulator/faults` (snake_case; see FaultConfig for meanings). */
export interface FaultsBody {
  seed?: number;
  rate_429?: number;
  retry_after_429_seconds?: number | null;
  rate_500?: number;
  rate_503?: number;
  latency_ms?: number;
  latency_rate?: number;
  timeout_rate?: number;
  timeout_hold_ms?: number;
  timeout_action?: 'drop' | 'answer';
  truncate_rate?: number;
  corrupt_record_rate?: number;
  corrupt_kinds?: Array<'wrong_type' | 'nan_string' | 'negative_counter' | 'unknown_edge' | 'bad_timestamp'>;
  reset_rate?: number;
  routes?: Array<'metrics' | 'events' | 'summary' | 'settings' | 'calls'> | null;
  call_sids?: string[] | null;
}

/** Body of `PUT /_simulator/variant` (snake_case; see SimulatorVariant for meanings). */
export interface VariantBody {
  order?: 'asc' | 'desc';
  page_token_ttl_ms?: number | null;
  page_token_error_code?: number;
  lag_seconds?: number;
  retry_after_seconds?: number | null;
  concurrency_limit?: number;
  page_size_mode?: 'reject' | 'clamp';
  invalid_param_code?: number;
  summary_delay_seconds?: number;
  summary_not_ready_status?: number;
  partial_summary?: 'after_end' | 'during_call';
  sdk_sample_seconds?: 1 | 10;
  late_publication?: 'none' | 'direction' | 'samples';
  late_seconds?: number;
  late_fraction?: number;
  metrics_before_data?: 'empty' | 'not_found';
}

/** A typed HTTP client of the `/_simulator/` control API, for tests, benches and demos. */
export class SimulatorControl {
  readonly #baseUrl: string;

  /** Talks to the simulator at `baseUrl` (e.g. `http://127.0.0.1:41234`). */
  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.#baseUrl}/_simulator${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`simulator control ${method} ${path}: ${response.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** Creates a call. */
  createCall(body: CreateCallBody): Promise<ControlCall> {
    return this.#call('POST', '/calls', body);
  }

  /** Ends a call now. */
  endCall(sid: string): Promise<ControlCall> {
    return this.#call('POST', `/calls/${encodeURIComponent(sid)}/end`);
  }

  /** Every call. */
  async listCalls(): Promise<ControlCall[]> {
    return (await this.#call<{ calls: ControlCall[] }>('GET', '/calls')).calls;
  }

  /** Every sample of a call visible now (all its edges unless filtered), as wire records. */
  async samples(sid: string, filter: { edge?: Edge; direction?: Direction } = {}): Promise<MetricRecord[]> {
    const query = new URLSearchParams();
    if (filter.edge !== undefined) query.set('Edge', filter.edge);
    if (filter.direction !== undefined) query.set('Direction', filter.direction);
    const suffix = query.size > 0 ? `?${query.toString()}` : '';
    return (await this.#call<{ samples: MetricRecord[] }>('GET', `/calls/${encodeURIComponent(sid)}/samples${suffix}`)).samples;
  }

  /** Replaces the faults (`{}` turns them all off). */
  setFaults(body: FaultsBody): Promise<Record<string, unknown>> {
    return this.#call('PUT', '/faults', body);
  }

  /** Replaces the variant (`{}` restores the start options). */
  setVariant(body: VariantBody): Promise<Record<string, unknown>> {
    return this.#call('PUT', '/variant', body);
  }

  /** Invalidates every page token issued so far. */
  invalidateTokens(): Promise<{ epoch: number }> {
    return this.#call('POST', '/tokens/invalidate');
  }

  /** The ledger. */
  ledger(): Promise<LedgerSnapshot> {
    return this.#call('GET', '/ledger');
  }

  /** Clears the ledger and concurrency peaks. */
  async resetStats(): Promise<void> {
    await this.#call('POST', '/reset-stats');
  }
}
