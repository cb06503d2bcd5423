import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Discovery } from '../../src/calls/discovery.ts';
import { CallRegistry } from '../../src/calls/registry.ts';
import { createAccountPolicy } from '../../src/poller/account-policy.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { demoClient } from '../helpers/simulator.ts';

// Regressions found by playing a hostile Calls list against discovery over a real socket: a next-page link that
// loops or never ends made one listing page forever (about 1,200 requests a second, and no call ever ended), and
// one odd optional field of an in-progress call's record made discovery take the call for gone and end it.

const ACCOUNT = DEMO_ACCOUNT.accountSid;
const CALLS_PATH = `/2010-04-01/Accounts/${ACCOUNT}/Calls.json`;
const sid = (n: number): string => `CA${n.toString(16).padStart(32, '0')}`;

interface Fake {
  readonly url: string;
  readonly server: Server;
  requests: number;
}

/** A 2010 Calls list whose page `n` (0 for the first request) is `page(n)`. */
async function fakeCalls(page: (n: number) => { calls: Record<string, unknown>[]; next: string | null }): Promise<Fake> {
  const fake = { requests: 0 } as { requests: number; url: string; server: Server };
  fake.server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== CALLS_PATH) return void res.writeHead(404).end();
    const n = Number(url.searchParams.get('Page') ?? 0);
    fake.requests++;
    const p = page(n);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ calls: p.calls, next_page_uri: p.next, page: n, page_size: 1000 }));
  });
  fake.server.listen(0, '127.0.0.1');
  await once(fake.server, 'listening');
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  return fake;
}

const record = (n: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  sid: sid(n),
  account_sid: ACCOUNT,
  status: 'in-progress',
  direction: 'inbound',
  from: '+15550000001',
  to: '+15550000002',
  parent_call_sid: null,
  ...extra,
});
const pageUri = (n: number): string => `${CALLS_PATH}?Status=in-progress&PageSize=1000&Page=${n}`;

let fake: Fake | undefined;
const agent = new Agent({ connections: 4 });
afterEach(() => {
  fake?.server.close();
  fake = undefined;
});

function discoveryOf(f: Fake, registry: CallRegistry, listed: Array<{ ok: boolean; error?: unknown }>, directions: string[] = []): Discovery {
  return new Discovery({
    accounts: [{ accountSid: ACCOUNT, client: demoClient(f.url, agent, 'discovery-paging'), policy: createAccountPolicy({ maxConcurrent: 2 }) }],
    registry,
    intervalMs: 60_000,
    filter: { directions, fromPrefix: '', toPrefix: '' },
    onListed: (_account, r) => listed.push(r),
  });
}

const newRegistry = (): CallRegistry => new CallRegistry({ maxCalls: 100, drainPeriodMs: 60_000, retentionMs: 600_000 });

describe('discovery against a Calls list that pages without end', () => {
  it.each([
    ['a page that links to itself', (n: number) => ({ calls: [record(1)], next: pageUri(n) })],
    ['two pages that link to each other', (n: number) => ({ calls: [record(1 + (n % 2))], next: pageUri(n === 0 ? 1 : 1 - (n % 2)) })],
  ])('stops at %s, fails the listing and ends no call', async (_name, page) => {
    fake = await fakeCalls(page);
    const registry = newRegistry();
    registry.track(sid(7), ACCOUNT, 'discovery');
    const listed: Array<{ ok: boolean; error?: unknown }> = [];
    await discoveryOf(fake, registry, listed).runOnce();
    expect(fake.requests).toBeLessThanOrEqual(3);
    expect(listed).toHaveLength(1);
    expect(listed[0]!.ok).toBe(false);
    expect(String(listed[0]!.error)).toMatch(/next_page_uri points back at a page already read/);
    // A failed listing ends nothing: the call discovery found before is still tracked.
    expect(registry.get(sid(7))?.endedAtMs).toBeUndefined();
  });

  it('stops an endless run of new pages at its page cap, fails the listing and ends no call', async () => {
    fake = await fakeCalls((n) => ({ calls: [record(1000 + n)], next: pageUri(n + 1) }));
    const registry = newRegistry();
    registry.track(sid(7), ACCOUNT, 'discovery');
    const listed: Array<{ ok: boolean; error?: unknown }> = [];
    await discoveryOf(fake, registry, listed).runOnce();
    expect(fake.requests).toBe(100);
    expect(listed[0]!.ok).toBe(false);
    expect(String(listed[0]!.error)).toMatch(/next_page_uri still leads on after 100 pages/);
    expect(registry.get(sid(7))?.endedAtMs).toBeUndefined();
  });
});

describe('discovery against odd call records', () => {
  it('keeps tracking an in-progress call whose optional fields turn odd, and ends one no longer listed', async () => {
    let listing = 0;
    fake = await fakeCalls(() => ({
      calls: listing === 0 ? [record(1), record(2)] : [record(1, { parent_call_sid: '', direction: 42, from: ['x'] })],
      next: null,
    }));
    const registry = newRegistry();
    const listed: Array<{ ok: boolean; error?: unknown }> = [];
    const discovery = discoveryOf(fake, registry, listed);
    await discovery.runOnce();
    listing++;
    // Left out of two complete listings in a row: ended (one alone ends nothing, see below).
    await discovery.runOnce();
    await discovery.runOnce();
    expect(listed.map((r) => r.ok)).toEqual([true, true, true]);
    expect(registry.get(sid(1))?.endedAtMs).toBeUndefined();
    expect(registry.get(sid(2))?.endedAtMs).toBeDefined();
  });

  it('keeps a call it tracked when an odd field now fails the filter: a filter decides what is tracked, not what ends', async () => {
    let listing = 0;
    fake = await fakeCalls(() => ({ calls: [record(1, listing === 0 ? {} : { direction: 42 }), record(2, { direction: 'outbound-api' })], next: null }));
    const registry = newRegistry();
    const discovery = discoveryOf(fake, registry, [], ['inbound']);
    await discovery.runOnce();
    expect(registry.get(sid(1))).toBeDefined();
    expect(registry.get(sid(2))).toBeUndefined();
    listing++;
    await discovery.runOnce();
    expect(registry.get(sid(1))?.endedAtMs).toBeUndefined();
    expect(registry.get(sid(2))).toBeUndefined();
  });
});

// Probe O F1: a Calls list that left a live call out of one listing (replica lag, a page boundary moving between two
// page reads) made discovery end the call; drained and removed, it was remembered as ended, and every later listing
// that showed it in progress tracked it ended again: the rest of its samples were never read.
describe('discovery against a Calls list that leaves a live call out of one listing', () => {
  it('keeps the call active through one listing without it, and ends it after two in a row', async () => {
    // Listing k holds call 1 unless k is in `missing`; call 2 is always listed.
    const missing = new Set([1, 3, 4]);
    let listing = 0;
    fake = await fakeCalls(() => ({ calls: missing.has(listing) ? [record(2)] : [record(1), record(2)], next: null }));
    const registry = newRegistry();
    const listed: Array<{ ok: boolean; error?: unknown }> = [];
    const discovery = discoveryOf(fake, registry, listed);
    const states: Array<string | undefined> = [];
    for (listing = 0; listing < 5; listing++) {
      await discovery.runOnce();
      states.push(registry.get(sid(1)) === undefined ? undefined : registry.lifecycle(registry.get(sid(1))!));
    }
    expect(listed.every((r) => r.ok)).toBe(true);
    // Listed, missing once, listed again: active throughout; then missing twice in a row: ended at the second.
    expect(states).toEqual(['active', 'active', 'active', 'active', 'draining']);
    expect(registry.get(sid(2))?.endedAtMs).toBeUndefined();
  });

  it('counts only complete listings: a failed one between two misses neither ends the call nor resets its misses', async () => {
    let listing = 0;
    fake = await fakeCalls(() => {
      if (listing === 2) return { calls: [record(2)], next: pageUri(99) }; // page 99 answers, then links back to itself
      return { calls: listing === 0 ? [record(1), record(2)] : [record(2)], next: null };
    });
    const registry = newRegistry();
    const listed: Array<{ ok: boolean; error?: unknown }> = [];
    const discovery = discoveryOf(fake, registry, listed);
    const states: string[] = [];
    for (listing = 0; listing < 4; listing++) {
      await discovery.runOnce();
      states.push(registry.lifecycle(registry.get(sid(1))!));
    }
    expect(listed.map((r) => r.ok)).toEqual([true, true, false, true]);
    expect(states).toEqual(['active', 'active', 'active', 'draining']);
  });
});
