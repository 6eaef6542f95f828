import { readFileSync } from 'node:fs';
import type pg from 'pg';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { SyncConfig } from '../config/schema.js';
import { ConfigError, PermanentError, SyncError, describeError } from '../core/errors.js';
import { getLogger } from '../core/logger.js';
import type { KafkaBus } from '../pipeline/kafka/bus.js';
import type { PipelineTopics } from '../pipeline/kafka/topics.js';
import type { AlertBook } from '../monitoring/alert-receiver.js';
import { collectStatus, type StatusReport } from '../services/status.js';
import { CONFLICT_SORTS, countConflicts, getConflict, listConflicts, resolveConflicts, type ConflictSort, type Decision } from '../services/conflicts.js';
import { DEAD_LETTER_SORTS, countDeadLetters, discardDeadLetter, getDeadLetter, listDeadLetters, replayDeadLetters, type DeadLetterSort } from '../services/dlq.js';
import { getEntity } from '../services/entity.js';
import { latencyByPath, liveCounts, shopifyBudgets, stageLatency } from '../services/overview.js';
import type { DeadLetter } from '../db/dead-letters.js';
import type { Html } from './html.js';
import { SessionStore, parseCookies, sameSecret, type ConsoleSession } from './session.js';
import * as pages from './pages.js';
import { SourceLimiter } from '../daemon/source-limiter.js';

/** What the console needs from the daemon. */
export interface ConsoleOptions {
  config: SyncConfig;
  pool: pg.Pool;
  kafka: KafkaBus;
  topics: PipelineTopics;
  registry: Registry;
  alerts: AlertBook;
  /** The admin token (`http.admin.token`); none: the console refuses every page (403) and says why. */
  token?: string;
  /** The health report of the overview (default: the one behind `syncctl status`). */
  status?: (config: SyncConfig) => Promise<StatusReport>;
}

/** How long one health report serves every overview. */
const STATUS_CACHE_MS = 5000;

/** The session cookie's name. */
export const SESSION_COOKIE = 'syncctl_console';

type Auth = { kind: 'session'; session: ConsoleSession } | { kind: 'bearer' };

const ASSETS: Record<string, string> = { 'console.css': 'text/css; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };
const assetCache = new Map<string, Buffer>();
function asset(name: string): Buffer {
  let b = assetCache.get(name);
  if (!b) assetCache.set(name, (b = readFileSync(new URL(`./assets/${name}`, import.meta.url))));
  return b;
}

/** Paths of the console (the admin listener leaves their authentication to the console). */
export const isConsolePath = (path: string): boolean => path === '/console' || path.startsWith('/console/');

/**
 * The operator console: server-rendered pages under `/console` on the admin listener. Login with
 * the admin token makes a session (random id in an HttpOnly, SameSite=Strict cookie, kept in
 * memory); `Authorization: Bearer <token>` is accepted too. Every POST needs a same-origin
 * Origin (or Referer) and, with a session, the session's CSRF token; `console.readOnly` refuses
 * actions. Pages call the same services as the CLI (`src/services/`).
 */
export async function consolePlugin(app: FastifyInstance, opts: ConsoleOptions): Promise<void> {
  const log = getLogger('console');
  const c = opts.config.console;
  const sessions = new SessionStore(c.sessionMinutes * 60_000);
  const auth = new WeakMap<FastifyRequest, Auth>();
  const collect = opts.status ?? ((cfg) => collectStatus(cfg));
  // The health report asks the platforms (subscriptions, webhooks): shared by every overview for a few seconds.
  let cached: { at: number; report: Promise<StatusReport> } | undefined;
  const status = (cfg: SyncConfig): Promise<StatusReport> => {
    if (!cached || Date.now() - cached.at > STATUS_CACHE_MS) {
      const report = collect(cfg);
      cached = { at: Date.now(), report };
      report.catch(() => (cached = undefined));
    }
    return cached.report;
  };
  // Wrong tokens per client address: 10 tries, then one more every 5 s (the token has ≥ 16 characters; this keeps guessing slow and loud).
  const logins = new SourceLimiter({ burst: 10, perSecond: 0.2 });

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 256 * 1024 }, (_req, body, done) => done(null, new URLSearchParams(String(body))));

  app.addHook('onSend', async (_req, reply, payload) => {
    void reply.header('cache-control', 'no-store');
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'same-origin');
    void reply.header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    return payload;
  });

  const frame = (req: FastifyRequest, title: string, nav: pages.Frame['nav'], counts?: pages.Frame['counts']): pages.Frame => {
    const a = auth.get(req);
    return { title, nav, csrf: a?.kind === 'session' ? a.session.csrf : undefined, readOnly: c.readOnly, refreshSeconds: c.refreshSeconds, counts };
  };
  const page = (reply: FastifyReply, body: Html, code = 200) => reply.code(code).type('text/html; charset=utf-8').send(body.value);
  const fail = (req: FastifyRequest, reply: FastifyReply, code: number, message: string, detail?: string) => {
    if (!wantsHtml(req)) return reply.code(code).send({ ok: false, error: code === 401 ? 'UNAUTHORIZED' : code === 403 ? 'FORBIDDEN' : 'ERROR', message });
    return page(reply, pages.messagePage(frame(req, code === 404 ? 'Not found' : code === 403 ? 'Refused' : 'Error', 'none'), message, detail), code);
  };

  // Authentication, origin and CSRF checks, before any handler.
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (path.startsWith('/console/assets/')) return;
    if (!opts.token) {
      return fail(req, reply, 403, 'The console needs an admin token.', 'Set http.admin.token (env SYNCCTL_HTTP__ADMIN__TOKEN, at least 16 characters) and restart the daemon; then log in with it.');
    }
    if (path === '/console/login') return;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (m) {
      if (sameSecret(m[1]!.trim(), opts.token)) return void auth.set(req, { kind: 'bearer' });
      return reply.code(401).header('www-authenticate', 'Bearer realm="syncctl-admin"').send({ ok: false, error: 'UNAUTHORIZED', message: 'the bearer token is not the admin token' });
    }
    const session = sessions.get(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    if (session) return void auth.set(req, { kind: 'session', session });
    if (req.method === 'GET' && wantsHtml(req)) return reply.code(303).header('location', '/console/login').send();
    return reply.code(401).header('www-authenticate', 'Bearer realm="syncctl-admin"').send({ ok: false, error: 'UNAUTHORIZED', message: 'log in at /console/login or send Authorization: Bearer <http.admin.token>' });
  });

  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST') return;
    const path = req.url.split('?')[0]!;
    const a = auth.get(req);
    // A bearer token is never sent by a browser on its own: no cross-site request can carry it.
    if (a?.kind === 'bearer') return readOnlyCheck(req, reply, path);
    const origin = requestOrigin(req);
    if (!origin || !allowedOrigins(req, c.allowedOrigins).has(origin)) {
      log.warn({ path, origin: origin ?? null }, 'console POST refused: not from the console itself');
      return fail(req, reply, 403, 'Refused: this request did not come from the console’s own pages (Origin/Referer check).');
    }
    if (path === '/console/login') return;
    const body = req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
    const token = body.get('_csrf') ?? '';
    if (a?.kind !== 'session' || !sameSecret(token, a.session.csrf)) {
      log.warn({ path }, 'console POST refused: missing or wrong CSRF token');
      return fail(req, reply, 403, 'Refused: the form’s CSRF token is missing or stale. Reload the page and try again.');
    }
    return readOnlyCheck(req, reply, path);
  });
  const readOnlyCheck = (req: FastifyRequest, reply: FastifyReply, path: string) => {
    if (c.readOnly && path !== '/console/logout') return fail(req, reply, 403, 'The console is read-only (console.readOnly): no action is allowed.');
  };

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ConfigError) return fail(req, reply, 400, err.message, err.hint);
    if (err instanceof PermanentError && /NOT_FOUND$/.test(err.code)) return fail(req, reply, 404, err.message, err.hint);
    if (err instanceof SyncError) return fail(req, reply, 409, err.message, err.hint);
    const e = err as Error & { statusCode?: number };
    if (e.statusCode && e.statusCode < 500) return fail(req, reply, e.statusCode, e.message);
    log.error({ err: describeError(err), path: req.url.split('?')[0] }, 'console request failed');
    return fail(req, reply, 500, 'The console could not do this; see the daemon’s log.');
  });

  app.get('/console/assets/:name', async (req, reply) => {
    const { name } = req.params as { name: string };
    const type = ASSETS[name];
    if (!type) return reply.code(404).send({ ok: false, error: 'NOT_FOUND' });
    return reply.type(type).send(asset(name));
  });

  // ------------------------------------------------------------ login
  app.get('/console/login', async (req, reply) => page(reply, pages.loginPage(frame(req, 'Log in', 'login'))));
  app.post('/console/login', async (req, reply) => {
    const body = req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
    const given = body.get('token') ?? '';
    if (!logins.allows(req.ip)) {
      log.warn({ ip: req.ip }, 'console login refused: too many wrong tokens from this address');
      return page(reply.header('retry-after', '5'), pages.loginPage(frame(req, 'Log in', 'login'), 'Too many wrong tokens from this address: wait a few seconds.'), 429);
    }
    if (!sameSecret(given.trim(), opts.token!)) {
      logins.charge(req.ip);
      log.warn({ ip: req.ip }, 'console login refused: wrong token');
      return page(reply, pages.loginPage(frame(req, 'Log in', 'login'), 'That is not the admin token.'), 401);
    }
    const s = sessions.create();
    log.info({ ip: req.ip }, 'console login');
    const cookie = `${SESSION_COOKIE}=${s.id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${c.sessionMinutes * 60}${c.secureCookie ? '; Secure' : ''}`;
    return reply.code(303).header('set-cookie', cookie).header('location', '/console').send();
  });
  app.post('/console/logout', async (req, reply) => {
    const a = auth.get(req);
    if (a?.kind === 'session') sessions.delete(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    return reply.code(303).header('set-cookie', `${SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0${c.secureCookie ? '; Secure' : ''}`).header('location', '/console/login').send();
  });

  // ------------------------------------------------------------ live counters
  app.get('/console/api/live', async () => liveCounts(opts.pool));

  // ------------------------------------------------------------ overview
  app.get('/console', async (req, reply) => {
    const [st, latency, stages, budgets, counts] = await Promise.all([
      status(opts.config),
      latencyByPath(opts.pool, [5, 60]),
      stageLatency(opts.registry),
      shopifyBudgets(opts.registry, Object.keys(opts.config.sources.shopify)),
      liveCounts(opts.pool),
    ]);
    return page(reply, pages.overviewPage(frame(req, 'Overview', 'overview', counts), { status: st, latency, stages, budgets, alerts: opts.alerts.list() }));
  });

  // ------------------------------------------------------------ conflicts
  app.get('/console/conflicts', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const { sort, order, pageNo } = listingParams<ConflictSort>(q, CONFLICT_SORTS, 'created');
    const filter = { open: q.status !== 'all', type: q.type || undefined, entity: q.entity?.trim() || undefined, source: q.source?.trim() || undefined };
    const [rows, total, counts] = await Promise.all([
      listConflicts(opts.pool, { ...filter, sort, order, limit: pages.PAGE_SIZE, offset: (pageNo - 1) * pages.PAGE_SIZE }),
      countConflicts(opts.pool, filter),
      liveCounts(opts.pool),
    ]);
    const listing: pages.Listing = { base: '/console/conflicts', query: { type: q.type, entity: q.entity, source: q.source, status: q.status }, sort, order, page: pageNo, total };
    return page(reply, pages.conflictsPage(frame(req, 'Conflicts', 'conflicts', counts), rows, listing));
  });
  app.get('/console/conflicts/:id', async (req, reply) => {
    const row = await getConflict(opts.pool, (req.params as { id: string }).id);
    return page(reply, pages.conflictPage(frame(req, `Conflict ${row.conflictId.slice(0, 8)}`, 'conflicts', await liveCounts(opts.pool)), row));
  });
  app.post('/console/conflicts/resolve', async (req, reply) => {
    const body = form(req);
    let decision: Decision;
    if (body.get('mode') === 'value') {
      const raw = body.get('value') ?? '';
      try {
        decision = { value: JSON.parse(raw) };
      } catch {
        throw new ConfigError('USAGE', `The value must be JSON (e.g. "19.99" with the quotes), got ${raw}.`);
      }
    } else {
      const use = body.get('use');
      if (!use) throw new ConfigError('USAGE', 'Choose the source whose value to use, or set a value.');
      decision = { use };
    }
    const rows = byFilter(body)
      ? await listConflicts(opts.pool, { open: true, type: body.get('f_type') || undefined, entity: body.get('f_entity')?.trim() || undefined, source: body.get('f_source')?.trim() || undefined, limit: 10_000 })
      : await Promise.all(selected(body, 'conflict').map((id) => getConflict(opts.pool, id)));
    const out = await resolveConflicts(opts.pool, opts.kafka, opts.topics.canonical, rows, decision, `console@${req.ip}`, body.get('note') || undefined);
    log.info({ conflicts: out.length, decision }, 'conflicts resolved from the console');
    return page(reply, pages.resolvedPage(frame(req, 'Conflicts resolved', 'conflicts', await liveCounts(opts.pool)), out));
  });

  // ------------------------------------------------------------ dead letters
  app.get('/console/dlq', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const { sort, order, pageNo } = listingParams<DeadLetterSort>(q, DEAD_LETTER_SORTS, 'failed');
    const st = (['OPEN', 'REPLAYED', 'SUPERSEDED', 'DISCARDED', 'all'] as const).find((s) => s === q.status) ?? 'OPEN';
    const filter = { status: st, stage: q.stage?.trim() || undefined, code: q.code?.trim() || undefined, source: q.source?.trim() || undefined };
    const [rows, total, counts] = await Promise.all([
      listDeadLetters(opts.pool, { ...filter, sort, order, limit: pages.PAGE_SIZE, offset: (pageNo - 1) * pages.PAGE_SIZE }),
      countDeadLetters(opts.pool, filter),
      liveCounts(opts.pool),
    ]);
    const listing: pages.Listing = { base: '/console/dlq', query: { stage: q.stage, code: q.code, source: q.source, status: q.status }, sort, order, page: pageNo, total };
    return page(reply, pages.deadLettersPage(frame(req, 'Dead letters', 'dlq', counts), rows, listing));
  });
  app.get('/console/dlq/:id', async (req, reply) => {
    const d = await getDeadLetter(opts.pool, (req.params as { id: string }).id);
    return page(reply, pages.deadLetterPage(frame(req, `Dead letter ${d.deadLetterId.slice(0, 8)}`, 'dlq', await liveCounts(opts.pool)), d));
  });
  app.post('/console/dlq/replay', async (req, reply) => {
    const body = form(req);
    const list = await selectedDeadLetters(opts.pool, body);
    const transform = opts.config.transform.runner === 'embedded' ? { skuRule: opts.config.identity.sku } : undefined;
    const out = await replayDeadLetters(opts.pool, opts.kafka, opts.topics, list, { waitMs: body.get('wait') ? 30_000 : 0, transform });
    log.info({ outcomes: out.map((o) => o.outcome) }, 'dead letters replayed from the console');
    return page(reply, pages.replayedPage(frame(req, 'Replay', 'dlq', await liveCounts(opts.pool)), out, 'replay'));
  });
  app.post('/console/dlq/discard', async (req, reply) => {
    const body = form(req);
    const reason = body.get('reason')?.trim();
    if (!reason) throw new ConfigError('USAGE', 'Give a reason to discard (it is kept with the dead letter).');
    const list = await selectedDeadLetters(opts.pool, body);
    const out = [];
    for (const d of list) {
      try {
        await discardDeadLetter(opts.pool, d.deadLetterId, reason);
        out.push({ deadLetterId: d.deadLetterId, stage: d.stage, sku: d.sku, outcome: 'discarded', detail: reason });
      } catch (err) {
        out.push({ deadLetterId: d.deadLetterId, stage: d.stage, sku: d.sku, outcome: 'failed', detail: describeError(err).message });
      }
    }
    return page(reply, pages.replayedPage(frame(req, 'Discard', 'dlq', await liveCounts(opts.pool)), out, 'discard'));
  });

  // ------------------------------------------------------------ entity
  app.get('/console/entity', async (req, reply) => {
    const sku = (req.query as { sku?: string }).sku?.trim();
    if (sku) return reply.code(303).header('location', `/console/entity/${encodeURIComponent(sku)}`).send();
    return page(reply, pages.entitySearchPage(frame(req, 'Entity', 'entity', await liveCounts(opts.pool))));
  });
  app.get('/console/entity/:sku', async (req, reply) => {
    const sku = (req.params as { sku: string }).sku;
    const [e, counts] = await Promise.all([getEntity(opts.pool, sku), liveCounts(opts.pool)]);
    return page(reply, pages.entityPage(frame(req, `Entity ${sku}`, 'entity', counts), e));
  });
}

/** The dead letters a bulk action takes: the ticked ones, or every open one matching the list's filter (as `dlq replay --all`). */
async function selectedDeadLetters(pool: pg.Pool, body: URLSearchParams): Promise<DeadLetter[]> {
  if (byFilter(body)) return listDeadLetters(pool, { status: 'OPEN', stage: body.get('f_stage')?.trim() || undefined, code: body.get('f_code')?.trim() || undefined, source: body.get('f_source')?.trim() || undefined, limit: 100_000 });
  return Promise.all(selected(body, 'dead letter').map((id) => getDeadLetter(pool, id)));
}

const byFilter = (body: URLSearchParams): boolean => body.get('scope') === 'filter';
function selected(body: URLSearchParams, what: string): string[] {
  const ids = body.getAll('ids');
  if (!ids.length) throw new ConfigError('USAGE', `Select at least one ${what} (or choose every one matching the filter).`);
  return ids;
}

const form = (req: FastifyRequest): URLSearchParams => (req.body instanceof URLSearchParams ? req.body : new URLSearchParams());
const pageOf = (v: string | undefined): number => Math.max(1, Math.min(1_000_000, Number.parseInt(v ?? '1', 10) || 1));
const wantsHtml = (req: FastifyRequest): boolean => !req.headers.authorization && /text\/html|\*\/\*/.test(req.headers.accept ?? '') && !(req.url.split('?')[0]!.startsWith('/console/api/'));

/** The origin a browser says a request came from: Origin, else the Referer's origin. */
function requestOrigin(req: FastifyRequest): string | undefined {
  const o = req.headers.origin;
  if (o && o !== 'null') return o.toLowerCase();
  if (o === 'null') return 'null';
  const r = req.headers.referer;
  if (!r) return undefined;
  try {
    return new URL(r).origin.toLowerCase();
  } catch {
    return undefined;
  }
}

/** The console's own origins: the request's Host (http or https, as a TLS proxy may keep it) and the configured ones. */
function allowedOrigins(req: FastifyRequest, extra: readonly string[]): Set<string> {
  const out = new Set(extra.map((u) => new URL(u).origin.toLowerCase()));
  const host = req.headers.host?.toLowerCase();
  if (host) for (const scheme of ['http', 'https']) out.add(`${scheme}://${host}`);
  return out;
}

/** The sort column (one of `sorts`, else `fallback`), direction and page a listing's query asks for. */
function listingParams<S extends string>(q: Record<string, string | undefined>, sorts: Record<string, unknown>, fallback: S): { sort: S; order: 'asc' | 'desc'; pageNo: number } {
  return { sort: (q.sort && q.sort in sorts ? q.sort : fallback) as S, order: q.order === 'asc' ? 'asc' : 'desc', pageNo: pageOf(q.page) };
}

