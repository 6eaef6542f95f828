import { invalidParam, type ProductRecord } from './model.js';
import { refuseUnmodelled, sortBy, withinDates, type ListParams } from './query.js';
import type { WooStore } from './store.js';

/** `orderby` values of /products. */
export const PRODUCT_ORDERBY = ['date', 'modified', 'id', 'include', 'title', 'slug', 'price', 'popularity', 'rating', 'menu_order'] as const;
/** `orderby` values of /products/{id}/variations. */
export const VARIATION_ORDERBY = ['date', 'modified', 'id', 'include', 'title', 'slug', 'menu_order'] as const;

const STATUS_FILTER = ['any', 'future', 'trash', 'draft', 'pending', 'private', 'publish'];
const TYPE_FILTER = ['simple', 'grouped', 'external', 'variable'];
const STOCK_FILTER = ['instock', 'outofstock', 'onbackorder'];

/** Collection parameters of /products and /products/{id}/variations the simulator does not model (400 when given). */
export const UNMODELLED_PRODUCT_PARAMS = [
  'parent', 'parent_exclude', 'include_status', 'exclude_status', 'include_types', 'exclude_types', 'featured', 'category', 'tag',
  'shipping_class', 'attribute', 'attribute_term', 'tax_class', 'virtual', 'downloadable', 'global_unique_id', 'brand', 'in_stock',
  'search_fields', 'search_sku', 'search_name_or_sku', 'pos_products',
] as const;

/** WC_Product::is_on_sale without scheduled sales: a sale price below the regular price. */
export function isOnSale(r: Pick<ProductRecord, 'salePrice' | 'regularPrice'>): boolean {
  return r.salePrice !== '' && (r.regularPrice === '' || Number(r.salePrice) < Number(r.regularPrice));
}

/** The `_price` values of a product (a variable product has one per live variation). */
function pricesOf(store: WooStore, r: ProductRecord): number[] {
  const own = (x: ProductRecord) => (x.salePrice !== '' && isOnSale(x) ? x.salePrice : x.regularPrice);
  if (r.type !== 'variable') return own(r) === '' ? [] : [Number(own(r))];
  return r.children.map((id) => store.get(id)).filter((c): c is ProductRecord => !!c && c.status !== 'trash').map(own).filter((x) => x !== '').map(Number);
}

/** On sale as wc_get_product_ids_on_sale() lists it: the product, or (variable) any of its variations. */
export function productOnSale(store: WooStore, r: ProductRecord): boolean {
  if (r.type !== 'variable') return isOnSale(r);
  return r.children.some((id) => {
    const c = store.get(id);
    return !!c && c.status !== 'trash' && isOnSale(c);
  });
}

/**
 * Filters and sorts products or variations as WooCommerce's query does. `sku=A,B` matches
 * products AND variations (the query then covers both post types) by exact `_sku`; the whole
 * string is also tried as one SKU, as WooCommerce does.
 *
 * The whole-catalog listing (no `sku`, not under a parent) is computed once per query shape and
 * catalog revision and then reused for every page: a full read by pages stays linear in size
 * instead of filtering and sorting the whole catalog on every request. The returned array may
 * be shared with later requests: callers must not change it.
 */
export function queryProducts(store: WooStore, p: ListParams, scope: { parentId?: number }, tzOffset: number): readonly ProductRecord[] {
  const q = p.raw;
  refuseUnmodelled(q, UNMODELLED_PRODUCT_PARAMS);
  const enumOf = (name: string, values: string[]) => {
    const v = q.get(name);
    if (v !== undefined && !values.includes(v)) throw invalidParam(name, `${name} is not one of ${values.join(', ')}.`, 'rest_not_in_enum');
    return v;
  };
  const filters: Filters = {
    status: enumOf('status', STATUS_FILTER) ?? 'any',
    type: scope.parentId === undefined ? enumOf('type', TYPE_FILTER) : undefined,
    stockStatus: enumOf('stock_status', STOCK_FILTER),
    slug: q.get('slug') || undefined,
    onSale: boolParam(q, 'on_sale'),
    // wc_get_min_max_price_meta_query: `! empty()` on each (so "0" is no bound), floatval, BETWEEN (inclusive).
    minPrice: q.get('min_price') ? floatval(q.get('min_price')!) : undefined,
    maxPrice: q.get('max_price') ? floatval(q.get('max_price')!) : undefined,
  };
  if (filters.minPrice === 0) filters.minPrice = undefined;
  if (filters.maxPrice === 0) filters.maxPrice = undefined;
  const skuParam = q.get('sku');
  if (skuParam || scope.parentId !== undefined) return filterAndSort(store, candidates(store, skuParam, scope.parentId), p, filters, tzOffset);

  const cache = listingCache(store);
  const key = shapeKey(p, tzOffset);
  const hit = cache.get(key);
  if (hit && hit.revision === store.productsRevision) {
    // Most recently used last: the oldest shape is evicted first.
    cache.delete(key);
    cache.set(key, hit);
    return hit.items;
  }
  const topLevel: ProductRecord[] = [];
  for (const r of store.products.values()) if (r.parentId === 0) topLevel.push(r);
  const items = filterAndSort(store, topLevel, p, filters, tzOffset);
  cache.delete(key);
  cache.set(key, { revision: store.productsRevision, items });
  while (cache.size > LISTING_CACHE_SHAPES) cache.delete(cache.keys().next().value!);
  return items;
}

/** The enum filters of a product list request. */
interface Filters {
  status: string;
  type: string | undefined;
  stockStatus: string | undefined;
  slug: string | undefined;
  onSale: boolean | undefined;
  minPrice: number | undefined;
  maxPrice: number | undefined;
}

/** A boolean query parameter as WordPress reads it; anything else is rest_invalid_param. */
function boolParam(q: Map<string, string>, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === undefined) return undefined;
  if (['true', '1'].includes(v)) return true;
  if (['false', '0', ''].includes(v)) return false;
  throw invalidParam(name, `${name} is not of type boolean.`);
}

/** PHP floatval of a numeric prefix ("12.5abc" → 12.5, "abc" → 0). */
function floatval(v: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(v);
  return m ? Number(m[0]) : 0;
}

/** Query shapes whose whole-catalog listing is kept (a pager, a poller, a few others). */
const LISTING_CACHE_SHAPES = 4;

/** Per store: the filtered, sorted listing of recent query shapes, valid for one catalog revision. */
const listingCaches = new WeakMap<WooStore, Map<string, { revision: number; items: ProductRecord[] }>>();

function listingCache(store: WooStore): Map<string, { revision: number; items: ProductRecord[] }> {
  let cache = listingCaches.get(store);
  if (!cache) listingCaches.set(store, (cache = new Map()));
  return cache;
}

/**
 * What decides a listing's rows and their order: every query parameter except those that only
 * pick the page (`page`, `offset`, `per_page`), shape the items (`_fields`) or authenticate
 * (OAuth, consumer key/secret).
 */
function shapeKey(p: ListParams, tzOffset: number): string {
  const parts: string[] = [];
  for (const [k, v] of p.raw) {
    if (k === 'page' || k === 'offset' || k === 'per_page' || k === '_fields' || k.startsWith('oauth_') || k === 'consumer_key' || k === 'consumer_secret') continue;
    parts.push(`${k}=${v}`);
  }
  return `${tzOffset}\n${parts.sort().join('\n')}`;
}

/** The records a `sku` filter or a parent's variations start from. */
function candidates(store: WooStore, skuParam: string | undefined, parentId: number | undefined): ProductRecord[] {
  let items: ProductRecord[];
  if (skuParam) {
    const skus = skuParam.split(',');
    if (skus.length > 1) skus.push(skuParam);
    const seen = new Set<number>();
    items = [];
    for (const s of skus) {
      for (const rec of store.findBySku(s)) {
        if (seen.has(rec.id)) continue;
        seen.add(rec.id);
        items.push(rec);
      }
    }
    if (parentId !== undefined) items = items.filter((r) => r.parentId === parentId);
    return items;
  }
  return (store.get(parentId!)?.children ?? []).map((id) => store.get(id)).filter((r): r is ProductRecord => !!r);
}

function filterAndSort(store: WooStore, candidates: ProductRecord[], p: ListParams, f: Filters, tzOffset: number): ProductRecord[] {
  const { status, type, stockStatus, slug, onSale, minPrice, maxPrice } = f;
  const search = p.search?.toLowerCase();
  const include = p.include ? new Set(p.include) : undefined;
  const exclude = p.exclude ? new Set(p.exclude) : undefined;
  const priced = minPrice !== undefined || maxPrice !== undefined;
  const lo = minPrice ?? 0;
  const hi = maxPrice ?? 9_999_999_999;
  let items = candidates.filter((r) => {
    if (status === 'any' ? r.status === 'trash' : r.status !== status) return false;
    if (type && r.type !== type) return false;
    if (stockStatus && (r.type === 'variable' && !r.manageStock ? store.parentStockStatus(r) : r.stockStatus) !== stockStatus) return false;
    if (include && !include.has(r.id)) return false;
    if (exclude?.has(r.id)) return false;
    if (slug !== undefined && r.slug !== slug) return false;
    if (onSale !== undefined && productOnSale(store, r) !== onSale) return false;
    if (priced && !pricesOf(store, r).some((x) => x >= lo && x <= hi)) return false;
    if (search && !`${r.name}\n${r.description}\n${r.shortDescription}`.toLowerCase().includes(search)) return false;
    return true;
  });
  items = withinDates(items, p, (r) => r.modifiedMs, (r) => r.createdMs, tzOffset);

  const includeOrder = p.include ?? [];
  const keyOf: Record<string, (r: ProductRecord) => number | string> = {
    date: (r) => r.createdMs,
    modified: (r) => r.modifiedMs,
    id: (r) => r.id,
    include: (r) => includeOrder.indexOf(r.id),
    title: (r) => r.name.toLowerCase(),
    slug: (r) => r.slug,
    price: (r) => Number(r.salePrice || r.regularPrice || 0),
    popularity: (r) => r.totalSales,
    rating: () => 0,
    menu_order: (r) => r.menuOrder,
  };
  return sortBy(items, keyOf[p.orderby] ?? keyOf.date!, p.orderby === 'include' ? 'asc' : p.order);
}
