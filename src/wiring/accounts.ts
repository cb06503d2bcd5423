import type { Dispatcher } from 'undici';
import type { AccountConfig, Config } from '../config/types.ts';
import { createAccountPolicy } from '../poller/account-policy.ts';
import type { PollerAccount } from '../poller/poller.ts';
import { createTwilioClient } from '../twilio/client.ts';
import { userAgent } from '../twilio/user-agent.ts';
import { VERSION } from '../version.ts';
import type { SelfTelemetry } from './self-telemetry.ts';

/** What building the accounts needs. */
export interface AccountsOptions {
  /** The configuration the process started with: accounts, base URLs and limits are fixed until a restart. */
  readonly config: Config;
  /** The running settings of an account, read per request so that a reload rotates credentials. */
  readonly running: (accountSid: string) => AccountConfig | undefined;
  readonly dispatcher: Dispatcher;
  readonly telemetry: SelfTelemetry;
  readonly now: () => number;
}

/**
 * One Twilio client and one request policy (concurrency limit, retries, breaker, 401 hold) per configured
 * account, keyed by Account SID. The set is fixed at start: an account added by a reload waits for a restart.
 */
export function createAccounts(o: AccountsOptions): Map<string, PollerAccount> {
  const accounts = new Map<string, PollerAccount>();
  for (const account of o.config.accounts) {
    const accountSid = account.accountSid;
    const hooks = o.telemetry.addAccount(accountSid);
    const client = createTwilioClient({
      accountSid,
      credentials: () => (o.running(accountSid) ?? account).credentials,
      insightsBaseUrl: account.insightsBaseUrl,
      apiBaseUrl: account.apiBaseUrl,
      dispatcher: o.dispatcher,
      userAgent: userAgent(VERSION),
      requestTimeoutMs: o.config.requestTimeoutMs,
      onRequest: hooks.onRequest,
    });
    const policy = createAccountPolicy({
      maxConcurrent: account.maxConcurrentRequests,
      // A request we gave up on may still hold one of Twilio's concurrency slots for a while.
      timeoutSlotHoldMs: o.config.requestTimeoutMs,
      now: o.now,
      onRetry: hooks.onRetry,
      onCircuit: hooks.onCircuit,
      onAuthFailure: hooks.onAuthFailure,
    });
    // Four polls per request slot keep the slots busy without queueing unbounded work behind them.
    accounts.set(accountSid, { accountSid, client, policy, maxPolls: account.maxConcurrentRequests * 4 });
  }
  return accounts;
}
