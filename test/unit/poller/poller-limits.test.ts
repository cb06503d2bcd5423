import { describe, expect, it } from 'vitest';
import { CallRegistry } from '../../../src/calls/registry.ts';
import { createAccountPolicy } from '../../../src/poller/account-policy.ts';
import { Poller } from '../../../src/poller/poller.ts';
import type { PollerAccount } from '../../../src/poller/poller.ts';
import { SampleStore } from '../../../src/store/sample-store.ts';
import type { TwilioClient } from '../../../src/twilio/client.ts';
import { ACCOUNT_A, ACCOUNT_B, T0 } from '../store/sample-builder.ts';

// A client whose every request hangs until released, so polls stay in flight.
function hangingClient(): { client: TwilioClient; release: () => void } {
  const waiting: Array<() => void> = [];
  const hang = <T>(): Promise<T> => new Promise<T>((_resolve, reject) => waiting.push(() => reject(new Error('released'))));
  const client = {
    fetchMetricsPage: hang,
    listMetrics: () => ({ [Symbol.asyncIterator]: () => ({ next: hang }) }),
    fetchCallsPage: hang,
    listCalls: () => ({ [Symbol.asyncIterator]: () => ({ next: hang }) }),
    fetchCallSummary: hang,
    fetchSettings: hang,
  } as unknown as TwilioClient;
  return { client, release: () => waiting.splice(0).forEach((f) => f()) };
}

const sid = (i: number): string => `CA${i.toString(16).padStart(32, '0')}`;

describe('Poller limits', () => {
  it('caps the polls in flight per account, each account by its own limit', async () => {
    let clock = T0;
    const now = (): number => clock;
    const { client, release } = hangingClient();
    const registry = new CallRegistry({ maxCalls: 100, drainPeriodMs: 0, retentionMs: 0, now: () => T0 });
    const store = new SampleStore({ backfill: false });
    const account = (accountSid: string, maxPolls: number): [string, PollerAccount] => [
      accountSid,
      { accountSid, client, policy: createAccountPolicy({ maxConcurrent: 10 }), maxPolls },
    ];
    const poller = new Poller({
      accounts: new Map([account(ACCOUNT_A, 1), account(ACCOUNT_B, 3)]),
      registry,
      store,
      observer: { pollFinished: () => undefined, applied: () => undefined, cursorReset: () => undefined, rejected: () => undefined, callNotFound: () => undefined },
      pollIntervalMs: 10_000,
      pageSize: 50,
      now,
    });
    for (let i = 0; i < 5; i++) registry.track(sid(i), ACCOUNT_A, 'config');
    for (let i = 5; i < 10; i++) registry.track(sid(i), ACCOUNT_B, 'config');

    clock += 2_000;
    poller.start();
    // Every call is due (first polls come within a second); one scheduling pass starts as many polls as the caps allow.
    await new Promise((r) => setTimeout(r, 50));
    expect(poller.inFlight).toBe(1 + 3);
    release();
    await poller.stop();
  });
});
