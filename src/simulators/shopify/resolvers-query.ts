import { GraphQLError, responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import { isoSeconds } from './clock.js';
import { pageArgs, type SimContext } from './context.js';
import { gid, inventoryLevelGid, parseGid, parseInventoryLevelGid } from './gid.js';
import { dateField, idField, list, paginate, textMatch, type ConnectionArgs, type ListSpec, type SortKeyFn } from './listing.js';
import {
  availableTotal, QUANTITY_NAMES, type InventoryItemRec, type InventoryLevelRec, type LineItemRec, type LocationRec,
  type OrderRec, type ProductRec, type QuantityName, type VariantRec,
} from './model.js';
import { PLANS, SUPPORTED_API_VERSIONS } from './options.js';
import type { ShopifyStore } from './store.js';
import type { WebhookSubscriptionRec } from './webhooks.js';

type Args = Record<string, unknown>;
type ListArgs = ConnectionArgs & { query?: string | null; sortKey?: string | null };
/** A resolver map: type name → field name → resolver. */
export type ResolverMap = Record<string, Record<string, (src: any, args: any, ctx: SimContext, info: GraphQLResolveInfo) => unknown>>;

const byId: SortKeyFn<{ id: number }> = (t) => [t.id, t.id];
const bySeq: SortKeyFn<{ id: number; seq: number }> = (t) => [t.seq, t.id];
const money = (amount: string) => ({ shopMoney: { amount, currencyCode: 'USD' }, presentmentMoney: { amount, currencyCode: 'USD' } });
const common = { legacyResourceId: (r: { id: number }) => String(r.id), createdAt: (r: { createdAt: number }) => isoSeconds(r.createdAt), updatedAt: (r: { updatedAt: number }) => isoSeconds(r.updatedAt) };

function withSearch<T>(ctx: SimContext, info: GraphQLResolveInfo, query: string | null | undefined, r: { connection: T; warnings: { field: string; message: string; code: string }[] }): T {
  if (r.warnings.length > 0) ctx.search.push({ path: responsePathAsArray(info.path), query: query ?? '', warnings: r.warnings });
  return r.connection;
}

const productSpec = (s: ShopifyStore): ListSpec<ProductRec> => ({
  all: s.products,
  recency: () => s.productRecency.live(),
  fields: {
    updated_at: dateField((p) => p.updatedAt, () => s.productRecency.live()),
    created_at: dateField((p) => p.createdAt),
    id: idField(() => s.products),
    sku: {
      match: (p, t) => p.variants.some((v) => textMatch(v.sku, t)),
      lookup: (t) => (t.value.endsWith('*') || t.op !== ':' ? null : { items: [...new Set(s.variantsBySku.get(t.value).map((v) => v.product))], order: 'none' }),
    },
    title: { match: (p, t) => textMatch(p.title, t) },
    status: { match: (p, t) => textMatch(p.status, t) },
    vendor: { match: (p, t) => textMatch(p.vendor, t) },
    product_type: { match: (p, t) => textMatch(p.productType, t) },
  },
  text: (p, w) => p.title.toLowerCase().includes(w.toLowerCase()),
  sorts: { ID: { key: byId, order: 'id' }, CREATED_AT: { key: byId, order: 'id' }, UPDATED_AT: { key: bySeq, order: 'seq' }, TITLE: { key: (p) => [p.title, p.id], order: 'none' } },
});

const variantSpec = (s: ShopifyStore): ListSpec<VariantRec> => ({
  all: s.variants,
  recency: () => s.variantRecency.live(),
  fields: {
    updated_at: dateField((v) => v.updatedAt, () => s.variantRecency.live()),
    created_at: dateField((v) => v.createdAt),
    id: idField(() => s.variants),
    product_id: { match: (v, t) => String(v.product.id) === t.value, lookup: (t) => ({ items: s.productById.get(Number(t.value))?.variants ?? [], order: 'id' }) },
    sku: {
      match: (v, t) => textMatch(v.sku, t),
      lookup: (t) => (t.value.endsWith('*') || t.op !== ':' ? null : { items: [...s.variantsBySku.get(t.value)].sort((a, b) => a.id - b.id), order: 'id' }),
    },
    title: { match: (v, t) => textMatch(v.title, t) },
    barcode: { match: (v, t) => textMatch(v.barcode, t) },
  },
  text: (v, w) => `${v.product.title} ${v.title} ${v.sku ?? ''}`.toLowerCase().includes(w.toLowerCase()),
  sorts: { ID: { key: byId, order: 'id' }, SKU: { key: (v) => [v.sku ?? '', v.id], order: 'none' }, POSITION: { key: (v) => [v.product.id * 10_000 + v.position, v.id], order: 'id' } },
});

const orderSpec = (s: ShopifyStore): ListSpec<OrderRec> => ({
  all: s.orders,
  recency: () => s.orderRecency.live(),
  fields: {
    updated_at: dateField((o) => o.updatedAt, () => s.orderRecency.live()),
    created_at: dateField((o) => o.createdAt),
    processed_at: dateField((o) => o.processedAt),
    id: idField(() => s.orders),
    name: { match: (o, t) => textMatch(o.name, t) || textMatch(o.name.slice(1), t) },
    status: { match: (o, t) => (t.value === 'cancelled' ? o.cancelledAt !== null : t.value === 'open' ? o.cancelledAt === null : t.value === 'any') },
    financial_status: { match: (o, t) => textMatch(o.financialStatus, t) },
    sku: { match: (o, t) => o.lineItems.some((li) => textMatch(li.sku, t)) },
  },
  sorts: { ID: { key: byId, order: 'id' }, CREATED_AT: { key: byId, order: 'id' }, PROCESSED_AT: { key: byId, order: 'id' }, UPDATED_AT: { key: bySeq, order: 'seq' } },
});

const levelList = (item: InventoryItemRec): InventoryLevelRec[] => [...item.levels.values()].sort((a, b) => a.location.id - b.location.id);
const levelKey: SortKeyFn<InventoryLevelRec> = (l) => [l.location.id, l.location.id];
const findLocation = (s: ShopifyStore, id: unknown): LocationRec | null => s.locationById.get(parseGid(id, 'Location') ?? -1) ?? null;

/** Resolvers of the query root and of every object type. */
export function queryResolvers(): ResolverMap {
  return {
    QueryRoot: {
      shop: () => ({}),
      locations: (_: unknown, a: ListArgs & { includeInactive?: boolean }, ctx: SimContext) => {
        const locs = ctx.sim.store.locations.filter((l) => l.isActive || a.includeInactive);
        const key: SortKeyFn<LocationRec> = a.sortKey === 'NAME' ? (l) => [l.name, l.id] : byId;
        return paginate([...locs].sort((x, y) => (key(x)[0] < key(y)[0] ? -1 : key(x)[0] > key(y)[0] ? 1 : x.id - y.id)), key, pageArgs(ctx, a));
      },
      location: (_: unknown, a: Args, ctx: SimContext) => (a.id == null ? ctx.sim.store.locations[0] ?? null : findLocation(ctx.sim.store, a.id)),
      products: (_: unknown, a: ListArgs, ctx: SimContext, info: GraphQLResolveInfo) => withSearch(ctx, info, a.query, list(productSpec(ctx.sim.store), pageArgs(ctx, a), 'ID')),
      product: (_: unknown, a: Args, ctx: SimContext) => ctx.sim.store.productById.get(parseGid(a.id, 'Product') ?? -1) ?? null,
      productVariants: (_: unknown, a: ListArgs, ctx: SimContext, info: GraphQLResolveInfo) => withSearch(ctx, info, a.query, list(variantSpec(ctx.sim.store), pageArgs(ctx, a), 'ID')),
      productVariant: (_: unknown, a: Args, ctx: SimContext) => ctx.sim.store.variantById.get(parseGid(a.id, 'ProductVariant') ?? -1) ?? null,
      inventoryItem: (_: unknown, a: Args, ctx: SimContext) => ctx.sim.store.itemById.get(parseGid(a.id, 'InventoryItem') ?? -1) ?? null,
      inventoryLevel: (_: unknown, a: Args, ctx: SimContext) => {
        const p = parseInventoryLevelGid(a.id);
        return p ? ctx.sim.store.itemById.get(p.inventoryItemId)?.levels.get(p.locationId) ?? null : null;
      },
      orders: (_: unknown, a: ListArgs, ctx: SimContext, info: GraphQLResolveInfo) => withSearch(ctx, info, a.query, list(orderSpec(ctx.sim.store), pageArgs(ctx, a), 'ID')),
      order: (_: unknown, a: Args, ctx: SimContext) => ctx.sim.store.orderById.get(parseGid(a.id, 'Order') ?? -1) ?? null,
      webhookSubscriptions: (_: unknown, a: ConnectionArgs & { topics?: string[] | null; uri?: string | null }, ctx: SimContext) => {
        const subs = [...ctx.sim.dispatcher.subscriptions.values()]
          .filter((s) => (!a.topics || a.topics.length === 0 || a.topics.includes(s.topic)) && (a.uri == null || s.uri === a.uri))
          .sort((x, y) => x.id - y.id);
        return paginate(subs, byId, pageArgs(ctx, a));
      },
      webhookSubscription: (_: unknown, a: Args, ctx: SimContext) => ctx.sim.dispatcher.subscriptions.get(parseGid(a.id, 'WebhookSubscription') ?? -1) ?? null,
      currentBulkOperation: (_: unknown, a: { type?: string | null }, ctx: SimContext) => ctx.bulk.current(a.type ?? 'QUERY'),
      bulkOperation: (_: unknown, a: Args, ctx: SimContext) => ctx.bulk.byId(parseGid(a.id, 'BulkOperation') ?? -1),
    },
    Shop: {
      id: () => gid('Shop', 60_000_000_001),
      name: (_: unknown, __: Args, ctx: SimContext) => ctx.sim.opts.shop,
      email: (_: unknown, __: Args, ctx: SimContext) => `owner@${ctx.sim.shopDomain}`,
      myshopifyDomain: (_: unknown, __: Args, ctx: SimContext) => ctx.sim.shopDomain,
      currencyCode: () => 'USD',
      ianaTimezone: () => 'America/New_York',
      plan: (_: unknown, __: Args, ctx: SimContext) => ({ partnerDevelopment: false, publicDisplayName: PLANS[ctx.sim.opts.plan].displayName, shopifyPlus: PLANS[ctx.sim.opts.plan].shopifyPlus }),
      createdAt: () => '2025-06-01T12:00:00Z',
      updatedAt: () => '2026-01-05T09:00:00Z',
    },
    Location: { ...common, id: (l: LocationRec) => gid('Location', l.id), fulfillsOnlineOrders: () => true,
      inventoryLevel: (l: LocationRec, a: Args, ctx: SimContext) => ctx.sim.store.itemById.get(parseGid(a.inventoryItemId, 'InventoryItem') ?? -1)?.levels.get(l.id) ?? null },
    Product: {
      ...common,
      id: (p: ProductRec) => gid('Product', p.id),
      totalInventory: (p: ProductRec) => p.variants.reduce((n, v) => n + availableTotal(v.inventoryItem), 0),
      tracksInventory: (p: ProductRec) => p.variants.some((v) => v.inventoryItem.tracked),
      hasOnlyDefaultVariant: (p: ProductRec) => p.variants.length === 1 && p.variants[0]!.title === 'Default Title',
      variants: (p: ProductRec, a: ConnectionArgs & { sortKey?: string | null }, ctx: SimContext) => {
        const key: SortKeyFn<VariantRec> = a.sortKey === 'SKU' ? (v) => [v.sku ?? '', v.id] : a.sortKey === 'ID' ? byId : (v) => [v.position, v.id];
        return paginate([...p.variants].sort((x, y) => { const kx = key(x); const ky = key(y); return kx[0] < ky[0] ? -1 : kx[0] > ky[0] ? 1 : kx[1] - ky[1]; }), key, pageArgs(ctx, a));
      },
      variantsCount: (p: ProductRec) => ({ count: p.variants.length, precision: 'EXACT' }),
    },
    ProductVariant: {
      ...common,
      id: (v: VariantRec) => gid('ProductVariant', v.id),
      displayName: (v: VariantRec) => `${v.product.title} - ${v.title}`,
      inventoryQuantity: (v: VariantRec) => availableTotal(v.inventoryItem),
      availableForSale: (v: VariantRec) => v.inventoryPolicy === 'CONTINUE' || !v.inventoryItem.tracked || availableTotal(v.inventoryItem) > 0,
    },
    InventoryItem: {
      ...common,
      id: (i: InventoryItemRec) => gid('InventoryItem', i.id),
      sku: (i: InventoryItemRec) => i.variant.sku,
      inventoryLevel: (i: InventoryItemRec, a: Args) => i.levels.get(parseGid(a.locationId, 'Location') ?? -1) ?? null,
      inventoryLevels: (i: InventoryItemRec, a: ConnectionArgs, ctx: SimContext) => paginate(levelList(i), levelKey, pageArgs(ctx, a)),
      variants: (i: InventoryItemRec, a: ConnectionArgs, ctx: SimContext) => paginate([i.variant], byId, pageArgs(ctx, a)),
    },
    InventoryLevel: {
      id: (l: InventoryLevelRec) => inventoryLevelGid(l.location.id, l.item.id),
      isActive: () => true,
      createdAt: (l: InventoryLevelRec) => isoSeconds(l.createdAt),
      updatedAt: (l: InventoryLevelRec) => isoSeconds(l.updatedAt),
      quantities: (l: InventoryLevelRec, a: { names: string[] }) => a.names.map((name) => {
        if (!(QUANTITY_NAMES as readonly string[]).includes(name)) {
          throw new GraphQLError(`Invalid quantity name: '${name}'. Valid names are: ${QUANTITY_NAMES.join(', ')}.`, { extensions: { code: 'BAD_REQUEST' } });
        }
        return { id: `gid://shopify/InventoryQuantity/${l.location.id}?inventory_item_id=${l.item.id}&name=${name}`, name, quantity: l.quantities[name as QuantityName], updatedAt: isoSeconds(l.updatedAt) };
      }),
    },
    Order: {
      ...common,
      id: (o: OrderRec) => gid('Order', o.id),
      note: () => null, tags: () => [], test: () => false, closed: () => false, closedAt: () => null, confirmed: () => true,
      processedAt: (o: OrderRec) => isoSeconds(o.processedAt),
      cancelledAt: (o: OrderRec) => (o.cancelledAt === null ? null : isoSeconds(o.cancelledAt)),
      displayFinancialStatus: (o: OrderRec) => o.financialStatus,
      displayFulfillmentStatus: (o: OrderRec) => (o.cancelledAt !== null && o.restocked ? 'RESTOCKED' : 'UNFULFILLED'),
      currencyCode: () => 'USD',
      totalPriceSet: (o: OrderRec) => money(o.lineItems.reduce((s, li) => s + Number(li.price) * li.quantity, 0).toFixed(2)),
      subtotalPriceSet: (o: OrderRec) => money(o.lineItems.reduce((s, li) => s + Number(li.price) * li.quantity, 0).toFixed(2)),
      lineItems: (o: OrderRec, a: ConnectionArgs, ctx: SimContext) => paginate(o.lineItems, byId, pageArgs(ctx, a)),
    },
    LineItem: {
      id: (li: LineItemRec) => gid('LineItem', li.id),
      name: (li: LineItemRec) => (li.variantTitle ? `${li.title} - ${li.variantTitle}` : li.title),
      unfulfilledQuantity: (li: LineItemRec) => li.currentQuantity,
      product: (li: LineItemRec) => li.variant?.product ?? null,
      requiresShipping: () => true,
      originalUnitPriceSet: (li: LineItemRec) => money(li.price),
    },
    WebhookSubscription: {
      ...common,
      id: (s: WebhookSubscriptionRec) => gid('WebhookSubscription', s.id),
      apiVersion: (s: WebhookSubscriptionRec) => ({ handle: s.apiVersion, displayName: s.apiVersion, supported: (SUPPORTED_API_VERSIONS as readonly string[]).includes(s.apiVersion) }),
    },
  };
}
