import type { Issue } from '../../quality/thresholds.ts';
import { SafeHtml, html } from './html.ts';
import { formatNumber } from './sparkline.ts';

// Inline, so the page loads nothing else (no external assets, no JavaScript).
const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}
table{border-collapse:collapse;margin:.3em 0}th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
code,.sid{font-family:ui-monospace,monospace;font-size:.95em}
.muted{color:#888}.ok{color:#17803d}.bad{color:#b42318;font-weight:600}
.badge{display:inline-block;padding:0 .45em;margin:0 .15em .1em 0;border-radius:.6em;font-size:.85em;background:#fde2e1;color:#8a1c14;border:1px solid #f5b5b0}
.badge.state-active{background:#e3f4e8;color:#17803d;border-color:#b5e0c2}.badge.state-draining{background:#fff4d6;color:#8a6100;border-color:#f0d890}
.badge.state-ended{background:#eee;color:#555;border-color:#ccc}
.streams td{border:0;padding:0 .5em 0 0;white-space:nowrap}
form.filters{margin:.5em 0}form.filters label{margin-right:.8em}
svg.spark{background:#fafafa;border:1px solid #eee}svg.spark polyline{fill:none;stroke:#2563eb;stroke-width:1.5}
svg.spark circle{fill:#2563eb}svg.spark line.limit{stroke:#b42318;stroke-dasharray:3 3;stroke-width:1}svg.spark text{font-size:10px;fill:#444}
nav a{margin-right:1em}
`;

const STYLE_HTML = new SafeHtml(STYLE);

/** A whole page: title, navigation, body. */
export function page(title: string, version: string, telemetryPath: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${STYLE_HTML}</style></head>
<body>
<nav><a href="/">Status</a><a href="${telemetryPath}">Metrics</a><a href="/-/healthy">Health</a><a href="/-/ready">Readiness</a><span class="muted">twilio-insights-exporter ${version}</span></nav>
${body}
</body></html>
`.value;
}

/** A badge per issue. */
export function issueBadges(issues: readonly Issue[]): SafeHtml {
  return html`${issues.map((i) => html`<span class="badge issue-${i}">${i}</span>`)}`;
}

/** A lifecycle state badge. */
export function stateBadge(state: string): SafeHtml {
  return html`<span class="badge state-${state}">${state}</span>`;
}

/** Seconds as a short age ("42 s", "3 m 5 s", "2 h 4 m"). */
export function formatAge(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
}

/** A value in base units shown in the unit people read: ms for seconds, % for ratios. */
export function formatValue(v: number | undefined, unit: 'score' | 'ms' | 'percent'): string {
  if (v === undefined) return '–';
  if (unit === 'ms') return `${formatNumber(v * 1000)} ms`;
  if (unit === 'percent') return `${formatNumber(v * 100)} %`;
  return formatNumber(v);
}
