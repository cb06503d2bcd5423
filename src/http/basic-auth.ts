import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { NextFunction, Request, Response } from 'express';
import { Piscina } from 'piscina';
import { credentialsFor } from './authorization.ts';

/** Tuning of {@link basicAuth}; every field has a default. */
export interface BasicAuthOptions {
  /** bcrypt comparisons in flight at once; attempts past it get 429 at once [half the cores, at least 1]. */
  readonly maxConcurrent?: number;
  /** Successful (user, password) pairs remembered, oldest forgotten first [1000]. */
  readonly cacheSize?: number;
  /** The comparison [bcryptjs on a pool of worker threads, niced below the event loop]; tests inject one. */
  readonly compare?: (password: string, hash: string) => Promise<boolean>;
}

/** The basic-auth middleware, with `close()` to end its worker threads. */
export type BasicAuthGuard = ((req: Request, res: Response, next: NextFunction) => void) & { close(): Promise<void> };

// The cost a bcrypt hash was made with ($2y$10$… is 10).
function costOf(hash: string): number {
  return Number(hash.split('$')[2]);
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// A well-formed hash of a password nobody knows: comparing against it costs what a real one of that cost does,
// and building it costs nothing at start (hashing at cost 12 would block the start for a second).
function dummyHash(cost: number): string {
  const body = [...randomBytes(53)].map((b) => BCRYPT_ALPHABET[b % 64]).join('');
  return `$2b$${String(cost).padStart(2, '0')}$${body}`;
}

function credentials(req: Request): { user: string; password: string } | undefined {
  const token = credentialsFor(req.get('authorization'), 'Basic');
  if (token === undefined) return undefined;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function workerCompare(maxThreads: number): { compare: (password: string, hash: string) => Promise<boolean>; close(): Promise<void> } {
  let pool: Piscina | undefined;
  return {
    compare: (password, hash) => {
      // Started on the first comparison, so an exporter that is never attacked never starts a thread.
      pool ??= new Piscina({
        filename: new URL('./bcrypt-worker.ts', import.meta.url).href,
        minThreads: 0,
        maxThreads,
        idleTimeout: 30_000,
        // Below the event loop's priority, so scrapes and polls win the CPU from a flood of attempts.
        niceIncrement: 10,
      });
      return pool.run({ password, hash }) as Promise<boolean>;
    },
    close: async () => {
      await pool?.destroy();
    },
  };
}

/**
 * Requires HTTP Basic credentials matching a bcrypt hash, as Prometheus' exporter-toolkit does: comparisons run
 * off the event loop, at most `maxConcurrent` at once (more attempts get 429 at once), successes are cached, and
 * an unknown user is compared against a dummy hash of the same cost, so timing does not tell which users exist.
 */
export function basicAuth(users: ReadonlyMap<string, string>, options: BasicAuthOptions = {}): BasicAuthGuard {
  const maxConcurrent = options.maxConcurrent ?? Math.max(1, Math.floor(availableParallelism() / 2));
  const cacheSize = options.cacheSize ?? 1000;
  const workers = options.compare ? undefined : workerCompare(maxConcurrent);
  const compare = options.compare ?? workers!.compare;
  const cost = Math.max(4, ...[...users.values()].map(costOf));
  const dummy = dummyHash(cost);
  // Insertion-ordered: a hit is moved to the end, the front is the least recently used.
  const good = new Map<string, true>();
  let inFlight = 0;

  const refuse = (res: Response): void => {
    res.set('WWW-Authenticate', 'Basic realm="twilio-insights-exporter"').status(401).type('text/plain').send('Unauthorized\n');
  };
  const guard = (req: Request, res: Response, next: NextFunction): void => {
    const given = credentials(req);
    if (given === undefined) return refuse(res);
    const hash = users.get(given.user);
    const key = createHash('sha256').update(`${given.user}\0${given.password}\0${hash ?? ''}`).digest('hex');
    if (hash !== undefined && good.delete(key)) {
      good.set(key, true);
      return next();
    }
    if (inFlight >= maxConcurrent) {
      res.set('Retry-After', '1').status(429).type('text/plain').send('too many authentication attempts in progress\n');
      return;
    }
    inFlight++;
    compare(given.password, hash ?? dummy).then(
      (ok) => {
        inFlight--;
        if (!ok || hash === undefined) return refuse(res);
        good.set(key, true);
        if (good.size > cacheSize) good.delete(good.keys().next().value!);
        next();
      },
      (err: unknown) => {
        inFlight--;
        next(err);
      },
    );
  };
  return Object.assign(guard, { close: async () => workers?.close() });
}
