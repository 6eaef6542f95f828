/**
 * The incremental poller: products (with their variants' stock at the managed location) and orders
 * changed since the checkpoint, oldest change first, one page per call.
 *
 * Each run reads `updated_at:>='<since - overlap>'` (Shopify filters at second precision, and
 * changes can become visible late, so a window is read again); the query stays fixed for the
 * whole run and pages follow Shopify's cursor. The checkpoint keeps the highest `updatedAt` seen
 * and, while a run is unfinished, its cursor and window start. States read again are recognised
 * by intake through their checksum.
 */
import { normaliseSku, type SkuNormalisation } from '../../core/ids.js';
import type { NewRawEvent, PollCheckpoint, PollPage, RawInventory, RawProduct } from '../types.js';
import type { ShopifyClient } from './client.js';
import { loadDocument } from './documents.js';
import type { ManagedLocation } from './locations.js';
import type { InventoryItemDirectory } from './inventory-items.js';
import {
  inventoryLevelGid, inventoryPayload, lineFromGraphQL, orderPayload, productPayload, stateKey, utcSeconds, variantFromGraphQL,
  type RawLine,
} from './normalise.js';

/** Largest requested cost of one query Shopify accepts. */
const MAX_QUERY_COST = 1000;

/** Settings of the poller. */
export interface PollerOptions {
  instance: string;
  client: ShopifyClient;
  location: ManagedLocation;
  skuRule: SkuNormalisation;
  /** Window read again before the checkpoint, ms (default 2 min). */
  overlapMs?: number;
  /** Variants read with each product (more are paged per product). */
  variantsPerProduct?: number;
  /** Lines read with each order (more are paged per order). */
  linesPerOrder?: number;
  /** Learns who owns each inventory item polled, sparing `inventory_levels/update` deliveries an API lookup. */
  items?: Pick<InventoryItemDirectory, 'remember'>;
}

/** A polled variant with its level at the managed location. */
export interface GqlVariant {
  id: string;
  sku: string | null;
  price: string;
  title: string;
  inventoryItem: { id: string; inventoryLevel: { id: string; updatedAt: string; quantities: Array<{ name: string; quantity: number }> } | null } | null;
}
interface Conn<T> { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: T[] }
interface GqlProduct { id: string; title: string; status: string; updatedAt: string; variants: Conn<GqlVariant> }
interface GqlLine { id: string; sku: string | null; quantity: number; variant: { id: string } | null; originalUnitPriceSet: { shopMoney: { amount: string } } | null }
interface GqlOrder { id: string; name: string; createdAt: string; updatedAt: string; cancelledAt: string | null; currencyCode: string; lineItems: Conn<GqlLine> }

/** The run state carried in `PollCheckpoint.cursor`. */
interface RunState { after: string; from: string | null }

/** Page size so that `2 + n × nodeCost` stays within Shopify's single-query limit. */
const pageSize = (nodeCost: number): number => Math.max(1, Math.min(250, Math.floor((MAX_QUERY_COST - 2) / nodeCost)));

/** A product's state and its variants' levels at the managed location (what a product line of a poll or bulk result says). */
export interface ProductState {
  product: RawProduct;
  inventory: Array<{ entityRef: string; payload: RawInventory }>;
}

/** The state of one product and its variants' stock, without events (a comparison needs only this). */
export function productState(locationId: string, p: { id: string; title: string; status: string; updatedAt: string }, variants: GqlVariant[]): ProductState {
  const mapped = variants.map(variantFromGraphQL);
  const product = productPayload({ id: p.id, title: p.title, status: p.status, updatedAt: p.updatedAt, variants: mapped });
  const inventory: ProductState['inventory'] = [];
  variants.forEach((v, i) => {
    const level = v.inventoryItem?.inventoryLevel;
    const available = level?.quantities.find((q) => q.name === 'available')?.quantity;
    if (!v.inventoryItem || !level || typeof available !== 'number') return;
    const payload = inventoryPayload({ sku: mapped[i]!.sku, available, updatedAt: level.updatedAt, variantId: v.id, productId: product.productId, inventoryItemId: v.inventoryItem.id, locationId });
    inventory.push({ entityRef: inventoryLevelGid(locationId, v.inventoryItem.id), payload });
  });
  return { product, inventory };
}

/** Product and inventory events of one product (shared by the poller and the backfill). */
export function productEvents(
  origin: 'poll' | 'backfill', instance: string, skuRule: SkuNormalisation, locationId: string,
  p: { id: string; title: string; status: string; updatedAt: string }, variants: GqlVariant[],
): NewRawEvent[] {
  const { product: payload, inventory } = productState(locationId, p, variants);
  const only = payload.variants.length === 1 ? normaliseSku(payload.variants[0]!.sku, skuRule) : null;
  const out: NewRawEvent[] = [{
    platform: 'shopify', instance, eventType: 'products/update', entityRef: payload.productId, origin,
    dedupeKey: stateKey(origin, payload.productId, payload), occurredAt: payload.updatedAt, payload, sku: only,
  }];
  for (const { entityRef, payload: inv } of inventory) {
    out.push({
      platform: 'shopify', instance, eventType: 'inventory_levels/update', entityRef, origin,
      dedupeKey: stateKey(origin, entityRef, inv), occurredAt: inv.updatedAt, payload: inv, sku: normaliseSku(inv.sku, skuRule),
    });
  }
  return out;
}

/** The incremental poller of one store. */
export class ShopifyPoller {
  /** Resources polled, in order. */
  static readonly RESOURCES = ['products', 'orders'];
  private readonly overlapMs: number;
  private readonly variantsFirst: number;
  private readonly linesFirst: number;

  constructor(private readonly o: PollerOptions) {
    this.overlapMs = o.overlapMs ?? 120_000;
    this.variantsFirst = o.variantsPerProduct ?? 10;
    this.linesFirst = o.linesPerOrder ?? 10;
  }

  /** One page of `resource` from `checkpoint` (null: from the beginning). */
  async poll(resource: string, checkpoint: PollCheckpoint | null, signal?: AbortSignal): Promise<PollPage> {
    if (resource !== 'products' && resource !== 'orders') throw new TypeError(`Shopify polls products and orders, not ${resource}`);
    const run = decodeRun(checkpoint?.cursor);
    const from = run ? run.from : checkpoint?.since ? utcSeconds(Date.parse(checkpoint.since) - this.overlapMs) : null;
    const query = from ? `updated_at:>='${from}'` : null;
    const page = resource === 'products' ? await this.productsPage(query, run?.after ?? null, signal) : await this.ordersPage(query, run?.after ?? null, signal);
    let since = checkpoint?.since ?? null;
    for (const t of page.updatedAts) if (!since || t > since) since = t;
    const more = page.hasNextPage && page.endCursor !== null;
    return {
      events: page.events,
      more,
      checkpoint: {
        resource,
        since: since ?? from ?? '1970-01-01T00:00:00Z',
        cursor: more ? JSON.stringify({ after: page.endCursor!, from } satisfies RunState) : null,
      },
    };
  }

  private async productsPage(query: string | null, after: string | null, signal?: AbortSignal) {
    const locationId = await this.o.location.get(signal);
    // Requested cost per product: 1 + variants connection (2 + n × (variant, item, level, quantities)).
    const first = pageSize(3 + 4 * this.variantsFirst);
    const d = await this.o.client.request<{ products: Conn<GqlProduct> }>(loadDocument('PollProducts'), { first, after, query, variantsFirst: this.variantsFirst, locationId }, { signal });
    const events: NewRawEvent[] = [];
    const updatedAts: string[] = [];
    for (const p of d.products.nodes) {
      const variants = [...p.variants.nodes];
      let cursor = p.variants.pageInfo.hasNextPage ? p.variants.pageInfo.endCursor : null;
      while (cursor) {
        const more = await this.o.client.request<{ product: { variants: Conn<GqlVariant> } | null }>(
          loadDocument('ProductVariantsPage'), { id: p.id, first: 100, after: cursor, locationId }, { signal });
        if (!more.product) break;
        variants.push(...more.product.variants.nodes);
        cursor = more.product.variants.pageInfo.hasNextPage ? more.product.variants.pageInfo.endCursor : null;
      }
      updatedAts.push(utcSeconds(p.updatedAt));
      const polled = productEvents('poll', this.o.instance, this.o.skuRule, locationId, p, variants);
      const product = polled[0]!.payload as RawProduct;
      for (const v of product.variants) if (v.inventoryItemId) this.o.items?.remember(v.inventoryItemId, { inventoryItemId: v.inventoryItemId, sku: v.sku, variantId: v.id, productId: product.productId });
      events.push(...polled);
    }
    return { events, updatedAts, hasNextPage: d.products.pageInfo.hasNextPage, endCursor: d.products.pageInfo.endCursor };
  }

  private async ordersPage(query: string | null, after: string | null, signal?: AbortSignal) {
    // Requested cost per order: 1 + lines connection (2 + n × (line, variant, price set, money)).
    const first = pageSize(3 + 4 * this.linesFirst);
    const d = await this.o.client.request<{ orders: Conn<GqlOrder> }>(loadDocument('PollOrders'), { first, after, query, linesFirst: this.linesFirst }, { signal });
    const events: NewRawEvent[] = [];
    const updatedAts: string[] = [];
    for (const o of d.orders.nodes) {
      const lines: RawLine[] = o.lineItems.nodes.map(lineFromGraphQL);
      let cursor = o.lineItems.pageInfo.hasNextPage ? o.lineItems.pageInfo.endCursor : null;
      while (cursor) {
        const more = await this.o.client.request<{ order: { lineItems: Conn<GqlLine> } | null }>(loadDocument('OrderLinesPage'), { id: o.id, first: 100, after: cursor }, { signal });
        if (!more.order) break;
        lines.push(...more.order.lineItems.nodes.map(lineFromGraphQL));
        cursor = more.order.lineItems.pageInfo.hasNextPage ? more.order.lineItems.pageInfo.endCursor : null;
      }
      const payload = orderPayload({ id: o.id, name: o.name, currency: o.currencyCode, createdAt: o.createdAt, updatedAt: o.updatedAt, cancelledAt: o.cancelledAt, lines });
      updatedAts.push(payload.updatedAt);
      events.push({
        platform: 'shopify', instance: this.o.instance, eventType: payload.cancelled ? 'orders/cancelled' : 'orders/updated', entityRef: payload.orderId,
        origin: 'poll', dedupeKey: stateKey('poll', payload.orderId, payload), occurredAt: payload.updatedAt, payload, sku: null,
      });
    }
    return { events, updatedAts, hasNextPage: d.orders.pageInfo.hasNextPage, endCursor: d.orders.pageInfo.endCursor };
  }
}

function decodeRun(cursor: string | null | undefined): RunState | null {
  if (!cursor) return null;
  try {
    const v = JSON.parse(cursor) as Partial<RunState>;
    return typeof v.after === 'string' ? { after: v.after, from: typeof v.from === 'string' ? v.from : null } : null;
  } catch {
    return null;
  }
}
