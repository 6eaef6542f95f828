import { normaliseSku, type SkuNormalisation } from '../../core/ids.js';
import type { ListingProduct, SinkResult, SinkWrite } from '../types.js';
import type { ShopifyClient } from './client.js';
import { loadDocument } from './documents.js';
import type { VariantState } from './sink.js';

interface UserError { field: string[] | null; message: string; code: string | null }
interface ProductSetResult {
  productSet: { product: { id: string; handle: string; variants: { nodes: Array<{ id: string; sku: string | null; inventoryItem: { id: string } }> } } | null; userErrors: UserError[] };
}

/** Shopify's limits on one product: 3 options, 2048 variants (productSet's documentation). */
export const SHOPIFY_PRODUCT_LIMITS = { options: 3, variants: 2048 };
const MONEY = /^\d{1,13}(\.\d{1,4})?$/;

/**
 * Creates catalog listings on a Shopify store (`create_product` writes): one `productSet` call
 * per product after one SKU lookup for the round (synchronous, all or nothing: Shopify validates the whole input and creates nothing
 * on a userError), paced by the client's cost bucket.
 *
 * - Idempotent across crashes: the product's SKUs are looked up first; the product holding all of
 *   them under the master's handle is adopted. Shopify allows one SKU on several variants, syncctl does not: a SKU already on
 *   another product of the store fails the write (`CATALOG_SKU_IN_USE`) instead of duplicating it.
 * - The handle is the master's (unique per store): a product of the merchant holding it fails the
 *   write with Shopify's `HANDLE_NOT_UNIQUE` message; no identifier upsert is used, so a
 *   merchant's product is never overwritten.
 * - Checked before sending (Shopify's limits and the data): title, prices, options (≤ 3),
 *   variants (≤ 2048), one value per option per variant.
 * - Stock: variants are created tracked, with no quantity; the engine writes their stock once
 *   the new SKUs are seen (products/create webhook).
 */
export class ShopifyListingCreator {
  constructor(
    private readonly client: ShopifyClient,
    private readonly skuRule: SkuNormalisation,
    private readonly lookup: (skus: string[], signal?: AbortSignal) => Promise<Map<string, VariantState>>,
  ) {}

  async create(writes: SinkWrite[], signal?: AbortSignal): Promise<SinkResult[]> {
    const out = new Map<string, SinkResult>();
    const todo: Array<{ w: SinkWrite; p: ListingProduct }> = [];
    for (const w of writes) {
      const p = w.payload.product as ListingProduct | undefined;
      const problem = p ? invalidForShopify(p) : 'create_product write without a product';
      if (problem) out.set(w.writeId, { writeId: w.writeId, status: 'permanent', code: 'CATALOG_INVALID_PRODUCT', message: problem });
      else todo.push({ w, p: p! });
    }
    // One lookup for the SKUs of the whole round (50 per request).
    let found = new Map<string, VariantState>();
    try {
      if (todo.length) found = await this.lookup(todo.flatMap((t) => t.p.variants.map((v) => v.sku)), signal);
    } catch (err) {
      for (const t of todo) out.set(t.w.writeId, this.failure(t.w, err, signal));
      return writes.map((w) => out.get(w.writeId)!);
    }
    for (const t of todo) out.set(t.w.writeId, await this.one(t.w, t.p, found, signal));
    return writes.map((w) => out.get(w.writeId)!);
  }

  private async one(w: SinkWrite, product: ListingProduct, all: Map<string, VariantState>, signal?: AbortSignal): Promise<SinkResult> {
    try {
      const found = new Map(product.variants.flatMap((v) => (all.has(v.sku) ? [[v.sku, all.get(v.sku)!] as const] : [])));
      if (found.size > 0) {
        const products = new Set([...found.values()].map((v) => v.productId));
        // Ours (created by an earlier attempt): every SKU on one product that has our handle.
        if (found.size === product.variants.length && products.size === 1 && [...found.values()][0]!.handle === product.handle) {
          return { writeId: w.writeId, status: 'ok', applied: { productId: [...products][0], adopted: true, variants: [...found].map(([sku, v]) => ({ sku, id: v.variantId })) } };
        }
        const [sku, v] = [...found][0]!;
        return { writeId: w.writeId, status: 'permanent', code: 'CATALOG_SKU_IN_USE', message: `SKU ${sku} is already on product ${v.productId} ("${v.title}") of this store: creating ${product.key} would duplicate it` };
      }
      const d = await this.client.request<ProductSetResult>(loadDocument('ProductSet'), { input: productSetInput(product) }, { signal, retry: { retries: 3 } });
      const r = d.productSet;
      if (r.userErrors.length > 0 || !r.product) {
        const e = r.userErrors[0];
        return { writeId: w.writeId, status: 'permanent', code: `SHOPIFY_${e?.code ?? 'PRODUCT_NOT_CREATED'}`, message: r.userErrors.map((x) => `${x.message}${x.field ? ` (${x.field.join('.')})` : ''}`).join('; ') || 'product not created' };
      }
      const want = new Map(product.variants.map((v) => [normaliseSku(v.sku, this.skuRule), v.sku]));
      return {
        writeId: w.writeId, status: 'ok',
        applied: { productId: r.product.id, adopted: false, variants: r.product.variants.nodes.filter((n) => want.has(normaliseSku(n.sku, this.skuRule))).map((n) => ({ sku: n.sku, id: n.id })) },
      };
    } catch (err) {
      return this.failure(w, err, signal);
    }
  }

  private failure(w: SinkWrite, err: unknown, signal?: AbortSignal): SinkResult {
    if (signal?.aborted) throw err;
    const e = err as { code?: string; message?: string; retriable?: boolean; retryAfterMs?: number };
    if (e.retriable === false) return { writeId: w.writeId, status: 'permanent', code: e.code ?? 'SHOPIFY_ERROR', message: e.message ?? String(err) };
    return { writeId: w.writeId, status: 'retriable', code: e.code ?? 'SHOPIFY_ERROR', message: e.message ?? String(err), retryAfterMs: e.retryAfterMs ?? this.client.bucket.retryAfterMs(10) };
  }
}

/** Why Shopify cannot take this product (checked before sending), or null. */
export function invalidForShopify(p: ListingProduct): string | null {
  if (!p.title?.trim()) return `product ${p.key} has no title`;
  if (p.variants.length === 0) return `product ${p.key} has no variants`;
  if (p.options.length > SHOPIFY_PRODUCT_LIMITS.options) return `product ${p.key} has ${p.options.length} options; Shopify allows ${SHOPIFY_PRODUCT_LIMITS.options}`;
  if (p.variants.length > SHOPIFY_PRODUCT_LIMITS.variants) return `product ${p.key} has ${p.variants.length} variants; Shopify allows ${SHOPIFY_PRODUCT_LIMITS.variants}`;
  if (p.options.length === 0 && p.variants.length > 1) return `product ${p.key} has ${p.variants.length} variants but no options to tell them apart`;
  const combos = new Set<string>();
  for (const v of p.variants) {
    if (!v.sku?.trim()) return `a variant of product ${p.key} has no SKU`;
    if (!MONEY.test(v.price ?? '')) return `SKU ${v.sku}: invalid price ${JSON.stringify(v.price)}`;
    if (v.compareAtPrice != null && !MONEY.test(v.compareAtPrice)) return `SKU ${v.sku}: invalid compare-at price ${JSON.stringify(v.compareAtPrice)}`;
    if (v.optionValues.length !== p.options.length || v.optionValues.some((x) => !x?.trim())) return `SKU ${v.sku}: needs one value for each option (${p.options.join(', ')})`;
    const key = v.optionValues.join(' / ');
    if (combos.has(key)) return `product ${p.key}: two variants have the options ${key}`;
    combos.add(key);
  }
  return null;
}

/** The `ProductSetInput` of a listing. */
export function productSetInput(p: ListingProduct): Record<string, unknown> {
  const options = p.options.length ? p.options : ['Title'];
  const values = (v: ListingProduct['variants'][number]) => (p.options.length ? v.optionValues : ['Default Title']);
  return {
    title: p.title,
    handle: p.handle,
    status: p.status === 'active' ? 'ACTIVE' : 'DRAFT',
    ...(p.description ? { descriptionHtml: p.description } : {}),
    ...(p.vendor ? { vendor: p.vendor } : {}),
    ...(p.productType ? { productType: p.productType } : {}),
    productOptions: options.map((name, i) => ({ name, values: [...new Set(p.variants.map((v) => values(v)[i]!))].map((x) => ({ name: x })) })),
    variants: p.variants.map((v) => ({
      optionValues: options.map((name, i) => ({ optionName: name, name: values(v)[i] })),
      price: v.price,
      ...(v.compareAtPrice ? { compareAtPrice: v.compareAtPrice } : {}),
      ...(v.barcode ? { barcode: v.barcode } : {}),
      inventoryItem: { sku: v.sku, tracked: true, ...(v.weightGrams != null ? { measurement: { weight: { value: v.weightGrams, unit: 'GRAMS' } } } : {}) },
    })),
  };
}
