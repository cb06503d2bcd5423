import type { ServedSample } from './ledger.ts';
import type { MetricRecord } from './metric-record.ts';

/** A public API request after authentication, in the terms the resource handlers need. */
export interface ApiRequest {
  /** The authenticated account. */
  readonly accountSid: string;
  /** Path as requested, without the query (for error messages and links). */
  readonly path: string;
  /** Path parameters. */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** Query parameters. */
  readonly query: URLSearchParams;
  /** Form fields of a POST body. */
  readonly form: Readonly<Record<string, string | undefined>>;
  /** Absolute base URL for v1 paging links, e.g. `http://127.0.0.1:41234`. */
  readonly baseUrl: string;
}

/** A handler's answer: status and JSON body, plus the metric records in it (for faults and the ledger). */
export interface ApiResult {
  /** HTTP status. */
  readonly status: number;
  /** JSON body. */
  readonly body: unknown;
  /** The metric records inside `body` (same objects) and what they are, when the route is Metrics. */
  readonly metrics?: { readonly records: MetricRecord[]; readonly served: ServedSample[] };
}
