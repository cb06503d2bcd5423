import { renameSync } from 'node:fs';
import type { Logger } from 'pino';
import type { SavedEndedCall } from '../samples/ended-call.ts';
import type { SampleStore } from './sample-store.ts';
import { readStateFile, removeLeftovers, stateFileTarget, stateLines, writeStateFile } from './state-file.ts';
import type { MemoryKind, SavedMemory } from './state-memories.ts';
import { StateLock } from './state-lock.ts';
import type { LockResult } from './state-lock.ts';

/** The calls known to have ended (the registry), saved beside the store's state so a restart keeps them ended. */
export interface EndedCalls {
  endedCalls(): Iterable<SavedEndedCall>;
  restoreEnded(saved: Iterable<SavedEndedCall>): number;
  /** Grows with every end worth saving. */
  readonly endedChanges: number;
  /** Most ended calls remembered per account: what a load holds of each. */
  readonly endedMemory: number;
}

/** Options of the state saver. */
export interface StateSaverOptions {
  /** The state file. */
  readonly path: string;
  /** Time between saves when the store changed. */
  readonly flushIntervalMs: number;
  readonly store: SampleStore;
  /** The ended calls to save and restore with the store; a load holds those of the configured `accounts` [none]. */
  readonly ended?: { readonly calls: EndedCalls; readonly accounts: () => ReadonlySet<string> };
  /** What else is counted once by remembering keys (see state-memories.ts), saved and restored with the store [none]. */
  readonly memories?: readonly SavedMemory[];
  readonly logger: Logger;
  /** Clock, epoch ms [Date.now]. */
  readonly now?: () => number;
  /** Called after each save with whether it was written, for the self-metrics. */
  readonly onSaved?: (ok: boolean) => void;
}

/**
 * Carries the store's exactly-once state over a restart: loads the state file once at start, saves it
 * every `flushIntervalMs` when something changed and always once at stop (the file may have been deleted or
 * replaced meanwhile). A bad or unwritable file is logged and the exporter carries on with what it has: the
 * state file may cost a repeat, never a crash.
 */
export class StateSaver {
  #liveAtSave: ReadonlyArray<{ readonly callSid: string; readonly accountSid: string }> = [];
  readonly #o: StateSaverOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #savedChanges = -1;
  #failures = 0;
  readonly #lock: StateLock;
  // The file saves write: the path, or the file a symlink there points to (see stateFileTarget).
  readonly #target: string;
  // The lock as last tried (see #takeLock).
  #lockResult: LockResult | undefined;

  /** Creates a saver; nothing is read or written before load() and start(). */
  constructor(options: StateSaverOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#target = targetOf(options.path);
    // Beside the file saves write: two links to one file are one state file, and get one lock.
    this.#lock = new StateLock(this.#target, { staleAfterMs: Math.max(60_000, 3 * options.flushIntervalMs) });
  }

  /**
   * The calls the last load restored that were live (tracked, ending or not) when the file was saved, for the
   * restored-call source to track again: nothing else may announce them after a restart.
   */
  get liveAtSave(): ReadonlyArray<{ readonly callSid: string; readonly accountSid: string }> {
    return this.#liveAtSave;
  }

  /**
   * Reads the file into the store (each call resumes when announced again); returns the calls restored. Only
   * as many calls as the store can restore are held while reading, so a file of any size costs that much memory.
   */
  load(): number {
    const { path, store, logger } = this.#o;
    // One exporter per state file: another one's file is neither read nor written (see StateLock).
    const lock = this.#takeLock();
    if (!lock.ok) {
      logger.error(
        { path, holder_pid: lock.holder.pid, holder_host: lock.holder.hostname },
        'state file in use by another exporter; running without it (a restart may count samples again)',
      );
      return 0;
    }
    if (lock.tookOver) logger.info({ path, holder_pid: lock.tookOver.pid, holder_host: lock.tookOver.hostname }, 'took over the state file lock of an exporter that is gone');
    // Through a symlink, the file it points to: what a save writes, and where its leftovers are.
    const target = this.#target;
    const leftovers = removeLeftovers(target);
    if (leftovers.length > 0) logger.info({ path, files: leftovers }, 'removed what an interrupted save left beside the state file');
    const ended = this.#o.ended;
    const memories = this.#o.memories ?? [];
    const keepMemories: Partial<Record<MemoryKind, number>> = Object.fromEntries(memories.map((m) => [m.kind, m.capacity]));
    const r = readStateFile(path, {
      keep: store.maxRestored,
      nowMs: this.#now(),
      keepMemories,
      ...(ended && { keepEnded: { perAccount: ended.calls.endedMemory, accounts: ended.accounts() } }),
    });
    if (!r.ok) {
      if (r.reason === 'missing') logger.info({ path }, 'no state file yet; starting fresh');
      else {
        // Kept aside, not overwritten by the first save: it may hold what someone edited or needs to look at.
        const keptAs = r.reason === 'corrupt' || r.reason === 'foreign_version' ? keepAside(target) : undefined;
        logger.warn(
          { path, reason: r.reason, detail: r.detail, format: STATE_FORMAT_HINT, ...(keptAs !== undefined && { kept_as: keptAs }) },
          'state file not usable; starting fresh (samples since the last run may be counted again)',
        );
      }
      return 0;
    }
    const n = store.restore(r.entries);
    // Only those the store kept: one it dropped would start over and count its history again.
    this.#liveAtSave = r.entries
      .filter((e) => e.parkedAtMs === null && store.isParked(e.call.accountSid, e.call.callSid))
      .map((e) => ({ callSid: e.call.callSid, accountSid: e.call.accountSid }));
    const endedCalls = ended?.calls.restoreEnded(r.ended) ?? 0;
    // After the calls: a memory may skip what the restored calls already say (the store's expired calls do).
    for (const m of memories) m.restore(r.memories[m.kind]);
    const remembered = Object.fromEntries(memories.map((m) => [m.kind, r.memories[m.kind].length]));
    // Dropped: past the removed-call cap or its retention, the oldest of the calls the file held.
    logger.info({ path, calls: n, dropped: r.read - n, ended_calls: endedCalls, remembered, saved_at: r.savedAt }, 'state file loaded: calls resume where they stopped');
    return n;
  }

  // Taken at load; a lock another exporter held is tried again at each save, so a holder that stopped (or went
  // stale, as a pod replaced on another node leaves it) is followed, and saving starts then.
  #takeLock(): LockResult {
    if (this.#lockResult?.ok !== true) this.#lockResult = this.#lock.acquire();
    return this.#lockResult;
  }

  /** Starts the periodic save (each tick also marks the lock as alive). */
  start(): void {
    this.#timer = setInterval(() => {
      this.#lock.refresh();
      void this.flush();
    }, this.#o.flushIntervalMs);
    this.#timer.unref();
  }

  /** Saves now if the store changed since the last save; never rejects, never overlaps itself. */
  async flush(): Promise<void> {
    if (this.#writing) return this.#writing;
    const changes = this.#changes();
    if (changes === this.#savedChanges) return;
    this.#writing = this.#write(changes).finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  /**
   * Stops the periodic save and saves one last time (call after the poller stopped), changed or not: the file
   * on disk may no longer be the one last written. A failure here is always logged: it is the last word.
   */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#writing;
    await this.#write(this.#changes(), true);
    this.#lock.release();
  }

  // What a save would write differs from the last save's when this differs.
  #changes(): number {
    let n = this.#o.store.changes + (this.#o.ended?.calls.endedChanges ?? 0);
    for (const m of this.#o.memories ?? []) n += m.changes();
    return n;
  }

  async #write(changes: number, last = false): Promise<void> {
    const { path, store, logger } = this.#o;
    // Another exporter's file: not written, and counted as a failed save, so the alert on saves says so.
    if (!this.#takeLock().ok) {
      this.#o.onSaved?.(false);
      return;
    }
    try {
      // Which calls are saved is taken at once; each call's line is written from its state when its turn comes.
      // The memories too are taken at once (after the calls: taking them expires what is due): deliveries go on
      // while the file is written.
      const calls = [...store.entries()];
      const memories = (this.#o.memories ?? []).map((m) => ({ kind: m.kind, entries: [...m.entries()] }));
      await writeStateFile(path, stateLines(calls, this.#now(), [...(this.#o.ended?.calls.endedCalls() ?? [])], memories));
      this.#savedChanges = changes;
      this.#o.onSaved?.(true);
      if (this.#failures > 0) logger.info({ path, failures: this.#failures }, 'state file written again');
      this.#failures = 0;
    } catch (err) {
      this.#o.onSaved?.(false);
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      // Once per episode while running (a full disk would otherwise log every few seconds), and always at stop.
      if (last) logger.error({ path, code }, 'cannot write the state file at stop; the next start may count samples again');
      else if (this.#failures === 0) logger.error({ path, code }, 'cannot write the state file; still running, but a restart may count samples again');
      this.#failures++;
    }
  }
}

const STATE_FORMAT_HINT = 'JSON Lines: a header line, then one call a line, as the exporter writes it';

// The file saves write (see stateFileTarget), or the path itself when nothing can be written there: the load then
// reports what it found.
function targetOf(path: string): string {
  try {
    return stateFileTarget(path);
  } catch {
    return path;
  }
}

// Moves an unusable state file to `<path>.bad` (replacing an older one); the name, or undefined when it could not.
function keepAside(path: string): string | undefined {
  try {
    renameSync(path, `${path}.bad`);
    return `${path}.bad`;
  } catch {
    return undefined;
  }
}
