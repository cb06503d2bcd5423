import { afterEach, describe, expect, it } from 'vitest';
import { Simulator } from '../../../src/simulator/simulator.ts';
import type { TestSimulator } from '../../helpers/simulator.ts';
import { startTestSimulator } from '../../helpers/simulator.ts';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
let s: TestSimulator | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const ms = (timestamp: string): number => Date.parse(timestamp);

describe('sdk_edge cadence', () => {
  it('gives one SDK record per second with a second of packets under sdk_sample_seconds 1, gateways staying at 10 s', () => {
    let now = T0;
    const sim = new Simulator({ now: () => now, lagSeconds: 0, variant: { sdkSampleSeconds: 1 } });
    const call = sim.createCall({ type: 'client', ageSeconds: 60, timestampPrecision: 'seconds' });
    const sdk = sim.visibleSamples(call.sid, { edge: 'sdk_edge' });
    const gateway = sim.visibleSamples(call.sid, { edge: 'client_edge', direction: 'inbound' });
    expect(sdk).toHaveLength(60);
    expect(gateway).toHaveLength(6);
    expect(ms(sdk[1]!.timestamp) - ms(sdk[0]!.timestamp)).toBe(1000);
    const packets = sdk[5]!.sdk_edge!.interval.packets_received + sdk[5]!.sdk_edge!.interval.packets_lost;
    expect(packets).toBeGreaterThan(40);
    expect(packets).toBeLessThan(60);
    // Cumulative counters add up the 1 s windows, not 10 s ones.
    const last = sdk.at(-1)!.sdk_edge!;
    expect(last.cumulative.packets_received).toBe(sdk.reduce((n, r) => n + r.sdk_edge!.interval.packets_received, 0));
    now += 5_000;
    expect(sim.visibleSamples(call.sid, { edge: 'sdk_edge' })).toHaveLength(65);
  });
});

describe('late publication', () => {
  it('direction: the outbound stream shows up late_seconds after the inbound one, then completely', () => {
    let now = T0;
    const sim = new Simulator({ now: () => now, lagSeconds: 0, variant: { latePublication: 'direction', lateSeconds: 120 } });
    const call = sim.createCall({ type: 'carrier', ageSeconds: 300, timestampPrecision: 'seconds' });
    const count = (direction: 'inbound' | 'outbound'): number => sim.visibleSamples(call.sid, { direction }).length;
    expect(count('inbound')).toBe(30);
    expect(count('outbound')).toBe(18);
    sim.endCall(call.sid);
    now += 120_000;
    expect(count('outbound')).toBe(30);
  });

  it('samples: some samples appear after newer ones of their stream (30 s..late_seconds later), none is lost', () => {
    let now = T0;
    const sim = new Simulator({ now: () => now, lagSeconds: 0, variant: { latePublication: 'samples', lateSeconds: 600, lateFraction: 0.3 } });
    const call = sim.createCall({ type: 'sip', ageSeconds: 900, durationSeconds: 900, timestampPrecision: 'seconds' });
    const indices = (): number[] =>
      sim.visibleSamples(call.sid, { direction: 'inbound' }).map((r) => (ms(r.timestamp) - call.startMs) / 10_000 - 1);
    const early = indices();
    // Holes: a sample missing below the newest visible one of the same stream.
    const newest = Math.max(...early);
    const holes = Array.from({ length: newest }, (_, i) => i).filter((i) => !early.includes(i));
    expect(holes.length).toBeGreaterThan(0);
    // Nothing older than late_seconds is still hidden.
    expect(holes.every((i) => call.startMs + (i + 1) * 10_000 > now - 600_000)).toBe(true);
    now += 600_000;
    expect(indices()).toEqual(Array.from({ length: 90 }, (_, i) => i));
  });

  it('pages in both orders without skipping or repeating while late samples appear', async () => {
    for (const order of ['asc', 'desc'] as const) {
      let now = T0;
      s = await startTestSimulator({ now: () => now, order, variant: { latePublication: 'samples', lateSeconds: 300, lateFraction: 0.5 } });
      const call = s.simulator.createCall({ type: 'carrier', ageSeconds: 600, durationSeconds: 600 });
      const seen: string[] = [];
      let url: string | null = `/v1/Voice/${call.sid}/Metrics?Edge=carrier_edge&PageSize=7`;
      while (url !== null) {
        const body = (await (await s.api(url)).json()) as { metrics: Array<{ timestamp: string; direction: string }>; meta: { next_page_url: string | null } };
        seen.push(...body.metrics.map((r) => `${r.timestamp}/${r.direction}`));
        url = body.meta.next_page_url;
        now += 20_000;
      }
      expect(new Set(seen).size).toBe(seen.length);
      const ledger = s.simulator.ledger();
      expect(ledger.streams.reduce((n, l) => n + l.served, 0)).toBe(seen.length);
      await s.close();
      s = undefined;
    }
  });
});

describe('Metrics before the first sample is visible', () => {
  it('not_found: 404/20404 on every edge until a sample of the call is visible, then 200 (an edge without data: empty)', async () => {
    let now = T0;
    s = await startTestSimulator({ now: () => now, lagSeconds: 30, variant: { metricsBeforeData: 'not_found' } });
    const call = s.simulator.createCall({ type: 'carrier', ageSeconds: 0 });
    const status = async (edge: string): Promise<number> => (await s!.api(`/v1/Voice/${call.sid}/Metrics?Edge=${edge}`)).status;
    expect(await status('carrier_edge')).toBe(404);
    expect(await status('sip_edge')).toBe(404);
    const body = (await (await s.api(`/v1/Voice/${call.sid}/Metrics?Edge=carrier_edge`)).json()) as { code: number };
    expect(body.code).toBe(20404);
    now += 60_000;
    expect(await status('carrier_edge')).toBe(200);
    expect(await status('sip_edge')).toBe(200);
    expect(await s.control.setVariant({ metrics_before_data: 'empty' })).toMatchObject({ metrics_before_data: 'empty' });
  });
});

describe('Edge omitted', () => {
  it('returns only the call type default edge', async () => {
    s = await startTestSimulator({ now: () => T0 });
    const call = s.simulator.createCall({ type: 'trunking_terminating', ageSeconds: 60 });
    const body = (await (await s.api(`/v1/Voice/${call.sid}/Metrics`)).json()) as { metrics: Array<{ edge: string }> };
    expect(body.metrics.length).toBeGreaterThan(0);
    expect(new Set(body.metrics.map((r) => r.edge))).toEqual(new Set(['sip_edge']));
  });
});

describe('variant control', () => {
  it('shows and changes the new variant keys, and refuses a late_seconds outside 30..600', async () => {
    s = await startTestSimulator({ now: () => T0 });
    expect(await (await fetch(`${s.url}/_simulator/variant`)).json()).toMatchObject({ partial_summary: 'after_end', sdk_sample_seconds: 10, late_publication: 'none' });
    expect(await s.control.setVariant({ partial_summary: 'during_call', sdk_sample_seconds: 1, late_publication: 'samples', late_seconds: 45 })).toMatchObject({
      partial_summary: 'during_call',
      sdk_sample_seconds: 1,
      late_publication: 'samples',
      late_seconds: 45,
    });
    const refused = await fetch(`${s.url}/_simulator/variant`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ late_seconds: 5 }) });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/late_seconds/);
  });
});
