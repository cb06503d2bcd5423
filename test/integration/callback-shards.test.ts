import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { shardOf } from '../../src/calls/shard.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { freePort } from '../helpers/free-port.ts';
import { closeAfterEach, seriesOf, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { simControl } from '../helpers/sim-control.ts';

// Twilio posts a call's StatusCallback to one URL, which a Service sends to any replica. Every replica checks
// signatures against the same public URL, the one Twilio called.
const ACCOUNT = DEMO_ACCOUNT.accountSid;
const PUBLIC_URL = 'https://exporter.example.com';
const SIGNED_URL = `${PUBLIC_URL}/webhooks/twilio/call-status`;
const FORWARDED = 'x-twilio-insights-exporter-forwarded';
const TOTAL = 3;

let sim: RunningSimulator | undefined;
const exporters: TestExporter[] = [];
closeAfterEach(() => [...exporters, sim], () => {
  exporters.length = 0;
  sim = undefined;
});

/** Each replica at its own loopback address, 127.0.1.{ordinal}, on one shared port: what `{ordinal}` can name. */
async function startShards(simUrl: string, peerTemplate: boolean): Promise<{ whole: TestExporter; shards: TestExporter[]; restart: (ordinal: number) => Promise<TestExporter> }> {
  const port = await freePort();
  const config = {
    accounts: [{ account_sid: ACCOUNT, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: simUrl, api_base_url: simUrl }],
    webhooks: { public_url: PUBLIC_URL, ...(peerTemplate && { shard_peer_url: `http://127.0.1.{ordinal}:${port}` }) },
  };
  const whole = await startTestExporter(simUrl, config);
  exporters.push(whole);
  const start = async (ordinal: number): Promise<TestExporter> => {
    const e = await startTestExporter(simUrl, config, { shard: { ordinal, total: TOTAL } }, { host: `127.0.1.${ordinal}`, port });
    exporters.push(e);
    return e;
  };
  const shards: TestExporter[] = [];
  for (let ordinal = 0; ordinal < TOTAL; ordinal++) shards.push(await start(ordinal));
  return { whole, shards, restart: start };
}

function callback(base: string, callSid: string, status: string, opts: { forge?: boolean; headers?: Record<string, string> } = {}): Promise<Response> {
  const params = { CallSid: callSid, AccountSid: ACCOUNT, CallStatus: status, From: '+15551230000', To: '+15557650000' };
  const signature = twilio.getExpectedTwilioSignature(opts.forge ? 'not-the-token' : DEMO_ACCOUNT.authToken, SIGNED_URL, params);
  return fetch(`${base}/webhooks/twilio/call-status`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature, ...opts.headers },
    body: new URLSearchParams(params).toString(),
  });
}

async function outcomes(e: TestExporter): Promise<Record<string, number>> {
  return Object.fromEntries(seriesOf(await e.scrape(), 'twilio_insights_exporter_webhook_callbacks_total').map((s) => [s.labels['outcome']!, s.value]));
}
const tracked = (e: TestExporter): Set<string> => new Set([...e.exporter.registry.calls()].map((c) => c.callSid));
const sum = (all: Array<Record<string, number>>, outcome: string): number => all.reduce((a, o) => a + (o[outcome] ?? 0), 0);

async function createCalls(simUrl: string, n: number): Promise<string[]> {
  const control = simControl(simUrl);
  const sids: string[] = [];
  for (let i = 0; i < n; i++) sids.push((await control.createCall({ type: 'carrier', age_seconds: 30, duration_seconds: 600 })).sid);
  // Round-robin delivery must reach non-owners of every shard.
  expect(new Set(sids.map((s) => shardOf(s, TOTAL))).size).toBe(TOTAL);
  return sids;
}

describe('status callbacks with shards: the receiving replica forwards to the owner', () => {
  it('every call is tracked by exactly its owner, and only the owner counts it accepted', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0, seed: 7 });
    const { whole, shards } = await startShards(sim.url, true);
    const sids = await createCalls(sim.url, 12);

    for (const [i, sid] of sids.entries()) {
      expect((await callback(whole.url, sid, 'in-progress')).status).toBe(204);
      // A Service in front of the StatefulSet: any replica, here round-robin.
      const res = await callback(shards[i % TOTAL]!.url, sid, 'in-progress');
      expect({ sid, status: res.status }).toEqual({ sid, status: 204 });
    }
    expect(tracked(whole)).toEqual(new Set(sids));
    for (const [ordinal, e] of shards.entries()) expect(tracked(e)).toEqual(new Set(sids.filter((s) => shardOf(s, TOTAL) === ordinal)));
    expect(new Set(shards.flatMap((e) => [...tracked(e)]))).toEqual(tracked(whole));

    const counts = await Promise.all(shards.map(outcomes));
    const misrouted = sids.filter((s, i) => shardOf(s, TOTAL) !== i % TOTAL).length;
    expect(misrouted).toBeGreaterThan(0);
    expect(sum(counts, 'accepted')).toBe((await outcomes(whole))['accepted']);
    expect({ accepted: sum(counts, 'accepted'), forwarded: sum(counts, 'forwarded'), forward_failed: sum(counts, 'forward_failed'), not_owned: sum(counts, 'not_owned') })
      .toEqual({ accepted: sids.length, forwarded: misrouted, forward_failed: 0, not_owned: 0 });

    // An end reaches the owner too, through another replica.
    for (const [i, sid] of sids.entries()) expect((await callback(shards[(i + 1) % TOTAL]!.url, sid, 'completed')).status).toBe(204);
    for (const [ordinal, e] of shards.entries()) {
      for (const sid of sids.filter((s) => shardOf(s, TOTAL) === ordinal)) expect({ sid, ended: e.exporter.registry.get(sid)?.endedAtMs !== undefined }).toEqual({ sid, ended: true });
    }
    expect(sum(await Promise.all(shards.map(outcomes)), 'accepted')).toBe(2 * sids.length);
  });

  it('a forged callback gets 403 at the receiver and never travels; a forwarded one is never forwarded again', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0, seed: 8 });
    const { shards } = await startShards(sim.url, true);
    const sids = await createCalls(sim.url, 9);
    const sid = sids.find((s) => shardOf(s, TOTAL) !== 0)!;
    const owner = shards[shardOf(sid, TOTAL)]!;

    const forged = await callback(shards[0]!.url, sid, 'in-progress', { forge: true });
    expect(forged.status).toBe(403);
    expect((await outcomes(shards[0]!))['forbidden']).toBe(1);
    expect(Object.values(await outcomes(owner)).reduce((a, b) => a + b, 0)).toBe(0);
    expect(tracked(owner).has(sid)).toBe(false);

    // A request marked forwarded that reaches a replica not owning the call (shard counts differ) is an error, not a loop.
    const misdirected = await callback(shards[0]!.url, sid, 'in-progress', { headers: { [FORWARDED]: '1' } });
    expect(misdirected.status).toBe(503);
    expect(await misdirected.text()).not.toMatch(/\bat\b.*\(/);
    expect((await outcomes(shards[0]!))['not_owned']).toBe(1);
    expect(Object.values(await outcomes(owner)).reduce((a, b) => a + b, 0)).toBe(0);

    // The owner down: the receiver answers an error Twilio's debugger shows, and counts it.
    await owner.close();
    exporters.splice(exporters.indexOf(owner), 1);
    const down = await callback(shards[0]!.url, sid, 'in-progress');
    expect([502, 504]).toContain(down.status);
    expect((await outcomes(shards[0]!))['forward_failed']).toBe(1);
  });

  it('without webhooks.shard_peer_url a non-owner refuses the callback, naming the setting, instead of claiming it', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0, seed: 9 });
    const { shards } = await startShards(sim.url, false);
    const sids = await createCalls(sim.url, 9);
    let notOwned = 0;
    for (const [i, sid] of sids.entries()) {
      const res = await callback(shards[i % TOTAL]!.url, sid, 'in-progress');
      if (shardOf(sid, TOTAL) === i % TOTAL) {
        expect(res.status).toBe(204);
      } else {
        notOwned++;
        expect(res.status).toBe(503);
        expect(await res.text()).toContain('webhooks.shard_peer_url');
      }
    }
    expect(notOwned).toBeGreaterThan(0);
    const counts = await Promise.all(shards.map(outcomes));
    expect({ accepted: sum(counts, 'accepted'), not_owned: sum(counts, 'not_owned') }).toEqual({ accepted: sids.length - notOwned, not_owned: notOwned });
  });

  it('a callback for a shard that is restarting waits for it and reaches it, instead of failing at once', { timeout: 60_000 }, async () => {
    sim = await startSimulator({ lagSeconds: 0, seed: 10 });
    const { shards, restart } = await startShards(sim.url, true);
    const sids = await createCalls(sim.url, 9);
    const sid = sids.find((s) => shardOf(s, TOTAL) !== 0)!;
    const ordinal = shardOf(sid, TOTAL);
    const owner = shards[ordinal]!;
    await owner.close();
    exporters.splice(exporters.indexOf(owner), 1);

    // Twilio does not retry a status callback that failed: the receiver keeps trying the owner while it restarts.
    const answer = callback(shards[0]!.url, sid, 'in-progress');
    await new Promise((r) => setTimeout(r, 1000));
    const restarted = await restart(ordinal);
    expect((await answer).status).toBe(204);
    expect(tracked(restarted).has(sid)).toBe(true);
    expect((await outcomes(shards[0]!))['forwarded']).toBe(1);
    expect((await outcomes(restarted))['accepted']).toBe(1);
  });
});
