/**
 * The Shopify connector of one store instance: source (webhooks, poller), sink (writer), webhook
 * subscriptions, bulk backfill and the paced Admin API client they share.
 */
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import type { SkuNormalisation } from '../../core/ids.js';
import { sourceKey } from '../../core/model.js';
import type { RetryOptions } from '../../core/retry.js';
import type { ShopifyInstanceConfig } from '../../config/schema.js';
import type { PollCheckpoint, PollPage, SourceConnector, WebhookOutcome, WebhookRequest } from '../types.js';
import { ShopifyBackfill } from './backfill.js';
import { ShopifyTokenProvider } from './auth.js';
import { ShopifyClient, shopDomain } from './client.js';
import { ShopifyCostBucket } from './cost-bucket.js';
import { InventoryItemDirectory } from './inventory-items.js';
import { ManagedLocation } from './locations.js';
import { ShopifyPoller } from './poller.js';
import { ShopifySink } from './sink.js';
import { ShopifySubscriptions } from './subscriptions.js';
import { parseShopifyWebhook } from './webhooks.js';

export { ShopifyBackfill, type BackfillBatch, type BackfillCursor } from './backfill.js';
export { ShopifyClient, shopDomain } from './client.js';
export { ShopifyTokenProvider, isCredentialsRefusal, type ShopifyAuthMode, type ShopifyAuthStatus } from './auth.js';
export { ShopifyCostBucket, SHOPIFY_PLANS, type QueryCost, type ThrottleStatus } from './cost-bucket.js';
export { ShopifyPoller } from './poller.js';
export { ShopifySink, type VariantState } from './sink.js';
export { ShopifySubscriptions, SHOPIFY_SUBSCRIPTION_TOPICS, type EnsureResult, type ShopifySubscription } from './subscriptions.js';
export { SHOPIFY_WEBHOOK_TOPICS, verifySignature } from './webhooks.js';

/** Options beyond the instance config (the daemon passes the identity rule and the event bus). */
export interface ShopifyConnectorOptions {
  /** SKU normalisation for the routing hint `RawEvent.sku` (config `identity.sku`); default trim + upper. */
  skuRule?: SkuNormalisation;
  events?: SyncEventBus;
  /** Timeout of one API request, ms. */
  timeoutMs?: number;
  /** Retry settings of API requests. */
  retry?: Partial<RetryOptions>;
  /** Overlap window of the poller, ms (default 2 min). */
  pollOverlapMs?: number;
  /** First wait before a refused client credentials grant is tried again, ms (default 5 s, doubling up to 5 min). */
  refusedRetryMs?: number;
  /** Clock of the token provider (tests with a simulated clock). */
  now?: () => number;
}

/** The parts of one Shopify connector instance. */
export interface ShopifyConnector {
  source: SourceConnector;
  sink: ShopifySink;
  subscriptions: ShopifySubscriptions;
  backfill: ShopifyBackfill;
  client: ShopifyClient;
  /** The store's Admin API token (static, or from the client credentials grant). */
  auth: ShopifyTokenProvider;
  /** The managed location's GID (config or the shop's first location). */
  locationId(signal?: AbortSignal): Promise<string>;
}

/** The source side of a store: webhook deliveries and polls → raw events. */
class ShopifySource implements SourceConnector {
  readonly platform = 'shopify' as const;
  readonly key: string;
  readonly pollResources = [...ShopifyPoller.RESOURCES];

  constructor(
    readonly instance: string,
    private readonly parse: (req: WebhookRequest) => Promise<WebhookOutcome>,
    private readonly poller: ShopifyPoller,
  ) {
    this.key = sourceKey('shopify', instance);
  }

  verifyAndParse(req: WebhookRequest): Promise<WebhookOutcome> {
    return this.parse(req);
  }

  poll(resource: string, checkpoint: PollCheckpoint | null, signal?: AbortSignal): Promise<PollPage> {
    return this.poller.poll(resource, checkpoint, signal);
  }
}

/** Builds the connector of Shopify instance `instance` from its config. */
export function createShopifyConnector(instance: string, cfg: ShopifyInstanceConfig, opts: ShopifyConnectorOptions = {}): ShopifyConnector {
  const bus = opts.events ?? defaultBus;
  const skuRule = opts.skuRule ?? { trim: true, case: 'upper' };
  const bucket = new ShopifyCostBucket({ instance, plan: cfg.plan, events: bus });
  const auth = new ShopifyTokenProvider({
    instance, shop: shopDomain(cfg.shop), baseUrl: cfg.url ?? `https://${shopDomain(cfg.shop)}`, accessToken: cfg.accessToken, clientId: cfg.clientId,
    clientSecret: cfg.clientSecret, events: bus, timeoutMs: opts.timeoutMs, refusedRetryMs: opts.refusedRetryMs, now: opts.now,
  });
  const client = new ShopifyClient({
    instance, shop: cfg.shop, url: cfg.url, apiVersion: cfg.apiVersion, auth, bucket, events: bus, timeoutMs: opts.timeoutMs, retry: opts.retry,
  });
  const location = new ManagedLocation(client, cfg.locationId);
  const items = new InventoryItemDirectory(client);
  const poller = new ShopifyPoller({ instance, client, location, skuRule, overlapMs: opts.pollOverlapMs, items });
  const ctx = { instance, shop: cfg.shop, clientSecret: cfg.clientSecret, location, items, skuRule };
  return {
    source: new ShopifySource(instance, (req) => parseShopifyWebhook(ctx, req), poller),
    sink: new ShopifySink({ instance, client, location, skuRule }),
    auth,
    subscriptions: new ShopifySubscriptions(client),
    backfill: new ShopifyBackfill({ instance, client, location, skuRule }),
    client,
    locationId: (signal) => location.get(signal),
  };
}
