/**
 * The readers of a backfill, one per platform, as resumable phases of raw-event batches:
 * - Shopify: `products` through one bulk operation (JSONL streamed; cursor = operation + line),
 *   then `orders` through the incremental poller's pages from `--since` (cursor = poll checkpoint).
 * - WooCommerce: `products` (with variations) then `orders`, pages of 100 by ascending id with the
 *   site's configured concurrency (cursor = resource + next page).
 * - ERP: `products`, a snapshot read straight from the ERP tables (items with their summed stock,
 *   SKU order, cursor = last SKU) rather than a Debezium snapshot: it needs no Kafka Connect, resumes
 *   by keyset, and gives the same payloads and WAL-position versions as the CDC source, so a change
 *   captured later always wins. ERP orders are not channel sales (the CDC source skips them too).
 */
import { normaliseSku, type SkuNormalisation } from '../../core/ids.js';
import type { SyncConfig } from '../../config/schema.js';
import type { NewRawEvent, PollCheckpoint, RawInventory, RawProduct } from '../../connectors/types.js';
import { createShopifyConnector, type BackfillCursor } from '../../connectors/shopify/index.js';
import { createWooCommerceConnector, type WooBackfillCursor } from '../../connectors/woocommerce/index.js';
import type { DiffSide } from '../diff/sides.js';
import { countErpItems, readErpSnapshot } from '../diff/erp-snapshot.js';

/** One batch of a phase: events, records read, and the cursor to store once the events are durable. */
export interface PhaseBatch {
  phase: string;
  events: NewRawEvent[];
  /** Records read (products, variations, orders, ERP items) in this batch. */
  records: number;
  /** Where to resume after this batch (null: the whole source is done). */
  cursor: SourceCursor | null;
}

/** Where a backfill resumes, per platform. */
export type SourceCursor =
  | { phase: 'products'; shopify: BackfillCursor | null }
  | { phase: 'orders'; poll: PollCheckpoint | null }
  | { phase: 'products' | 'orders'; woo: WooBackfillCursor }
  | { phase: 'products'; afterSku: string | null };

/** What a source reader needs. */
export interface ReaderContext {
  config: SyncConfig;
  since: Date | null;
  signal?: AbortSignal;
}

/** The phases of a platform's backfill, in order. */
export const PHASES: Record<DiffSide['platform'], string[]> = { shopify: ['products', 'orders'], woocommerce: ['products', 'orders'], erp: ['products'] };

/** Records in each phase, when the platform says cheaply (for the ETA); null when unknown. */
export async function phaseTotals(side: DiffSide, ctx: ReaderContext): Promise<Record<string, number | null>> {
  try {
    if (side.platform === 'woocommerce') {
      const woo = createWooCommerceConnector(side.instance, ctx.config.sources.woocommerce[side.instance]!, { retry: { retries: 2 } });
      const [p, o] = await Promise.all([woo.client.list('/products', { per_page: 1 }, ctx.signal), woo.client.list('/orders', { per_page: 1 }, ctx.signal)]);
      return { products: ctx.since ? null : p.total, orders: ctx.since ? null : o.total };
    }
    if (side.platform === 'erp') return { products: ctx.since ? null : await countErpItems(ctx.config.sources.erp!) };
  } catch {
    // totals are a nicety: without them there is no ETA
  }
  return {};
}

/** Streams the batches of `side` from `cursor` (null: from the start). */
export function readSource(side: DiffSide, cursor: SourceCursor | null, ctx: ReaderContext): AsyncGenerator<PhaseBatch> {
  if (side.platform === 'shopify') return shopify(side, cursor, ctx);
  if (side.platform === 'woocommerce') return woo(side, cursor, ctx);
  return erp(cursor, ctx);
}

async function* shopify(side: DiffSide, cursor: SourceCursor | null, ctx: ReaderContext): AsyncGenerator<PhaseBatch> {
  const shop = createShopifyConnector(side.instance, ctx.config.sources.shopify[side.instance]!, { skuRule: ctx.config.identity.sku });
  if (!cursor || cursor.phase === 'products') {
    const from = cursor && 'shopify' in cursor ? cursor.shopify : null;
    let seen = 0;
    for await (const b of shop.backfill.run(from, { batchSize: 500, signal: ctx.signal })) {
      yield { phase: 'products', events: b.events, records: b.products - seen, cursor: { phase: 'products', shopify: b.cursor } };
      seen = b.products;
    }
    yield { phase: 'products', events: [], records: 0, cursor: { phase: 'orders', poll: null } };
  }
  let cp: PollCheckpoint | null = cursor?.phase === 'orders' && 'poll' in cursor ? cursor.poll : null;
  if (!cp && ctx.since) cp = { resource: 'orders', since: ctx.since.toISOString(), cursor: null };
  for (;;) {
    const page = await shop.source.poll('orders', cp, ctx.signal);
    cp = page.checkpoint;
    const events = page.events.map((e) => ({ ...e, origin: 'backfill' as const, dedupeKey: e.dedupeKey.replace(/^poll:/, 'backfill:') }));
    yield { phase: 'orders', events, records: events.length, cursor: page.more ? { phase: 'orders', poll: cp } : null };
    if (!page.more) return;
  }
}

async function* woo(side: DiffSide, cursor: SourceCursor | null, ctx: ReaderContext): AsyncGenerator<PhaseBatch> {
  const woo = createWooCommerceConnector(side.instance, ctx.config.sources.woocommerce[side.instance]!, { readBack: false });
  const from = cursor && 'woo' in cursor ? cursor.woo : null;
  for await (const b of woo.backfill.run({ resources: ['products', 'orders'], from, signal: ctx.signal })) {
    yield { phase: b.resource, events: b.events, records: b.events.length, cursor: b.cursor ? { phase: b.cursor.resource, woo: b.cursor } : null };
  }
}

async function* erp(cursor: SourceCursor | null, ctx: ReaderContext): AsyncGenerator<PhaseBatch> {
  const rule = ctx.config.identity.sku;
  const afterSku = cursor && 'afterSku' in cursor ? cursor.afterSku : null;
  let last = afterSku;
  for await (const b of readErpSnapshot(ctx.config.sources.erp!, { afterSku, since: ctx.since, batchSize: 1000, signal: ctx.signal })) {
    const events = b.rows.flatMap((r) => erpEvents(r, b.version, rule));
    last = b.lastSku;
    yield { phase: 'products', events, records: b.rows.length, cursor: { phase: 'products', afterSku: last } };
  }
  yield { phase: 'products', events: [], records: 0, cursor: null };
}

/** An ERP item as the CDC source would describe it: a product and its total available stock. */
function erpEvents(r: { sku: string; name: string | null; price: string | null; active: boolean | null; available: number }, version: string, rule: SkuNormalisation): NewRawEvent[] {
  const sku = normaliseSku(r.sku, rule);
  const occurredAt = new Date().toISOString();
  const base = { platform: 'erp' as const, instance: 'default', entityRef: r.sku, origin: 'backfill' as const, occurredAt, sku };
  const title = r.name ?? undefined;
  const product: RawProduct = {
    kind: 'product', productId: r.sku, ...(title !== undefined ? { title } : {}), ...(r.active !== null ? { status: r.active ? 'active' : 'archived' } : {}), updatedAt: version,
    variants: [{ id: r.sku, sku: r.sku, ...(r.price !== null ? { price: r.price } : {}), ...(title !== undefined ? { title } : {}) }],
  };
  const stock: RawInventory = { kind: 'inventory', sku: r.sku, available: r.available, updatedAt: version, refs: { id: r.sku } };
  return [
    { ...base, eventType: 'erp.items', dedupeKey: `backfill:${version}:items:${r.sku}`, payload: product },
    { ...base, eventType: 'erp.stock_levels', dedupeKey: `backfill:${version}:stock_levels:${r.sku}`, payload: stock },
  ];
}
