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
 * The calls that were live or draining at the last save, tracked again as the exporter starts. A call the admin API
 * or a status callback announced, or one known only from pushes, is announced by nothing else after a restart, and
 * discovery no longer lists one that ended meanwhile: each would go unpolled, and what Twilio published after the stop
 * would be lost (a push outage across the restart unfilled). Tracked again, a live call is polled (hybrid: once its
 * pushes stop) until its end is seen, an ended one drains as it would have. A polled call is tracked with source
 * `state_file`; a push or hybrid one with `event_streams`, the source that knew it.
 */
export function restoredCallsSource(o: RestoredCallsOptions): CallSourceUnit {
  return {
    name: 'state_file',
    start() {
      for (const c of o.liveAtSave()) {
        const mode = o.mode(c.accountSid);
        if (mode !== undefined) o.announcer.track(c.callSid, c.accountSid, mode === 'poll' ? 'state_file' : 'event_streams');
      }
    },
  };
}
