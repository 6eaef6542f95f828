import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../core/errors.js';
import { getLogger } from '../../core/logger.js';
import { sleep } from '../../core/retry.js';
import { unauthorised, type ApiRequest, type RegisterRoute, type SimContext } from './api.js';
import { parsePhpQuery, WooAuthenticator, type AuthSettings } from './auth.js';
import { generateCatalog } from './catalog.js';
import { registerControlRoutes } from './control.js';
import { filterResponseFields } from './fields.js';
import { WooApiError } from './model.js';
import { credentialsFromSeed, wooOptionsSchema, type ResolvedWooOptions, type WooCommerceSimulatorOptions, type WooFaults } from './options.js';
import { phpJson } from './php-json.js';
import { randomStream } from '../random.js';
import { registerOrderRoutes } from './routes-orders.js';
import { registerProductRoutes } from './routes-products.js';
import { registerVariationRoutes } from './routes-variations.js';
import { registerWebhookRoutes } from './routes-webhooks.js';
import { orderJson, productJson, type SiteContext } from './serialize.js';
import { WooStore } from './store.js';
import { TrafficGenerator } from './traffic.js';
import { WebhookQueue, type DeliveryRecord } from './webhooks.js';

const API_PREFIX = '/wp-json/wc/v3';

/** The JSON line `syncctl sim woocommerce` prints when ready. */
export interface WooSimInfo {
  platform: 'woocommerce';
  siteUrl: string;
  apiUrl: string;
  consumerKey: string;
  consumerSecret: string;
  controlUrl: string;
}

/** A running WooCommerce simulator. */
export interface WooCommerceSimulator {
  /** Site URL (home_url), e.g. `http://127.0.0.1:41234`. */
  baseUrl: string;
  /** `<site>/wp-json/wc/v3`. */
  apiUrl: string;
  /** `<site>/_sim`. */
  controlUrl: string;
  /** The ready JSON (credentials included). */
  info: WooSimInfo;
  /** The resolved options. */
  options: ResolvedWooOptions;
  /** The in-process store (tests may read it; writes should go through the API or control API). */
  store: WooStore;
  /** Every webhook delivery and ping attempted. */
  deliveries: DeliveryRecord[];
  /** Current faults. */
  faults: WooFaults;
  /** Changes some faults. */
  setFaults(f: Partial<WooFaults>): WooFaults;
  /** Resolves once no webhook delivery is queued or in flight. */
  flushWebhooks(): Promise<void>;
  /** Back to the generated catalog: orders, write log, deliveries and nonces cleared (webhooks too unless kept). */
  reset(keepWebhooks?: boolean): void;
  /** Changes the traffic generator's rate (orders per second; 0 stops it). */
  setTraffic(ordersPerSecond: number): void;
  /** Stops traffic, webhook deliveries and the HTTP server. */
  close(): Promise<void>;
}

/** Starts a WooCommerce REST (wc/v3) simulator on real HTTP. */
export async function startWooCommerceSimulator(input: WooCommerceSimulatorOptions = {}): Promise<WooCommerceSimulator> {
  const parsed = wooOptionsSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError('SIM_OPTIONS_INVALID', `Invalid WooCommerce simulator options: ${parsed.error.message}`);
  const options = parsed.data;
  const creds = credentialsFromSeed(options.seed);
  const consumerKey = options.consumerKey ?? creds.consumerKey;
  const consumerSecret = options.consumerSecret ?? creds.consumerSecret;
  const logger = getLogger('sim.woocommerce');

  const store = new WooStore();
  const site: SiteContext = { siteUrl: '', apiUrl: '', tzOffset: options.timezoneOffsetMinutes };
  const authSettings: AuthSettings = { consumerKey, consumerSecret, permissions: options.keyPermissions, siteUrl: '', requireOAuthOverHttp: options.requireOAuthOverHttp, now: Date.now };
  const faults: WooFaults = { ...options.faults };
  const throttleRandom = randomStream(options.seed, 'throttle');
  const loseRandom = randomStream(options.seed, 'lose-answers');
  const queue = new WebhookQueue({
    store,
    siteUrl: () => site.siteUrl,
    coalesceWindowMs: options.coalesceWindowMs,
    deliveryTimeoutMs: options.deliveryTimeoutMs,
    pingTimeoutMs: options.pingTimeoutMs,
    faults: () => faults,
    delayRandom: randomStream(options.seed, 'webhook-delay'),
    faultRandom: randomStream(options.seed, 'webhook-faults'),
    payload: (resource, id) => payloadOf(ctx, resource, id),
    salt: randomBytes(16).toString('hex'),
    logger,
  });
  const ctx: SimContext = { store, auth: new WooAuthenticator(authSettings), queue, site, options, faults, logger };
  generateCatalog(store, options, options.seed);
  const traffic = new TrafficGenerator(store, randomStream(options.seed, 'traffic'), logger);

  const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true }, bodyLimit: 16 * 1024 * 1024, forceCloseConnections: true });
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, {});
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new WooApiError('rest_invalid_json', 'Invalid JSON body passed.', 400, { json_error_code: 4, json_error_message: 'Syntax error' }), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(parsePhpQuery(body as string)));
  });
  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof WooApiError) return sendJson(reply, err.status, err.toBody());
    const e = err as { statusCode?: number; message?: string };
    if (e.statusCode && e.statusCode < 500) return sendJson(reply, e.statusCode, { code: 'rest_invalid_request', message: e.message ?? 'Bad request.', data: { status: e.statusCode } });
    logger.error({ err }, 'simulator bug');
    return sendJson(reply, 500, { code: 'internal_server_error', message: 'There has been a critical error on this website.', data: { status: 500 } });
  });
  app.setNotFoundHandler((_req, reply) => sendJson(reply, 404, { code: 'rest_no_route', message: 'No route was found matching the URL and request method.', data: { status: 404 } }));

  // Hosts, not WooCommerce, throttle: a 429/503 page before WordPress even runs.
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/wp-json')) return;
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (throttleRandom.percent(faults.throttlePercent)) {
      const page = faults.throttleStatus === 429 ? '<h1>429 Too Many Requests</h1>' : '<h1>503 Service Unavailable</h1>';
      return reply.code(faults.throttleStatus).header('Retry-After', '1').type('text/html').send(page);
    }
  });

  const route: RegisterRoute = (methods, path, permission, handler) => {
    const url = API_PREFIX + path.replace(/:(\w+)/g, ':$1(^\\d+$)');
    app.route({
      method: methods,
      url,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const form = isForm(req) ? new Map(Object.entries(req.body as Record<string, string>)) : undefined;
        const outcome = ctx.auth.authenticate({ method: req.method, url: req.url, authorization: req.headers.authorization, form });
        if (outcome.error) {
          if (outcome.basicFailed) reply.header('WWW-Authenticate', 'Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer secret in the password field."');
          throw outcome.error;
        }
        if (!outcome.authenticated) throw unauthorised(permission);
        const qIdx = req.url.indexOf('?');
        const apiReq: ApiRequest = {
          method: req.method,
          params: req.params as Record<string, string>,
          query: parsePhpQuery(qIdx < 0 ? '' : req.url.slice(qIdx + 1)),
          body: typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {},
          path: qIdx < 0 ? req.url : req.url.slice(0, qIdx),
        };
        const res = await handler(apiReq);
        if (req.method !== 'GET') {
          if (faults.writeAnswerDelayMs > 0) await sleep(faults.writeAnswerDelayMs);
          if (loseRandom.percent(faults.loseWriteAnswersPercent)) {
            // Applied, never answered: the connection closes under the client.
            reply.hijack();
            req.raw.socket.destroy();
            return reply;
          }
        }
        if (res.headers) reply.headers(res.headers);
        const fields = apiReq.query.get('_fields');
        return sendJson(reply, res.status ?? 200, fields === undefined ? res.body : filterResponseFields(res.body, fields));
      },
    });
  };
  registerProductRoutes(route, ctx);
  registerVariationRoutes(route, ctx);
  registerOrderRoutes(route, ctx);
  registerWebhookRoutes(route, ctx);
  app.get('/wp-json', async (_req, reply) => sendJson(reply, 200, { name: 'syncctl WooCommerce simulator', url: site.siteUrl, home: site.siteUrl, namespaces: ['wc/v3'] }));
  app.get(API_PREFIX, async (_req, reply) => sendJson(reply, 200, { namespace: 'wc/v3', routes: {} }));

  const sim = {} as WooCommerceSimulator;
  const setFaults = (f: Partial<WooFaults>) => {
    Object.assign(faults, f);
    return faults;
  };
  const reset = (keepWebhooks = false) => {
    store.clear(keepWebhooks);
    queue.reset();
    ctx.auth.reset();
    generateCatalog(store, options, options.seed);
  };
  registerControlRoutes(app, ctx, { info: () => ({ ...sim.info }), setFaults, reset, setTraffic: (rate) => traffic.start(rate) });

  await app.listen({ port: options.port, host: options.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const siteUrl = (options.siteUrl ?? `http://${host}:${port}`).replace(/\/+$/, '');
  site.siteUrl = siteUrl;
  site.apiUrl = `${siteUrl}${API_PREFIX}`;
  authSettings.siteUrl = siteUrl;
  traffic.start(options.ordersPerSecond);
  logger.debug({ siteUrl, products: options.products, variationsPerProduct: options.variationsPerProduct }, 'WooCommerce simulator listening');

  return Object.assign(sim, {
    baseUrl: siteUrl,
    apiUrl: site.apiUrl,
    controlUrl: `${siteUrl}/_sim`,
    info: { platform: 'woocommerce', siteUrl, apiUrl: site.apiUrl, consumerKey, consumerSecret, controlUrl: `${siteUrl}/_sim` } as WooSimInfo,
    options,
    store,
    deliveries: queue.deliveries,
    faults,
    setFaults,
    flushWebhooks: () => queue.idle(),
    reset,
    setTraffic: (rate: number) => traffic.start(rate),
    close: async () => {
      traffic.stop();
      queue.close();
      await app.close();
    },
  });
}

function isForm(req: FastifyRequest): boolean {
  return (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') && typeof req.body === 'object' && req.body !== null;
}

function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type('application/json; charset=UTF-8').send(phpJson(body));
}

/** The payload of a webhook delivery: the resource as the REST API shows it now, or the error it would give. */
function payloadOf(ctx: SimContext, resource: string, id: number): unknown {
  if (resource === 'product') {
    const p = ctx.store.get(id);
    return p ? productJson(ctx.store, p, ctx.site) : { code: 'woocommerce_rest_product_invalid_id', message: 'Invalid ID.', data: { status: 404 } };
  }
  if (resource === 'order') {
    const o = ctx.store.orders.get(id);
    return o ? orderJson(o, ctx.site) : { code: 'woocommerce_rest_shop_order_invalid_id', message: 'Invalid ID.', data: { status: 404 } };
  }
  return { id };
}
