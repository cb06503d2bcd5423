import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISSUES } from '../../src/quality/thresholds.ts';
import { DEMO_ACCOUNT } from '../../src/simulator/demo-account.ts';
import { SimulatorControl } from '../../src/simulator/control-client.ts';
import { startSimulator } from '../../src/simulator/server.ts';
import type { RunningSimulator } from '../../src/simulator/server.ts';
import { signDelivery } from '../../src/simulator/event-signing.ts';
import { eventually, startTestExporter } from '../helpers/exporter.ts';
import type { TestExporter } from '../helpers/exporter.ts';
import { PROMETHEUS_JOB, startPrometheus } from '../helpers/prometheus.ts';
import type { InstantSample, RunningPrometheus } from '../helpers/prometheus.ts';
import {
  DASHBOARD_FILES,
  expandVariables,
  loadAlertRules,
  loadDashboard,
  panelQueries,
  parsePromQL,
  variableQueries,
} from '../unit/dashboards/promql.ts';
import type { DashboardJson } from '../unit/dashboards/promql.ts';

// A real Prometheus scrapes two exporters that track simulator calls: a normal one, and one capped at
// max_calls 1 so the refused-calls series (and its alert) exist for real. Every dashboard query and
// alert expression is then evaluated with its variables filled in as Grafana would.

// Grafana's interval variables for a 1 s scrape interval: $__rate_interval is max(4 x scrape interval,
// $__interval + scrape interval); $__range is the dashboard's time range.
const DURATIONS = { __rate_interval: '5s', __interval: '1s', __range: '5m' };

let simulator: RunningSimulator | undefined;
let exporter: TestExporter | undefined;
let capped: TestExporter | undefined;
let pushed: TestExporter | undefined;
let prometheus: RunningPrometheus | undefined;
let clientCall = '';

function prom(): RunningPrometheus {
  if (!prometheus) throw new Error('Prometheus did not start');
  return prometheus;
}

/** Variable values as a dashboard shows them by default ("All" is the variable's allValue), with a live call. */
function variableValues(d: DashboardJson): Record<string, string> {
  const values: Record<string, string> = { job: PROMETHEUS_JOB, call_sid: clientCall };
  for (const v of d.templating.list) {
    if (!(v.name in values) && v.includeAll && v.allValue !== undefined) values[v.name] = v.allValue;
  }
  return values;
}

/** Polls an instant query until it returns at least one series. */
async function someSeries(promql: string, timeoutMs = 20_000): Promise<InstantSample[]> {
  return eventually(async () => {
    const r = await prom().query(promql);
    return r.length > 0 ? r : undefined;
  }, timeoutMs, `a series from ${promql}`);
}

/** Delivers a signed Event Streams batch: SDK warnings raised and cleared, an SDK error, and a tagged summary. */
async function pushEvents(base: string): Promise<void> {
  const account = DEMO_ACCOUNT.accountSid;
  const event = (id: string, type: string, schema: string, data: Record<string, unknown>) => ({
    specversion: '1.0', type: `com.twilio.voice.insights.${type}`, source: `/v1/Voice/${clientCall}`, id,
    dataschema: `https://events-schemas.twilio.com/VoiceInsights.${schema}`, time: new Date().toISOString(),
    data: { call_sid: clientCall, account_sid: account, ...data },
  });
  const sdk = (id: string, group: string, name: string, level: string) => event(id, 'call-event.sdk', 'CallEvent/3', { edge: 'sdk_edge', group, name, level });
  const body = JSON.stringify([
    sdk('EVD1', 'network-quality-warning-raised', 'high-rtt', 'WARNING'),
    sdk('EVD2', 'network-quality-warning-cleared', 'high-rtt', 'INFO'),
    sdk('EVD3', 'connection', 'error', 'ERROR'),
    event('EVD4', 'call-summary.partial', 'CallSummary/2', { call_type: 'client', tags: ['high_pdd'], sdk_edge: { tags: ['low_mos'] } }),
  ]);
  const d = signDelivery(DEMO_ACCOUNT.authToken, `${base}/webhooks/twilio/event-streams/${account}`, body);
  const res = await fetch(d.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': d.signature }, body });
  if (res.status !== 200) throw new Error(`push to the hybrid exporter: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  simulator = await startSimulator({ lagSeconds: 0 });
  const control = new SimulatorControl(simulator.url);
  clientCall = (await control.createCall({ type: 'client', age_seconds: 120, duration_seconds: 3600 })).sid;
  await control.createCall({ type: 'carrier', age_seconds: 120, duration_seconds: 3600 });
  // backfill: the calls started before the exporter saw them; replay their history into the histograms.
  const options = { discovery: { enabled: true, interval: '1s' }, backfill: true };
  // With a state file, so the state-save panel and alert have their series.
  exporter = await startTestExporter(simulator.url, { ...options, state: { path: join(mkdtempSync(join(tmpdir(), 'tie-e2e-state-')), 'state.json'), flush_interval: '1s' } });
  capped = await startTestExporter(simulator.url, { ...options, max_calls: 1 });
  // A hybrid exporter that receives SDK warnings and a summary of the client call by push, for the event panels.
  pushed = await startTestExporter(simulator.url, {
    ...options,
    accounts: [{ account_sid: DEMO_ACCOUNT.accountSid, auth_token: DEMO_ACCOUNT.authToken, insights_base_url: simulator.url, api_base_url: simulator.url, ingest_mode: 'hybrid' }],
  });
  await eventually(() => (pushed!.exporter.registry.get(clientCall) ? true : undefined), 20_000, 'the hybrid exporter to track the client call');
  await pushEvents(pushed.url);
  prometheus = await startPrometheus({
    scrapeTargets: [new URL(exporter.url).host, new URL(capped.url).host, new URL(pushed.url).host],
    extraFlags: ['--enable-feature=exemplar-storage'],
  });
  // Ready when rates over the dashboards' window have two scrapes of per-call and fleet series.
  await someSeries(`rate(twilio_call_packets_received_total{call_sid="${clientCall}"}[${DURATIONS.__rate_interval}])`, 60_000);
  await someSeries(`rate(twilio_voice_mos_count[${DURATIONS.__rate_interval}])`, 30_000);
  await someSeries(`rate(twilio_voice_call_tags_total[${DURATIONS.__rate_interval}])`, 30_000);
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all([exporter?.close(), capped?.close(), pushed?.close()]);
  await simulator?.close();
});

describe.each(DASHBOARD_FILES.map((f) => [f, loadDashboard(f)] as const))('%s against a real Prometheus', (_file, d) => {
  it.each(variableQueries(d).map((v) => [v.name, v] as const))('variable %s lists live values', async (name, v) => {
    const values = variableValues(d);
    const label = /,\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(v.query)?.[1];
    const series = await someSeries(expandVariables(v.promql, values));
    const listed = new Set(series.map((s) => s.metric[label ?? '']));
    const expected: Record<string, string> = { job: PROMETHEUS_JOB, account_sid: DEMO_ACCOUNT.accountSid, call_sid: clientCall };
    expect(listed, name).toContain(expected[name]);
  });

  it.each(panelQueries(d).map((q) => [`${q.panel} / ${q.refId}`, q] as const))('%s returns data', async (_name, q) => {
    const promql = expandVariables(q.expr, variableValues(d), DURATIONS);
    const series = await someSeries(promql);
    expect(series.length).toBeGreaterThan(0);
    for (const s of series) expect(s.value[1]).toMatch(/^(-?[0-9.e+-]+|NaN|[+-]Inf)$/);
  });
});

describe('call dashboard', () => {
  it('shows every edge of a client call (sdk_edge and client_edge)', async () => {
    const edges = new Set((await someSeries(`twilio_call_packet_loss_ratio{job=~"${PROMETHEUS_JOB}", call_sid="${clientCall}"}`)).map((s) => s.metric['edge']));
    expect([...edges].sort()).toEqual(['client_edge', 'sdk_edge']);
  });
});

describe('alert rules against a real Prometheus', () => {
  const rules = loadAlertRules();
  // Selectors that are empty while nothing goes wrong: no 429s from a healthy simulator, and a per-call verdict
  // series exists only while a stream raises its issue (these calls are healthy).
  const MAY_BE_EMPTY = new Set([
    'twilio_insights_exporter_api_requests_total{outcome="429"}',
    ...ISSUES.map((issue) => `twilio_call_quality_issue{issue="${issue}"}`),
  ]);

  it.each(rules.map((r) => [r.alert, r] as const))('%s evaluates, and every series it selects exists', async (_name, r) => {
    await prom().query(r.expr);
    for (const s of parsePromQL(r.expr).selectors) {
      if (MAY_BE_EMPTY.has(s.text)) continue;
      expect((await someSeries(s.text)).length, s.text).toBeGreaterThan(0);
    }
  });

  it('exporter alerts stay quiet on healthy exporters, except the capped one refusing calls', async () => {
    // Polled, not read once: a single scrape that misses its 1 s timeout on a busy machine makes up == 0
    // for a moment, which the rules' `for` durations absorb but a raw expression does not.
    for (const r of rules.filter((x) => x.alert.startsWith('TwilioInsights') && x.alert !== 'TwilioInsightsCallCapReached')) {
      const quiet = await eventually(async () => ((await prom().query(r.expr)).length === 0 ? true : undefined), 20_000, `${r.alert} to be quiet`);
      expect(quiet, r.alert).toBe(true);
    }
    const cap = rules.find((x) => x.alert === 'TwilioInsightsCallCapReached')!;
    const firing = await someSeries(cap.expr);
    expect(firing.map((s) => s.metric['instance'])).toEqual([new URL(capped!.url).host]);
  });
});

describe('exemplars', () => {
  it('Prometheus scrapes OpenMetrics and stores the call_sid exemplars of the fleet histograms', async () => {
    const found = await eventually(async () => {
      const series = await prom().queryExemplars!(`twilio_voice_mos_bucket{job="${PROMETHEUS_JOB}"}`);
      const sids = series.flatMap((s) => s.exemplars.map((e) => e.labels['call_sid']));
      return sids.includes(clientCall) ? sids : undefined;
    }, 20_000, 'a call_sid exemplar');
    expect(found).toContain(clientCall);
  });
});
