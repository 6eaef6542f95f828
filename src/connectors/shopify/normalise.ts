/**
 * Normalisation of Shopify data into the connector payloads (`RawPayload`). Webhooks (REST shape:
 * numeric ids, snake_case, shop-offset timestamps), poll pages and bulk rows (GraphQL shape: GIDs,
 * camelCase, UTC) of the same state must give byte-identical payloads, so that intake recognises a
 * polled state it already holds by its checksum. The rules:
 * - ids are GIDs (`gid://shopify/ProductVariant/1`), numeric REST ids are converted;
 * - timestamps are UTC ISO with second precision (`2026-01-05T09:00:00Z`);
 * - prices are decimal strings with at least two decimals (`"19.90"`), quantities numbers;
 * - a blank SKU is `null`; SKUs are otherwise kept as Shopify has them (the transform normalises);
 * - variants and lines are sorted by id; fields only one path knows (a variant's total
 *   `inventory_quantity`, per-variant timestamps) are left out.
 */
import { payloadChecksum } from '../../core/ids.js';
import type { RawInventory, RawOrder, RawProduct } from '../types.js';

/** A Shopify GID from a numeric id (or the GID itself). */
export function toGid(type: string, id: unknown): string {
  if (typeof id === 'string' && id.startsWith('gid://')) return id;
  return `gid://shopify/${type}/${String(id)}`;
}

/** The numeric part of a GID (`gid://shopify/Product/12` → `12`). */
export function gidNumber(gid: string): string {
  const m = /\/(\d+)(?:\?.*)?$/.exec(gid);
  return m ? m[1]! : gid;
}

/** A timestamp (any offset) as UTC ISO with second precision; throws on an unparseable value. */
export function utcSeconds(value: unknown): string {
  const ms = typeof value === 'number' ? value : Date.parse(String(value));
  if (!Number.isFinite(ms)) throw new TypeError(`not a timestamp: ${String(value)}`);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** A price as a decimal string with at least two decimals (`19.9` → `"19.90"`); undefined when absent. */
export function decimal(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const s = typeof value === 'number' ? String(value) : String(value).trim();
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) return s;
  const int = m[2]!.replace(/^0+(?=\d)/, '');
  const frac = (m[3] ?? '').replace(/0+$/, '').padEnd(2, '0');
  return `${m[1]}${int}.${frac}`;
}

/** A SKU as Shopify has it, or null when blank. */
export function rawSku(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const s = String(value);
  return s.trim() === '' ? null : s;
}

const byId = (a: { id: string }, b: { id: string }) => {
  const x = gidNumber(a.id);
  const y = gidNumber(b.id);
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
};

const STATUSES = new Set(['active', 'draft', 'archived']);
const status = (v: unknown): RawProduct['status'] | undefined => {
  const s = typeof v === 'string' ? v.toLowerCase() : '';
  return STATUSES.has(s) ? (s as RawProduct['status']) : undefined;
};

function strip<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** A variant of a product payload. */
export type RawVariant = RawProduct['variants'][number];

/** A product from its parts, with the rules above applied. */
export function productPayload(p: { id: unknown; title?: unknown; status?: unknown; updatedAt: unknown; variants: RawVariant[] }): RawProduct {
  return strip({
    kind: 'product' as const,
    productId: toGid('Product', p.id),
    title: typeof p.title === 'string' ? p.title : undefined,
    status: status(p.status),
    updatedAt: utcSeconds(p.updatedAt),
    variants: [...p.variants].sort(byId),
  });
}

/** A variant from the GraphQL shape. */
export function variantFromGraphQL(v: { id: string; sku?: string | null; price?: unknown; title?: string | null; inventoryItem?: { id: string } | null }): RawVariant {
  return strip({
    id: v.id,
    sku: rawSku(v.sku),
    price: decimal(v.price),
    inventoryItemId: v.inventoryItem?.id,
    title: typeof v.title === 'string' ? v.title : undefined,
  });
}

/** A variant from the REST (webhook) shape. */
export function variantFromRest(v: Record<string, unknown>): RawVariant {
  return strip({
    id: toGid('ProductVariant', v.admin_graphql_api_id ?? v.id),
    sku: rawSku(v.sku),
    price: decimal(v.price),
    inventoryItemId: v.inventory_item_id == null ? undefined : toGid('InventoryItem', v.inventory_item_id),
    title: typeof v.title === 'string' ? v.title : undefined,
  });
}

/** The stock of one SKU at the managed location. */
export function inventoryPayload(i: { sku: string | null; available: number; updatedAt: unknown; variantId: string; productId?: string; inventoryItemId: string; locationId: string }): RawInventory {
  return {
    kind: 'inventory',
    sku: i.sku,
    available: i.available,
    updatedAt: utcSeconds(i.updatedAt),
    refs: strip({ id: i.variantId, productId: i.productId, inventoryItemId: i.inventoryItemId, locationId: i.locationId }),
  };
}

/** The GID of an inventory level, as Shopify builds it. */
export const inventoryLevelGid = (locationId: string, inventoryItemId: string): string =>
  `gid://shopify/InventoryLevel/${gidNumber(locationId)}?inventory_item_id=${gidNumber(inventoryItemId)}`;

/** One order line. */
export type RawLine = RawOrder['lines'][number];

/** An order from its parts (Shopify commits stock when an order is created). */
export function orderPayload(o: { id: unknown; name?: unknown; currency?: unknown; createdAt: unknown; updatedAt: unknown; cancelledAt: unknown; lines: RawLine[] }): RawOrder {
  return strip({
    kind: 'order' as const,
    orderId: toGid('Order', o.id),
    name: typeof o.name === 'string' ? o.name : undefined,
    committed: true,
    cancelled: o.cancelledAt !== null && o.cancelledAt !== undefined && o.cancelledAt !== '',
    currency: typeof o.currency === 'string' ? o.currency : undefined,
    createdAt: utcSeconds(o.createdAt),
    updatedAt: utcSeconds(o.updatedAt),
    lines: [...o.lines].sort((a, b) => byId({ id: a.lineId }, { id: b.lineId })),
  });
}

/** A line from the GraphQL shape. */
export function lineFromGraphQL(l: { id: string; sku?: string | null; quantity: number; variant?: { id: string } | null; originalUnitPriceSet?: { shopMoney?: { amount?: unknown } } | null }): RawLine {
  return strip({
    lineId: l.id,
    sku: rawSku(l.sku),
    quantity: Number(l.quantity),
    price: decimal(l.originalUnitPriceSet?.shopMoney?.amount),
    variantId: l.variant?.id,
  });
}

/** A line from the REST (webhook) shape. */
export function lineFromRest(l: Record<string, unknown>): RawLine {
  return strip({
    lineId: toGid('LineItem', l.admin_graphql_api_id ?? l.id),
    sku: rawSku(l.sku),
    quantity: Number(l.quantity),
    price: decimal(l.price),
    variantId: l.variant_id == null ? undefined : toGid('ProductVariant', l.variant_id),
  });
}

/** A dedupe key for a polled or backfilled state: the same state gives the same key. */
export const stateKey = (origin: string, entityRef: string, payload: unknown): string => `${origin}:${entityRef}:${payloadChecksum(payload).slice(0, 32)}`;
