import type { CallRecord, TwilioClient } from '../twilio/client.ts';
import { MAX_CALLS_LIST_PAGES, PageTrail } from '../twilio/page-trail.ts';
import type { CallAnnouncer, CallSourceUnit } from './source.ts';

/** Runs one Twilio request within the account's limits (the poller's account policy is one). */
export interface RequestRunner {
  run<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** Which in-progress calls discovery tracks. */
export interface DiscoveryFilter {
  /** Twilio call directions to keep (`inbound`, `outbound-api`, …); empty keeps all. */
  readonly directions: readonly string[];
  /** Keep calls whose `from` starts with this; empty keeps all. */
  readonly fromPrefix: string;
  /** Keep calls whose `to` starts with this; empty keeps all. */
  readonly toPrefix: string;
}

/** One account as discovery sees it. */
export interface DiscoveryAccount {
  readonly accountSid: string;
  readonly client: TwilioClient;
  readonly policy: RequestRunner;
}

/** Options of discovery. */
export interface DiscoveryOptions {
  readonly accounts: readonly DiscoveryAccount[];
  readonly registry: CallAnnouncer;
  /** Time between two listings. */
  readonly intervalMs: number;
  readonly filter: DiscoveryFilter;
  /** Called after each listing of an account. */
  readonly onListed?: (accountSid: string, result: { ok: boolean; found: number; error?: unknown }) => void;
}

/** Whether a call record passes the filter. */
export function matchesFilter(call: CallRecord, filter: DiscoveryFilter): boolean {
  if (filter.directions.length > 0 && !filter.directions.includes(call.direction ?? '')) return false;
  if (filter.fromPrefix !== '' && !(call.from ?? '').startsWith(filter.fromPrefix)) return false;
  if (filter.toPrefix !== '' && !(call.to ?? '').startsWith(filter.toPrefix)) return false;
  return true;
}

/**
 * How many complete listings in a row must leave out a call discovery found before for it to end it. Nothing says
 * two reads of the Calls list agree (replica lag, a page boundary moving between two page reads), and an ended call
 * is remembered as ended: one listing that missed a live call would lose the rest of its samples for good.
 */
export const MISSED_LISTINGS_TO_END = 2;

/**
 * Lists each account's in-progress calls (all pages, at most {@link MAX_CALLS_LIST_PAGES}) every interval: new
 * calls are tracked, and calls it found before that {@link MISSED_LISTINGS_TO_END} complete listings in a row left
 * out are ended. A listing that failed half-way, or whose next-page links loop or run past the cap, ends nothing
 * and counts as no miss.
 */
export class Discovery implements CallSourceUnit {
  /** Its calls' source label. */
  readonly name = 'discovery' as const;
  readonly #o: DiscoveryOptions;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | null = null;
  // Per account: the calls found before that the last complete listings left out, with how many listings in a row.
  readonly #missed = new Map<string, Map<string, number>>();

  /** Creates discovery; nothing runs before `start`. */
  constructor(options: DiscoveryOptions) {
    this.#o = options;
  }

  /** Lists now, then every interval; a listing never overlaps the previous one. */
  start(): void {
    const loop = (): void => {
      this.#running = this.runOnce().finally(() => {
        this.#running = null;
        if (!this.#abort.signal.aborted) this.#timer = setTimeout(loop, this.#o.intervalMs);
      });
    };
    loop();
  }

  /** Stops and waits for a listing in flight. */
  async stop(): Promise<void> {
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  /** Lists every account once. */
  async runOnce(): Promise<void> {
    await Promise.all(this.#o.accounts.map((a) => this.#listAccount(a)));
  }

  async #listAccount(account: DiscoveryAccount): Promise<void> {
    const signal = this.#abort.signal;
    // Every in-progress call listed (what may stay tracked), and how many of them pass the filter.
    const seen = new Set<string>();
    let found = 0;
    try {
      let req: { status: string; pageSize: number } | { url: string } = { status: 'in-progress', pageSize: 1000 };
      const trail = new PageTrail('calls', MAX_CALLS_LIST_PAGES);
      for (;;) {
        const page = await account.policy.run((s) => account.client.fetchCallsPage(req, s), signal);
        for (const call of page.calls) {
          if (call.status !== 'in-progress') continue;
          // A call tracked before stays seen even if an odd field now fails the filter: only its end ends it.
          seen.add(call.sid);
          if (!matchesFilter(call, this.#o.filter)) continue;
          found++;
          this.#o.registry.track(call.sid, account.accountSid, 'discovery', { from: call.from ?? undefined, to: call.to ?? undefined, trunkSid: call.trunkSid });
        }
        trail.read(page.requestUrl, page.nextPageUrl);
        if (page.nextPageUrl === null) break;
        req = { url: page.nextPageUrl };
      }
    } catch (error) {
      this.#o.onListed?.(account.accountSid, { ok: false, found, error });
      return;
    }
    const missedBefore = this.#missed.get(account.accountSid);
    const missed = new Map<string, number>();
    const ending: string[] = [];
    for (const call of this.#o.registry.calls()) {
      if (call.accountSid === account.accountSid && call.sources.has('discovery') && call.endedAtMs === undefined && !seen.has(call.callSid)) {
        const times = (missedBefore?.get(call.callSid) ?? 0) + 1;
        if (times >= MISSED_LISTINGS_TO_END) ending.push(call.callSid);
        else missed.set(call.callSid, times);
      }
    }
    this.#missed.set(account.accountSid, missed);
    for (const callSid of ending) this.#o.registry.end(callSid);
    this.#o.onListed?.(account.accountSid, { ok: true, found });
  }
}
