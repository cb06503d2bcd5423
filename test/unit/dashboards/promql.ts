import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { ALL_METRICS } from '../../../src/metrics/definitions.ts';
import type { MetricDefinition } from '../../../src/metrics/definitions.ts';

/** Repository root. */
export const ROOT = join(import.meta.dirname, '../../..');

/** The dashboards this project ships, by file name under grafana/dashboards. */
export const DASHBOARD_FILES = ['twilio-voice-fleet.json', 'twilio-voice-call.json'] as const;

/** Series Prometheus itself writes for every target; alerts and dashboards may use them. */
export const PROMETHEUS_SYNTHETIC: ReadonlyMap<string, readonly string[]> = new Map([['up', ['job', 'instance']]]);

/** The part of a Grafana dashboard JSON these checks read. */
export interface DashboardJson {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: PanelJson[];
  templating: { list: VariableJson[] };
  links?: Array<{ url?: string }>;
  [key: string]: unknown;
}

/** A Grafana panel as stored in the JSON (rows carry nested panels when collapsed). */
export interface PanelJson {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: TargetJson[];
  panels?: PanelJson[];
  fieldConfig?: { defaults: Record<string, unknown>; overrides: Array<{ properties: Array<{ id: string; value?: unknown }> }> };
  options?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A Prometheus query target. */
export interface TargetJson {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
  instant?: boolean;
  format?: string;
  legendFormat?: string;
}

/** A template variable. */
export interface VariableJson {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
  datasource?: { type?: string; uid?: string };
}

/** One PromQL query of a dashboard panel. */
export interface PanelQuery {
  dashboard: string;
  panelId: number;
  panel: string;
  panelType: string;
  refId: string;
  expr: string;
  instant: boolean;
}

/** Reads and parses a dashboard from grafana/dashboards. */
export function loadDashboard(file: string): DashboardJson {
  return JSON.parse(readFileSync(join(ROOT, 'grafana/dashboards', file), 'utf8')) as DashboardJson;
}

/** Every panel, rows' nested panels included, rows themselves excluded. */
export function allPanels(d: DashboardJson): PanelJson[] {
  const out: PanelJson[] = [];
  const walk = (panels: PanelJson[]): void => {
    for (const p of panels) {
      if (p.type !== 'row') out.push(p);
      if (p.panels) walk(p.panels);
    }
  };
  walk(d.panels);
  return out;
}

/** Every panel query of a dashboard. */
export function panelQueries(d: DashboardJson): PanelQuery[] {
  return allPanels(d).flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      dashboard: d.uid,
      panelId: p.id,
      panel: p.title,
      panelType: p.type,
      refId: t.refId,
      expr: t.expr,
      instant: t.instant === true,
    })),
  );
}

/** The PromQL of a query variable's `label_values(selector, label)` (the selector), or of `query_result(expr)`. */
export function variableQueries(d: DashboardJson): Array<{ name: string; query: string; promql: string }> {
  const out: Array<{ name: string; query: string; promql: string }> = [];
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
    const labelValues = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(query);
    const queryResult = /^query_result\((.*)\)$/.exec(query);
    const promql = labelValues?.[1] ?? queryResult?.[1];
    if (promql === undefined) throw new Error(`variable ${v.name}: unsupported query ${JSON.stringify(query)}`);
    out.push({ name: v.name, query, promql });
  }
  return out;
}

/** Grafana's built-in interval variables and the values the offline checks give them. */
export const BUILTIN_DURATIONS: Readonly<Record<string, string>> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
};

/** Names of every `$var`, `${var}`, `${var:format}` and `[[var]]` in a string. */
export function variablesIn(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[^}]*)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)|\[\[([a-zA-Z_][a-zA-Z0-9_]*)\]\]/g)) {
    names.add((m[1] ?? m[2] ?? m[3])!);
  }
  return [...names];
}

/**
 * Replaces Grafana variables the way Grafana interpolates a Prometheus query: built-in durations from
 * `durations` (defaults above), other variables from `values` (regex-escaped only when the caller says so).
 * Throws on a variable with no value, so a typo cannot pass as a literal.
 */
export function expandVariables(expr: string, values: Readonly<Record<string, string>>, durations: Readonly<Record<string, string>> = BUILTIN_DURATIONS): string {
  const lookup = (name: string): string => {
    const v = durations[name] ?? values[name];
    if (v === undefined) throw new Error(`no value for variable $${name} in ${expr}`);
    return v;
  };
  return expr.replace(
    /\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[^}]*)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)|\[\[([a-zA-Z_][a-zA-Z0-9_]*)\]\]/g,
    (_m, a: string | undefined, b: string | undefined, c: string | undefined) => lookup((a ?? b ?? c)!),
  );
}

/** A vector selector found in an expression. */
export interface Selector {
  /** Metric name, or '' for a selector without one. */
  metric: string;
  /** Label matchers as [label, op, value]. */
  matchers: Array<[string, string, string]>;
  /** The selector's source text. */
  text: string;
}

/** What the lezer PromQL parser found in an expression. */
export interface ParsedQuery {
  /** Positions and surrounding text of parse errors; empty when the expression is valid. */
  errors: string[];
  selectors: Selector[];
}

function unquote(literal: string): string {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  return JSON.parse(literal.startsWith("'") ? `"${literal.slice(1, -1).replace(/"/g, '\\"')}"` : literal) as string;
}

/** Parses PromQL (variables already expanded) with Prometheus's own lezer grammar. */
export function parsePromQL(expr: string): ParsedQuery {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const selectors: Selector[] = [];
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        errors.push(`parse error at ${ref.from}: ${JSON.stringify(expr.slice(Math.max(0, ref.from - 20), ref.from + 20))}`);
        return;
      }
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      const id = node.getChild('Identifier');
      const matchers: Array<[string, string, string]> = [];
      const list = node.getChild('LabelMatchers');
      if (list) {
        for (const m of list.getChildren('UnquotedLabelMatcher')) {
          const name = m.getChild('LabelName');
          const op = m.getChild('MatchOp');
          const value = m.getChild('StringLiteral');
          if (name && op && value) {
            matchers.push([expr.slice(name.from, name.to), expr.slice(op.from, op.to), unquote(expr.slice(value.from, value.to))]);
          }
        }
        if (list.getChildren('QuotedLabelMatcher').length > 0 || list.getChildren('QuotedLabelName').length > 0) {
          errors.push(`quoted label or metric names (Prometheus 3 only) in ${expr.slice(ref.from, ref.to)}`);
        }
      }
      selectors.push({ metric: id ? expr.slice(id.from, id.to) : '', matchers, text: expr.slice(ref.from, ref.to) });
    },
  });
  if (expr.trim() === '') errors.push('empty expression');
  return { errors, selectors };
}

/** A series name the exporter exposes, with the definition it comes from and its labels. */
export interface KnownSeries {
  def?: MetricDefinition;
  labels: readonly string[];
  /** Bucket upper bounds as Prometheus renders them in `le`, for `_bucket` series. */
  le?: readonly string[];
}

/** Every series name a query may select: each definition's name, plus `_bucket`/`_sum`/`_count` of histograms. */
export function knownSeries(): Map<string, KnownSeries> {
  const out = new Map<string, KnownSeries>();
  const target = ['job', 'instance'];
  for (const def of ALL_METRICS) {
    const labels = [...def.labels, ...target];
    if (def.type === 'histogram') {
      out.set(`${def.name}_bucket`, { def, labels: [...labels, 'le'], le: [...(def.buckets ?? []).map((b) => String(b)), '+Inf'] });
      out.set(`${def.name}_sum`, { def, labels });
      out.set(`${def.name}_count`, { def, labels });
    } else {
      out.set(def.name, { def, labels });
    }
  }
  for (const [name, labels] of PROMETHEUS_SYNTHETIC) out.set(name, { labels });
  return out;
}

/** Problems with the series an expression selects: unknown names, labels the series lacks, `le` values that are no bucket. */
export function selectorProblems(selectors: readonly Selector[], known: ReadonlyMap<string, KnownSeries> = knownSeries()): string[] {
  const problems: string[] = [];
  for (const s of selectors) {
    const series = known.get(s.metric);
    if (!series) {
      problems.push(`unknown metric ${JSON.stringify(s.metric)} in ${s.text}`);
      continue;
    }
    for (const [label, op, value] of s.matchers) {
      if (!series.labels.includes(label)) problems.push(`${s.metric} has no label ${label} (${s.text})`);
      if (label === 'le' && (op !== '=' || !series.le?.includes(value))) {
        problems.push(`${s.text}: le must equal one of the bucket bounds ${series.le?.join(', ') ?? '(none)'}`);
      }
    }
  }
  return problems;
}

/** One alerting rule from config/prometheus/alerts.yml. */
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Reads the alerting rules, flattened over their groups. */
export function loadAlertRules(): AlertRule[] {
  const doc = parseYaml(readFileSync(join(ROOT, 'config/prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ name: string; rules: AlertRule[] }> };
  return doc.groups.flatMap((g) => g.rules);
}
