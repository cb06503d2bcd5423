import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who holds a state file's lock, as its lock file says. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
}

/**
 * The outcome of taking the lock: taken (`tookOver` names a holder that was gone), held by another exporter, or
 * not takeable at all (`ok` with `held` false: the directory cannot be written, and neither can the state file).
 */
export type LockResult = { readonly ok: true; readonly tookOver?: LockHolder } | { readonly ok: false; readonly holder: LockHolder };

/** Options of the lock. */
export interface StateLockOptions {
  /** A lock file not refreshed for this long is taken over, whoever wrote it [60 s]. */
  readonly staleAfterMs?: number;
  /** Clock, epoch ms [Date.now]. */
  readonly now?: () => number;
}

const MAX_LOCK_BYTES = 4096;

/**
 * `<state file>.lock`: one exporter per state file. Two exporters that share one (a volume mounted twice, a path
 * copied between configs) would overwrite each other's file, and the next start of either would count its samples
 * again. The lock file names the holder's pid and host and is refreshed (its mtime) at every save tick; it is taken
 * over when its holder is gone: the same host and a pid that no longer runs (or this very pid: a container's pid 1
 * restarted), or, from any host, when it was not refreshed for `staleAfterMs`.
 */
export class StateLock {
  readonly #path: string;
  readonly #staleAfterMs: number;
  readonly #now: () => number;
  #held = false;

  /** A lock beside the state file at `statePath`; nothing is taken before acquire(). */
  constructor(statePath: string, options: StateLockOptions = {}) {
    this.#path = `${statePath}.lock`;
    this.#staleAfterMs = options.staleAfterMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Whether this process holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /** Takes the lock, or says who holds it; never throws (a lock that cannot be written is not taken, as held by nobody). */
  acquire(): LockResult {
    if (this.#create()) return { ok: true };
    const holder = this.#holder();
    if (holder !== undefined && !this.#stale(holder)) return { ok: false, holder };
    // Gone, unreadable or stale: taken over.
    try {
      unlinkSync(this.#path);
    } catch {
      // Removed meanwhile by its holder, or never there (the directory cannot be written): the create below decides.
    }
    if (this.#create()) return holder === undefined || holder.pid === process.pid ? { ok: true } : { ok: true, tookOver: holder };
    const now = this.#holder();
    // Another exporter got there first; or no lock can be written here, which the saves' own errors will tell.
    return now === undefined ? { ok: true } : { ok: false, holder: now };
  }

  /** Marks the lock as alive (its mtime), so no other exporter takes it over. */
  refresh(): void {
    if (!this.#held) return;
    const t = new Date(this.#now());
    try {
      utimesSync(this.#path, t, t);
    } catch {
      // Deleted under us: the next save writes the state file regardless; the next start takes the lock again.
    }
  }

  /** Gives the lock up (at stop). */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      unlinkSync(this.#path);
    } catch {
      // Already gone.
    }
  }

  #create(): boolean {
    try {
      const fd = openSync(this.#path, 'wx', 0o600);
      try {
        writeSync(fd, `${JSON.stringify({ pid: process.pid, hostname: hostname(), started_at: new Date(this.#now()).toISOString() })}\n`);
      } finally {
        closeSync(fd);
      }
      this.#held = true;
      return true;
    } catch {
      return false;
    }
  }

  #holder(): LockHolder | undefined {
    try {
      const text = readFileSync(this.#path, 'utf8').slice(0, MAX_LOCK_BYTES);
      const raw = JSON.parse(text) as Partial<Record<'pid' | 'hostname', unknown>>;
      if (typeof raw.pid !== 'number' || typeof raw.hostname !== 'string') return undefined;
      return { pid: raw.pid, hostname: raw.hostname.slice(0, 255) };
    } catch {
      return undefined;
    }
  }

  #stale(holder: LockHolder): boolean {
    if (holder.hostname === hostname() && (holder.pid === process.pid || !running(holder.pid))) return true;
    try {
      return this.#now() - statSync(this.#path).mtimeMs > this.#staleAfterMs;
    } catch {
      return true;
    }
  }
}

function running(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
