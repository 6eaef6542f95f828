import { z } from 'zod';

/** Shopify plans and their GraphQL Admin leaky bucket (points restored per second, bucket size). */
export const PLANS = {
  standard: { restoreRate: 100, maximumAvailable: 2000, displayName: 'Basic', shopifyPlus: false },
  advanced: { restoreRate: 200, maximumAvailable: 4000, displayName: 'Advanced', shopifyPlus: false },
  plus: { restoreRate: 1000, maximumAvailable: 20000, displayName: 'Shopify Plus', shopifyPlus: true },
  enterprise: { restoreRate: 2000, maximumAvailable: 40000, displayName: 'Commerce Components', shopifyPlus: true },
} as const;
/** A plan name. */
export type ShopifyPlan = keyof typeof PLANS;

/** API versions the simulated Shopify supports on 2026-11-25 (oldest first); older ones are served as the oldest. */
export const SUPPORTED_API_VERSIONS = ['2026-01', '2026-04', '2026-07', '2026-10'] as const;
/** The release candidate, answered as itself. */
export const RELEASE_CANDIDATE_VERSION = '2027-01';
/** The version the project pins. */
export const PINNED_API_VERSION = '2026-04';

const pct = z.number().min(0).max(1);

/** Webhook fault injection, all deterministic given the seed. */
export const webhookFaultsSchema = z.object({
  /** Share of deliveries silently never sent (0..1). */
  dropRate: pct.default(0),
  /** Share of deliveries sent twice (0..1). */
  duplicateRate: pct.default(0),
  /** Extra delay before the first attempt, drawn uniformly in [min, max] ms: reorders deliveries. */
  delayMs: z.tuple([z.number().int().min(0), z.number().int().min(0)]).default([0, 0]),
  /** Share of deliveries signed with a wrong key (0..1). */
  badSignatureRate: pct.default(0),
}).strict();
/** Webhook fault settings. */
export type WebhookFaults = z.infer<typeof webhookFaultsSchema>;

/** API faults: make the GraphQL endpoint misbehave on purpose. */
export const apiFaultsSchema = z.object({
  /** Share of GraphQL requests answered with HTTP 500 before doing anything (0..1). */
  errorRate: pct.default(0),
  /** Share of GraphQL requests answered with HTTP 503 (0..1). */
  unavailableRate: pct.default(0),
}).strict();

/** All runtime faults. */
export const faultsSchema = z.object({
  webhooks: webhookFaultsSchema.default({ dropRate: 0, duplicateRate: 0, delayMs: [0, 0], badSignatureRate: 0 }),
  api: apiFaultsSchema.default({ errorRate: 0, unavailableRate: 0 }),
}).strict();
/** Runtime fault settings (also settable through `PUT /_sim/faults`). */
export type SimFaults = z.infer<typeof faultsSchema>;

/** Catalog generation: a deterministic catalog per seed, with SKUs shared across simulated stores. */
export const catalogSchema = z.object({
  /** Number of products. */
  products: z.number().int().min(0).max(1_000_000).default(50),
  /** Variants per product. */
  variantsPerProduct: z.number().int().min(1).max(2048).default(3),
  /** Number of locations; stock is spread over all of them. */
  locations: z.number().int().min(1).max(50).default(1),
  /** SKU prefix of the shared catalog (`SKU-000123-1`). */
  skuPrefix: z.string().min(1).default('SKU'),
  /** Share of the shared catalog's SKUs left out of this store (0..1). */
  missingSkuRatio: pct.default(0),
  /** Number of extra variants whose SKUs exist only in this store. */
  extraSkus: z.number().int().min(0).default(0),
  /** Share of variants whose stock differs from the shared base quantity (0..1). */
  quantityDrift: pct.default(0),
  /** Number of variants that reuse another variant's SKU (Shopify allows it). */
  duplicateSkus: z.number().int().min(0).default(0),
  /** Share of variants without any SKU (0..1). */
  blankSkuRatio: pct.default(0),
  /** Largest base quantity per SKU and location. */
  maxQuantity: z.number().int().min(0).default(100),
}).strict();

/** Options of {@link startShopifySimulator} (validated with zod at the edge). */
export const shopifySimOptionsSchema = z.object({
  /** TCP port; 0 picks a free one. */
  port: z.number().int().min(0).max(65535).default(0),
  /** Interface to listen on. */
  host: z.string().default('127.0.0.1'),
  /** Shop handle: the domain becomes `<shop>.myshopify.com`. */
  shop: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).default('sim-shop'),
  /**
   * Static Admin API access token accepted in `X-Shopify-Access-Token` (an admin-created custom
   * app); null: only tokens issued by the client credentials grant open the API.
   */
  accessToken: z.string().min(1).nullable().default('shpat_simulator_token'),
  /** App client id (Dev Dashboard app), for the client credentials grant. */
  clientId: z.string().min(1).default('sim_client_id'),
  /** App client secret: the key of webhook HMAC signatures and of the client credentials grant. */
  clientSecret: z.string().min(1).default('shpss_simulator_secret'),
  /** Lifetime of a token issued by the client credentials grant, seconds (Shopify: 86,399). */
  tokenLifetimeSeconds: z.number().positive().default(86_399),
  /** Plan, which sets the leaky bucket. */
  plan: z.enum(['standard', 'advanced', 'plus', 'enterprise']).default('standard'),
  /** Seed of every random choice (catalog, faults, ids). */
  seed: z.number().int().default(1),
  /** Catalog generation. */
  catalog: catalogSchema.default(() => catalogSchema.parse({})),
  /** Faults active from the start. */
  faults: faultsSchema.default(() => faultsSchema.parse({})),
  /** Multiplies Shopify's webhook retry schedule (8 retries over ~4 h); 0.001 turns 10 s into 10 ms. */
  webhookRetryScale: z.number().min(0).default(1),
  /** How long a webhook receiver has to answer, in ms (Shopify: 5 s). */
  webhookTimeoutMs: z.number().int().min(1).default(5000),
  /**
   * Concurrent webhook deliveries per receiver at most; more wait for a connection. Shopify does not
   * document its own; a receiver that acknowledges in ~40 ms then takes ~3,000 deliveries/s.
   */
  webhookConnections: z.number().int().min(1).default(128),
  /** Time a bulk query stays RUNNING before it completes, in ms. */
  bulkOperationLatencyMs: z.number().int().min(0).default(20),
  /** Orders created per second by the traffic generator (0 = off). */
  ordersPerSecond: z.number().min(0).default(0),
  /** UTC offset of the shop, in minutes, used in webhook payload timestamps. */
  utcOffsetMinutes: z.number().int().min(-720).max(840).default(-240),
  /** Whether the `/_sim` control API is served. */
  controlApi: z.boolean().default(true),
}).strict();

/** Options as accepted (every key optional). */
export type ShopifySimOptionsInput = z.input<typeof shopifySimOptionsSchema>;
/** Options after validation and defaults. */
export type ShopifySimOptions = z.output<typeof shopifySimOptionsSchema>;

/** Shopify's webhook retry delays in seconds before retries 1..8 (about 4 hours in total). */
export const WEBHOOK_RETRY_DELAYS_S = [10, 30, 60, 300, 900, 1800, 3600, 7200] as const;
