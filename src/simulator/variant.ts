import type { SortOrder } from './page-selection.ts';

/** How PageSize outside 1..1000 is handled: refused with 400, or clamped into range. */
export type PageSizeMode = 'reject' | 'clamp';

/** When `ProcessingState=partial` is served: only once the call has ended, or during the call too. */
export type PartialSummaryMode = 'after_end' | 'during_call';

/** Which samples become visible later than newer ones of their stream: none, every outbound sample, or some samples. */
export type LatePublication = 'none' | 'direction' | 'samples';

/** What Metrics answers for a call before its first sample is visible: an empty list, or 404/20404 (not documented). */
export type MetricsBeforeData = 'empty' | 'not_found';

/** Seconds between two `sdk_edge` samples: the SDK measures every second, gateways every 10 s. */
export type SdkSampleSeconds = 1 | 10;

/**
 * The behaviours the reference leaves unknown, playable either way. Each can be set at start and
 * changed at runtime (`PUT /_simulator/variant`).
 */
export interface SimulatorVariant {
  /** Metrics sort order. Default `asc`. */
  readonly order: SortOrder;
  /** Page tokens older than this are refused with 400; null: they never expire. Default null. */
  readonly pageTokenTtlMs: number | null;
  /** Twilio code of a refused (bad, expired or invalidated) page token. Default 20400. */
  readonly pageTokenErrorCode: number;
  /** A sample is visible once `now >= timestamp + lag`. Default 90 s. */
  readonly lagSeconds: number;
  /** `Retry-After` on concurrency 429s; null sends none (the documented behaviour). Default null. */
  readonly retryAfterSeconds: number | null;
  /** In-flight requests allowed per account before 429/20429. Default 100. */
  readonly concurrencyLimit: number;
  /** PageSize outside 1..1000. Default `reject`. */
  readonly pageSizeMode: PageSizeMode;
  /** Twilio code of an invalid query parameter (400). Default 17400. */
  readonly invalidParamCode: number;
  /** A completed call's summary turns `complete` this long after the call ends. Default 1800 s. */
  readonly summaryDelaySeconds: number;
  /** HTTP status of 17001 (summary not complete yet). Default 404. */
  readonly summaryNotReadyStatus: number;
  /**
   * When a partial Summary exists. Default `after_end` (404/20404 while the call runs), the pessimistic
   * reading of Twilio's only promise, a partial summary "within ten minutes of a call ending".
   */
  readonly partialSummary: PartialSummaryMode;
  /** Cadence of `sdk_edge` samples, seconds (1 or 10). Default 10. */
  readonly sdkSampleSeconds: SdkSampleSeconds;
  /** Late publication: which samples become visible after newer ones of their stream. Default `none`. */
  readonly latePublication: LatePublication;
  /** The longest extra delay of a late sample, seconds (30..600); `direction` delays by exactly this. Default 300. */
  readonly lateSeconds: number;
  /** Share of samples that are late under `samples` (0..1). Default 0.2. */
  readonly lateFraction: number;
  /** Metrics of a call none of whose samples is visible yet. Default `empty`. */
  readonly metricsBeforeData: MetricsBeforeData;
}

/** The variant used when an option is not given. */
export const DEFAULT_VARIANT: SimulatorVariant = {
  order: 'asc',
  pageTokenTtlMs: null,
  pageTokenErrorCode: 20400,
  lagSeconds: 90,
  retryAfterSeconds: null,
  concurrencyLimit: 100,
  pageSizeMode: 'reject',
  invalidParamCode: 17400,
  summaryDelaySeconds: 1800,
  summaryNotReadyStatus: 404,
  partialSummary: 'after_end',
  sdkSampleSeconds: 10,
  latePublication: 'none',
  lateSeconds: 300,
  lateFraction: 0.2,
  metricsBeforeData: 'empty',
};

/** The variant as the control API shows it (snake_case JSON). */
export function variantToJson(variant: SimulatorVariant): Record<string, unknown> {
  return {
    order: variant.order,
    page_token_ttl_ms: variant.pageTokenTtlMs,
    page_token_error_code: variant.pageTokenErrorCode,
    lag_seconds: variant.lagSeconds,
    retry_after_seconds: variant.retryAfterSeconds,
    concurrency_limit: variant.concurrencyLimit,
    page_size_mode: variant.pageSizeMode,
    invalid_param_code: variant.invalidParamCode,
    summary_delay_seconds: variant.summaryDelaySeconds,
    summary_not_ready_status: variant.summaryNotReadyStatus,
    partial_summary: variant.partialSummary,
    sdk_sample_seconds: variant.sdkSampleSeconds,
    late_publication: variant.latePublication,
    late_seconds: variant.lateSeconds,
    late_fraction: variant.lateFraction,
    metrics_before_data: variant.metricsBeforeData,
  };
}
