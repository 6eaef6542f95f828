import type { WooCatalogOptions } from './options.js';
import type { ProductRecord } from './model.js';
import { hashUnit, randomStream } from '../random.js';
import { derivedStockStatus, slugify, type WooStore } from './store.js';

/** The SKU of variant `v` of product `p` (both from 1), shared with the Shopify simulator. */
export const catalogSku = (p: number, v: number): string => `SKU-${String(p).padStart(6, '0')}-${v}`;

const ADJECTIVES = ['Classic', 'Organic', 'Rugged', 'Sleek', 'Vintage', 'Compact', 'Deluxe', 'Everyday'];
const NOUNS = ['Mug', 'Backpack', 'Lamp', 'Sneaker', 'Notebook', 'Jacket', 'Bottle', 'Chair'];
const SIZES = ['S', 'M', 'L', 'XL', 'XXL'];

/** Values every store with the same catalogSeed shares for product p / SKU. */
function shared(catalogSeed: number, p: number) {
  const u = (k: string) => hashUnit(`${catalogSeed}:${k}:${p}`);
  return {
    name: `${ADJECTIVES[Math.floor(u('adj') * ADJECTIVES.length)]} ${NOUNS[Math.floor(u('noun') * NOUNS.length)]} ${p}`,
    price: (5 + Math.floor(u('price') * 9500) / 100).toFixed(2),
  };
}

/** Base quantity of a SKU (0..100) for a catalogSeed: `floor(fnv1a("<catalogSeed>:qty:<sku>") / 2^32 * 101)`. */
export const baseQuantity = (catalogSeed: number, sku: string): number => Math.floor(hashUnit(`${catalogSeed}:qty:${sku}`) * 101);

/**
 * Fills the store with the deterministic catalog: names, prices and base quantities come from
 * `catalogSeed` (equal across stores), what is missing, extra, drifted or duplicated from `seed`.
 */
export function generateCatalog(store: WooStore, o: WooCatalogOptions, seed: number): void {
  const r = randomStream(seed, 'catalog');
  // A stream of its own: the pool choice moves nothing else of the catalog.
  const pools = randomStream(seed, 'catalog-pools');
  const base = Math.floor(Date.parse(o.catalogDate) / 1000) * 1000;
  const variable = o.variationsPerProduct > 0;
  const generatedSkus: string[] = [];
  const blank = (id: number, t: number): ProductRecord => ({
    id, parentId: 0, type: 'simple', name: '', slug: '', status: 'publish', description: '', shortDescription: '', sku: '',
    regularPrice: '', salePrice: '', manageStock: true, stockQuantity: 0, stockStatus: 'instock', backorders: 'no',
    createdMs: t, modifiedMs: t, children: [], attributes: [], menuOrder: 0, totalSales: 0, meta: [],
  });
  const stockFor = (rec: ProductRecord, sku: string) => {
    // Draw the same count of numbers per SKU whatever the ratios, so changing one ratio moves nothing else.
    const [drift, sign, size, unmanaged] = [r.next(), r.next(), r.int(1, 5), r.next()];
    let qty = baseQuantity(o.catalogSeed, sku);
    if (drift < o.quantityDrift) qty = Math.max(0, qty + (sign < 0.5 ? -size : size));
    rec.manageStock = !(unmanaged < o.unmanagedStockRatio);
    rec.stockQuantity = rec.manageStock ? qty : null;
    rec.stockStatus = rec.manageStock ? derivedStockStatus(rec) : 'instock';
  };

  for (let p = 1; p <= o.products; p++) {
    const s = shared(o.catalogSeed, p);
    const t = base + p * 1000;
    const variantCount = variable ? o.variationsPerProduct : 1;
    const present: number[] = [];
    for (let v = 1; v <= variantCount; v++) if (!(r.next() < o.missingSkuRatio)) present.push(v);
    if (present.length === 0) continue;
    const prod = blank(store.allocateId(), t);
    prod.name = s.name;
    prod.slug = slugify(s.name);
    if (!variable) {
      prod.sku = catalogSku(p, 1);
      prod.regularPrice = s.price;
      stockFor(prod, prod.sku);
      store.insertRaw(prod);
      generatedSkus.push(prod.sku);
      continue;
    }
    const options = Array.from({ length: variantCount }, (_, i) => (variantCount <= SIZES.length ? SIZES[i]! : `Option ${i + 1}`));
    prod.type = 'variable';
    prod.manageStock = false;
    prod.stockQuantity = null;
    prod.attributes = [{ name: 'Size', options }];
    const pooled = pools.next() < o.parentManagedStockRatio;
    if (pooled) {
      prod.manageStock = true;
      prod.stockQuantity = baseQuantity(o.catalogSeed, catalogSku(p, present[0]!));
      prod.stockStatus = derivedStockStatus(prod);
    }
    store.insertRaw(prod);
    for (const v of present) {
      const vr = blank(store.allocateId(), t);
      vr.parentId = prod.id;
      vr.type = 'variation';
      vr.name = s.name;
      vr.slug = slugify(`${s.name}-${options[v - 1]}`);
      vr.sku = catalogSku(p, v);
      vr.regularPrice = (Number(s.price) + (v - 1)).toFixed(2);
      vr.attributes = [{ name: 'Size', options: [options[v - 1]!] }];
      vr.menuOrder = v;
      stockFor(vr, vr.sku);
      if (pooled) {
        // manage_stock "parent": no stock of its own; the status follows the product's.
        vr.manageStock = false;
        vr.stockQuantity = null;
        vr.stockStatus = prod.stockStatus;
      }
      store.insertRaw(vr);
      generatedSkus.push(vr.sku);
    }
  }

  const last = base + (o.products + 1) * 1000;
  for (let i = 1; i <= o.extraSkus; i++) {
    const rec = blank(store.allocateId(), last);
    rec.sku = `EXTRA-${seed}-${String(i).padStart(6, '0')}`;
    rec.name = `Store ${seed} extra ${i}`;
    rec.slug = slugify(rec.name);
    rec.regularPrice = (5 + r.int(0, 9500) / 100).toFixed(2);
    stockFor(rec, rec.sku);
    store.insertRaw(rec);
  }
  for (let i = 1; i <= o.duplicateSkus && generatedSkus.length > 0; i++) {
    const sku = generatedSkus[r.int(0, generatedSkus.length - 1)]!;
    const rec = blank(store.allocateId(), last);
    rec.sku = sku;
    rec.name = `Duplicate of ${sku}`;
    rec.slug = slugify(rec.name);
    rec.regularPrice = '9.99';
    stockFor(rec, sku);
    store.insertRaw(rec);
  }
}
