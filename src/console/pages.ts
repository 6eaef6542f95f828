import { html, type Html } from './html.js';
import type { StatusReport } from '../services/status.js';
import type { ConflictRow, ResolveOutcome } from '../services/conflicts.js';
import type { ReplayOutcome } from '../services/dlq.js';
import type { DeadLetter } from '../db/dead-letters.js';
import type { EntityReport } from '../services/entity.js';
import type { PathLatency, StageLatency, StoreBudget, LiveCounts } from '../services/overview.js';
import type { OpenAlert } from '../monitoring/alert-receiver.js';

/** What every page's frame needs. */
export interface Frame {
  title: string;
  nav: 'overview' | 'conflicts' | 'dlq' | 'entity' | 'login' | 'none';
  csrf?: string;
  readOnly: boolean;
  refreshSeconds: number;
  counts?: LiveCounts;
}

const PAGE = 50;
export const PAGE_SIZE = PAGE;

/** The whole document around a page's content. */
export function layout(f: Frame, body: Html): Html {
  const link = (key: Frame['nav'], href: string, label: string, live?: string, count?: number) =>
    html`<a href="${href}"${key === f.nav ? html` aria-current="page"` : ''}>${label}${live ? html` <span class="badge" data-live="${live}">${count ?? '…'}</span>` : ''}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<title>${f.title} · syncctl console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body data-refresh="${f.refreshSeconds}">
<a class="skip" href="#main">Skip to content</a>
<header>
  <span class="brand">syncctl</span>
  ${f.nav === 'login' ? '' : html`<nav aria-label="Console">
    ${link('overview', '/console', 'Overview')}
    ${link('conflicts', '/console/conflicts', 'Conflicts', 'openConflicts', f.counts?.openConflicts)}
    ${link('dlq', '/console/dlq', 'Dead letters', 'openDeadLetters', f.counts?.openDeadLetters)}
    ${link('entity', '/console/entity', 'Entity')}
  </nav>
  <span class="meta">pending writes <span class="badge" data-live="pendingWrites">${f.counts?.pendingWrites ?? '…'}</span>${f.readOnly ? html` <span class="badge ro" title="console.readOnly is set">read-only</span>` : ''}</span>
  <form method="post" action="/console/logout" class="inline"><input type="hidden" name="_csrf" value="${f.csrf ?? ''}"><button type="submit" class="link">Log out</button></form>`}
</header>
<main id="main" tabindex="-1">
<h1>${f.title}</h1>
${body}
</main>
</body>
</html>`;
}

/** A button copying a value shown next to it (e.g. in a link). */
export const copyButton = (v: string): Html => html`<button type="button" class="copy" data-copy="${v}" aria-label="Copy ${v}" title="${v}">copy</button>`;

/** A value with a button copying it. */
export const copyable = (v: string, short = false): Html => html`<span class="id"><code title="${v}">${short ? v.slice(0, 8) : v}</code><button type="button" class="copy" data-copy="${v}" aria-label="Copy ${v}">copy</button></span>`;

const time = (iso: string | null | undefined): Html => (iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>` : html`<span class="muted">—</span>`);
const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`);
const json = (v: unknown): Html => html`<pre class="json">${JSON.stringify(v, null, 2)}</pre>`;
const sourceOf = (s: string | null) => s ?? '';

/** Sortable header links and paging over a GET filter form's query. */
export interface Listing {
  base: string;
  query: Record<string, string | undefined>;
  sort: string;
  order: 'asc' | 'desc';
  page: number;
  total: number;
}

const href = (l: Listing, over: Record<string, string | number | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...l.query, sort: l.sort, order: l.order, page: String(l.page), ...over })) if (v !== undefined && v !== '') q.set(k, String(v));
  return `${l.base}?${q.toString()}`;
};

function th(l: Listing, key: string, label: string): Html {
  const active = l.sort === key;
  const next = active && l.order === 'desc' ? 'asc' : 'desc';
  return html`<th scope="col"${active ? html` aria-sort="${l.order === 'asc' ? 'ascending' : 'descending'}"` : ''}><a href="${href(l, { sort: key, order: next, page: 1 })}">${label}${active ? (l.order === 'asc' ? ' ▲' : ' ▼') : ''}</a></th>`;
}

function pager(l: Listing): Html {
  const pages = Math.max(1, Math.ceil(l.total / PAGE));
  return html`<nav class="pager" aria-label="Pages">
    ${l.page > 1 ? html`<a href="${href(l, { page: l.page - 1 })}" rel="prev">← previous</a>` : html`<span class="muted">← previous</span>`}
    <span>page ${l.page} of ${pages} · ${l.total} row${l.total === 1 ? '' : 's'}</span>
    ${l.page < pages ? html`<a href="${href(l, { page: l.page + 1 })}" rel="next">next →</a>` : html`<span class="muted">next →</span>`}
  </nav>`;
}

const csrfField = (csrf: string | undefined) => html`<input type="hidden" name="_csrf" value="${csrf ?? ''}">`;

// ---------------------------------------------------------------- login

export function loginPage(f: Frame, error?: string): Html {
  return layout(f, html`<form method="post" action="/console/login" class="card login">
  ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
  <label for="token">Admin token (<code>http.admin.token</code>)</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Log in</button>
  <p class="muted">The session lasts until it expires or the daemon restarts; the token itself is never stored in the browser.</p>
</form>`);
}

export function messagePage(f: Frame, message: string, detail?: string): Html {
  return layout(f, html`<p class="error" role="alert">${message}</p>${detail ? html`<p>${detail}</p>` : ''}`);
}

// ---------------------------------------------------------------- overview

/**
 * Where an alert is worked on in the console, filtered by its labels when they name a source
 * (the alert rules' `source` / `target` / `instance` labels). Null when no page helps.
 */
export function consolePageOfAlert(alertname: string, labels: Record<string, string> = {}): { href: string; label: string } | null {
  const q = (k: string, v: string | undefined) => (v ? `?${k}=${encodeURIComponent(v)}` : '');
  if (/DeadLetter/.test(alertname)) return { href: `/console/dlq${q('source', labels.source)}`, label: 'Dead letters' };
  if (/WriteFailures/.test(alertname)) return { href: `/console/dlq${q('stage', labels.target ? `write:${labels.target}` : undefined)}`, label: 'Dead letters' };
  if (/Conflict/.test(alertname)) return { href: '/console/conflicts', label: 'Conflicts' };
  if (/Drift/.test(alertname)) return { href: '/console#h-drift', label: 'Drift' };
  if (/Latency/.test(alertname)) return { href: '/console#h-latency', label: 'Latency' };
  if (/Poller|Webhook|Shopify|Connect|Debezium|Flink|ConsumerLag/.test(alertname)) return { href: '/console#sources', label: 'Sources' };
  return null;
}

/** A runbook reference: a link when it is a URL, else the path in the repository's docs. */
const runbook = (ref: string): Html => (/^https?:\/\//.test(ref) ? html`<a href="${ref}">runbook</a>` : html`runbook <code>${ref}</code>`);

export interface OverviewData {
  status: StatusReport;
  latency: PathLatency[];
  stages: StageLatency[];
  budgets: StoreBudget[];
  alerts: OpenAlert[];
}

export function overviewPage(f: Frame, d: OverviewData): Html {
  const s = d.status;
  const ok = (b: boolean, yes = 'ok', no = 'down') => html`<span class="state ${b ? 'ok' : 'bad'}">${b ? yes : no}</span>`;
  return layout(f, html`
<section aria-labelledby="h-health" class="summary ${s.healthy ? 'ok' : 'bad'}">
  <h2 id="h-health">${s.healthy ? 'Healthy' : 'Unhealthy'}</h2>
  ${s.problems.length ? html`<ul class="problems">${s.problems.map((p) => html`<li>${p}</li>`)}</ul>` : ''}
  ${s.warnings.length ? html`<ul class="warnings">${s.warnings.map((p) => html`<li>${p}</li>`)}</ul>` : ''}
  <dl class="counts">
    <div><dt>Open conflicts</dt><dd><a href="/console/conflicts" data-live="openConflicts">${s.database.openConflicts ?? '—'}</a></dd></div>
    <div><dt>Open dead letters</dt><dd><a href="/console/dlq" data-live="openDeadLetters">${s.database.openDeadLetters ?? '—'}</a></dd></div>
    <div><dt>Pending writes</dt><dd data-live="pendingWrites">${s.database.pendingWrites ?? '—'}</dd></div>
    <div><dt>Unpublished events</dt><dd>${s.database.unpublishedEvents ?? '—'}</dd></div>
  </dl>
</section>

<section aria-labelledby="h-alerts">
  <h2 id="h-alerts">Open alerts</h2>
  ${d.alerts.length === 0 ? html`<p class="muted">No alert firing (as received on <code>/alerts</code> since this daemon started).</p>` : html`<table>
    <thead><tr><th scope="col">Alert</th><th scope="col">Severity</th><th scope="col">Summary</th><th scope="col">Since</th><th scope="col">Act</th></tr></thead>
    <tbody>${d.alerts.map((a) => {
      const page = consolePageOfAlert(a.alertname, a.labels);
      return html`<tr><td>${a.alertname}</td><td><span class="sev ${a.severity}">${a.severity}</span></td><td>${a.summary ?? ''}</td><td>${time(a.startsAt)}</td>
      <td>${page ? html`<a href="${page.href}">${page.label}</a>` : ''}${a.runbook ? html` · ${runbook(a.runbook)}` : ''}</td></tr>`;
    })}</tbody></table>`}
</section>

<section aria-labelledby="h-latency">
  <h2 id="h-latency">Sync latency per path</h2>
  <p class="muted">From a change at the source to the write applied at the target, over writes done in the window (exact, from <code>planned_writes</code>).</p>
  ${d.latency.length === 0 ? html`<p class="muted">No write applied in the last 60 minutes.</p>` : html`<table>
    <thead><tr><th scope="col">Source</th><th scope="col">Target</th><th scope="col">Path</th>
      <th scope="col">5 min: writes</th><th scope="col">p50</th><th scope="col">p99</th>
      <th scope="col">60 min: writes</th><th scope="col">p50</th><th scope="col">p99</th></tr></thead>
    <tbody>${d.latency.map((l) => html`<tr><td>${l.source}</td><td>${l.target}</td><td>${l.path}</td>${l.windows.map((w) => html`<td class="num">${w.writes}</td><td class="num">${ms(w.p50Ms)}</td><td class="num">${ms(w.p99Ms)}</td>`)}</tr>`)}</tbody></table>`}
  ${d.stages.length ? html`<h3>Pipeline stages (this daemon, since it started)</h3><table>
    <thead><tr><th scope="col">Stage</th><th scope="col">Target</th><th scope="col">Observations</th><th scope="col">p50 (est.)</th><th scope="col">p99 (est.)</th></tr></thead>
    <tbody>${d.stages.map((x) => html`<tr><td>${x.stage}</td><td>${x.target || '—'}</td><td class="num">${x.count}</td><td class="num">${ms(x.p50Ms)}</td><td class="num">${ms(x.p99Ms)}</td></tr>`)}</tbody></table>` : ''}
</section>

<section aria-labelledby="h-sources" id="sources">
  <h2 id="h-sources">Sources</h2>
  <table>
    <thead><tr><th scope="col">Source</th><th scope="col">Last event</th><th scope="col">Last poll</th><th scope="col">Poller</th><th scope="col">Detail</th></tr></thead>
    <tbody>${s.sources.map((x) => html`<tr><td>${x.source}</td><td>${time(x.lastEventAt)}</td><td>${time(x.lastPollAt)}</td><td>${x.source === 'erp' ? '—' : ok(!x.pollStale, 'fresh', 'stale')}</td><td><details><summary>detail</summary>${json(x.detail)}</details></td></tr>`)}</tbody>
  </table>
  ${d.budgets.length ? html`<h3>Shopify budget per store</h3><table>
    <thead><tr><th scope="col">Store</th><th scope="col">Points available</th><th scope="col">Capacity</th><th scope="col">Restore / s</th><th scope="col">Throttled (since start)</th></tr></thead>
    <tbody>${d.budgets.map((b) => html`<tr><td>shopify:${b.instance}</td><td class="num">${b.available ?? '—'}${b.available !== null && b.maximum ? html` <meter min="0" max="${b.maximum}" value="${b.available}" aria-label="budget left"></meter>` : ''}</td><td class="num">${b.maximum ?? '—'}</td><td class="num">${b.restoreRate ?? '—'}</td><td class="num">${b.throttled}</td></tr>`)}</tbody></table>` : ''}
</section>

<section aria-labelledby="h-drift">
  <h2 id="h-drift">Drift (last check per pair)</h2>
  ${s.drift.length === 0 ? html`<p class="muted">No drift check has run yet.</p>` : html`<table>
    <thead><tr><th scope="col">Pair</th><th scope="col">At</th><th scope="col">Result</th><th scope="col">Differences</th></tr></thead>
    <tbody>${s.drift.map((x) => html`<tr><td>${x.pair}</td><td>${time(x.at)}</td><td>${x.ok ? ok(Object.values(x.kinds).every((n) => n === 0), 'in sync', 'drift') : html`<span class="state bad">failed</span> ${x.error?.message ?? ''}`}</td><td>${Object.entries(x.kinds).filter(([, n]) => n > 0).map(([k, n]) => `${k}: ${n}`).join(', ') || '—'}</td></tr>`)}</tbody></table>`}
</section>

<section aria-labelledby="h-stack">
  <h2 id="h-stack">Stack and consumers</h2>
  <table>
    <thead><tr><th scope="col">Component</th><th scope="col">State</th><th scope="col">Port</th><th scope="col">Detail</th></tr></thead>
    <tbody>${s.components.map((c) => html`<tr><td>${c.component}</td><td>${ok(c.ready, 'ready', c.running ? 'not ready' : 'down')}</td><td class="num">${c.port ?? ''}</td><td>${c.detail ?? ''}</td></tr>`)}</tbody>
  </table>
  <table>
    <thead><tr><th scope="col">Consumer group</th><th scope="col">Lag (messages)</th></tr></thead>
    <tbody>${s.consumerLag.map((c) => html`<tr><td>${c.group}</td><td class="num">${c.lag}</td></tr>`)}</tbody>
  </table>
</section>`);
}

// ---------------------------------------------------------------- conflicts

const conflictValues = (c: ConflictRow): Array<{ source: string; value: unknown; at?: string }> => (Array.isArray(c.details.values) ? (c.details.values as Array<{ source: string; value: unknown; at?: string }>) : []);

function valuesCell(c: ConflictRow): Html {
  const values = conflictValues(c);
  if (!values.length) return html`<span class="muted">—</span>`;
  return html`<ul class="values">${values.map((v) => html`<li><span class="src">${v.source}</span> <strong>${JSON.stringify(v.value)}</strong> ${time(v.at)}</li>`)}</ul>`;
}

export function conflictsPage(f: Frame, rows: ConflictRow[], l: Listing): Html {
  const q = l.query;
  const sources = [...new Set(rows.flatMap((c) => conflictValues(c).map((v) => v.source)))].sort();
  const canAct = !f.readOnly && rows.some((r) => r.status === 'OPEN');
  return layout(f, html`
<form method="get" action="/console/conflicts" class="filters" role="search">
  <label>Type <select name="type"><option value="">any</option>${['FIELD_CONFLICT', 'UNMATCHED_SKU', 'DUPLICATE_SKU', 'SHARED_STOCK'].map((t) => html`<option${q.type === t ? html` selected` : ''}>${t}</option>`)}</select></label>
  <label>Entity (SKU) <input name="entity" value="${q.entity ?? ''}"></label>
  <label>Source <input name="source" value="${q.source ?? ''}" placeholder="woocommerce:outlet"></label>
  <label>Status <select name="status"><option value="open"${q.status !== 'all' ? html` selected` : ''}>open</option><option value="all"${q.status === 'all' ? html` selected` : ''}>all</option></select></label>
  <button type="submit">Filter</button>
</form>
<form method="post" action="/console/conflicts/resolve" id="bulk">
${csrfField(f.csrf)}
<table>
  <thead><tr>${canAct ? html`<th scope="col"><input type="checkbox" data-check-all="ids" aria-label="Select all on this page"></th>` : ''}
    <th scope="col">Id</th>${th(l, 'sku', 'SKU')}${th(l, 'type', 'Type')}${th(l, 'source', 'Recorded by')}<th scope="col">Field</th><th scope="col">Values (source, value, changed at)</th>${th(l, 'created', 'Created')}${th(l, 'status', 'Status')}</tr></thead>
  <tbody>${rows.length === 0 ? html`<tr><td colspan="9" class="muted">No conflict matches.</td></tr>` : rows.map((c) => html`<tr>
    ${canAct ? html`<td>${c.status === 'OPEN' ? html`<input type="checkbox" name="ids" value="${c.conflictId}" aria-label="Select conflict ${c.conflictId}">` : ''}</td>` : ''}
    <td><a href="/console/conflicts/${c.conflictId}">${c.conflictId.slice(0, 8)}</a> ${copyButton(c.conflictId)}</td>
    <td><a href="/console/entity/${encodeURIComponent(c.sku)}">${c.sku}</a></td><td>${c.type}</td><td>${c.source}</td><td>${String(c.details.field ?? '—')}</td>
    <td>${valuesCell(c)}</td><td>${time(c.createdAt)}</td><td>${c.status === 'OPEN' ? html`<span class="state warn">OPEN</span>` : html`<span class="state ok">${c.resolution ?? 'RESOLVED'}</span>`}</td></tr>`)}</tbody>
</table>
${pager(l)}
${canAct ? html`<fieldset class="card">
  <legend>Resolve conflicts</legend>
  ${scopeFields(l, ['type', 'entity', 'source'], 'open conflicts')}
  ${decisionFields(sources)}
  <button type="submit" data-confirm="Resolve these conflicts? The engine writes the chosen value to every channel.">Resolve</button>
</fieldset>` : ''}
</form>`);
}

/** Which rows a bulk action takes: the ticked ones, or every open one matching the page's filter (carried as hidden fields). */
function scopeFields(l: Listing, keys: string[], what: string): Html {
  const filter = keys.filter((k) => l.query[k]).map((k) => `${k} ${l.query[k]}`).join(', ');
  return html`<div class="scope" role="radiogroup" aria-label="Which rows">
    <label><input type="radio" name="scope" value="selected" checked> the selected rows</label>
    <label><input type="radio" name="scope" value="filter"> every one of the ${what} matching the filter (${filter || 'no filter: all of them'})</label>
    ${keys.map((k) => html`<input type="hidden" name="f_${k}" value="${l.query[k] ?? ''}">`)}
  </div>`;
}

function decisionFields(sources: string[]): Html {
  return html`<div class="decision">
    <label><input type="radio" name="mode" value="use" checked> Use the value of source
      <select name="use" aria-label="Source whose value to use">${sources.map((s) => html`<option>${s}</option>`)}</select></label>
    <label><input type="radio" name="mode" value="value"> Set the value <input name="value" placeholder='"19.99" (JSON)' aria-label="Value as JSON"></label>
    <label>Note <input name="note" placeholder="why (kept in conflict_log)"></label>
  </div>`;
}

export function conflictPage(f: Frame, c: ConflictRow): Html {
  const values = conflictValues(c);
  return layout(f, html`
<dl class="facts">
  <div><dt>Id</dt><dd>${copyable(c.conflictId)}</dd></div>
  <div><dt>SKU</dt><dd><a href="/console/entity/${encodeURIComponent(c.sku)}">${c.sku}</a> ${copyButton(c.sku)}</dd></div>
  <div><dt>Type</dt><dd>${c.type}</dd></div>
  <div><dt>Field</dt><dd>${String(c.details.field ?? '—')} (policy ${String(c.details.policy ?? '—')})</dd></div>
  <div><dt>Recorded by</dt><dd>${c.source}</dd></div>
  <div><dt>Created</dt><dd>${time(c.createdAt)}</dd></div>
  <div><dt>Status</dt><dd>${c.status}${c.resolution ? html` · ${c.resolution}` : ''}${c.resolvedBy ? html` by ${c.resolvedBy}` : ''} ${time(c.resolvedAt)}${c.note ? html` · “${c.note}”` : ''}</dd></div>
</dl>
<h2>Values</h2>
<table><thead><tr><th scope="col">Source</th><th scope="col">Value</th><th scope="col">Changed at</th>${c.status === 'OPEN' && !f.readOnly ? html`<th scope="col">Act</th>` : ''}</tr></thead>
<tbody>${values.map((v) => html`<tr><td>${v.source}</td><td><strong>${JSON.stringify(v.value)}</strong></td><td>${time(v.at)}</td>
  ${c.status === 'OPEN' && !f.readOnly ? html`<td><form method="post" action="/console/conflicts/resolve" class="inline">${csrfField(f.csrf)}<input type="hidden" name="ids" value="${c.conflictId}"><input type="hidden" name="mode" value="use"><input type="hidden" name="use" value="${v.source}">
    <button type="submit" data-confirm="Use ${v.source}'s value ${JSON.stringify(v.value)} everywhere?">Use ${v.source}</button></form></td>` : ''}</tr>`)}</tbody></table>
${c.status === 'OPEN' && !f.readOnly ? html`<form method="post" action="/console/conflicts/resolve" class="card">
  ${csrfField(f.csrf)}<input type="hidden" name="ids" value="${c.conflictId}"><input type="hidden" name="mode" value="value">
  <label>Set the value (JSON) <input name="value" required placeholder='"19.99"'></label>
  <label>Note <input name="note"></label>
  <button type="submit" data-confirm="Write this value to every channel?">Set value</button>
</form>` : ''}
<h2>Details</h2>${json(c.details)}`);
}

export function resolvedPage(f: Frame, out: ResolveOutcome[]): Html {
  return layout(f, html`<p role="status">${out.length} conflict(s) handled.</p>
<table><thead><tr><th scope="col">Conflict</th><th scope="col">SKU</th><th scope="col">Resolution</th><th scope="col">Applied</th></tr></thead>
<tbody>${out.map((r) => html`<tr class="outcome"><td><a href="/console/conflicts/${r.conflictId}">${r.conflictId.slice(0, 8)}</a> ${copyButton(r.conflictId)}</td><td><a href="/console/entity/${encodeURIComponent(r.sku)}">${r.sku}</a></td><td>${r.skipped ?? r.resolution}</td><td>${r.applied ? `${r.applied.field} = ${JSON.stringify(r.applied.value)}` : '—'}</td></tr>`)}</tbody></table>
<p><a href="/console/conflicts">Back to the conflicts</a></p>`);
}

// ---------------------------------------------------------------- dead letters

export function deadLettersPage(f: Frame, rows: DeadLetter[], l: Listing): Html {
  const q = l.query;
  const canAct = !f.readOnly && rows.some((r) => r.status === 'OPEN');
  return layout(f, html`
<form method="get" action="/console/dlq" class="filters" role="search">
  <label>Stage <input name="stage" value="${q.stage ?? ''}" placeholder="write:woocommerce:outlet"></label>
  <label>Error code <input name="code" value="${q.code ?? ''}"></label>
  <label>Source <input name="source" value="${q.source ?? ''}" placeholder="woocommerce"></label>
  <label>Status <select name="status">${['OPEN', 'REPLAYED', 'SUPERSEDED', 'DISCARDED', 'all'].map((s) => html`<option${(q.status ?? 'OPEN') === s ? html` selected` : ''}>${s}</option>`)}</select></label>
  <button type="submit">Filter</button>
</form>
<form method="post" action="/console/dlq/replay" id="bulk">
${csrfField(f.csrf)}
<table>
  <thead><tr>${canAct ? html`<th scope="col"><input type="checkbox" data-check-all="ids" aria-label="Select all on this page"></th>` : ''}
    <th scope="col">Id</th>${th(l, 'stage', 'Stage')}${th(l, 'source', 'Source')}${th(l, 'sku', 'SKU')}${th(l, 'code', 'Error')}<th scope="col">Message</th>${th(l, 'attempts', 'Attempts')}${th(l, 'failed', 'Last failed')}<th scope="col">Status</th></tr></thead>
  <tbody>${rows.length === 0 ? html`<tr><td colspan="10" class="muted">No dead letter matches.</td></tr>` : rows.map((d) => html`<tr>
    ${canAct ? html`<td>${d.status === 'OPEN' ? html`<input type="checkbox" name="ids" value="${d.deadLetterId}" aria-label="Select dead letter ${d.deadLetterId}">` : ''}</td>` : ''}
    <td><a href="/console/dlq/${d.deadLetterId}">${d.deadLetterId.slice(0, 8)}</a> ${copyButton(d.deadLetterId)}</td>
    <td>${d.stage}</td><td>${sourceOf(d.sourceKey)}</td><td>${d.sku ? html`<a href="/console/entity/${encodeURIComponent(d.sku)}">${d.sku}</a>` : '—'}</td>
    <td><code>${d.errorCode}</code><br><span class="muted">${d.errorClass}</span></td><td class="msg">${d.errorMessage}</td><td class="num">${d.attempts}</td><td>${time(d.lastFailedAt)}</td><td>${d.status}</td></tr>`)}</tbody>
</table>
${pager(l)}
${canAct ? html`<fieldset class="card">
  <legend>Act on dead letters</legend>
  ${scopeFields(l, ['stage', 'code', 'source'], 'open dead letters')}
  <label><input type="checkbox" name="wait" value="1"> Wait (up to 30 s) for the writers' verdict on replayed writes</label>
  <button type="submit" data-confirm="Replay these dead letters? Superseded ones are skipped.">Replay</button>
  <label>Reason <input name="reason" placeholder="why discard (kept)"></label>
  <button type="submit" formaction="/console/dlq/discard" data-confirm="Discard these dead letters?">Discard</button>
</fieldset>` : ''}
</form>`);
}

export function deadLetterPage(f: Frame, d: DeadLetter): Html {
  const open = d.status === 'OPEN' && !f.readOnly;
  return layout(f, html`
<dl class="facts">
  <div><dt>Id</dt><dd>${copyable(d.deadLetterId)}</dd></div>
  <div><dt>Stage</dt><dd>${d.stage}</dd></div>
  <div><dt>Source</dt><dd>${sourceOf(d.sourceKey)}</dd></div>
  <div><dt>SKU</dt><dd>${d.sku ? html`<a href="/console/entity/${encodeURIComponent(d.sku)}">${d.sku}</a> ${copyButton(d.sku)}` : '—'}</dd></div>
  <div><dt>Event</dt><dd>${d.eventId ? copyable(d.eventId) : '—'}</dd></div>
  <div><dt>Error</dt><dd><code>${d.errorCode}</code> (${d.errorClass}): ${d.errorMessage}</dd></div>
  <div><dt>Attempts</dt><dd>${d.attempts}</dd></div>
  <div><dt>Failed</dt><dd>first ${time(d.firstFailedAt)}, last ${time(d.lastFailedAt)}</dd></div>
  <div><dt>Status</dt><dd>${d.status}${d.note ? html` · “${d.note}”` : ''}</dd></div>
</dl>
${open ? html`<div class="actions">
  <form method="post" action="/console/dlq/replay" class="inline">${csrfField(f.csrf)}<input type="hidden" name="ids" value="${d.deadLetterId}">
    <label><input type="checkbox" name="wait" value="1" checked> wait for the verdict</label>
    <button type="submit" data-confirm="Replay this dead letter?">Replay</button></form>
  <form method="post" action="/console/dlq/discard" class="inline">${csrfField(f.csrf)}<input type="hidden" name="ids" value="${d.deadLetterId}">
    <label>Reason <input name="reason" required></label>
    <button type="submit" data-confirm="Discard this dead letter?">Discard</button></form>
</div>` : ''}
<h2>Payload</h2>${json(d.payload)}
<h2>Context</h2>${json(d.context)}`);
}

export function replayedPage(f: Frame, out: Array<Omit<ReplayOutcome, 'outcome'> & { outcome: string }>, action: 'replay' | 'discard'): Html {
  const summary: Record<string, number> = {};
  for (const o of out) summary[o.outcome] = (summary[o.outcome] ?? 0) + 1;
  return layout(f, html`<p role="status" class="summary-line">${Object.entries(summary).map(([k, v]) => `${k}: ${v}`).join(', ') || `nothing to ${action}`}</p>
<table><thead><tr><th scope="col">Dead letter</th><th scope="col">Stage</th><th scope="col">SKU</th><th scope="col">Outcome</th><th scope="col">Detail</th></tr></thead>
<tbody>${out.map((o) => html`<tr class="outcome"><td><a href="/console/dlq/${o.deadLetterId}">${o.deadLetterId.slice(0, 8)}</a> ${copyButton(o.deadLetterId)}</td><td>${o.stage}</td><td>${o.sku ?? '—'}</td>
  <td><span class="state ${o.outcome === 'failed' ? 'bad' : o.outcome === 'superseded' ? 'warn' : 'ok'}" data-outcome="${o.outcome}">${o.outcome}</span></td><td>${o.detail ?? ''}</td></tr>`)}</tbody></table>
<p><a href="/console/dlq">Back to the dead letters</a></p>`);
}

// ---------------------------------------------------------------- entity

export function entitySearchPage(f: Frame, sku?: string): Html {
  return layout(f, html`<form method="get" action="/console/entity" class="filters" role="search">
  <label>SKU <input name="sku" value="${sku ?? ''}" required autofocus></label><button type="submit">Show</button></form>`);
}

/** The values an operator looks for first in a `sync_state` row: each field's value and the stock numbers. */
function stateSummary(data: Record<string, unknown>): Html {
  const items: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(data)) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) items.push([k, v]);
  }
  const fields = data.fields as Record<string, { value?: unknown; source?: string }> | undefined;
  if (fields && typeof fields === 'object') for (const [k, v] of Object.entries(fields)) items.push([k, v?.value ?? null]);
  const held = data.held as Record<string, string> | undefined;
  const holds = held && typeof held === 'object' ? Object.keys(held) : [];
  if (!items.length && !holds.length) return html``;
  return html`<ul class="kv">${items.map(([k, v]) => html`<li><span class="muted">${k}</span> <strong>${JSON.stringify(v)}</strong></li>`)}${holds.map((k) => html`<li class="state warn">${k} held by a conflict</li>`)}</ul>`;
}

export function entityPage(f: Frame, e: EntityReport): Html {
  return layout(f, html`
<p>${copyable(e.sku)} ${e.known ? '' : html`<span class="state warn">syncctl has nothing about this SKU</span>`}</p>
<h2>State per instance</h2>
<table><thead><tr><th scope="col">Instance</th><th scope="col">Status</th><th scope="col">Values</th><th scope="col">Source version</th><th scope="col">Updated</th><th scope="col">Platform ids</th></tr></thead>
<tbody>${e.instances.map((i) => html`<tr><td>${i.source === '*' ? html`* <span class="muted">(agreed)</span>` : i.source}</td><td>${i.status ?? '—'}</td><td>${stateSummary(i.data)}<details><summary>all values</summary>${json(i.data)}</details></td><td>${i.sourceVersion ?? '—'}</td><td>${time(i.updatedAt || null)}</td><td>${i.platformIds.map((p) => copyable(p))}</td></tr>`)}</tbody></table>
<h2>Conflicts</h2>
${e.conflicts.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th scope="col">Id</th><th scope="col">Type</th><th scope="col">Values</th><th scope="col">Created</th><th scope="col">Status</th></tr></thead>
<tbody>${e.conflicts.map((c) => html`<tr><td><a href="/console/conflicts/${c.conflictId}">${c.conflictId.slice(0, 8)}</a></td><td>${c.type}</td><td>${valuesCell(c)}</td><td>${time(c.createdAt)}</td><td>${c.status}${c.resolution ? html` · ${c.resolution}` : ''}</td></tr>`)}</tbody></table>`}
<h2>Planned writes</h2>
${e.writes.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th scope="col">Write</th><th scope="col">Target</th><th scope="col">Kind</th><th scope="col">Cause</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Source event</th><th scope="col">Updated</th><th scope="col">Payload</th></tr></thead>
<tbody>${e.writes.map((w) => html`<tr><td>${copyable(w.writeId, true)}</td><td>${w.target}</td><td>${w.kind}</td><td>${w.cause}</td><td>${w.status}${w.lastError ? html`<br><span class="muted">${w.lastError}</span>` : ''}</td><td class="num">${w.attempts}</td><td>${w.source ?? ''} ${time(w.sourceEventAt)}</td><td>${time(w.updatedAt)}</td><td><details><summary>payload</summary>${json(w.payload)}</details></td></tr>`)}</tbody></table>`}
<h2>Recent source events</h2>
${e.events.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th scope="col">Event</th><th scope="col">Source</th><th scope="col">Type</th><th scope="col">Origin</th><th scope="col">Status</th><th scope="col">Received</th><th scope="col">Data</th></tr></thead>
<tbody>${e.events.map((v) => html`<tr><td>${copyable(v.eventId, true)}</td><td>${v.source}</td><td>${v.eventType ?? ''}</td><td>${v.origin}</td><td>${v.status ?? ''}</td><td>${time(v.receivedAt)}</td><td><details><summary>data</summary>${json(v.data)}</details></td></tr>`)}</tbody></table>`}
<h2>Ledger</h2>
${e.ledger.length === 0 ? html`<p class="muted">No order line.</p>` : html`<table><thead><tr><th scope="col">Channel</th><th scope="col">Order</th><th scope="col">Line</th><th scope="col">Quantity</th><th scope="col">Status</th><th scope="col">Updated</th></tr></thead>
<tbody>${e.ledger.map((x) => html`<tr><td>${x.source}</td><td>${copyable(x.orderId)}</td><td>${x.lineId}</td><td class="num">${x.quantity}</td><td>${x.status}</td><td>${time(x.updatedAt)}</td></tr>`)}</tbody></table>`}
<h2>Dead letters</h2>
${e.deadLetters.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th scope="col">Id</th><th scope="col">Stage</th><th scope="col">Error</th><th scope="col">Last failed</th><th scope="col">Status</th></tr></thead>
<tbody>${e.deadLetters.map((d) => html`<tr><td><a href="/console/dlq/${d.deadLetterId}">${d.deadLetterId.slice(0, 8)}</a></td><td>${d.stage}</td><td><code>${d.errorCode}</code></td><td>${time(d.lastFailedAt)}</td><td>${d.status}</td></tr>`)}</tbody></table>`}`);
}
