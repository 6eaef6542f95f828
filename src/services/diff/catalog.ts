/**
 * Live catalog readers: each streams one platform's SKUs (with stock, price and title) as
 * batches of {@link CatalogRow}, read from the platform itself, never from syncctl's state.
 * - Shopify: one bulk operation (`bulkOperationRunQuery`, JSONL streamed line by line; not
 *   charged to the cost bucket), through the connector's backfill reader.
 * - WooCommerce: pages of 100 by ascending id, `concurrency` pages in flight (config), and the
 *   variations of variable products, through the connector's backfill reader (states only: no
 *   raw events are built).
 * - ERP: one SQL cursor over items and their summed stock (see `erp-snapshot.ts`).
 * Memory is bounded by one batch (a page, a few hundred bulk lines, one cursor fetch).
 */
import { normaliseSku, type SkuNormalisation } from '../../core/ids.js';
import type { PlatformRefs } from '../../core/model.js';
import type { RetryOptions } from '../../core/retry.js';
import type { SyncConfig } from '../../config/schema.js';
import type { RawProduct } from '../../connectors/types.js';
import type { ProductState } from '../../connectors/shopify/poller.js';
import { createShopifyConnector } from '../../connectors/shopify/index.js';
import { createWooCommerceConnector } from '../../connectors/woocommerce/index.js';
import { readErpSnapshot } from './erp-snapshot.js';
import type { DiffSide } from './sides.js';

/** One SKU row of a live catalog (a variant, a simple product, a variation, an ERP item). */
export interface CatalogRow {
  /** Normalised SKU (config `identity.sku`); null when blank (cannot be matched). */
  sku: string | null;
  /** The SKU as the platform spells it. */
  rawSku: string | null;
  /** Available units (Shopify: managed location; Woo: stock_quantity when managed; ERP: Σ on_hand − reserved). */
  quantity: number | null;
  /** Price as a decimal string. */
  price: string | null;
  /** Product title (WooCommerce variations: the parent's name). */
  title: string | null;
  /** A stock pool this SKU shares with others (WooCommerce `manage_stock: "parent"`): its quantity is the pool's, not the SKU's. */
  pool?: { productId: string; quantity: number | null } | null;
  /** What `--fix` needs to describe this state as a raw event. */
  meta: RowMeta;
}

/** Ids and versions of a row, kept to build `--fix` events. */
export interface RowMeta {
  refs: PlatformRefs;
  productId: string;
  /** The product's version (updatedAt or ERP WAL position). */
  productVersion: string;
  /** The stock's version (Shopify: the inventory level's updatedAt). */
  stockVersion?: string | null;
  status?: RawProduct['status'];
  variantTitle?: string;
}

/** Options of a catalog read. */
export interface ReadOptions {
  signal?: AbortSignal;
  /** Retry policy of platform requests (default: 4 attempts, up to 5 s apart). */
  retry?: Partial<RetryOptions>;
}

/** Default retry of a diff's platform reads: a diff should fail in seconds when a platform is down. */
export const DIFF_RETRY: Partial<RetryOptions> = { retries: 4, initialDelayMs: 250, maxDelayMs: 5000 };

/** Streams the live catalog of `side` as batches of rows. */
export function readCatalog(side: DiffSide, config: SyncConfig, opts: ReadOptions = {}): AsyncGenerator<CatalogRow[]> {
  const rule = config.identity.sku;
  if (side.platform === 'shopify') return readShopify(side, config, rule, opts);
  if (side.platform === 'woocommerce') return readWoo(side, config, rule, opts);
  return readErp(config, rule, opts);
}

async function* readShopify(side: DiffSide, config: SyncConfig, rule: SkuNormalisation, opts: ReadOptions): AsyncGenerator<CatalogRow[]> {
  const cfg = config.sources.shopify[side.instance]!;
  const shop = createShopifyConnector(side.instance, cfg, { skuRule: rule, retry: opts.retry ?? DIFF_RETRY });
  for await (const states of shop.backfill.productStates({ batchSize: 500, signal: opts.signal })) yield shopifyRows(states, rule);
}

/** Rows of Shopify product states: a product's variants, with their stock at the managed location. */
export function shopifyRows(states: ProductState[], rule: SkuNormalisation): CatalogRow[] {
  const out: CatalogRow[] = [];
  for (const { product: p, inventory } of states) {
    const levels = new Map(inventory.map((i) => [i.payload.refs.id, i.payload]));
    for (const v of p.variants) {
      const level = levels.get(v.id);
      out.push({
        sku: normaliseSku(v.sku, rule), rawSku: v.sku, quantity: level?.available ?? null, price: v.price ?? null, title: p.title ?? null,
        meta: {
          refs: { id: v.id, productId: p.productId, ...(v.inventoryItemId ? { inventoryItemId: v.inventoryItemId } : {}), ...level?.refs },
          productId: p.productId, productVersion: p.updatedAt, status: p.status, variantTitle: v.title, ...(level ? { stockVersion: level.updatedAt } : {}),
        },
      });
    }
  }
  return out;
}

async function* readWoo(side: DiffSide, config: SyncConfig, rule: SkuNormalisation, opts: ReadOptions): AsyncGenerator<CatalogRow[]> {
  const cfg = config.sources.woocommerce[side.instance]!;
  const woo = createWooCommerceConnector(side.instance, cfg, { retry: opts.retry ?? DIFF_RETRY, readBack: false });
  for await (const states of woo.backfill.productStates({ signal: opts.signal })) yield wooRows(states, rule);
}

/** Rows of a WooCommerce page's product states: simple products and variations (a variation takes its parent's name, listed just before it). */
export function wooRows(states: RawProduct[], rule: SkuNormalisation): CatalogRow[] {
  const titles = new Map<string, string>();
  const pools = new Map<string, number | null>();
  const out: CatalogRow[] = [];
  for (const p of states) {
    if (p.title !== undefined) titles.set(p.productId, p.title);
    if (p.pool) pools.set(p.productId, p.pool.available);
    for (const v of p.variants) {
      // A variation sharing its product's pool: the pool is shown as such, never as this SKU's stock.
      const pool = v.stockPool ? { productId: v.stockPool, quantity: pools.get(v.stockPool) ?? null } : null;
      out.push({
        sku: normaliseSku(v.sku, rule), rawSku: v.sku, quantity: pool ? null : v.available ?? null, price: v.price ?? null, title: p.title ?? titles.get(v.parentId ?? p.productId) ?? null, pool,
        meta: { refs: { id: v.id, productId: p.productId, ...(v.parentId ? { parentId: v.parentId } : {}) }, productId: p.productId, productVersion: p.updatedAt, status: p.status, variantTitle: v.title },
      });
    }
  }
  return out;
}

async function* readErp(config: SyncConfig, rule: SkuNormalisation, opts: ReadOptions): AsyncGenerator<CatalogRow[]> {
  for await (const batch of readErpSnapshot(config.sources.erp!, { signal: opts.signal })) {
    yield batch.rows.map((r) => ({
      sku: normaliseSku(r.sku, rule), rawSku: r.sku, quantity: r.available, price: r.price, title: r.name,
      meta: { refs: { id: r.sku }, productId: r.sku, productVersion: batch.version, stockVersion: batch.version, status: r.active === null ? undefined : r.active ? 'active' : 'archived' },
    }));
  }
}
