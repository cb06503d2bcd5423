import { ISSUES } from '../../quality/thresholds.ts';
import { html } from './html.ts';
import type { SafeHtml } from './html.ts';
import { formatAge, formatValue, issueBadges, page, stateBadge } from './layout.ts';
import { formatNumber } from './sparkline.ts';
import { callsPage } from './status-model.ts';
import type { AccountRow, CallRow, CallsQuery, StatusSources } from './status-model.ts';

function upCell(a: AccountRow): SafeHtml {
  if (a.pending === 'added') return html`<span class="muted">added by a reload: polled after a restart</span>`;
  const up = a.up === undefined ? html`<span class="muted">no answer yet</span>` : a.up ? html`<span class="ok">up</span>` : html`<span class="bad">down</span>`;
  return a.pending === 'removed' ? html`${up}<br><small class="muted">removed by a reload: polled until a restart</small>` : up;
}

function accountsTable(accounts: readonly AccountRow[], nowMs: number): SafeHtml {
  return html`<table class="accounts"><thead><tr><th>account</th><th>up</th><th>circuit</th><th>requests/s (1 m)</th><th>429s (1 m / total)</th><th>in flight / limit</th><th>last error</th></tr></thead><tbody>
${accounts.map(
  (a) => html`<tr><td><span class="sid">${a.accountSid}</span>${a.name !== a.accountSid && html` <span class="muted">${a.name}</span>`}</td>
<td>${upCell(a)}</td>
<td>${a.circuitOpen ? html`<span class="bad">open</span>` : html`<span class="ok">closed</span>`}</td>
<td class="num">${formatNumber(a.requestRate)}</td><td class="num">${a.rateLimitedLastMinute} / ${a.rateLimitedTotal}</td>
<td class="num">${a.inFlight} / ${a.maxConcurrent}</td>
<td>${
    a.lastError
      ? html`<code>${a.lastError.code}</code>${a.lastError.status !== undefined && html` HTTP ${a.lastError.status}`}${
          a.lastError.twilioCode !== undefined && html` Twilio <code>${a.lastError.twilioCode}</code>`
        } <span class="muted">${formatAge((nowMs - a.lastError.atMs) / 1000)} ago</span><br><small>${a.lastError.message}</small>`
      : html`<span class="muted">none</span>`
  }</td></tr>`,
)}
</tbody></table>`;
}

function streamsCell(row: CallRow): SafeHtml {
  if (row.streams.length === 0) return html`<span class="muted">no samples yet</span>`;
  return html`<table class="streams">${row.streams.map(
    (s) => html`<tr><td><code>${s.edge}/${s.direction}</code></td><td>MOS ${formatValue(s.mos, 'score')}</td><td>RTT ${formatValue(s.rttSeconds, 'ms')}</td><td>jitter ${formatValue(s.jitterSeconds, 'ms')}</td><td>loss ${formatValue(s.packetLossRatio, 'percent')}</td><td>${issueBadges(s.issues)}</td></tr>`,
  )}</table>`;
}

function callsTable(rows: readonly CallRow[]): SafeHtml {
  return html`<table class="calls"><thead><tr><th>call</th><th>account</th><th>type</th><th>sources</th><th>state</th><th>age</th><th>newest sample</th><th>issues</th><th>per edge (newest sample)</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr data-call="${r.call.callSid}"><td><a class="sid" href="/calls/${r.call.callSid}">${r.call.callSid}</a></td><td class="sid">${r.call.accountSid}</td>
<td>${r.callType ?? html`<span class="muted">unknown</span>`}</td><td>${[...r.call.sources].join(', ')}</td><td>${stateBadge(r.state)}</td>
<td class="num">${formatAge(r.ageSeconds)}</td><td class="num">${formatAge(r.newestSampleAgeSeconds)}</td><td>${issueBadges(r.issues)}</td><td>${streamsCell(r)}</td></tr>`,
)}
</tbody></table>`;
}

function filterForm(query: CallsQuery, accounts: readonly AccountRow[]): SafeHtml {
  const option = (value: string, selected: string | undefined, label = value): SafeHtml =>
    html`<option value="${value}"${value === (selected ?? '') && html` selected`}>${label}</option>`;
  return html`<form class="filters" method="get" action="/">
<label>state <select name="state">${option('', query.state, 'any')}${['active', 'draining', 'ended'].map((s) => option(s, query.state))}</select></label>
<label>issue <select name="issue">${option('', query.issue, 'any')}${ISSUES.map((i) => option(i, query.issue))}</select></label>
<label>account <select name="account">${option('', query.account, 'any')}${accounts.map((a) => option(a.accountSid, query.account))}</select></label>
<button type="submit">Filter</button></form>`;
}

function pageLink(query: CallsQuery, pageNo: number): string {
  const params = new URLSearchParams();
  if (query.state) params.set('state', query.state);
  if (query.issue) params.set('issue', query.issue);
  if (query.account) params.set('account', query.account);
  params.set('page', String(pageNo));
  return `/?${params.toString()}`;
}

/** The status page: accounts, then the tracked calls worst first, filtered and paged. */
export function renderIndexPage(src: StatusSources, query: CallsQuery): string {
  const nowMs = src.now();
  const accounts = src.accounts();
  const { rows, total, page: pageNo, pages } = callsPage(src, query);
  const counts = src.quality.raisingCounts();
  const byState = new Map<string, number>();
  for (const states of src.registry.countByState(nowMs).values()) for (const [s, n] of states) byState.set(s, (byState.get(s) ?? 0) + n);
  const body = html`<h1>Twilio Insights Exporter</h1>
<p>${src.registry.size} of at most ${src.maxCalls} calls tracked (${['active', 'draining', 'ended'].map((s, i) => html`${i > 0 && ', '}${byState.get(s) ?? 0} ${s}`)})${
    src.shard.total > 1 && html`; shard ${src.shard.ordinal} of ${src.shard.total}`
  }. Calls raising an issue now: ${ISSUES.map((i) => html`<a href="${pageLink({ page: 1, issue: i }, 1)}">${i}</a> ${counts.get(i) ?? 0} `)}</p>
<h2>Accounts</h2>
${accountsTable(accounts, nowMs)}
<h2>Tracked calls</h2>
${filterForm(query, accounts)}
<p>${total} matching, worst first; page ${pageNo} of ${pages}.
${pageNo > 1 && html`<a rel="prev" href="${pageLink(query, pageNo - 1)}">previous</a>`}
${pageNo < pages && html`<a rel="next" href="${pageLink(query, pageNo + 1)}">next</a>`}</p>
${rows.length === 0 ? html`<p class="muted">No call matches.</p>` : callsTable(rows)}`;
  return page('Twilio Insights Exporter', src.version, src.telemetryPath, body);
}
