import { payloadChecksum } from '../../core/ids.js';
import type { EventOrigin } from '../../core/model.js';
import type { NewRawEvent, RawOrder, RawPayload, RawProduct } from '../types.js';
import type { WooOrder, WooProduct, WooVariation } from './schemas.js';

/**
 * WooCommerce resources → the normalised raw payloads. Webhook bodies, poll pages and backfill
 * pages of the same state give byte-identical payloads (so intake's checksum recognises a polled
 * state a webhook already delivered): UTC ISO dates at whole seconds, prices as decimal strings,
 * quantities as numbers, and nothing that only one of the paths knows.
 */

/** Statuses whose order has taken stock in WooCommerce (wc_maybe_reduce_stock_levels). */
export const COMMITTED_STATUSES: readonly string[] = ['processing', 'on-hold', 'completed'];
/** Statuses that gave the stock back (wc_maybe_increase_stock_levels on `cancelled`). */
export const CANCELLED_STATUSES: readonly string[] = ['cancelled'];

/** `2025-01-01T00:00:05` (GMT, no zone) → `2025-01-01T00:00:05Z`; null when absent or invalid. */
export function gmtToIso(gmt: string | null | undefined): string | null {
  if (!gmt) return null;
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(gmt) ? gmt : `${gmt.replace(' ', 'T')}Z`;
  const ms = Date.parse(withZone);
  return Number.isFinite(ms) ? isoSeconds(ms) : null;
}

/** Epoch ms → ISO UTC at whole seconds (`…:05Z`). */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** ISO → the `YYYY-MM-DDTHH:MM:SS` form WooCommerce date parameters take (with dates_are_gmt). */
export function wooDateParam(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19);
}

/** The modification time of a resource: `date_modified_gmt`, else `date_modified` read as UTC (both paths see the same). */
export function modifiedIso(r: { date_modified_gmt?: string | null; date_modified?: string | null }): string {
  return gmtToIso(r.date_modified_gmt) ?? gmtToIso(r.date_modified) ?? '1970-01-01T00:00:00Z';
}

/**
 * A price as a canonical decimal string: `"20"` → `"20.00"`, `19.9` → `"19.90"`, `"19.999"` kept;
 * empty or non-numeric → undefined (the key is then left out).
 */
export function decimalString(v: string | number | null | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v.trim();
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === '' && !m[3])) return undefined;
  const int = (m[2] || '0').replace(/^0+(?=\d)/, '');
  let frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  const sign = m[1] && /[1-9]/.test(int + frac) ? '-' : '';
  return `${sign}${int}.${frac}`;
}

/** WordPress post status → the canonical product status. */
export function productStatus(s: string | undefined): RawProduct['status'] | undefined {
  if (!s) return undefined;
  if (s === 'publish') return 'active';
  if (s === 'trash') return 'archived';
  return 'draft';
}

const blankToNull = (s: string | null | undefined): string | null => (s && s.trim() !== '' ? s : null);

/**
 * Stock as WooCommerce honours it: `stock_quantity` only when the item manages its own stock. A
 * variation with `manage_stock: "parent"` shows its parent's pool, shared by every such variation:
 * it is not this SKU's stock, so it is reported as a pool (`stockPool`), never as `available`.
 */
function available(p: WooProduct): number | null {
  return p.manage_stock === true ? (typeof p.stock_quantity === 'number' ? p.stock_quantity : null) : null;
}

/** Whether a product from `/products` or a webhook is a variation (then `parent_id` names its product). */
export const isVariation = (p: WooProduct): boolean => p.type === 'variation' || (p.parent_id ?? 0) > 0;

/**
 * The product fields {@link productPayload} (and the poller, to spot variable products) read: a
 * reader that needs only states asks for just these (`_fields`), a fraction of a full product.
 */
export const PRODUCT_STATE_FIELDS: readonly string[] = ['id', 'name', 'type', 'status', 'sku', 'regular_price', 'manage_stock', 'stock_quantity', 'date_modified', 'date_modified_gmt'];

/**
 * A simple (or grouped/external) product: one variant whose id is the product id. A variable
 * product: the product alone (title, status) with no variants: its SKUs live on its variations,
 * which are separate entities (see {@link variationPayload}).
 */
/** Configured stock pools: WooCommerce product id → the SKU its pool is synced as (`stockPools`). */
export type StockPoolSkus = ReadonlyMap<string, string>;

export function productPayload(p: WooProduct, pools?: StockPoolSkus): RawProduct {
  const out: RawProduct = {
    kind: 'product',
    productId: String(p.id),
    title: p.name ?? '',
    status: productStatus(p.status),
    updatedAt: modifiedIso(p),
    variants: [],
  };
  if (out.status === undefined) delete out.status;
  if (p.type === 'variable' && p.manage_stock === true) out.pool = { available: typeof p.stock_quantity === 'number' ? p.stock_quantity : null };
  const poolSku = p.type === 'variable' ? pools?.get(String(p.id)) : undefined;
  if (poolSku) {
    // A configured pool: the product's stock is this SKU's (the variant is the product itself).
    out.variants.push({ id: String(p.id), sku: poolSku, available: available(p) });
  }
  if (p.type !== 'variable') {
    const v: RawProduct['variants'][number] = { id: String(p.id), sku: blankToNull(p.sku), price: decimalString(p.regular_price), available: available(p) };
    if (v.price === undefined) delete v.price;
    out.variants.push(v);
  }
  return out;
}

/**
 * A variation, from `/products/{parent}/variations` or from a webhook (the variation as a
 * product): a product payload of the parent with this variation as its only variant. The title is
 * left out: the variations endpoint does not carry the parent's name, and the webhook's
 * `name` ("Parent - Option") is not the product title. The variant title is its attribute options.
 */
export function variationPayload(v: WooVariation, parentId: number): RawProduct {
  const options = (v.attributes ?? []).map((a) => a.option).filter((o): o is string => typeof o === 'string' && o !== '');
  const variant: RawProduct['variants'][number] = {
    id: String(v.id),
    sku: blankToNull(v.sku),
    price: decimalString(v.regular_price),
    parentId: String(parentId),
    available: available(v),
  };
  if (variant.price === undefined) delete variant.price;
  if (v.manage_stock === 'parent') variant.stockPool = String(parentId);
  if (options.length) variant.title = options.join(', ');
  const out: RawProduct = { kind: 'product', productId: String(parentId), status: productStatus(v.status), updatedAt: modifiedIso(v), variants: [variant] };
  if (out.status === undefined) delete out.status;
  return out;
}

/** An order: committed when its stock was taken, cancelled when it was given back. */
export function orderPayload(o: WooOrder, pools?: StockPoolSkus): RawOrder {
  const out: RawOrder = {
    kind: 'order',
    orderId: String(o.id),
    name: `#${o.number ?? o.id}`,
    committed: COMMITTED_STATUSES.includes(o.status),
    cancelled: CANCELLED_STATUSES.includes(o.status),
    currency: o.currency,
    createdAt: gmtToIso(o.date_created_gmt) ?? gmtToIso(o.date_created) ?? modifiedIso(o),
    updatedAt: modifiedIso(o),
    lines: o.line_items.map((l) => {
      // A variation of a configured pool sells from the pool: the line counts against the pool's SKU.
      const poolSku = l.variation_id && l.product_id ? pools?.get(String(l.product_id)) : undefined;
      const line: RawOrder['lines'][number] = { lineId: String(l.id), sku: poolSku ?? blankToNull(l.sku), quantity: l.quantity, price: decimalString(l.price) };
      const variant = poolSku ? l.product_id : l.variation_id || l.product_id;
      if (variant) line.variantId = String(variant);
      if (line.price === undefined) delete line.price;
      return line;
    }),
  };
  if (out.currency === undefined) delete out.currency;
  return out;
}

/** Entity reference of an order (products and variations use their plain id). */
export const orderRef = (id: number | string): string => `order:${id}`;

/** Builds a raw event for `instance`. */
export function rawEvent(
  instance: string,
  e: { eventType: string; entityRef: string; origin: EventOrigin; dedupeKey: string; occurredAt: string; payload: RawPayload },
): NewRawEvent {
  return { platform: 'woocommerce', instance, ...e };
}

/**
 * A polled or backfilled state as a raw event: the dedupe key is the state's checksum, so the
 * same state read twice is one event and intake recognises it against a webhook's (same checksum).
 */
export function stateEvent(instance: string, origin: 'poll' | 'backfill', eventType: string, entityRef: string, payload: RawPayload): NewRawEvent {
  const occurredAt = 'updatedAt' in payload ? payload.updatedAt : isoSeconds(Date.now());
  return rawEvent(instance, { eventType, entityRef, origin, dedupeKey: `${origin}:${entityRef}:${payloadChecksum(payload).slice(0, 24)}`, occurredAt, payload });
}

/**
 * What the connector remembers of SKUs per product id (bounded LRU), so that a deletion webhook,
 * which carries only the id, can name the SKUs it removed. Unknown ids give `[]`; the intake
 * then fills them from its entity map.
 */
export class SkuMemory {
  private readonly map = new Map<string, string[]>();
  constructor(private readonly max = 100_000) {}

  /** Learns the SKUs of a product payload (a variation's SKU also belongs to its parent). */
  learn(p: RawPayload): void {
    if (p.kind !== 'product') return;
    for (const v of p.variants) {
      if (!v.sku) continue;
      this.add(v.id, v.sku);
      if (v.parentId) this.add(v.parentId, v.sku);
    }
  }

  /** The SKUs known for a product or variation id. */
  skusOf(id: string): string[] {
    return [...(this.map.get(id) ?? [])];
  }

  /** Forgets an id (after its deletion). */
  forget(id: string): void {
    this.map.delete(id);
  }

  private add(id: string, sku: string): void {
    const prev = this.map.get(id);
    this.map.delete(id);
    const next = prev?.includes(sku) ? prev : [...(prev ?? []), sku];
    this.map.set(id, next);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
}
