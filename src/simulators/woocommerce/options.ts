import { z } from 'zod';
import { createHash } from 'node:crypto';

/** Fault injection of the WooCommerce simulator; every ratio is a percentage 0..100. */
export const wooFaultsSchema = z.object({
  /** Webhook deliveries silently not sent (the event is lost, failure_count untouched). */
  dropWebhooksPercent: z.number().min(0).max(100).default(0),
  /** Webhook deliveries sent twice (same body, same Delivery-ID). */
  duplicateWebhooksPercent: z.number().min(0).max(100).default(0),
  /** Extra random delay added to each delivery, 0..N ms, so deliveries can arrive out of order. */
  delayWebhooksMs: z.number().int().min(0).default(0),
  /** Webhook deliveries signed with a wrong key. */
  badSignatureWebhooksPercent: z.number().min(0).max(100).default(0),
  /** API requests answered with a host throttle (429 or 503) instead of being served. */
  throttlePercent: z.number().min(0).max(100).default(0),
  /** HTTP status of a throttled request. */
  throttleStatus: z.union([z.literal(429), z.literal(503)]).default(429),
  /** Latency added to every API request, in ms. */
  latencyMs: z.number().int().min(0).default(0),
  /**
   * Extra `product.updated` deliveries (0..2) after each one, as WooCommerce sends for one save
   * (the REST save, then the deferred product sync and stock save, each queueing its own delivery
   * once the earlier one ran): the same resource, built again when each runs.
   */
  repeatProductUpdated: z.number().int().min(0).max(2).default(0),
  /** Order deliveries skipped (recorded as `skipped`): a background job held the order when its hook fired. */
  skipOrderWebhooksPercent: z.number().min(0).max(100).default(0),
  /**
   * Write requests (POST/PUT/DELETE) that are applied, then left unanswered: the connection is
   * closed (a proxy timing out, PHP killed after the commit). The client cannot tell whether it
   * was applied.
   */
  loseWriteAnswersPercent: z.number().min(0).max(100).default(0),
  /** Delay between applying a write request and answering it, in ms: a window in which a client can die. */
  writeAnswerDelayMs: z.number().int().min(0).default(0),
});
/** Fault settings (all fields resolved). */
export type WooFaults = z.infer<typeof wooFaultsSchema>;

/** Catalog generation: what the store holds at start (and after a reset). */
export const wooCatalogSchema = z.object({
  /** Number of products (index p = 1..N). */
  products: z.number().int().min(0).max(1_000_000).default(20),
  /** 0 = simple products; M > 0 = variable products with M variations each. */
  variationsPerProduct: z.number().int().min(0).max(100).default(0),
  /** Seed of the values every store shares (names, prices, base quantities); keep it equal across stores that should overlap. */
  catalogSeed: z.number().int().default(1),
  /** Share (0..1) of SKUs left out of this store (the product or variation does not exist here). */
  missingSkuRatio: z.number().min(0).max(1).default(0),
  /** Number of extra simple products whose SKUs exist only in this store (`EXTRA-<seed>-000001`). */
  extraSkus: z.number().int().min(0).default(0),
  /** Share (0..1) of SKUs whose quantity differs from the shared base quantity by ±1..5. */
  quantityDrift: z.number().min(0).max(1).default(0),
  /** Number of extra products carrying a SKU that already exists (as imports can create; the API never allows it). */
  duplicateSkus: z.number().int().min(0).default(0),
  /** Share (0..1) of SKUs with manage_stock=false (stock_quantity null). */
  unmanagedStockRatio: z.number().min(0).max(1).default(0),
  /**
   * Share (0..1) of variable products whose stock is managed by the product: one pool (the base
   * quantity of its first SKU) for all its variations, which show `manage_stock: "parent"`.
   */
  parentManagedStockRatio: z.number().min(0).max(1).default(0),
  /** date_created/date_modified (GMT) of the generated catalog. */
  catalogDate: z.string().datetime().default('2025-01-01T00:00:00Z'),
});
/** Catalog settings (all fields resolved). */
export type WooCatalogOptions = z.infer<typeof wooCatalogSchema>;

/** Options of {@link startWooCommerceSimulator}, validated with zod. */
export const wooOptionsSchema = wooCatalogSchema.extend({
  /** TCP port; 0 picks a free one. */
  port: z.number().int().min(0).max(65535).default(0),
  /** Interface to listen on. */
  host: z.string().default('127.0.0.1'),
  /** Public site URL (home_url); default http://host:port. OAuth base strings and webhook Source use it. */
  siteUrl: z.string().url().optional(),
  /** Consumer key (`ck_` + 40 hex); derived from the seed when absent. */
  consumerKey: z.string().min(1).optional(),
  /** Consumer secret (`cs_` + 40 hex); derived from the seed when absent. */
  consumerSecret: z.string().min(1).optional(),
  /** Permissions of the API key, as WooCommerce's key settings. */
  keyPermissions: z.enum(['read', 'write', 'read_write']).default('read_write'),
  /** Refuse HTTP Basic over plain http, as real WooCommerce does (it only reads Basic over https). */
  requireOAuthOverHttp: z.boolean().default(false),
  /** Seed of this store: keys, missing/extra/drifted SKUs, faults, traffic. */
  seed: z.number().int().default(1),
  /** Site timezone as an offset from GMT in minutes (date_modified vs date_modified_gmt). */
  timezoneOffsetMinutes: z.number().int().min(-720).max(840).default(60),
  /** Delay before a queued webhook delivery runs; saves of one resource in this window give ONE delivery. */
  coalesceWindowMs: z.number().int().min(0).default(1000),
  /** Timeout of one webhook delivery (WooCommerce: 60 s). */
  deliveryTimeoutMs: z.number().int().min(1).default(60_000),
  /** Timeout of the ping sent when a webhook is created (WordPress HTTP default: 5 s). */
  pingTimeoutMs: z.number().int().min(1).default(5_000),
  /** Orders per second created by the traffic generator (0 = off). */
  ordersPerSecond: z.number().min(0).default(0),
  /** If set, the control API under /_sim requires header `x-sim-token` with this value. */
  controlToken: z.string().optional(),
  /** Fault injection. */
  faults: wooFaultsSchema.default(wooFaultsSchema.parse({})),
});
/** Options as given by a caller (defaults not yet applied). */
export type WooCommerceSimulatorOptions = z.input<typeof wooOptionsSchema>;
/** Options with every default resolved. */
export type ResolvedWooOptions = z.infer<typeof wooOptionsSchema>;

/** Deterministic `ck_`/`cs_` credentials of a store seed (40 hex each, like WooCommerce keys). */
export function credentialsFromSeed(seed: number): { consumerKey: string; consumerSecret: string } {
  const hex = (label: string) => createHash('sha1').update(`syncctl-woo:${label}:${seed}`).digest('hex');
  return { consumerKey: `ck_${hex('key')}`, consumerSecret: `cs_${hex('secret')}` };
}
