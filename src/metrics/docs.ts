import { ALL_METRICS, otelAttributeName } from './definitions.ts';

/** The README's metrics table, generated from the definitions so the docs cannot drift. */
export function metricsTableMarkdown(): string {
  const rows = ALL_METRICS.map((d) => {
    const labels = d.labels.map((l) => `\`${l}\``).join(', ');
    // The OTLP writers name attributes with the same function, the exporter's own metrics included.
    const attrs = d.labels.map((l) => `\`${otelAttributeName(l)}\``).join(', ');
    return `| \`${d.name}\` | ${d.type} | ${labels} | \`${d.otelName}\` (${d.otelUnit})${attrs ? ` ${attrs}` : ''} | ${d.help.replaceAll('|', '\\|')} |`;
  });
  return ['| Prometheus name | type | labels | OpenTelemetry name (unit), attributes | description |', '|---|---|---|---|---|', ...rows].join('\n');
}
