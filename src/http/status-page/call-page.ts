import type { TrackedCall } from '../../calls/registry.ts';
import type { ThresholdRule } from '../../quality/thresholds.ts';
import type { StreamHistory } from '../../status/sample-history.ts';
import type { PollRecord } from '../../status/poll-log.ts';
import { html } from './html.ts';
import type { SafeHtml } from './html.ts';
import { formatAge, formatValue, issueBadges, page, stateBadge } from './layout.ts';
import { sparkline } from './sparkline.ts';
import { callRow } from './status-model.ts';
import type { StatusSources } from './status-model.ts';

/** The Twilio Console page of a call (Monitor → Logs → Calls). */
export function consoleUrl(callSid: string): string {
  return `https://console.twilio.com/us1/monitor/logs/calls?frameUrl=${encodeURIComponent(`/console/voice/calls/logs/${callSid}`)}`;
}

/** The bundled Grafana call dashboard for a call, under the configured Grafana URL. */
export function grafanaUrl(base: string, callSid: string): string {
  return `${base.replace(/\/+$/, '')}/d/twilio-voice-call/twilio-voice-call?var-call_sid=${encodeURIComponent(callSid)}`;
}

function threshold(rules: readonly ThresholdRule[], edge: string, field: string): number | undefined {
  for (const r of rules) {
    if (!r.edges.includes(edge as ThresholdRule['edges'][number])) continue;
    const c = r.conditions.find((x) => x.field === field);
    if (c) return c.above ?? c.below;
  }
  return undefined;
}

function sparklines(history: readonly StreamHistory[], rules: readonly ThresholdRule[]): SafeHtml {
  if (history.length === 0) return html`<p class="muted">No samples yet.</p>`;
  return html`<table class="sparklines"><thead><tr><th>stream</th><th>samples</th><th>MOS</th><th>RTT (ms)</th><th>jitter (ms; gateways: average)</th><th>loss (%)</th></tr></thead><tbody>
${history.map((h) => {
  const label = `${h.edge}/${h.direction}`;
  const ms = (xs: readonly number[]): number[] => xs.map((x) => x * 1000);
  const pct = (xs: readonly number[]): number[] => xs.map((x) => x * 100);
  const t = (field: string, scale: number): number | undefined => {
    const v = threshold(rules, h.edge, field);
    return v === undefined ? undefined : v * scale;
  };
  const jitterLimit = t('jitter_seconds', 1000) ?? t('jitter_avg_seconds', 1000);
  return html`<tr><td><code>${label}</code></td><td class="num">${h.timestampsMs.length}</td>
<td>${sparkline(h.values.mos, { label: `${label} MOS`, min: 1, max: 4.5, ...(t('mos', 1) !== undefined && { threshold: t('mos', 1)! }) })}</td>
<td>${sparkline(ms(h.values.rttSeconds), { label: `${label} RTT`, min: 0, ...(t('rtt_seconds', 1000) !== undefined && { threshold: t('rtt_seconds', 1000)! }) })}</td>
<td>${sparkline(ms(h.values.jitterSeconds), { label: `${label} jitter`, min: 0, ...(jitterLimit !== undefined && { threshold: jitterLimit }) })}</td>
<td>${sparkline(pct(h.values.packetLossRatio), { label: `${label} loss`, min: 0, ...(t('packet_loss_ratio', 100) !== undefined && { threshold: t('packet_loss_ratio', 100)! }) })}</td></tr>`;
})}
</tbody></table>`;
}

function pollTable(records: readonly PollRecord[], nowMs: number): SafeHtml {
  if (records.length === 0) return html`<p class="muted">No poll finished yet.</p>`;
  return html`<table class="polls"><thead><tr><th>when</th><th>status</th><th>latency</th><th>requests</th><th>new samples</th><th>rejected records</th></tr></thead><tbody>
${records.map(
  (r) => html`<tr><td>${formatAge((nowMs - r.atMs) / 1000)} ago</td>
<td>${
    r.ok
      ? html`<span class="ok">ok</span>`
      : html`<span class="bad">${r.error?.code ?? 'failed'}</span>${r.error?.status !== undefined && html` HTTP ${r.error.status}`}${
          r.error?.twilioCode !== undefined && html` Twilio <code>${r.error.twilioCode}</code>`
        }<br><small>${r.error?.message}</small>`
  }</td>
<td class="num">${Math.round(r.durationSeconds * 1000)} ms</td><td class="num">${r.requests}</td><td class="num">${r.samples}</td>
<td>${r.rejects.size === 0 ? html`<span class="muted">none</span>` : [...r.rejects].map(([reason, n]) => html`<code>${reason}</code> ${n} `)}</td></tr>`,
)}
</tbody></table>`;
}

function trackingSection(src: StatusSources, callSid: string, call: Readonly<TrackedCall> | undefined, nowMs: number): SafeHtml {
  if (call) {
    const state = src.registry.lifecycle(call, nowMs);
    return html`<p>Tracked ${stateBadge(state)} since ${new Date(call.trackedAtMs).toISOString()} (${formatAge((nowMs - call.trackedAtMs) / 1000)}), announced by ${[...call.sources].join(', ')}.
${call.endedAtMs !== undefined && html`Ended at ${new Date(call.endedAtMs).toISOString()} (${formatAge((nowMs - call.endedAtMs) / 1000)} ago): ${state === 'draining' ? 'still polled for late samples' : 'no longer polled; its series stay until call_retention passes'}.`}</p>`;
  }
  const why = src.tracking.get(callSid);
  if (!why) return html`<p>Not tracked: the exporter has not seen this call announced (or forgot it).</p>`;
  const when = `${new Date(why.atMs).toISOString()} (${formatAge((nowMs - why.atMs) / 1000)} ago)`;
  if (why.reason === 'max_calls') return html`<p class="bad">Not tracked: refused at ${when} because max_calls (${src.maxCalls}) was reached; announced by ${why.source}.</p>`;
  if (why.reason === 'not_owned') {
    return html`<p>Not tracked here: the call belongs to another shard (this is shard ${src.shard.ordinal} of ${src.shard.total}); announced by ${why.source} at ${when}.</p>`;
  }
  return html`<p>Not tracked any more: removed at ${when}${why.endedAtMs !== undefined && html`, having ended at ${new Date(why.endedAtMs).toISOString()}`}.</p>`;
}

function pollingSection(src: StatusSources, callSid: string, nowMs: number): SafeHtml {
  const d = src.poller.describe(callSid);
  if (!d) return html`<p class="muted">Not being polled.</p>`;
  return html`<p>Edges asked: ${d.edges.join(', ')} ${d.edgesKnown ? '(from the call type)' : '(all: the call type is not known yet)'}; ${
    d.running ? 'a poll is running' : `next poll in ${formatAge((d.dueMs - nowMs) / 1000)}`
  }.</p>
<table class="cursors"><thead><tr><th>edge query</th><th>order</th><th>resumes at the last page</th><th>streams</th><th>newest sample</th></tr></thead><tbody>
${d.cursors.map(
  (c) => html`<tr><td><code>${c.edge}</code></td><td>${c.order}</td><td>${c.resumable ? 'yes' : 'no'}</td><td class="num">${c.streams}</td><td>${c.newestMs === undefined ? '–' : new Date(c.newestMs).toISOString()}</td></tr>`,
)}
</tbody></table>`;
}

/** The page of one call; undefined when the exporter knows nothing about it (404). */
export function renderCallPage(src: StatusSources, callSid: string): string | undefined {
  const nowMs = src.now();
  const call = src.registry.get(callSid);
  if (!call && !src.tracking.get(callSid)) return undefined;
  const row = call ? callRow(src, call, nowMs) : undefined;
  const state = src.store.get(callSid);
  const body = html`<h1 class="sid">${callSid}</h1>
<p><a href="${consoleUrl(callSid)}">Twilio Console</a>${src.grafanaUrl !== '' && html` · <a href="${grafanaUrl(src.grafanaUrl, callSid)}">Grafana call dashboard</a>`} · <a href="/">all calls</a></p>
${
  row &&
  html`<p>Account <span class="sid">${row.call.accountSid}</span>; type ${row.callType ?? 'unknown'}; codec ${state?.codecName ?? 'unknown'}; media region ${state?.mediaRegion ?? 'unknown'}; newest sample ${formatAge(row.newestSampleAgeSeconds)} old.</p>
<p>Issues raised now: ${row.issues.length === 0 ? html`<span class="ok">none</span>` : issueBadges(row.issues)}</p>`
}
<h2>Tracking</h2>
${trackingSection(src, callSid, call, nowMs)}
<h2>Recent samples</h2>
${sparklines(src.history.history(callSid), src.rules)}
${
  row &&
  html`<table class="streams-now"><thead><tr><th>stream</th><th>MOS</th><th>RTT</th><th>jitter</th><th>loss</th><th>issues</th></tr></thead><tbody>${row.streams.map(
    (s) => html`<tr><td><code>${s.edge}/${s.direction}</code></td><td>${formatValue(s.mos, 'score')}</td><td>${formatValue(s.rttSeconds, 'ms')}</td><td>${formatValue(s.jitterSeconds, 'ms')}</td><td>${formatValue(s.packetLossRatio, 'percent')}</td><td>${issueBadges(s.issues)}</td></tr>`,
  )}</tbody></table>`
}
<h2>Polling</h2>
${pollingSection(src, callSid, nowMs)}
<h2>Recent Twilio requests (one row per poll)</h2>
${pollTable(src.polls.records(callSid), nowMs)}
<h2>Thresholds</h2>
<ul>${src.rules.map((r) => html`<li><code>${r.issue}</code> on ${r.edges.join(', ')}: ${r.source}</li>`)}</ul>`;
  return page(`Call ${callSid}`, src.version, src.telemetryPath, body);
}
