import type { CallRegistry } from '../calls/registry.ts';
import type { Config } from '../config/types.ts';
import type { AccountRow, StatusSources } from '../http/status-page/status-model.ts';
import type { PollDescription } from '../poller/poller.ts';
import type { PollerAccount } from '../poller/poller.ts';
import { CallQualityTracker } from '../quality/call-quality.ts';
import { compileRules } from '../quality/verdicts.ts';
import { AccountActivity } from '../status/account-activity.ts';
import { PollLog } from '../status/poll-log.ts';
import { SampleHistory } from '../status/sample-history.ts';
import { TrackingLog } from '../status/tracking-log.ts';
import type { SampleStore } from '../store/sample-store.ts';
import { VERSION } from '../version.ts';

/**
 * What the status page shows beyond the store: live verdicts, recent samples and polls per call, refusals, and each
 * account's recent answers. All of it is fed by store and registry listeners and by the self-telemetry hooks, so
 * the store, registry and poller stay as they are.
 */
export class StatusParts {
  readonly quality: CallQualityTracker;
  readonly history = new SampleHistory();
  readonly polls: PollLog;
  readonly tracking: TrackingLog;
  readonly activity: AccountActivity;

  /** Creates the trackers and subscribes them to the store and registry (before the expositions, which read the verdicts). */
  constructor(config: Config, store: SampleStore, registry: CallRegistry, now: () => number) {
    // Every configured account's fleet verdict counters exist from the start, at 0.
    this.quality = new CallQualityTracker(compileRules(config.quality.rules, config.quality.window), {
      accountSids: config.accounts.map((a) => a.accountSid),
      now,
      // As many removed calls as the store keeps exactly-once state for.
      maxRemembered: config.maxCalls,
    });
    this.polls = new PollLog(now);
    this.tracking = new TrackingLog(now);
    this.activity = new AccountActivity(config.accounts.map((a) => a.accountSid), now);
    for (const listener of [this.quality, this.history, this.polls]) store.addListener(listener);
    registry.addListener(this.tracking);
    // An ended call raises no issue now: its verdicts leave the per-call series and the fleet's "now" counts.
    registry.addListener(this.quality);
  }

  /** What the status routes read. */
  sources(o: {
    readonly config: Config;
    readonly registry: CallRegistry;
    readonly store: SampleStore;
    readonly poller: { describe(callSid: string): PollDescription | undefined };
    readonly accounts: ReadonlyMap<string, PollerAccount>;
    /** The configuration as last (re)loaded: names are live, and accounts added or removed wait for a restart. */
    readonly running: () => Config;
    readonly shard: { readonly ordinal: number; readonly total: number };
    readonly now: () => number;
  }): StatusSources {
    const { config } = o;
    return {
      version: VERSION,
      telemetryPath: config.web.telemetryPath,
      now: o.now,
      registry: o.registry,
      store: o.store,
      quality: this.quality,
      history: this.history,
      polls: this.polls,
      tracking: this.tracking,
      poller: o.poller,
      accounts: () => {
        const loaded = o.running().accounts;
        const rows: AccountRow[] = this.activity.views().map((v) => {
          const started = config.accounts.find((x) => x.accountSid === v.accountSid)!;
          const now = loaded.find((x) => x.accountSid === v.accountSid);
          const row = { ...v, name: (now ?? started).name, maxConcurrent: started.maxConcurrentRequests, inFlight: o.accounts.get(v.accountSid)?.policy.inFlight ?? 0 };
          return now ? row : { ...row, pending: 'removed' };
        });
        for (const acc of loaded) {
          if (config.accounts.some((x) => x.accountSid === acc.accountSid)) continue;
          rows.push({ accountSid: acc.accountSid, name: acc.name, pending: 'added', up: undefined, circuitOpen: false, requestRate: 0, rateLimitedLastMinute: 0, rateLimitedTotal: 0, inFlight: 0, maxConcurrent: acc.maxConcurrentRequests });
        }
        return rows;
      },
      maxCalls: config.maxCalls,
      shard: o.shard,
      grafanaUrl: config.grafana.url,
      rules: config.quality.rules,
    };
  }
}
