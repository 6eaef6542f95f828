import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Registry } from 'prom-client';
import { events as bus, type SyncEventBus } from '../core/events.js';
import type { WebhookIntake } from '../pipeline/intake/webhook-intake.js';
import { renderMetrics } from '../monitoring/metrics.js';
import type { MetricProbes } from '../monitoring/probes.js';
import { alertReceiverPlugin, type AlertReceiverOptions } from '../monitoring/alert-receiver.js';
import { SourceLimiter } from './source-limiter.js';
import { consolePlugin, isConsolePath, type ConsoleOptions } from '../console/routes.js';

/** What `/healthz` and `/readyz` report. */
export interface HealthSource {
  /** Process alive and its loops not wedged. */
  live(): { ok: boolean; detail?: Record<string, unknown> };
  /** Ready for traffic: started, not draining, dependencies reachable. */
  ready(): Promise<{ ok: boolean; checks: Record<string, { ok: boolean; detail?: string }> }>;
}

/** Options of the public (webhook) listener. */
export interface PublicServerOptions {
  host: string;
  port: number;
  bodyLimitBytes: number;
  intake: WebhookIntake;
  /** Whether the process is alive (the bare `GET /healthz` of the public listener). */
  live: () => boolean;
  /** Fastify's `trustProxy`: whose `X-Forwarded-For` names the client (the rate limit's source). */
  trustProxy?: boolean | string[];
  /** Per-source budget of refused deliveries; false: no limit. */
  rateLimit?: { burst: number; perSecond: number } | false;
  instrumentation?: SyncEventBus;
}

/** Options of the admin (operators') listener. */
export interface AdminServerOptions {
  host: string;
  port: number;
  registry: Registry;
  probes?: MetricProbes;
  health: HealthSource;
  /** Bearer token required on every admin path (except `unauthenticated` ones); none: open (loopback only, checked by config). */
  token?: string;
  /** Paths left open without the token (never `/alerts`). */
  unauthenticated?: readonly string[];
  /** The Alertmanager receiver; mounted only with a token. */
  alerts?: AlertReceiverOptions | false;
  /** The operator console under `/console` (it authenticates its own requests: session cookie or the bearer token). */
  console?: Omit<ConsoleOptions, 'token'> | false;
}

/** A listening server. */
export interface Listening {
  app: FastifyInstance;
  url: string;
}

/**
 * A Fastify app that closes cleanly during a drain: on close, idle keep-alive connections are
 * closed and new requests get 503 with `Connection: close`; a request already in flight gets its
 * answer, but its connection would then stay open until the keep-alive timeout (72 s) and hold
 * the drain, so its answer closes it.
 */
function drainableApp(opts: FastifyServerOptions): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true, forceCloseConnections: 'idle', ...opts });
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
    return payload;
  });
  // An answer sent just before the drain began and finished just after it: its connection was
  // not idle yet when the server closed the idle ones, so close it now.
  app.addHook('onResponse', async () => {
    if (closing) app.server.closeIdleConnections();
  });
  return app;
}

/**
 * The public listener, the only one the platforms (and so the internet) reach, behind the
 * operator's TLS proxy: `POST /webhooks/<platform>/<instance>` (raw body kept for signatures,
 * HMAC checked before parsing, body limit) and a bare `GET /healthz`. Nothing else: metrics,
 * readiness details and the alert receiver live on the admin listener. A source whose deliveries
 * keep being refused (forgeries, junk) is answered 429 before its body is read.
 * Stateless: any number of daemons can sit behind a load balancer.
 */
export async function startPublicServer(opts: PublicServerOptions): Promise<Listening> {
  const instrumentation = opts.instrumentation ?? bus;
  const app = drainableApp({ bodyLimit: opts.bodyLimitBytes, trustProxy: opts.trustProxy ?? false });
  const limiter = opts.rateLimit ? new SourceLimiter(opts.rateLimit) : undefined;
  app.get('/healthz', async (_req, reply) => {
    const ok = opts.live();
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unhealthy' });
  });
  if (limiter) {
    // Before the body is read: a source out of budget costs no hash, no parse, no log line.
    // The bare liveness answer is exempt (a proxy's health check must not be limited).
    app.addHook('onRequest', async (req, reply) => {
      if (req.url === '/healthz' || limiter.allows(req.ip)) return;
      const params = (req.params ?? {}) as { platform?: string; instance?: string };
      instrumentation.emit('webhook.received', { ...opts.intake.labels(params.platform, params.instance), outcome: 'rejected', reason: 'rate_limited', seconds: 0 });
      // The connection stays open: Node discards the unread body, which is cheaper than a new connection per request.
      return reply.code(429).header('retry-after', '1').send({ ok: false, error: 'WEBHOOK_RATE_LIMITED', message: 'too many refused deliveries from this source' });
    });
    // Only refusals (forged or unknown deliveries, junk paths) spend the budget: genuine deliveries never do.
    app.addHook('onResponse', async (req, reply) => {
      if (reply.statusCode >= 400 && reply.statusCode < 500 && reply.statusCode !== 429 && req.url !== '/healthz') limiter.charge(req.ip);
    });
  }
  // Webhook bodies stay raw bytes: signatures are computed over them, before any parsing.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.bodyLimitBytes }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((error, req, reply) => {
      const err = error as Error & { code?: string; statusCode?: number };
      const params = req.params as { platform?: string; instance?: string };
      const labels = opts.intake.labels(params.platform, params.instance);
      const tooLarge = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413;
      if (!tooLarge && !(err.statusCode && err.statusCode >= 400 && err.statusCode < 500)) {
        // Our failure, not the request's: no internals in the answer, and the platform may deliver again.
        instrumentation.emit('webhook.received', { ...labels, outcome: 'rejected', reason: 'unavailable', seconds: 0 });
        return void reply.code(503).send({ ok: false, error: 'TEMPORARILY_UNAVAILABLE', message: 'try again later' });
      }
      instrumentation.emit('webhook.received', { ...labels, outcome: 'rejected', reason: tooLarge ? 'too_large' : 'malformed', seconds: 0 });
      void reply.code(tooLarge ? 413 : err.statusCode!).send({ ok: false, error: tooLarge ? 'WEBHOOK_TOO_LARGE' : 'WEBHOOK_MALFORMED', message: err.message });
    });
    scope.post('/webhooks/:platform/:instance', async (req, reply) => {
      const { platform, instance } = req.params as { platform: string; instance: string };
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
      const res = await opts.intake.handle(platform, instance, { headers, rawBody: raw });
      return reply.code(res.status).send(res.body);
    });
  });
  const address = await app.listen({ host: opts.host, port: opts.port });
  return { app, url: address };
}

/** SHA-256 of a token: equal-length digests compared in constant time, whatever was sent. */
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The admin listener, for operators only (bound to loopback by default): `/metrics`, `/healthz`
 * and `/readyz` with details, the Alertmanager receiver `POST /alerts` and the operator console
 * `/console` (which needs the token too: without one it refuses every page and says why). With a token, every
 * path needs `Authorization: Bearer <token>` (compared in constant time; never logged) except
 * the ones the operator explicitly leaves open for a Prometheus that cannot send it; `/alerts`
 * always needs it and is mounted only when a token exists.
 */
export async function startAdminServer(opts: AdminServerOptions): Promise<Listening> {
  const app = drainableApp({});
  const open = new Set((opts.unauthenticated ?? []).filter((p) => p !== '/alerts'));
  if (opts.token) {
    const expected = digest(opts.token);
    app.addHook('onRequest', async (req, reply) => {
      const path = req.url.split('?')[0]!;
      if (open.has(path)) return;
      // The console checks its own requests (a browser sends a session cookie, not a bearer header).
      if (opts.console && isConsolePath(path)) return;
      const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      if (m && timingSafeEqual(digest(m[1]!.trim()), expected)) return;
      return reply.code(401).header('www-authenticate', 'Bearer realm="syncctl-admin"').send({ ok: false, error: 'UNAUTHORIZED', message: m ? 'the bearer token is not the admin token' : 'the admin listener needs Authorization: Bearer <http.admin.token>' });
    });
  }
  app.get('/metrics', async (_req, reply) => {
    const m = await renderMetrics(opts.registry, opts.probes);
    return reply.header('content-type', m.contentType).send(m.body);
  });
  app.get('/healthz', async (_req, reply) => {
    const h = opts.health.live();
    return reply.code(h.ok ? 200 : 503).send({ status: h.ok ? 'ok' : 'unhealthy', ...h.detail });
  });
  app.get('/readyz', async (_req, reply) => {
    const r = await opts.health.ready();
    return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'not ready', checks: r.checks });
  });
  if (opts.alerts !== false && opts.alerts !== undefined && opts.token) await app.register(alertReceiverPlugin, opts.alerts);
  if (opts.console) await app.register(consolePlugin, { ...opts.console, token: opts.token });
  const address = await app.listen({ host: opts.host, port: opts.port });
  return { app, url: address };
}
