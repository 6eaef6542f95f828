import type { Logger } from '../../core/logger.js';
import { generateCatalog } from './catalog.js';
import type { SimClock } from './clock.js';
import { ShopifyCostBucket } from './cost.js';
import { faultsSchema, PINNED_API_VERSION, PLANS, type ShopifySimOptions, type SimFaults } from './options.js';
import { SeededRandom } from '../random.js';
import { ShopifyStore, type StoreEvent } from './store.js';
import { payloadBuilders } from './webhook-payloads.js';
import { WebhookDispatcher } from './webhooks.js';
import { SimAuth } from './auth.js';

/** One mutation applied for an API client, as listed by `GET /_sim/writes`. */
export interface WriteLogEntry {
  seq: number;
  at: string;
  mutation: string;
  idempotencyKey: string | null;
  apiVersion: string;
  input: unknown;
  changes: unknown;
}

/** A remembered idempotent mutation: what it was called with and what it answered. */
export interface IdempotencyEntry {
  field: string;
  fingerprint: string;
  payload: unknown;
  at: number;
}

/** Idempotency keys are remembered for 24 hours, as on Shopify. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

/**
 * Everything one simulated shop holds at run time: the store, the cost bucket, webhook
 * subscriptions and deliveries, idempotency keys, the write log and the faults.
 */
export class ShopifySimState {
  store!: ShopifyStore;
  readonly bucket: ShopifyCostBucket;
  readonly dispatcher: WebhookDispatcher;
  readonly idempotency = new Map<string, IdempotencyEntry>();
  readonly writes: WriteLogEntry[] = [];
  /** The app's credentials and the tokens issued to it. */
  readonly auth: SimAuth;
  faults: SimFaults;
  /** Randomness of API faults (separate stream so catalog and webhooks stay stable). */
  readonly apiRng: SeededRandom;
  private writeSeq = 0;

  constructor(readonly opts: ShopifySimOptions, readonly clock: SimClock, readonly log: Logger) {
    const plan = PLANS[opts.plan];
    this.bucket = new ShopifyCostBucket(plan.maximumAvailable, plan.restoreRate, clock);
    this.faults = faultsSchema.parse(opts.faults);
    this.apiRng = new SeededRandom(`api:${opts.seed}`);
    this.auth = new SimAuth({ clientId: opts.clientId, clientSecret: opts.clientSecret, staticToken: opts.accessToken, tokenLifetimeSeconds: opts.tokenLifetimeSeconds, clock });
    this.dispatcher = new WebhookDispatcher({
      shopDomain: this.shopDomain, apiVersion: PINNED_API_VERSION, clientSecret: () => this.auth.clientSecret,
      retryScale: opts.webhookRetryScale, timeoutMs: opts.webhookTimeoutMs, connections: opts.webhookConnections, faults: () => this.faults.webhooks,
      rng: new SeededRandom(`webhooks:${opts.seed}`), clock, log,
    });
    this.buildStore();
  }

  /** `<shop>.myshopify.com`. */
  get shopDomain(): string {
    return `${this.opts.shop}.myshopify.com`;
  }

  private buildStore(): void {
    this.store = new ShopifyStore(this.clock);
    generateCatalog(this.store, this.opts);
    const p = payloadBuilders(this.opts.utcOffsetMinutes);
    const d = this.dispatcher;
    this.store.onEvent((e: StoreEvent) => {
      switch (e.kind) {
        case 'product.created': d.publish('PRODUCTS_CREATE', () => p.product(e.product)); break;
        case 'product.updated': d.publish('PRODUCTS_UPDATE', () => p.product(e.product)); break;
        case 'inventoryItem.updated': d.publish('INVENTORY_ITEMS_UPDATE', () => p.inventoryItem(e.item)); break;
        case 'inventoryLevel.updated': d.publish('INVENTORY_LEVELS_UPDATE', () => p.inventoryLevel(e.level)); break;
        case 'order.created':
          d.publish('ORDERS_CREATE', () => p.order(e.order));
          d.publish('ORDERS_PAID', () => p.order(e.order));
          break;
        case 'order.cancelled':
          d.publish('ORDERS_CANCELLED', () => p.order(e.order));
          d.publish('ORDERS_UPDATED', () => p.order(e.order));
          break;
      }
    });
  }

  /** Appends to the write log. */
  recordWrite(entry: Omit<WriteLogEntry, 'seq' | 'at'>): void {
    this.writes.push({ seq: ++this.writeSeq, at: new Date(this.clock.now()).toISOString(), ...entry });
  }

  /** Looks up an idempotency key, forgetting it when older than 24 hours. */
  idempotent(key: string): IdempotencyEntry | undefined {
    const e = this.idempotency.get(key);
    if (e && this.clock.now() - e.at > IDEMPOTENCY_TTL_MS) {
      this.idempotency.delete(key);
      return undefined;
    }
    return e;
  }

  /** Back to the seeded catalog: clears orders, writes, keys, deliveries (and subscriptions unless kept). */
  reset(keepSubscriptions: boolean): void {
    const subs = [...this.dispatcher.subscriptions.values()];
    this.dispatcher.clear();
    if (keepSubscriptions) for (const s of subs) this.dispatcher.subscriptions.set(s.id, s);
    this.idempotency.clear();
    this.writes.length = 0;
    this.writeSeq = 0;
    this.bucket.fill();
    this.buildStore();
  }
}
