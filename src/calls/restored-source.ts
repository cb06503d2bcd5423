import type { IngestMode } from '../config/types.ts';
import type { CallAnnouncer, CallSourceUnit } from './source.ts';

/** What tracking restored calls again needs. */
export interface RestoredCallsOptions {
  readonly announcer: CallAnnouncer;
  /** The calls the state file's last load restored that were live (tracked, ending or not) at its save. */
  readonly liveAtSave: () => ReadonlyArray<{ readonly callSid: string; readonly accountSid: string }>;
  /** The ingest mode of a running account; undefined for one this process does not poll. */
  readonly mode: (accountSid: string) => IngestMode | undefined;
}

/**
 * The polled calls that were live or draining at the last save, tracked again as the exporter starts (source
 * `state_file`). A call the admin API or a status callback announced is announced by nothing else after a restart,
 * and discovery no longer lists one that ended meanwhile: each would go unpolled, and what Twilio published after the
 * stop would be lost. Tracked again, a live call is polled until its end is seen (a Summary, or 404s), an ended one
 * drains as it would have. Push and hybrid calls are the Event Streams source's to track again.
 */
export function restoredCallsSource(o: RestoredCallsOptions): CallSourceUnit {
  return {
    name: 'state_file',
    start() {
      for (const c of o.liveAtSave()) if (o.mode(c.accountSid) === 'poll') o.announcer.track(c.callSid, c.accountSid, 'state_file');
    },
  };
}
