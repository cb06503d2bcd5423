import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALL_METRICS,
  CALL_INFO,
  CALL_METRICS,
  CALL_SAMPLE_TIMESTAMP,
  FLEET_ACTIVE_CALLS,
  FLEET_HISTOGRAMS,
  FLEET_SAMPLES,
  JITTER_BUCKETS,
  LOSS_BUCKETS,
  MOS_BUCKETS,
  RTT_BUCKETS,
  SELF_METRICS,
} from '../../../src/metrics/definitions.ts';
import {
  BUILTIN_DURATIONS,
  DASHBOARD_FILES,
  ROOT,
  allPanels,
  expandVariables,
  knownSeries,
  loadAlertRules,
  loadDashboard,
  panelQueries,
  parsePromQL,
  selectorProblems,
  variableQueries,
  variablesIn,
} from './promql.ts';
import type { DashboardJson } from './promql.ts';
import { CHECKED_PANEL_TYPES } from './typecheck.ts';

const fleet = loadDashboard('twilio-voice-fleet.json');
const call = loadDashboard('twilio-voice-call.json');
const dashboards: ReadonlyArray<[string, DashboardJson]> = DASHBOARD_FILES.map((f) => [f, loadDashboard(f)]);

// Values for the offline parse; the e2e suite fills in real ones.
const SAMPLE_VALUES = { job: 'twilio-insights-exporter', account_sid: '.*', call_sid: 'CA00000000000000000000000000000001', datasource: 'prometheus' };

/** Metric names an expression selects. */
function metricsOf(expr: string): string[] {
  return parsePromQL(expandVariables(expr, SAMPLE_VALUES)).selectors.map((s) => s.metric);
}

/** The base metric name of a selected series (histogram suffixes removed). */
function baseName(series: string): string {
  const known = knownSeries().get(series);
  return known?.def?.name ?? series;
}

describe.each(dashboards)('%s', (_file, d) => {
  const queries = panelQueries(d);
  const defined = new Set(d.templating.list.map((v) => v.name));

  it('uses the current dashboard schema, a stable uid and a title', () => {
    expect(d.schemaVersion).toBe(42);
    expect(d.uid).toMatch(/^[a-z0-9-]{8,40}$/);
    expect(d.title).toMatch(/^Twilio Voice/);
    expect(d['id']).toBeNull();
  });

  it('has a datasource variable and a job variable, and every panel and query uses the datasource variable', () => {
    const ds = d.templating.list.find((v) => v.name === 'datasource');
    expect(ds?.type).toBe('datasource');
    expect(ds?.query).toBe('prometheus');
    const job = d.templating.list.find((v) => v.name === 'job');
    expect(job?.type).toBe('query');
    for (const v of d.templating.list.filter((x) => x.type === 'query')) expect(v.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    for (const p of allPanels(d)) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets ?? []) expect(t.datasource, `${p.title} ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    expect(JSON.stringify(d)).not.toMatch(/"uid":\s*"(?!\$\{datasource\}|-- Grafana --|twilio-voice-)/);
  });

  it('has unique panel ids, unique refIds per panel, known panel types and panels inside the 24-column grid', () => {
    const ids = allPanels(d).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of allPanels(d)) {
      expect(CHECKED_PANEL_TYPES, p.title).toContain(p.type);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      expect(p.description, p.title).toBeTruthy();
      const refs = (p.targets ?? []).map((t) => t.refId);
      expect(refs.length, p.title).toBeGreaterThan(0);
      expect(new Set(refs).size, p.title).toBe(refs.length);
    }
  });

  it('uses only variables it defines or Grafana provides, and no hard-coded range windows', () => {
    const texts = [...queries.map((q) => q.expr), ...variableQueries(d).map((v) => v.query)];
    for (const text of texts) {
      for (const name of variablesIn(text)) expect(defined.has(name) || name in BUILTIN_DURATIONS, `$${name} in ${text}`).toBe(true);
      for (const m of text.matchAll(/\[([^\]]*)\]/g)) {
        expect(['$__rate_interval', '$__range'], `range window in ${text}`).toContain(m[1]);
      }
      if (/\brate\(|\bincrease\(/.test(text)) expect(text, 'rates use $__rate_interval (or $__range for whole-range stats)').toMatch(/\$__rate_interval|\$__range/);
    }
  });

  it.each(queries.map((q) => [`${q.panel} ${q.refId}`, q.expr] as const))('PromQL parses: %s', (_name, expr) => {
    const parsed = parsePromQL(expandVariables(expr, SAMPLE_VALUES));
    expect(parsed.errors).toEqual([]);
    expect(parsed.selectors.length).toBeGreaterThan(0);
  });

  it('variable queries parse', () => {
    for (const v of variableQueries(d)) expect(parsePromQL(expandVariables(v.promql, SAMPLE_VALUES)).errors, v.name).toEqual([]);
  });

  it('selects only metrics of the definitions table, with their labels and real bucket bounds', () => {
    const exprs = [...queries.map((q) => q.expr), ...variableQueries(d).map((v) => v.promql)];
    for (const expr of exprs) {
      expect(selectorProblems(parsePromQL(expandVariables(expr, SAMPLE_VALUES)).selectors), expr).toEqual([]);
    }
  });

  it('filters every selector by the job variable', () => {
    for (const q of queries) {
      for (const s of parsePromQL(expandVariables(q.expr, { ...SAMPLE_VALUES, job: '$job' })).selectors) {
        expect(s.matchers, `${q.panel}: ${s.text}`).toContainEqual(['job', '=~', '$job']);
      }
    }
  });
});

describe('fleet dashboard', () => {
  const exprs = panelQueries(fleet).map((q) => q.expr);

  it('shows the share of samples past each of Twilio\u2019s call-tag thresholds, at bucket boundaries', () => {
    const shares: Array<[string, number, readonly number[]]> = [
      ['twilio_voice_mos_bucket', 3.5, MOS_BUCKETS],
      ['twilio_voice_jitter_seconds_bucket', 0.03, JITTER_BUCKETS],
      ['twilio_voice_packet_loss_ratio_bucket', 0.01, LOSS_BUCKETS],
      ['twilio_voice_packet_loss_ratio_bucket', 0.05, LOSS_BUCKETS],
      ['twilio_voice_rtt_seconds_bucket', 0.4, RTT_BUCKETS],
    ];
    for (const [series, threshold, buckets] of shares) {
      expect(buckets).toContain(threshold);
      const matcher = `${series}{job=~"$job", account_sid=~"$account_sid", le="${threshold}"}`;
      expect(exprs.filter((e) => e.includes(matcher)), matcher).toHaveLength(2);
    }
  });

  it('has MOS percentiles by edge and direction from the histogram', () => {
    expect(exprs).toContain('histogram_quantile(0.5, sum by (le, edge, direction) (rate(twilio_voice_mos_bucket{job=~"$job", account_sid=~"$account_sid"}[$__rate_interval])))');
  });

  it('links worst-call tables to the call dashboard by uid with the call_sid variable', () => {
    const tables = allPanels(fleet).filter((p) => p.type === 'table' && /calls|loss|MOS/.test(p.title) && JSON.stringify(p.targets).includes('twilio_call_'));
    expect(tables.length).toBeGreaterThanOrEqual(2);
    for (const t of tables) {
      const links = JSON.stringify(t.fieldConfig?.overrides);
      expect(links, t.title).toContain(`/d/${call.uid}/`);
      expect(links, t.title).toContain('var-call_sid=${__value.raw}');
    }
    expect(call.templating.list.map((v) => v.name)).toContain('call_sid');
  });

  it('shows exporter health: API errors, 429s, poll lag and refused calls', () => {
    const all = exprs.join('\n');
    for (const needle of ['outcome="429"', 'twilio_insights_exporter_poll_lag_seconds', 'twilio_insights_exporter_last_successful_poll_timestamp_seconds', 'twilio_insights_exporter_calls_refused_total', 'up{job=~"$job"}']) {
      expect(all).toContain(needle);
    }
  });
});

describe('call dashboard', () => {
  it('chooses call_sid from live series of the selected job', () => {
    const v = call.templating.list.find((x) => x.name === 'call_sid');
    expect(variableQueries(call).find((x) => x.name === 'call_sid')?.query).toBe('label_values(twilio_call_info{job=~"$job"}, call_sid)');
    expect(v?.multi).toBe(false);
  });

  it('selects every query by the chosen call_sid', () => {
    for (const q of panelQueries(call)) {
      for (const s of parsePromQL(expandVariables(q.expr, { ...SAMPLE_VALUES, call_sid: '$call_sid' })).selectors) {
        expect(s.matchers, `${q.panel}: ${s.text}`).toContainEqual(['call_sid', '=', '$call_sid']);
      }
    }
  });

  it('charts every per-call metric', () => {
    const shown = new Set(panelQueries(call).flatMap((q) => metricsOf(q.expr)));
    for (const def of [...CALL_METRICS, CALL_SAMPLE_TIMESTAMP, CALL_INFO]) expect(shown, def.name).toContain(def.name);
  });
});

describe('docs/dashboards.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/dashboards.md'), 'utf8');

  it.each(dashboards)('describes every panel of %s in a table row', (_file, d) => {
    for (const p of allPanels(d)) expect(doc, p.title).toContain(`| ${p.title} | ${p.type} |`);
  });

  it('lists every alert rule', () => {
    for (const r of loadAlertRules()) expect(doc, r.alert).toContain(`| \`${r.alert}\` |`);
  });
});

describe('both dashboards together', () => {
  // Metrics deliberately not charted, with the reason; anything new in the table must be charted or listed here.
  const NOT_CHARTED: Readonly<Record<string, string>> = {
    [SELF_METRICS.configReloadTime.name]: 'a timestamp only useful in an alert or an ad-hoc query',
    [SELF_METRICS.ingestMode.name]: 'configuration, not behaviour: the alerts use it to leave push and hybrid accounts out of TwilioInsightsExporterNotPolling',
  };

  it('chart every metric of the definitions table (or say why not)', () => {
    const shown = new Set([...panelQueries(fleet), ...panelQueries(call)].flatMap((q) => metricsOf(q.expr)).map(baseName));
    const missing = ALL_METRICS.map((d) => d.name).filter((n) => !shown.has(n) && !(n in NOT_CHARTED));
    expect(missing).toEqual([]);
    for (const def of [...FLEET_HISTOGRAMS, FLEET_SAMPLES, FLEET_ACTIVE_CALLS]) expect(shown, def.name).toContain(def.name);
  });

  it('detect an unknown metric, a wrong label, a bucket bound that does not exist and a parse error', () => {
    expect(selectorProblems(parsePromQL('twilio_call_moss{job="a"}').selectors)).toEqual(['unknown metric "twilio_call_moss" in twilio_call_moss{job="a"}']);
    expect(selectorProblems(parsePromQL('twilio_voice_active_calls{edge="sdk_edge"}').selectors)[0]).toMatch(/has no label edge/);
    expect(selectorProblems(parsePromQL('twilio_voice_mos_bucket{le="3.6"}').selectors)[0]).toMatch(/le must equal one of the bucket bounds/);
    expect(parsePromQL('sum(rate(twilio_voice_samples_total[5m])').errors.length).toBeGreaterThan(0);
    expect(() => expandVariables('up{job=~"$jbo"}', SAMPLE_VALUES)).toThrow(/\$jbo/);
  });
});

describe('call dashboard links (issue 15)', () => {
  const links = (call as unknown as { links: Array<{ title: string; url: string }> }).links;
  const variables = call.templating.list.map((v) => v.name);

  it('links the selected call to its Twilio Console page and to the exporter\u2019s call page', () => {
    const consoleLink = links.find((l) => l.title === 'Twilio Console');
    expect(consoleLink?.url).toBe('https://console.twilio.com/us1/monitor/logs/calls?frameUrl=%2Fconsole%2Fvoice%2Fcalls%2Flogs%2F${call_sid}');
    const exporterLink = links.find((l) => l.title === 'Exporter call page');
    expect(exporterLink?.url).toBe('${exporter_url}/calls/${call_sid}');
    // Every variable a link uses is defined on the dashboard.
    for (const l of links) for (const m of l.url.matchAll(/\$\{(\w+)(?::\w+)?\}/g)) expect(variables, l.title).toContain(m[1]);
  });
});
