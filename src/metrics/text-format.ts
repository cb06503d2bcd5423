import type { MetricDefinition } from './definitions.ts';

/** The exposition formats `/metrics` negotiates; declared here, the leaf every text writer imports, so no module cycle. */
export type ExpositionFormat = 'text' | 'openmetrics';

/** Escapes a label value for both exposition formats (backslash, double quote, newline). */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** Formats a sample value as both exposition formats expect. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** The name a family is declared under: OpenMetrics names a counter family without its `_total`. */
export function familyName(def: MetricDefinition, format: ExpositionFormat): string {
  return format === 'openmetrics' && def.type === 'counter' ? def.name.replace(/_total$/, '') : def.name;
}

/** The `# HELP` and `# TYPE` lines of a family, newline-terminated. */
export function familyHeader(def: MetricDefinition, format: ExpositionFormat): string {
  const name = familyName(def, format);
  const help = def.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return `# HELP ${name} ${help}\n# TYPE ${name} ${def.type}\n`;
}
