import { hashToUint32, SeededRandom } from '../random.js';
import { emptyQuantities, type InventoryItemRec, type ProductRec, type VariantRec } from './model.js';
import type { ShopifySimOptions } from './options.js';
import type { ShopifyStore } from './store.js';

/** First numeric ids, shaped like real Shopify ids (large, but below 2^53). */
const BASE = { product: 8_100_000_000_000, variant: 45_000_000_000_000, item: 47_000_000_000_000, location: 70_000_000_000 };
/** Creation time of the generated catalog (fixed, so the catalog is the same for a seed). */
export const CATALOG_EPOCH = Date.parse('2026-01-05T09:00:00Z');

const ADJECTIVES = ['Classic', 'Organic', 'Vintage', 'Urban', 'Alpine', 'Coastal', 'Modern', 'Rustic', 'Nordic', 'Solar'];
const NOUNS = ['Tee', 'Hoodie', 'Mug', 'Backpack', 'Candle', 'Notebook', 'Cap', 'Scarf', 'Bottle', 'Sneaker'];
const OPTIONS = ['S', 'M', 'L', 'XL', 'XXL', 'Red', 'Blue', 'Green', 'Black', 'White'];

/** The shared SKU of variant `v` of product `p` (both from 1, as the WooCommerce and ERP simulators): `SKU-000123-1`. */
export const sharedSku = (prefix: string, p: number, v: number): string => `${prefix}-${String(p).padStart(6, '0')}-${v}`;

/** Base quantity and price of a SKU: derived from the SKU alone, so every store agrees unless drifted. */
export function baseOf(sku: string, maxQuantity: number): { quantity: number; price: string } {
  const h = hashToUint32(sku);
  return { quantity: maxQuantity === 0 ? 0 : h % (maxQuantity + 1), price: (5 + (h % 9500) / 100).toFixed(2) };
}

/**
 * Fills the store with a deterministic catalog: products × variants with shared SKUs, minus
 * the missing ones, plus store-only SKUs, some duplicates, some blanks and drifted quantities.
 */
export function generateCatalog(store: ShopifyStore, opts: ShopifySimOptions): void {
  const c = opts.catalog;
  const rng = new SeededRandom(`catalog:${opts.seed}`);
  for (let i = 0; i < c.locations; i++) {
    store.addLocation({
      id: BASE.location + i + 1, name: i === 0 ? 'Main warehouse' : `Store ${i}`, isActive: true,
      createdAt: CATALOG_EPOCH, updatedAt: CATALOG_EPOCH, seq: 0,
    });
  }
  let variantSeq = 0;
  let productSeq = 0;
  const skus: string[] = [];

  const makeProduct = (index: number, title: string, skuList: (string | null)[]): void => {
    const at = CATALOG_EPOCH + productSeq * 1000;
    const product: ProductRec = {
      id: BASE.product + ++productSeq, title, handle: title.toLowerCase().replace(/[^a-z0-9]+/g, '-') + `-${index}`,
      vendor: 'Simulated Goods', productType: NOUNS[index % NOUNS.length]!, status: 'ACTIVE', tags: [], variants: [],
      createdAt: at, updatedAt: at, seq: 0,
    };
    skuList.forEach((sku, vi) => {
      variantSeq++;
      const variant = { id: BASE.variant + variantSeq, product, title: skuList.length === 1 ? 'Default Title' : OPTIONS[vi % OPTIONS.length]! + (vi >= OPTIONS.length ? ` ${vi}` : ''), sku, position: vi + 1, price: '0.00', compareAtPrice: null, barcode: null, taxable: true, inventoryPolicy: 'DENY', createdAt: at, updatedAt: at, seq: 0 } as unknown as VariantRec;
      const item: InventoryItemRec = { id: BASE.item + variantSeq, variant, tracked: true, requiresShipping: true, levels: new Map(), createdAt: at, updatedAt: at, seq: 0 };
      variant.inventoryItem = item;
      const base = baseOf(sku ?? `blank-${variant.id}`, c.maxQuantity);
      variant.price = base.price;
      for (const loc of store.locations) {
        let q = loc === store.locations[0] ? base.quantity : Math.floor(base.quantity / 2);
        if (rng.chance(c.quantityDrift)) q = Math.max(0, q + (rng.chance(0.5) ? 1 : -1) * rng.int(1, 10));
        item.levels.set(loc.id, { item, location: loc, quantities: emptyQuantities(q), createdAt: at, updatedAt: at });
      }
      product.variants.push(variant);
      if (sku) skus.push(sku);
    });
    store.addProduct(product);
  };

  for (let p = 1; p <= c.products; p++) {
    const list: (string | null)[] = [];
    for (let v = 1; v <= c.variantsPerProduct; v++) {
      if (rng.chance(c.missingSkuRatio)) continue;
      list.push(rng.chance(c.blankSkuRatio) ? null : sharedSku(c.skuPrefix, p, v));
    }
    if (list.length > 0) makeProduct(p, `${ADJECTIVES[p % ADJECTIVES.length]} ${NOUNS[Math.floor(p / ADJECTIVES.length) % NOUNS.length]} ${p}`, list);
  }
  for (let e = 0; e < c.extraSkus; e++) {
    makeProduct(c.products + e, `Local exclusive ${e}`, [`${opts.shop.toUpperCase()}-ONLY-${String(e).padStart(6, '0')}`]);
  }
  // Duplicates: give some variants the SKU of another variant, as merchants do by mistake.
  for (let d = 0; d < c.duplicateSkus && skus.length > 1; d++) {
    const victim = store.variants[rng.int(0, store.variants.length - 1)]!;
    const sku = skus[rng.int(0, skus.length - 1)]!;
    if (victim.sku === sku) continue;
    store.variantsBySku.remove(victim.sku, victim);
    victim.sku = sku;
    store.variantsBySku.add(sku, victim);
  }
}
