import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { events as bus, type SyncEventBus } from '../core/events.js';
import type { WebhookIntake } from '../pipeline/intake/webhook-intake.js';
import { renderMetrics } from '../monitoring/metrics.js';
import type { MetricProbes } from '../monitoring/probes.js';
import { alertReceiverPlugin, type AlertReceiverOptions } from '../monitoring/alert-receiver.js';

/** What `/healthz` and `/readyz` report. */
export interface HealthSource {
  /** Process alive and its loops not wedged. */
  live(): { ok: boolean; detail?: Record<string, unknown> };
  /** Ready for traffic: started, not draining, dependencies reachable. */
  ready(): Promise<{ ok: boolean; checks: Record<string, { ok: boolean; detail?: string }> }>;
}

/** Options of the daemon's HTTP server. */
export interface HttpServerOptions {
  host: string;
  port: number;
  bodyLimitBytes: number;
  intake: WebhookIntake;
  registry: Registry;
  probes?: MetricProbes;
  health: HealthSource;
  alerts?: AlertReceiverOptions | false;
  instrumentation?: SyncEventBus;
}

/**
 * The daemon's one HTTP port: webhook intake (`POST /webhooks/<platform>/<instance>`, raw body
 * kept for signatures), `/metrics`, `/healthz`, `/readyz` and the Alertmanager receiver `/alerts`.
 * Stateless: any number of daemons can sit behind a load balancer.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<{ app: FastifyInstance; url: string }> {
  const instrumentation = opts.instrumentation ?? bus;
  const app = Fastify({ logger: false, bodyLimit: opts.bodyLimitBytes, return503OnClosing: true, forceCloseConnections: 'idle' });
  // On close, idle keep-alive connections are closed and new requests get 503 with
  // `Connection: close`; a request already in flight gets its answer, but its connection would
  // then stay open until the keep-alive timeout (72 s) and hold the drain. Its answer closes it.
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
  // Webhook bodies stay raw bytes: signatures are computed over them, before any parsing.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.bodyLimitBytes }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((error, req, reply) => {
      const err = error as Error & { code?: string; statusCode?: number };
      const params = req.params as { platform?: string; instance?: string };
      const tooLarge = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413;
      instrumentation.emit('webhook.received', { platform: params.platform ?? 'unknown', instance: params.instance ?? 'unknown', outcome: 'rejected', reason: tooLarge ? 'too_large' : 'malformed', seconds: 0 });
      void reply.code(tooLarge ? 413 : (err.statusCode ?? 400)).send({ ok: false, error: tooLarge ? 'WEBHOOK_TOO_LARGE' : 'WEBHOOK_MALFORMED', message: err.message });
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
  if (opts.alerts !== false) await app.register(alertReceiverPlugin, opts.alerts ?? {});
  const address = await app.listen({ host: opts.host, port: opts.port });
  return { app, url: address };
}
