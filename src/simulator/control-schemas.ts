import { z } from 'zod';
import { CALL_TYPES, DIRECTIONS, EDGES } from '../samples/sample.ts';
import type { CreateCallInput } from './simulator.ts';
import type { FaultConfig } from './faults.ts';
import { CORRUPTION_KINDS } from './faults.ts';
import { ROUTE_NAMES } from './routes.ts';
import type { SimulatorVariant } from './variant.ts';

const rate = z.number().min(0).max(1);
const seconds = z.number().min(0);

/** Body of `POST /_simulator/calls`. */
export const createCallBody = z.strictObject({
  type: z.enum(CALL_TYPES),
  account_sid: z.string().optional(),
  sid: z.string().optional(),
  duration_seconds: seconds.optional(),
  age_seconds: seconds.optional(),
  ringing_seconds: seconds.optional(),
  degraded: z.boolean().optional(),
  timestamp_precision: z.enum(['seconds', 'milliseconds']).optional(),
  // Served verbatim in metric records and summaries, so tests can feed the exporter hostile strings.
  codec_name: z.string().max(200).optional(),
  region: z.string().max(200).optional(),
});

/** Body of `PUT /_simulator/faults` (every key optional; `{}` means no faults). */
export const faultsBody = z.strictObject({
  seed: z.int().optional(),
  rate_429: rate.optional(),
  retry_after_429_seconds: z.int().min(0).nullable().optional(),
  rate_500: rate.optional(),
  rate_503: rate.optional(),
  latency_ms: seconds.optional(),
  latency_rate: rate.optional(),
  timeout_rate: rate.optional(),
  timeout_hold_ms: seconds.optional(),
  timeout_action: z.enum(['drop', 'answer']).optional(),
  truncate_rate: rate.optional(),
  corrupt_record_rate: rate.optional(),
  corrupt_kinds: z.array(z.enum(CORRUPTION_KINDS)).min(1).optional(),
  reset_rate: rate.optional(),
  routes: z.array(z.enum(ROUTE_NAMES)).nullable().optional(),
  call_sids: z.array(z.string()).nullable().optional(),
}).refine((body) => (body.rate_500 ?? 0) + (body.rate_503 ?? 0) <= 1, { message: 'rate_500 + rate_503 must be at most 1' });

/** Body of `PUT /_simulator/variant` (every key optional; `{}` restores the start options). */
export const variantBody = z.strictObject({
  order: z.enum(['asc', 'desc']).optional(),
  page_token_ttl_ms: z.number().positive().nullable().optional(),
  page_token_error_code: z.int().positive().optional(),
  lag_seconds: seconds.optional(),
  retry_after_seconds: z.int().min(0).nullable().optional(),
  concurrency_limit: z.int().min(1).optional(),
  page_size_mode: z.enum(['reject', 'clamp']).optional(),
  invalid_param_code: z.int().positive().optional(),
  summary_delay_seconds: seconds.optional(),
  summary_not_ready_status: z.int().min(400).max(599).optional(),
  partial_summary: z.enum(['after_end', 'during_call']).optional(),
  sdk_sample_seconds: z.union([z.literal(1), z.literal(10)]).optional(),
  late_publication: z.enum(['none', 'direction', 'samples']).optional(),
  late_seconds: z.number().min(30).max(600).optional(),
  late_fraction: rate.optional(),
  metrics_before_data: z.enum(['empty', 'not_found']).optional(),
});

/** Query of `GET /_simulator/calls/{sid}/samples`. */
export const samplesQuery = z.strictObject({
  Edge: z.enum(EDGES).optional(),
  Direction: z.enum(DIRECTIONS).optional(),
});

/** One readable line per problem, naming the field: `age_seconds: Too small: expected number to be >=0`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`).join('; ');
}

/** Drops keys whose value is undefined, so a patch only carries what was given. */
function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The model input for a validated create-call body. */
export function toCreateCallInput(body: z.infer<typeof createCallBody>): CreateCallInput {
  return defined({
    type: body.type,
    accountSid: body.account_sid,
    sid: body.sid,
    durationSeconds: body.duration_seconds,
    ageSeconds: body.age_seconds,
    ringingSeconds: body.ringing_seconds,
    degraded: body.degraded,
    timestampPrecision: body.timestamp_precision,
    codecName: body.codec_name,
    region: body.region,
  }) as CreateCallInput;
}

/** The fault patch for a validated faults body. */
export function toFaultPatch(body: z.infer<typeof faultsBody>): Partial<FaultConfig> {
  return defined({
    seed: body.seed,
    rate429: body.rate_429,
    retryAfter429Seconds: body.retry_after_429_seconds,
    rate500: body.rate_500,
    rate503: body.rate_503,
    latencyMs: body.latency_ms,
    latencyRate: body.latency_rate,
    timeoutRate: body.timeout_rate,
    timeoutHoldMs: body.timeout_hold_ms,
    timeoutAction: body.timeout_action,
    truncateRate: body.truncate_rate,
    corruptRecordRate: body.corrupt_record_rate,
    corruptKinds: body.corrupt_kinds,
    resetRate: body.reset_rate,
    routes: body.routes,
    callSids: body.call_sids,
  });
}

/** The faults as the control API shows them (snake_case JSON). */
export function faultsToJson(config: FaultConfig): Record<string, unknown> {
  return {
    seed: config.seed,
    rate_429: config.rate429,
    retry_after_429_seconds: config.retryAfter429Seconds,
    rate_500: config.rate500,
    rate_503: config.rate503,
    latency_ms: config.latencyMs,
    latency_rate: config.latencyRate,
    timeout_rate: config.timeoutRate,
    timeout_hold_ms: config.timeoutHoldMs,
    timeout_action: config.timeoutAction,
    truncate_rate: config.truncateRate,
    corrupt_record_rate: config.corruptRecordRate,
    corrupt_kinds: config.corruptKinds,
    reset_rate: config.resetRate,
    routes: config.routes,
    call_sids: config.callSids,
  };
}

/** The variant patch for a validated variant body. */
export function toVariantPatch(body: z.infer<typeof variantBody>): Partial<SimulatorVariant> {
  return defined({
    order: body.order,
    pageTokenTtlMs: body.page_token_ttl_ms,
    pageTokenErrorCode: body.page_token_error_code,
    lagSeconds: body.lag_seconds,
    retryAfterSeconds: body.retry_after_seconds,
    concurrencyLimit: body.concurrency_limit,
    pageSizeMode: body.page_size_mode,
    invalidParamCode: body.invalid_param_code,
    summaryDelaySeconds: body.summary_delay_seconds,
    summaryNotReadyStatus: body.summary_not_ready_status,
    partialSummary: body.partial_summary,
    sdkSampleSeconds: body.sdk_sample_seconds,
    latePublication: body.late_publication,
    lateSeconds: body.late_seconds,
    lateFraction: body.late_fraction,
    metricsBeforeData: body.metrics_before_data,
  });
}
