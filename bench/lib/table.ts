import type { Row } from './stats.ts';

// Three significant digits, without exponent notation for the sizes benchmarks produce.
function fmt(n: number | undefined): string {
  if (n === undefined) return '—';
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  if (abs === 0) return '0';
  return n.toPrecision(3);
}

function verdict(pass: boolean | undefined): string {
  return pass === undefined ? 'info' : pass ? 'PASS' : 'FAIL';
}

const HEADERS = ['bench', 'measure', 'exporter', 'baseline', 'unit', 'ratio', 'goal', 'result'];

function cells(r: Row): string[] {
  return [r.bench, r.name, fmt(r.exporter), fmt(r.baseline), r.unit, fmt(r.ratio), r.goal, verdict(r.pass)];
}

/** The rows as an aligned plain-text table. */
export function textTable(rows: readonly Row[]): string {
  const lines = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const out = lines.map((l) => l.map((c, i) => (i >= 2 && i <= 5 && i !== 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out.join('\n');
}

/** The rows as a GitHub markdown table. */
export function markdownTable(rows: readonly Row[]): string {
  const esc = (c: string): string => c.replaceAll('|', '\\|');
  const lines = [`| ${HEADERS.join(' | ')} |`, `|${HEADERS.map((_, i) => (i >= 2 && i <= 5 && i !== 4 ? '---:' : '---')).join('|')}|`];
  for (const r of rows) lines.push(`| ${cells(r).map(esc).join(' | ')} |`);
  return lines.join('\n');
}
