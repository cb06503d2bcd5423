import type { Logger } from 'pino';
import { pendingRestart } from '../config/reloadability.ts';
import type { Config } from '../config/types.ts';
import type { CallSourceUnit } from '../calls/source.ts';
import type { PollerAccount } from '../poller/poller.ts';
import type { SelfTelemetry } from './self-telemetry.ts';

/** What a reload did. */
export interface ReloadResult {
  readonly ok: boolean;
  /** Why it failed, or which changed settings need a restart to take effect. */
  readonly message: string;
}

/** What a reload touches. */
export interface ReloaderOptions {
  /** The configuration the process started with: what runs until a restart, however many reloads. */
  readonly started: Config;
  /** Re-reads the configuration; throws a ConfigError when it is invalid. Without it there is nothing to reload. */
  readonly load: (() => Config) | undefined;
  /** Makes a loaded configuration the running one (live settings are read through it). */
  readonly apply: (next: Config) => void;
  readonly accounts: ReadonlyMap<string, PollerAccount>;
  readonly sources: readonly CallSourceUnit[];
  readonly telemetry: SelfTelemetry;
  readonly logger: Logger;
}

/**
 * Builds the reload of SIGHUP and `POST /-/reload`: a bad file keeps the running configuration and says why; a good
 * one applies its live settings at once and names the changed settings that wait for a restart.
 */
export function createReloader(o: ReloaderOptions): () => ReloadResult {
  return () => {
    if (!o.load) return { ok: false, message: 'no configuration file to reload' };
    let next: Config;
    try {
      next = o.load();
    } catch (err) {
      o.telemetry.configLoaded(false);
      const message = err instanceof Error ? err.message : String(err);
      o.logger.error({ err: message }, 'configuration reload failed; keeping the running configuration');
      return { ok: false, message };
    }
    const restart = pendingRestart(o.started, next);
    o.apply(next);
    // Rotated credentials get a chance at once instead of waiting out the 401 hold.
    for (const a of o.accounts.values()) a.policy.resetAuth();
    for (const source of o.sources) source.reconfigure?.(next);
    o.logger.level = next.log.level;
    o.telemetry.configLoaded(true);
    const message = restart.length === 0 ? 'reloaded' : `reloaded; restart to apply: ${restart.join(', ')}`;
    o.logger.info({ restart_needed: restart }, 'configuration reloaded');
    return { ok: true, message };
  };
}
