import type { RejectReason } from '../samples/parse.ts';
import type { AppliedSamples, CallState, SampleListener } from '../store/sample-store.ts';
import { isCircuitRefusal } from '../poller/account-policy.ts';
import { TwilioError } from '../twilio/errors.ts';

/** One poll of one call as the status page shows it. */
export interface PollRecord {
  /** When the poll finished, epoch ms. */
  readonly atMs: number;
  readonly ok: boolean;
  /** Poll wall time in seconds (every page and retry of every edge query). */
  readonly durationSeconds: number;
  /** HTTP requests made (pages). */
  readonly requests: number;
  /** New samples applied. */
  readonly samples: number;
  /** Records skipped as malformed, by reason. */
  readonly rejects: ReadonlyMap<RejectReason, number>;
  /** The failure's classification, HTTP status and Twilio code, when not ok. */
  readonly error?: ErrorSummary;
}

/** A failure as the status page shows it: classification, HTTP status, Twilio code and a short message. */
export interface ErrorSummary {
  readonly code: string;
  readonly status?: number;
  readonly twilioCode?: number;
  /** At most 200 characters, already free of secrets (TwilioError messages never carry credentials). */
  readonly message: string;
}

/**
 * Summarizes a failure for display; the message is cut so a hostile body cannot grow the page. The open circuit's
 * refusal is `circuit_open`, not `internal`: the request never left the exporter.
 */
export function summarizeError(err: unknown): ErrorSummary {
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 200);
  if (isCircuitRefusal(err)) return { code: 'circuit_open', message };
  if (!(err instanceof TwilioError)) return { code: 'internal', message };
  return {
    code: err.code,
    message,
    ...(err.status !== undefined && { status: err.status }),
    ...(err.twilioCode !== undefined && { twilioCode: err.twilioCode }),
  };
}

interface CallLog {
  pendingSamples: number;
  pendingRejects: Map<RejectReason, number>;
  readonly records: PollRecord[];
}

/**
 * The recent polls of each call (at most `perCall`), fed by the poller's observer and the store. A call's
 * polls never overlap, so the samples and rejects seen since its last poll finished belong to the next one.
 */
export class PollLog implements SampleListener {
  readonly #perCall: number;
  readonly #now: () => number;
  readonly #calls = new Map<string, CallLog>();

  /** Keeps `perCall` polls per call [10]. */
  constructor(now: () => number, perCall = 10) {
    this.#now = now;
    this.#perCall = perCall;
  }

  #log(callSid: string): CallLog {
    let log = this.#calls.get(callSid);
    if (!log) this.#calls.set(callSid, (log = { pendingSamples: 0, pendingRejects: new Map(), records: [] }));
    return log;
  }

  /** Counts the new samples of one store batch, each in its call's current poll. */
  onSamples(applied: AppliedSamples): void {
    const { samples } = applied;
    for (let i = 0; i < samples.length; i++) this.#log(samples[i]!.callSid).pendingSamples++;
  }

  /** Forgets a call the store removed. */
  onCallRemoved(call: Readonly<CallState>): void {
    this.#calls.delete(call.callSid);
  }

  /** Counts a record of the call's current poll skipped as malformed. */
  rejected(callSid: string, reason: RejectReason): void {
    const log = this.#log(callSid);
    log.pendingRejects.set(reason, (log.pendingRejects.get(reason) ?? 0) + 1);
  }

  /** Closes the call's current poll; only for tracked calls (the log of a removed call is not kept). */
  finished(e: { callSid: string; ok: boolean; durationSeconds: number; requests: number; error?: unknown }): void {
    const log = this.#log(e.callSid);
    const record: PollRecord = {
      atMs: this.#now(),
      ok: e.ok,
      durationSeconds: e.durationSeconds,
      requests: e.requests,
      samples: log.pendingSamples,
      rejects: log.pendingRejects,
      ...(!e.ok && { error: summarizeError(e.error) }),
    };
    log.records.push(record);
    if (log.records.length > this.#perCall) log.records.shift();
    log.pendingSamples = 0;
    log.pendingRejects = new Map();
  }

  /** The call's recent polls, newest first. */
  records(callSid: string): readonly PollRecord[] {
    return [...(this.#calls.get(callSid)?.records ?? [])].reverse();
  }
}
