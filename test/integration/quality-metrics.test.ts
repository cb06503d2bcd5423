import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample, SampleValues } from '../../src/samples/sample.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { startTestSimulator } from '../helpers/simulator.ts';
import type { TestSimulator } from '../helpers/simulator.ts';
import { find, parseExposition, valueOf } from '../unit/metrics/exposition-parser.ts';
import type { ExpositionSample } from '../unit/metrics/exposition-parser.ts';
import { CALL_1, CALL_2, CALL_3, T0, sample } from '../unit/store/sample-builder.ts';

// The verdict families through the real composition: store ─► quality tracker ─► store walk ─► /metrics over HTTP.
// Samples go straight into the exporter's store (no registry entry, so nothing polls these calls) to drive exact
// raise/clear sequences; the default rules raise at 3 of the last 5 samples and clear at 0.
const ACCOUNT = DEMO_ACCOUNT.accountSid;
const BAD_MOS: SampleValues = { mos: 3.0 };
const GOOD_MOS: SampleValues = { mos: 4.4 };
const LOSSY: SampleValues = { packetLossRatio: 0.2 };

const PER_CALL = 'twilio_call_quality_issue';
const RAISING = 'twilio_voice_calls_with_quality_issue';
const RAISED = 'twilio_voice_calls_quality_issue_raised_total';

describe('quality verdict metrics on /metrics', () => {
  let sim: TestSimulator;
  let exp: TestExporter;
  let at = 0;

  const sdk = (callSid: string, values: SampleValues, n: number): Sample[] =>
    Array.from({ length: n }, () => sample({ callSid, accountSid: ACCOUNT, at: (at += 1), values }));
  const carrier = (callSid: string, values: SampleValues, n: number): Sample[] =>
    Array.from({ length: n }, () => {
      at += 10;
      return (['inbound', 'outbound'] as const).map((direction) => sample({ callSid, accountSid: ACCOUNT, edge: 'carrier_edge', direction, at, values }));
    }).flat();
  const scrape = async (): Promise<ExpositionSample[]> => parseExposition(await exp.scrape());
  const lowMos = { issue: 'low_mos', edge: 'sdk_edge', account_sid: ACCOUNT };

  beforeAll(async () => {
    sim = await startTestSimulator();
    exp = await startTestExporter(sim.url);
    exp.exporter.store.addCall(CALL_1, ACCOUNT, T0);
    exp.exporter.store.addCall(CALL_2, ACCOUNT, T0);
  }, 30_000);

  afterAll(async () => {
    await exp.close();
    await sim.close();
  });

  it('exposes every fleet (issue, edge) cell of the configured account at 0 before any call raises an issue', async () => {
    const samples = await scrape();
    expect(valueOf(samples, RAISED, lowMos)).toBe(0);
    expect(valueOf(samples, RAISING, lowMos)).toBe(0);
    expect(valueOf(samples, RAISED, { issue: 'high_jitter', edge: 'carrier_edge', account_sid: ACCOUNT })).toBe(0);
    // Only the pairs a rule judges: RTT is judged on sdk_edge alone.
    expect(find(samples, RAISED, { issue: 'high_rtt', edge: 'carrier_edge' })).toEqual([]);
    // 4 issues on sdk_edge, jitter and loss on the 3 gateway edges.
    expect(find(samples, RAISED)).toHaveLength(10);
    expect(find(samples, PER_CALL)).toEqual([]);
  });

  it('shows a raised issue as a per-call series and in the fleet gauge, and drops the series when it clears', async () => {
    exp.exporter.store.apply(sdk(CALL_1, BAD_MOS, 2));
    expect(find(await scrape(), PER_CALL)).toEqual([]);

    exp.exporter.store.apply(sdk(CALL_1, BAD_MOS, 1));
    let samples = await scrape();
    expect(find(samples, PER_CALL)).toEqual([{ name: PER_CALL, labels: { call_sid: CALL_1, edge: 'sdk_edge', direction: 'both', issue: 'low_mos' }, value: 1 }]);
    expect(valueOf(samples, RAISING, lowMos)).toBe(1);
    expect(valueOf(samples, RAISED, lowMos)).toBe(1);

    // Cleared once the last bad sample leaves the 5-sample window.
    exp.exporter.store.apply(sdk(CALL_1, GOOD_MOS, 5));
    samples = await scrape();
    expect(find(samples, PER_CALL)).toEqual([]);
    expect(valueOf(samples, RAISING, lowMos)).toBe(0);
    expect(valueOf(samples, RAISED, lowMos)).toBe(1);
  });

  it('counts a call once when it raises the same issue again, and once for both directions of an edge', async () => {
    exp.exporter.store.apply(sdk(CALL_1, BAD_MOS, 3));
    let samples = await scrape();
    expect(valueOf(samples, PER_CALL, { call_sid: CALL_1, issue: 'low_mos' })).toBe(1);
    expect(valueOf(samples, RAISING, lowMos)).toBe(1);
    expect(valueOf(samples, RAISED, lowMos)).toBe(1);

    exp.exporter.store.apply(carrier(CALL_2, LOSSY, 3));
    samples = await scrape();
    const loss = { issue: 'high_packet_loss', edge: 'carrier_edge', account_sid: ACCOUNT };
    expect(find(samples, PER_CALL, { call_sid: CALL_2, issue: 'high_packet_loss' }).map((s) => s.labels['direction']).sort()).toEqual(['inbound', 'outbound']);
    expect(valueOf(samples, RAISING, loss)).toBe(1);
    expect(valueOf(samples, RAISED, loss)).toBe(1);
  });

  it('removes a call\u2019s verdict series with the call; the fleet gauge drops and the counter keeps it', async () => {
    exp.exporter.store.removeCall(CALL_1);
    const samples = await scrape();
    expect(find(samples, PER_CALL, { call_sid: CALL_1 })).toEqual([]);
    expect(valueOf(samples, RAISING, lowMos)).toBe(0);
    expect(valueOf(samples, RAISED, lowMos)).toBe(1);
    expect(find(samples, PER_CALL, { call_sid: CALL_2 })).toHaveLength(2);
  });

  it('does not count a removed call again when it comes back and raises the same issue', async () => {
    exp.exporter.store.addCall(CALL_1, ACCOUNT, T0);
    exp.exporter.store.apply(sdk(CALL_1, BAD_MOS, 3));
    const samples = await scrape();
    expect(valueOf(samples, PER_CALL, { call_sid: CALL_1, issue: 'low_mos' })).toBe(1);
    expect(valueOf(samples, RAISING, lowMos)).toBe(1);
    expect(valueOf(samples, RAISED, lowMos)).toBe(1);
  });

  it('writes the families with HELP and TYPE in both formats, and promtool finds nothing to lint', async () => {
    const text = await exp.scrape();
    expect(text).toContain(`# TYPE ${PER_CALL} gauge\n`);
    expect(text).toContain(`# TYPE ${RAISING} gauge\n`);
    expect(text).toContain(`# TYPE ${RAISED} counter\n`);
    const om = await exp.scrape('application/openmetrics-text; version=1.0.0');
    expect(om).toContain('# TYPE twilio_voice_calls_quality_issue_raised counter\n');
    expect(om).toMatch(new RegExp(`^${RAISED}\\{issue="low_mos",edge="sdk_edge",account_sid="${ACCOUNT}"\\} 1$`, 'm'));
    if (!existsSync('/usr/bin/promtool')) return;
    const file = join(mkdtempSync(join(tmpdir(), 'tie-lint-')), 'metrics.txt');
    writeFileSync(file, text);
    const lint = execFileSync('sh', ['-c', `/usr/bin/promtool check metrics < ${file} 2>&1 || true`], { encoding: 'utf8' });
    expect(lint.split('\n').filter((l) => /quality_issue/.test(l))).toEqual([]);
  });
});

describe('quality verdicts of a call that ended', () => {
  let sim: TestSimulator;
  let exp: TestExporter;

  beforeAll(async () => {
    sim = await startTestSimulator();
    // Push mode: a call tracked here is never polled, so only the samples the test applies reach it.
    exp = await startTestExporter(sim.url, {
      accounts: [{ account_sid: ACCOUNT, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: sim.url, api_base_url: sim.url, ingest_mode: 'push' }],
    });
  }, 30_000);

  afterAll(async () => {
    await exp.close();
    await sim.close();
  });

  it('an ended call raises nothing: its per-call verdicts go, the fleet gauge drops it, the counter keeps it, and late samples while it drains raise nothing again', async () => {
    let at = 0;
    const bad = (n: number): Sample[] => Array.from({ length: n }, () => sample({ callSid: CALL_3, accountSid: ACCOUNT, at: (at += 1), values: BAD_MOS }));
    const lowMos = { issue: 'low_mos', edge: 'sdk_edge', account_sid: ACCOUNT };
    expect(exp.exporter.registry.track(CALL_3, ACCOUNT, 'event_streams')).toBe('tracked');
    exp.exporter.store.apply(bad(3));
    let samples = parseExposition(await exp.scrape());
    expect(valueOf(samples, PER_CALL, { call_sid: CALL_3, issue: 'low_mos' })).toBe(1);
    expect(valueOf(samples, RAISING, lowMos)).toBe(1);

    expect(exp.exporter.registry.end(CALL_3, ACCOUNT)).toBe(true);
    samples = parseExposition(await exp.scrape());
    expect(find(samples, PER_CALL, { call_sid: CALL_3 })).toEqual([]);
    expect(valueOf(samples, RAISING, lowMos)).toBe(0);
    expect(valueOf(samples, RAISED, lowMos)).toBe(1);
    // The call is still held (draining): its other series stay until it is removed.
    expect(find(samples, 'twilio_call_mos', { call_sid: CALL_3 })).toHaveLength(1);

    exp.exporter.store.apply(bad(5));
    samples = parseExposition(await exp.scrape());
    expect(find(samples, PER_CALL, { call_sid: CALL_3 })).toEqual([]);
    expect(valueOf(samples, RAISING, lowMos)).toBe(0);
    expect(valueOf(samples, RAISED, lowMos)).toBe(1);
  });
});
