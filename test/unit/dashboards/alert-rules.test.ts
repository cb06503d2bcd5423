import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ISSUES } from '../../../src/quality/thresholds.ts';
import type { Issue } from '../../../src/quality/thresholds.ts';
import { ROOT, loadAlertRules, parsePromQL, selectorProblems } from './promql.ts';

const rules = loadAlertRules();
const byName = new Map(rules.map((r) => [r.alert, r]));

// What issue 7 asks the rules to cover, by alert name.
const REQUIRED = [
  'TwilioCallLowMOS',
  'TwilioCallHighJitter',
  'TwilioCallPacketLoss',
  'TwilioCallHighPacketLoss',
  'TwilioCallHighRTT',
  'TwilioInsightsExporterDown',
  'TwilioInsightsExporterNotPolling',
  'TwilioInsightsRateLimited',
  'TwilioInsightsCallCapReached',
];

// Thresholds the rules apply in PromQL, in base units: only the critical loss alert adds one of its own to the verdict.
const TWILIO_THRESHOLDS: ReadonlyArray<[string, string, string, string]> = [
  ['TwilioCallHighPacketLoss', 'twilio_call_packet_loss_ratio', '> 0.05', 'high_packet_loss'],
];

// The per-call quality alerts read the exporter's live verdicts (Twilio's thresholds, judged sample by sample).
const VERDICT_ALERTS: ReadonlyArray<[string, Issue]> = [
  ['TwilioCallLowMOS', 'low_mos'],
  ['TwilioCallHighJitter', 'high_jitter'],
  ['TwilioCallPacketLoss', 'high_packet_loss'],
  ['TwilioCallHighRTT', 'high_rtt'],
];

describe('alert rules (config/prometheus/alerts.yml)', () => {
  it('has each alert the issue asks for, with unique names', () => {
    for (const name of REQUIRED) expect(byName.has(name), name).toBe(true);
    expect(byName.size).toBe(rules.length);
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s parses, uses known metrics and labels, and is documented', (_name, r) => {
    const parsed = parsePromQL(r.expr);
    expect(parsed.errors).toEqual([]);
    expect(selectorProblems(parsed.selectors)).toEqual([]);
    expect(['warning', 'critical']).toContain(r.labels?.['severity']);
    for (const key of ['summary', 'description', 'runbook']) expect(r.annotations?.[key]?.length ?? 0, key).toBeGreaterThan(20);
    expect(r.alert).toMatch(/^Twilio[A-Z][A-Za-z]+$/);
  });

  // Probe J #3: counting scrape points of the gauge counted one held lossy sample many times; the verdict judges samples.
  it.each(TWILIO_THRESHOLDS)('%s needs %s %s on a stream that raises the %s verdict', (alert, metric, comparison, issue) => {
    const expr = byName.get(alert)!.expr.replace(/\s+/g, ' ').trim();
    expect(expr).toBe(`${metric} ${comparison} and on (job, instance, call_sid, edge, direction) twilio_call_quality_issue{issue="${issue}"} == 1`);
  });

  it('has a per-call verdict alert for every issue', () => {
    expect(VERDICT_ALERTS.map(([, issue]) => issue).sort()).toEqual([...ISSUES].sort());
  });

  it.each(VERDICT_ALERTS)('%s fires while the exporter raises %s on a stream', (alert, issue) => {
    expect(byName.get(alert)!.expr.trim()).toBe(`twilio_call_quality_issue{issue="${issue}"} == 1`);
  });

  it('alerts on 429s and refused calls with the exporter\u2019s own counters', () => {
    expect(byName.get('TwilioInsightsRateLimited')!.expr).toContain('twilio_insights_exporter_api_requests_total{outcome="429"}');
    expect(byName.get('TwilioInsightsCallCapReached')!.expr).toContain('twilio_insights_exporter_calls_refused_total');
    expect(byName.get('TwilioInsightsExporterNotPolling')!.expr).toContain('twilio_insights_exporter_last_successful_poll_timestamp_seconds');
  });

  it('is tested firing and not firing for every alert (alerts.test.yml)', () => {
    const doc = parseYaml(readFileSync(join(ROOT, 'config/prometheus/alerts.test.yml'), 'utf8')) as {
      rule_files: string[];
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
    };
    expect(doc.rule_files).toEqual(['alerts.yml']);
    const cases = doc.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const r of rules) {
      const mine = cases.filter((c) => c.alertname === r.alert);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${r.alert} firing`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${r.alert} not firing`).toBe(true);
    }
  });
});
