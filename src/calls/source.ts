import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Config } from '../config/types.ts';
import type { CallRegistry, CallSource } from './registry.ts';

/**
 * What a source may do to the set of tracked calls: announce (`track`), end, drop (`remove`), and read what is
 * tracked. Sources get this slice of the registry, never the registry's listeners or housekeeping.
 */
export type CallAnnouncer = Pick<CallRegistry, 'track' | 'end' | 'remove' | 'get' | 'calls' | 'lifecycle'>;

/** A route answered straight from node:http ahead of express; returns false to leave the request to express. */
export type DirectRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * One source of calls (and, for push, of samples): the static list, discovery, status callbacks, the admin API,
 * Event Streams. A source announces and ends calls through a {@link CallAnnouncer} given when it is built (a push
 * source also applies samples to the store the poller applies to); the composition root mounts its routes, starts every source of
 * its list in order, passes each reload on, and stops them together.
 */
export interface CallSourceUnit {
  /** The label value of `twilio_insights_exporter_calls_refused_total{source}` and of a call's `sources`. */
  readonly name: CallSource;
  /** HTTP routes the source serves (callbacks, admin, push), mounted on the exporter's app. */
  readonly routes?: RequestHandler;
  /**
   * Those of `routes` that authenticate with a credential of their own (the admin token), answering only requests
   * that carry it; offered each request ahead of the web config's basic-auth guard, whatever they pass on meets it.
   */
  readonly ownCredentialRoutes?: RequestHandler;
  /** Hot routes answered before express sees the request (Event Streams deliveries); `routes` must still serve them. */
  readonly directRoute?: DirectRoute;
  /** Begins announcing; may run a first listing. */
  start?(): void | Promise<void>;
  /** Stops announcing and waits for work in flight. */
  stop?(): Promise<void>;
  /** Takes a reloaded configuration (live settings only: `src/config/reloadability.ts` says which). */
  reconfigure?(config: Config): void;
}

/** Starts sources in list order. */
export async function startSources(sources: readonly CallSourceUnit[]): Promise<void> {
  for (const s of sources) await s.start?.();
}

/** Stops every source at once, all of them even when one fails; rethrows the first failure. */
export async function stopSources(sources: readonly CallSourceUnit[]): Promise<void> {
  const results = await Promise.allSettled(sources.map(async (s) => s.stop?.()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
