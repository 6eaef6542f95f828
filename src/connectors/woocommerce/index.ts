import type { WooInstanceConfig } from '../../config/schema.js';
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import { getLogger } from '../../core/logger.js';
import type { RetryOptions } from '../../core/retry.js';
import { sourceKey, type SourceKey } from '../../core/model.js';
import type { PollCheckpoint, PollPage, SourceConnector, WebhookOutcome, WebhookRequest } from '../types.js';
import { WooBackfill } from './backfill.js';
import { WooClient } from './client.js';
import { SkuMemory } from './normalise.js';
import { WOO_POLL_RESOURCES, WooPoller } from './poller.js';
import { WooCommerceSink } from './sink.js';
import { WooWebhookHealth } from './webhook-health.js';
import { WooWebhookReceiver } from './webhooks.js';
import { WooDeletionCheck } from './deletions.js';

export { WooClient, Semaphore, classifyHttpError, parseRetryAfter, type WooClientOptions, type WooRequest, type WooResponse, type WooListPage } from './client.js';
export { oauthQuery, rfc3986 } from './oauth.js';
export { WooPoller, WOO_POLL_RESOURCES, type WooPollerOptions, type WooPollResource } from './poller.js';
export { WooWebhookReceiver, WOO_WEBHOOK_TOPICS, wooSignature, type WooWebhookTopic } from './webhooks.js';
export { WooWebhookHealth, type WooWebhookTopicHealth, type WooWebhookHealthOptions } from './webhook-health.js';
export { WooBackfill, type WooBackfillBatch, type WooBackfillCursor, type WooBackfillResource, type WooBackfillRunOptions } from './backfill.js';
export { WooCommerceSink, type WooSinkOptions } from './sink.js';
export { WooDeletionCheck, type KnownWooItem } from './deletions.js';
export { SkuMemory, decimalString, gmtToIso, productPayload, variationPayload, orderPayload, COMMITTED_STATUSES, CANCELLED_STATUSES } from './normalise.js';

/** Extra wiring of a WooCommerce connector, beyond its config. */
export interface WooConnectorOptions {
  /** Where the intake receives this instance's webhooks (`<publicUrl>/webhooks/woocommerce/<instance>`). */
  deliveryUrl?: string;
  /** Poll overlap window in seconds (default 5). */
  overlapSeconds?: number;
  /** Re-read written stock (default true). */
  readBack?: boolean;
  /** Timeout of one HTTP attempt (default 30 s). */
  timeoutMs?: number;
  /** Retry policy of one request (default 5 attempts, 250 ms → 10 s). */
  retry?: Partial<RetryOptions>;
  bus?: SyncEventBus;
  /** The fetch to use (tests). */
  fetch?: typeof fetch;
}

/** The source side of a WooCommerce instance: webhooks and the incremental poller. */
export class WooCommerceSource implements SourceConnector {
  readonly platform = 'woocommerce' as const;
  readonly key: SourceKey;
  readonly pollResources: string[] = [...WOO_POLL_RESOURCES];

  constructor(
    readonly instance: string,
    private readonly receiver: WooWebhookReceiver,
    private readonly poller: WooPoller,
  ) {
    this.key = sourceKey('woocommerce', instance);
  }

  /** Verifies (constant time, raw bytes) then normalises a delivery; throws WebhookRejectedError. */
  verifyAndParse(req: WebhookRequest): Promise<WebhookOutcome> {
    return this.receiver.verifyAndParse(req);
  }

  /** One page of an incremental poll of `products` or `orders`. */
  poll(resource: string, checkpoint: PollCheckpoint | null, signal?: AbortSignal): Promise<PollPage> {
    return this.poller.poll(resource, checkpoint, signal);
  }
}

/** Everything one WooCommerce instance gives the daemon. */
export interface WooCommerceConnector {
  source: WooCommerceSource;
  sink: WooCommerceSink;
  health: WooWebhookHealth;
  backfill: WooBackfill;
  /** Finds deletions WooCommerce sends no webhook for. */
  deletions: WooDeletionCheck;
  client: WooClient;
}

/** Builds the WooCommerce connector of instance `instance` (`woocommerce:<instance>`). */
export function createWooCommerceConnector(instance: string, cfg: WooInstanceConfig, opts: WooConnectorOptions = {}): WooCommerceConnector {
  const bus = opts.bus ?? defaultBus;
  const log = getLogger('woocommerce').child({ instance });
  const client = new WooClient({
    instance,
    url: cfg.url,
    consumerKey: cfg.consumerKey,
    consumerSecret: cfg.consumerSecret,
    concurrency: cfg.concurrency,
    timeoutMs: opts.timeoutMs,
    retry: opts.retry,
    bus,
    fetch: opts.fetch,
  });
  const skus = new SkuMemory();
  const pools = new Map(Object.entries(cfg.stockPools ?? {}));
  const poller = new WooPoller(client, instance, skus, { overlapSeconds: opts.overlapSeconds, pools });
  const source = new WooCommerceSource(instance, new WooWebhookReceiver(instance, cfg.webhookSecret, skus, log, pools), poller);
  const sink = new WooCommerceSink(sourceKey('woocommerce', instance), client, { readBack: opts.readBack, log });
  const health = new WooWebhookHealth(client, { instance, webhookSecret: cfg.webhookSecret, repair: cfg.repairWebhooks, deliveryUrl: opts.deliveryUrl, bus, log });
  const backfill = new WooBackfill(client, poller, cfg.concurrency);
  return { source, sink, health, backfill, deletions: new WooDeletionCheck(client), client };
}
