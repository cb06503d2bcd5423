import { html } from './html.ts';
import type { SafeHtml } from './html.ts';

/** Size of a sparkline in CSS pixels. */
const WIDTH = 160;
const HEIGHT = 32;

/**
 * An inline SVG sparkline of the values (oldest first; NaN leaves a gap), scaled to their own range, with a
 * dashed line at `threshold` when it falls within the drawn range. Only numbers reach the markup.
 */
export function sparkline(values: readonly number[], options: { label: string; threshold?: number; min?: number; max?: number }): SafeHtml {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return html`<span class="muted">no data</span>`;
  let lo = Math.min(options.min ?? Number.POSITIVE_INFINITY, ...finite);
  let hi = Math.max(options.max ?? Number.NEGATIVE_INFINITY, ...finite);
  if (options.threshold !== undefined) {
    lo = Math.min(lo, options.threshold);
    hi = Math.max(hi, options.threshold);
  }
  if (hi === lo) hi = lo + 1;
  const x = (i: number): number => (values.length === 1 ? WIDTH / 2 : (i / (values.length - 1)) * (WIDTH - 2) + 1);
  const y = (v: number): number => HEIGHT - 2 - ((v - lo) / (hi - lo)) * (HEIGHT - 4);
  const segments: string[] = [];
  let current: string[] = [];
  values.forEach((v, i) => {
    if (Number.isFinite(v)) current.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    else if (current.length > 0) {
      segments.push(current.join(' '));
      current = [];
    }
  });
  if (current.length > 0) segments.push(current.join(' '));
  const last = finite[finite.length - 1]!;
  return html`<svg class="spark" role="img" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}"><title>${options.label}</title>${
    options.threshold !== undefined &&
    html`<line x1="0" x2="${WIDTH}" y1="${y(options.threshold).toFixed(1)}" y2="${y(options.threshold).toFixed(1)}" class="limit"/>`
  }${segments.map((points) => (points.includes(' ') ? html`<polyline points="${points}"/>` : html`<circle r="1.5" cx="${points.split(',')[0]}" cy="${points.split(',')[1]}"/>`))}<text x="${WIDTH - 2}" y="10" text-anchor="end">${formatNumber(last)}</text></svg>`;
}

/** A number with at most three significant decimals, for display. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
}
