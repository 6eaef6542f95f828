import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../core/errors.js';
import { getLogger, type Logger } from '../../core/logger.js';
import { BulkOperations } from './bulk.js';
import { systemClock, type SimClock } from './clock.js';
import { registerControlApi } from './control.js';
import { GraphQLEndpoint, type GraphQLRequest } from './graphql-endpoint.js';
import { gid } from './gid.js';
import { PINNED_API_VERSION, RELEASE_CANDIDATE_VERSION, shopifySimOptionsSchema, SUPPORTED_API_VERSIONS, type ShopifySimOptionsInput } from './options.js';
import { SeededRandom } from '../random.js';
import { ShopifySimState } from './state.js';
import type { ShopifyStore } from './store.js';
import { TrafficGenerator } from './traffic.js';

/** The JSON line `syncctl sim shopify` prints when ready. */
export interface ShopifySimInfo {
  platform: 'shopify';
  shop: string;
  baseUrl: string;
  graphqlUrl: string;
  apiVersion: string;
  /** The static Admin API token (null when started without one: client credentials only). */
  accessToken: string | null;
  /** The app's client id and secret (client credentials grant at `tokenUrl`; the secret signs webhooks). */
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
  /** Lifetime of an issued token, seconds. */
  tokenLifetimeSeconds: number;
  controlUrl: string;
}

/** A running simulator. */
export interface ShopifySimulator {
  /** `http://host:port`. */
  readonly baseUrl: string;
  /** GraphQL endpoint of the pinned version. */
  readonly graphqlUrl: string;
  /** What a client needs to connect (also the CLI's ready line); follows a rotated secret. */
  readonly info: ShopifySimInfo;
  /** The whole run-time state (store, bucket, dispatcher, write log), for tests. */
  readonly state: ShopifySimState;
  /** The in-process store (replaced on reset, so read it through this getter). */
  readonly store: ShopifyStore;
  /** Bulk operations. */
  readonly bulk: BulkOperations;
  /** Resolves when no webhook delivery is pending or in flight. */
  webhooksIdle(): Promise<void>;
  /** Stops the traffic generator, timers, deliveries and the HTTP server. */
  close(): Promise<void>;
}

/** In-process dependencies that cannot travel as options. */
export interface ShopifySimDeps {
  /** Clock for timestamps and the cost bucket (tests pass a `ManualClock`). */
  clock?: SimClock;
  /** Logger (default: component `sim.shopify`). */
  log?: Logger;
}

/** Maps a version in the URL to the version Shopify would serve, or null (404). */
export function resolveApiVersion(v: string): string | null {
  if ((SUPPORTED_API_VERSIONS as readonly string[]).includes(v) || v === RELEASE_CANDIDATE_VERSION || v === 'unstable') return v;
  if (/^\d{4}-(01|04|07|10)$/.test(v) && v < SUPPORTED_API_VERSIONS[0]) return SUPPORTED_API_VERSIONS[0];
  return null;
}

/** Starts a Shopify Admin GraphQL simulator over HTTP (port 0 = ephemeral). */
export async function startShopifySimulator(input: ShopifySimOptionsInput = {}, deps: ShopifySimDeps = {}): Promise<ShopifySimulator> {
  const parsed = shopifySimOptionsSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError('SIM_OPTIONS_INVALID', `invalid Shopify simulator options: ${parsed.error.message}`);
  const opts = parsed.data;
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? getLogger('sim.shopify');
  const sim = new ShopifySimState(opts, clock, log);
  let baseUrl = '';
  let endpoint: GraphQLEndpoint | undefined;
  const bulk = new BulkOperations({
    get schema() { return endpoint!.schema; },
    execute: (doc, window) => endpoint!.executeBulk(doc, window),
    clock, latencyMs: opts.bulkOperationLatencyMs, baseUrl: () => baseUrl, rng: new SeededRandom(`bulk:${opts.seed}`), log,
    onFinish: (op) => sim.dispatcher.publish('BULK_OPERATIONS_FINISH', () => ({
      admin_graphql_api_id: gid('BulkOperation', op.id), completed_at: new Date(op.completedAt ?? clock.now()).toISOString(),
      created_at: new Date(op.createdAt).toISOString(), error_code: op.errorCode?.toLowerCase() ?? null, status: op.status.toLowerCase(), type: 'query',
    })),
  });
  endpoint = new GraphQLEndpoint(sim, bulk);
  const traffic = new TrafficGenerator(sim, opts.seed, log);

  const app = Fastify({ logger: false, bodyLimit: 20 * 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ errors: 'Not Found' }));

  app.post<{ Params: { version: string } }>('/admin/api/:version/graphql.json', async (req, reply) => {
    const served = resolveApiVersion(req.params.version);
    if (!served) return reply.code(404).send({ errors: 'Not Found' });
    reply.header('X-Shopify-API-Version', served);
    reply.header('X-Request-Id', sim.apiRng.uuid());
    const token = req.headers['x-shopify-access-token'];
    if (!sim.auth.accepts(typeof token === 'string' ? token : undefined)) {
      return reply.code(401).send({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    }
    if (sim.apiRng.chance(sim.faults.api.errorRate)) return reply.code(500).send({ errors: 'Internal Server Error' });
    if (sim.apiRng.chance(sim.faults.api.unavailableRate)) return reply.code(503).send({ errors: 'Service Unavailable' });
    const raw = typeof req.body === 'string' ? req.body : '';
    let body: GraphQLRequest;
    if ((req.headers['content-type'] ?? '').startsWith('application/graphql')) body = { query: raw };
    else {
      try { body = JSON.parse(raw) as GraphQLRequest; } catch { return reply.code(400).send({ errors: { query: 'Required parameter missing or invalid' } }); }
      if (!body || typeof body !== 'object') return reply.code(400).send({ errors: { query: 'Required parameter missing or invalid' } });
    }
    const res = await endpoint!.handle(body, served);
    return reply.code(res.status).header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(res.body));
  });

  // The client credentials grant (Dev Dashboard apps): form-encoded per Shopify's docs, JSON as @shopify/shopify-api sends it.
  app.post('/admin/oauth/access_token', async (req, reply) => {
    const answer = sim.auth.grant(String(req.headers['content-type'] ?? ''), typeof req.body === 'string' ? req.body : '');
    reply.header('X-Request-Id', sim.apiRng.uuid());
    return reply.code(answer.status).header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(answer.body));
  });

  app.get<{ Params: { id: string; file: string } }>('/storage/bulk/:id/:file', async (req, reply) => {
    const jsonl = bulk.download(Number(req.params.id), req.params.file.replace(/\.jsonl$/, ''));
    if (jsonl === null) return reply.code(404).send({ errors: 'Not Found' });
    return reply.header('Content-Type', 'application/jsonl').send(jsonl);
  });

  const info = (): ShopifySimInfo => ({
    platform: 'shopify', shop: sim.shopDomain, baseUrl, graphqlUrl: `${baseUrl}/admin/api/${PINNED_API_VERSION}/graphql.json`,
    apiVersion: PINNED_API_VERSION, accessToken: sim.auth.staticToken, clientId: sim.auth.clientId, clientSecret: sim.auth.clientSecret,
    tokenUrl: `${baseUrl}/admin/oauth/access_token`, tokenLifetimeSeconds: sim.auth.tokenLifetimeSeconds, controlUrl: `${baseUrl}/_sim`,
  });
  if (opts.controlApi) registerControlApi(app, sim, bulk, traffic, info);

  await app.listen({ port: opts.port, host: opts.host });
  const addr = app.server.address() as AddressInfo;
  baseUrl = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  traffic.setRate(opts.ordersPerSecond);
  log.info({ baseUrl, shop: sim.shopDomain, variants: sim.store.variants.length }, 'Shopify simulator ready');

  let closing: Promise<void> | null = null;
  return {
    baseUrl,
    graphqlUrl: info().graphqlUrl,
    get info() { return info(); },
    state: sim,
    get store() { return sim.store; },
    bulk,
    webhooksIdle: () => sim.dispatcher.idle(),
    close: () => {
      closing ??= (async () => {
        traffic.stop();
        bulk.close();
        await sim.dispatcher.close();
        await app.close();
      })();
      return closing;
    },
  };
}
