import type { RequestHandler } from 'express';
import type { Sample } from '../samples/sample.ts';
import type { CallSource, TrackResult } from './registry.ts';

/** What a push source's samples did once delivered: the store's exactly-once verdict. */
export interface DeliveryResult {
  /** Samples applied for the first time. */
  readonly applied: number;
  /** Samples applied before (a re-delivery, or the same sample also polled). */
  readonly duplicates: number;
}

/** What the composition root gives every source: the only ways a source changes what the exporter tracks. */
export interface SourceContext {
  /** Announces an in-progress call of an account; idempotent across sources. */
  announce(callSid: string, accountSid: string): TrackResult;
  /** Reports a call ended: it drains, then its series leave every output after the retention. */
  end(callSid: string): void;
  /** Delivers samples a source received itself (push); each is applied exactly once, whoever else delivers it. */
  deliver(samples: readonly Sample[]): DeliveryResult;
}

/**
 * One source of calls (and, for push, of samples): the static list, discovery, status callbacks, the admin API,
 * Event Streams. The root starts every source of a list with the same context and stops them in reverse order.
 * Express routes are mounted by the root from `routes`, so a source stays testable without a listener.
 */
export interface CallSourceUnit {
  /** The label value of `twilio_insights_exporter_calls_refused_total{source}` and of a call's `sources`. */
  readonly name: CallSource;
  /** Begins announcing; may run an initial listing. */
  start(ctx: SourceContext): void | Promise<void>;
  /** Stops announcing and waits for work in flight. */
  stop(): Promise<void>;
  /** HTTP routes the source serves (callbacks, admin, push), mounted on the exporter's app. */
  readonly routes?: RequestHandler;
}
