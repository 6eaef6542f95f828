import { invalidParam, type ProductRecord } from './model.js';
import { sortBy, withinDates, type ListParams } from './query.js';
import type { WooStore } from './store.js';

/** `orderby` values of /products. */
export const PRODUCT_ORDERBY = ['date', 'modified', 'id', 'include', 'title', 'slug', 'price', 'popularity', 'rating', 'menu_order'] as const;
/** `orderby` values of /products/{id}/variations. */
export const VARIATION_ORDERBY = ['date', 'modified', 'id', 'include', 'title', 'slug', 'menu_order'] as const;

const STATUS_FILTER = ['any', 'future', 'trash', 'draft', 'pending', 'private', 'publish'];
const TYPE_FILTER = ['simple', 'grouped', 'external', 'variable'];
const STOCK_FILTER = ['instock', 'outofstock', 'onbackorder'];

/**
 * Filters and sorts products or variations as WooCommerce's query does. `sku=A,B` matches
 * products AND variations (the query then covers both post types) by exact `_sku`; the whole
 * string is also tried as one SKU, as WooCommerce does.
 */
export function queryProducts(store: WooStore, p: ListParams, scope: { parentId?: number }, tzOffset: number): ProductRecord[] {
  const q = p.raw;
  const enumOf = (name: string, values: string[]) => {
    const v = q.get(name);
    if (v !== undefined && !values.includes(v)) throw invalidParam(name, `${name} is not one of ${values.join(', ')}.`, 'rest_not_in_enum');
    return v;
  };
  const status = enumOf('status', STATUS_FILTER) ?? 'any';
  const type = scope.parentId === undefined ? enumOf('type', TYPE_FILTER) : undefined;
  const stockStatus = enumOf('stock_status', STOCK_FILTER);
  const skuParam = q.get('sku');

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
    if (scope.parentId !== undefined) items = items.filter((r) => r.parentId === scope.parentId);
  } else if (scope.parentId !== undefined) {
    items = (store.get(scope.parentId)?.children ?? []).map((id) => store.get(id)).filter((r): r is ProductRecord => !!r);
  } else {
    items = [];
    for (const r of store.products.values()) if (r.parentId === 0) items.push(r);
  }

  const search = p.search?.toLowerCase();
  const include = p.include ? new Set(p.include) : undefined;
  items = items.filter((r) => {
    if (status === 'any' ? r.status === 'trash' : r.status !== status) return false;
    if (type && r.type !== type) return false;
    if (stockStatus && (r.type === 'variable' ? store.parentStockStatus(r) : r.stockStatus) !== stockStatus) return false;
    if (include && !include.has(r.id)) return false;
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
