// The console's guards and rendering, in process against a real database: no token → no console,
// read-only mode, strict escaping of what the platforms sent, sessions that expire, server-side
// sorting and paging, CSRF on every POST.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { isolate, type Isolation } from '../support/isolation.js';
import { startAdminServer, type Listening } from '../../src/daemon/http-server.js';
import { AlertBook } from '../../src/monitoring/alert-receiver.js';
import { KafkaBus } from '../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../src/pipeline/kafka/client.js';
import { allTopicNames, ensureTopics, pipelineTopics } from '../../src/pipeline/kafka/topics.js';
import type { SyncConfig } from '../../src/config/schema.js';
import type { StatusReport } from '../../src/services/status.js';
import { html, escapeHtml } from '../../src/console/html.js';
import { SessionStore } from '../../src/console/session.js';
import { countConflicts, listConflicts } from '../../src/services/conflicts.js';

const TOKEN = 'console-unit-admin-token-0123';

describe('Operator console (in process)', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let kafka: KafkaBus;
  const servers: Listening[] = [];
  const emptyStatus = async (): Promise<StatusReport> => ({ healthy: true, components: [], database: { reachable: true, migrated: true }, sources: [], consumerLag: [], latency: { windowMinutes: 15, writes: 0, p50Ms: null, p99Ms: null }, drift: [], problems: [], warnings: [] });

  const start = async (console: Partial<SyncConfig['console']> = {}, token: string | null = TOKEN): Promise<string> => {
    const config: SyncConfig = { ...iso.config, console: { ...iso.config.console, ...console } };
    const book = new AlertBook();
    const s = await startAdminServer({
      host: '127.0.0.1', port: 0, registry: new Registry(), token: token ?? undefined,
      health: { live: () => ({ ok: true }), ready: async () => ({ ok: true, checks: {} }) },
      alerts: { book },
      console: { config, pool: iso.pool, kafka, topics: pipelineTopics(config.kafka.topicPrefix), registry: new Registry(), alerts: book, status: emptyStatus },
    });
    servers.push(s);
    return s.url;
  };
  /** Logs in like a browser: the session cookie and the CSRF token of a page. */
  const login = async (url: string): Promise<{ cookie: string; csrf: string }> => {
    const r = await fetch(`${url}/console/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url }, body: `token=${TOKEN}` });
    assert.equal(r.status, 303);
    const cookie = r.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await fetch(`${url}/console/conflicts`, { headers: { cookie, accept: 'text/html' } })).text();
    return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1]! };
  };
  const conflict = async (sku: string, at = 'now()') => {
    const id = randomUUID();
    await iso.pool.query(
      `insert into conflict_log (conflict_id, entity_id, source_type, conflict_type, details, created_at, status) values ($1, $2, 'woocommerce:outlet', 'FIELD_CONFLICT', $3, ${at}, 'OPEN')`,
      [id, sku, JSON.stringify({ field: 'price', policy: 'manual', values: [{ source: 'shopify:main', value: '<img src=x onerror=alert(1)>', at: new Date().toISOString() }, { source: 'woocommerce:outlet', value: '12.00', at: new Date().toISOString() }] })],
    );
    return id;
  };

  before(async () => {
    iso = await isolate('console_unit');
    kafka = new KafkaBus(createKafka(iso.config.kafka));
    await ensureTopics(await kafka.getAdmin(), allTopicNames(pipelineTopics(iso.config.kafka.topicPrefix)), 1, 1);
  });
  after(async () => {
    for (const s of servers) await s.app.close();
    await kafka?.close();
    await iso?.cleanup();
  });

  it('escapes every interpolated value; nested html stays markup', () => {
    assert.equal(escapeHtml(`<a href="x" onclick='y'>&\``), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;');
    const name = '<script>alert(1)</script>';
    assert.equal(html`<td>${name}</td>${[html`<b>${'&'}</b>`]}${null}${false}`.value, '<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><b>&amp;</b>');
  });

  it('ends sessions when they expire, and finds none for an unknown id', () => {
    let now = 1_000;
    const store = new SessionStore(60_000, () => now);
    const s = store.create();
    assert.equal(store.get(s.id)?.csrf, s.csrf);
    assert.equal(store.get('not-a-session'), undefined);
    now += 60_001;
    assert.equal(store.get(s.id), undefined);
    assert.equal(store.size, 0);
  });

  it('without an admin token, refuses every console page and says how to enable it', async () => {
    const url = await start({}, null);
    const r = await fetch(`${url}/console`, { headers: { accept: 'text/html' } });
    assert.equal(r.status, 403);
    assert.match(await r.text(), /needs an admin token[\s\S]*http\.admin\.token/);
    assert.equal((await fetch(`${url}/console/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' })).status, 403);
  });

  it('renders what a platform sent as text, never as markup', async () => {
    const url = await start();
    const sku = `<script>alert("${randomUUID().slice(0, 4)}")</script>`;
    await conflict(sku);
    const { cookie } = await login(url);
    const page = await (await fetch(`${url}/console/conflicts?entity=${encodeURIComponent(sku)}`, { headers: { cookie, accept: 'text/html' } })).text();
    assert.ok(!page.includes('<script>alert'), 'no script element from data');
    assert.ok(!page.includes('<img src=x'), 'no img element from data');
    assert.ok(page.includes('&lt;script&gt;alert('));
    assert.ok(page.includes('&lt;img src=x onerror=alert(1)&gt;'));
  });

  it('sorts and pages on the server (the services the CLI uses)', async () => {
    const entity = `SKU-PAGE-${randomUUID().slice(0, 6)}`;
    for (let i = 0; i < 3; i++) await conflict(entity, `now() - interval '${i} minutes'`);
    assert.equal(await countConflicts(iso.pool, { entity }), 3);
    const newest = await listConflicts(iso.pool, { entity, limit: 2 });
    const oldest = await listConflicts(iso.pool, { entity, sort: 'created', order: 'asc', limit: 2 });
    const second = await listConflicts(iso.pool, { entity, limit: 2, offset: 2 });
    assert.equal(newest.length, 2);
    assert.equal(second.length, 1);
    assert.equal(second[0]!.conflictId, oldest[0]!.conflictId);
    assert.ok(newest[0]!.createdAt > newest[1]!.createdAt);
    assert.equal((await listConflicts(iso.pool, { entity, source: 'shopify:main' })).length, 3, 'a source whose value is in the conflict');
    assert.equal((await listConflicts(iso.pool, { entity, source: 'shopify:eu' })).length, 0);
  });

  it('refuses a POST without the session’s CSRF token or from another origin, and accepts one with both', async () => {
    const url = await start();
    const id = await conflict(`SKU-CSRF-${randomUUID().slice(0, 6)}`);
    const { cookie, csrf } = await login(url);
    const post = (body: Record<string, string>, origin?: string) =>
      fetch(`${url}/console/conflicts/resolve`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...(origin ? { origin } : {}) }, body: new URLSearchParams(body).toString() });
    const ask = { ids: id, mode: 'value', value: '"11.00"' };
    assert.equal((await post({ ...ask, _csrf: csrf }, 'http://evil.example')).status, 403);
    assert.equal((await post({ ...ask, _csrf: csrf })).status, 403, 'no Origin and no Referer');
    assert.equal((await post({ ...ask, _csrf: 'forged' }, url)).status, 403);
    assert.equal((await iso.pool.query('select status from conflict_log where conflict_id = $1', [id])).rows[0].status, 'OPEN');
    const ok = await post({ ...ask, _csrf: csrf }, url);
    assert.equal(ok.status, 200, await ok.text());
    assert.equal((await iso.pool.query('select resolution from conflict_log where conflict_id = $1', [id])).rows[0].resolution, 'USE_VALUE');
  });

  it('in read-only mode shows no action and refuses every action (403), even with the token', async () => {
    const url = await start({ readOnly: true });
    const id = await conflict(`SKU-RO-${randomUUID().slice(0, 6)}`);
    const { cookie, csrf } = await login(url);
    const page = await (await fetch(`${url}/console/conflicts/${id}`, { headers: { cookie, accept: 'text/html' } })).text();
    assert.match(page, /read-only/);
    assert.ok(!page.includes('/console/conflicts/resolve'), 'no resolve form');
    const r = await fetch(`${url}/console/conflicts/resolve`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: url }, body: new URLSearchParams({ _csrf: csrf, ids: id, mode: 'use', use: 'shopify:main' }).toString() });
    assert.equal(r.status, 403);
    const bearer = await fetch(`${url}/console/conflicts/resolve`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${TOKEN}` }, body: new URLSearchParams({ ids: id, mode: 'use', use: 'shopify:main' }).toString() });
    assert.equal(bearer.status, 403);
    assert.equal((await iso.pool.query('select status from conflict_log where conflict_id = $1', [id])).rows[0].status, 'OPEN');
  });

  it('resolves every open conflict matching the filter at once (as `conflicts resolve --entity`)', async () => {
    const url = await start();
    const entity = `SKU-BULK-${randomUUID().slice(0, 6)}`;
    const other = await conflict(`SKU-OTHER-${randomUUID().slice(0, 6)}`);
    for (let i = 0; i < 3; i++) await conflict(entity);
    const { cookie, csrf } = await login(url);
    const page = await (await fetch(`${url}/console/conflicts?entity=${entity}`, { headers: { cookie, accept: 'text/html' } })).text();
    assert.match(page, new RegExp(`every one of the open conflicts matching the filter \\(entity ${entity}\\)`));
    const r = await fetch(`${url}/console/conflicts/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: url },
      body: new URLSearchParams({ _csrf: csrf, scope: 'filter', f_type: '', f_entity: entity, f_source: '', mode: 'use', use: 'woocommerce:outlet' }).toString(),
    });
    assert.equal(r.status, 200);
    assert.equal((await r.text()).match(/class="outcome"/g)?.length, 3);
    const rows = (await iso.pool.query(`select status, resolution from conflict_log where entity_id = $1`, [entity])).rows;
    assert.deepEqual(new Set(rows.map((x) => `${x.status} ${x.resolution}`)), new Set(['RESOLVED USE_SOURCE:woocommerce:outlet']));
    assert.equal((await iso.pool.query('select status from conflict_log where conflict_id = $1', [other])).rows[0].status, 'OPEN');
  });

  it('shows the alerts Alertmanager reports firing on the overview, linked to the page to act on, and drops them once resolved', async () => {
    const url = await start();
    const alert = (status: 'firing' | 'resolved') => JSON.stringify({
      version: '4', groupKey: '{}:{alertname="SyncctlDeadLettersGrowing"}', truncatedAlerts: 0, status, receiver: 'syncctl-tickets',
      groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am',
      alerts: [{ status, labels: { alertname: 'SyncctlDeadLettersGrowing', severity: 'warning', source: 'woocommerce:outlet' }, annotations: { summary: 'Dead letters keep arriving for woocommerce:outlet', runbook_url: 'docs/operations.md#alert-syncctldeadlettersgrowing' }, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'f1' }],
    });
    const send = (status: 'firing' | 'resolved') => fetch(`${url}/alerts`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: alert(status) });
    assert.equal((await send('firing')).status, 200);
    const { cookie } = await login(url);
    const overview = await (await fetch(`${url}/console`, { headers: { cookie, accept: 'text/html' } })).text();
    assert.match(overview, /Dead letters keep arriving for woocommerce:outlet/);
    assert.ok(overview.includes('href="/console/dlq?source=woocommerce%3Aoutlet"'), 'links to the filtered dead letters');
    assert.ok(overview.includes('<code>docs/operations.md#alert-syncctldeadlettersgrowing</code>'));
    assert.equal((await send('resolved')).status, 200);
    assert.match(await (await fetch(`${url}/console`, { headers: { cookie, accept: 'text/html' } })).text(), /No alert firing/);
  });

  it('replays every open dead letter matching the filter, showing replayed and superseded ones (as `dlq replay --all --source`)', async () => {
    const url = await start();
    const target = `woocommerce:bulk${randomUUID().slice(0, 4)}`;
    const failedWrite = async (sku: string, source = target, ago = '1 minute') => {
      const writeId = randomUUID();
      await iso.pool.query(
        `insert into planned_writes (write_id, target_key, sku, kind, payload, idempotency_key, status, attempts, created_at) values ($1::uuid, $2, $3, 'inventory', '{"available": 5}', $1::text, 'FAILED', 8, now() - $4::interval)`,
        [writeId, source, sku, ago],
      );
      const dl = randomUUID();
      await iso.pool.query(
        `insert into dead_letters (dead_letter_id, source_key, sku, stage, error_class, error_code, error_message, attempts, payload, first_failed_at)
         values ($1, $2::text, $3, 'write:' || $2::text, 'RETRIABLE_EXHAUSTED', 'WOO_HTTP_503', 'Service Unavailable', 8, $4, now() - $5::interval)`,
        [dl, source, sku, JSON.stringify({ writeId, kind: 'inventory', payload: { available: 5 }, idempotencyKey: writeId }), ago],
      );
      return dl;
    };
    const replayed = await failedWrite('SKU-R1');
    const superseded = await failedWrite('SKU-R2', target, '10 minutes');
    await iso.pool.query(`insert into planned_writes (write_id, target_key, sku, kind, payload, idempotency_key, status) values ($1::uuid, $2, 'SKU-R2', 'inventory', '{"available": 3}', $1::text, 'DONE')`, [randomUUID(), target]);
    const elsewhere = await failedWrite('SKU-R3', 'woocommerce:elsewhere');
    const { cookie, csrf } = await login(url);
    const r = await fetch(`${url}/console/dlq/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: url },
      body: new URLSearchParams({ _csrf: csrf, scope: 'filter', f_stage: '', f_code: '', f_source: target }).toString(),
    });
    const page = await r.text();
    assert.equal(r.status, 200, page);
    assert.match(page, /class="summary-line">[^<]*replayed: 1/);
    assert.match(page, /class="summary-line">[^<]*superseded: 1/);
    const status = async (id: string) => (await iso.pool.query('select status from dead_letters where dead_letter_id = $1', [id])).rows[0].status;
    assert.deepEqual([await status(replayed), await status(superseded), await status(elsewhere)], ['REPLAYED', 'SUPERSEDED', 'OPEN']);
  });

  it('slows down an address that keeps sending wrong tokens to the login (429)', async () => {
    const url = await start();
    const attempt = (token: string) => fetch(`${url}/console/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url }, body: `token=${encodeURIComponent(token)}` });
    for (let i = 0; i < 10; i++) assert.equal((await attempt(`wrong-token-${i}-xxxxxxxx`)).status, 401);
    const limited = await attempt('wrong-token-again-xxxxxxxx');
    assert.equal(limited.status, 429);
    assert.match(await limited.text(), /Too many wrong tokens/);
    assert.equal((await attempt(TOKEN)).status, 429, 'even the right token waits');
  });

  it('says what it cannot find (404) and what it cannot read (400) on a page', async () => {
    const url = await start();
    const { cookie } = await login(url);
    assert.equal((await fetch(`${url}/console/dlq/${randomUUID()}`, { headers: { cookie, accept: 'text/html' } })).status, 404);
    const bad = await fetch(`${url}/console/conflicts/not-an-id`, { headers: { cookie, accept: 'text/html' } });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /is not a conflict id/);
  });
});
