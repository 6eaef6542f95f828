import { describeError, RetriableError, SyncError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ListingProduct, SinkResult, SinkWrite } from '../types.js';
import type { WooClient } from './client.js';
import { wooBatchResponseSchema, type WooProduct } from './schemas.js';

/**
 * Creates catalog listings on a WooCommerce site (`create_product` writes).
 *
 * - A product with options is a **variable product** (its attributes marked `variation: true`)
 *   and one variation per variant, created with `manage_stock: true` (stock at the variation,
 *   never a pool shared through the parent). A product with one variant and no options is a
 *   simple product.
 * - Parents go to `POST /products/batch` (≤ 100 per call), then each parent's variations to
 *   `POST /products/<id>/variations/batch` (≤ 100 per call), per-item results read one by one.
 * - Idempotent across crashes: the variable parent carries the product key as its SKU (WooCommerce
 *   keeps SKUs unique across products and variations, and a parent's SKU is not a sellable SKU for
 *   syncctl), so before creating, the sink looks the key and the variant SKUs up
 *   (`GET /products?sku=`): a parent found is adopted and only its missing variations are created.
 * - Bad data creates nothing: the product is checked first (title, prices, options), and when
 *   WooCommerce refuses a variation (e.g. `product_invalid_sku` "Invalid or duplicated SKU.") the
 *   parent and the variations just created are deleted again; the write fails permanently with
 *   WooCommerce's own code and message.
 * - Compare-at price: `regular_price` is the compare-at price and `sale_price` the price when the
 *   compare-at price is higher; otherwise `regular_price` is the price.
 * - The barcode is sent as `global_unique_id` (WooCommerce 9.2+: unique per site). Not sent yet:
 *   weight (its unit is a site setting the connector does not read), images.
 */
export class WooListingCreator {
  constructor(
    private readonly client: WooClient,
    private readonly log: Logger,
    private readonly bySku: (skus: string[], signal?: AbortSignal) => Promise<WooProduct[]>,
  ) {}

  async create(writes: SinkWrite[], signal?: AbortSignal): Promise<SinkResult[]> {
    const out = new Map<string, SinkResult>();
    const todo: Array<{ w: SinkWrite; p: ListingProduct }> = [];
    for (const w of writes) {
      const p = w.payload.product as ListingProduct | undefined;
      const problem = p ? invalidListing(p) : 'create_product write without a product';
      if (problem) out.set(w.writeId, { writeId: w.writeId, status: 'permanent', code: 'CATALOG_INVALID_PRODUCT', message: problem });
      else todo.push({ w, p: p! });
    }
    // One lookup for every key and SKU of the round (found parents are adopted).
    let existing: WooProduct[] = [];
    try {
      existing = await this.bySku(todo.flatMap(({ p }) => [p.key, ...p.variants.map((v) => v.sku)]), signal);
    } catch (err) {
      for (const { w } of todo) out.set(w.writeId, retriable(w, err));
      return writes.map((w) => out.get(w.writeId)!);
    }
    const skuOf = (x: WooProduct) => (x.sku ?? '').trim().toLowerCase();
    const found = new Map(existing.map((x) => [skuOf(x), x]));

    const toCreate: Array<{ w: SinkWrite; p: ListingProduct }> = [];
    const adopted: Array<{ w: SinkWrite; p: ListingProduct; parentId: number }> = [];
    for (const t of todo) {
      const parent = found.get(t.p.key.toLowerCase());
      const simple = isSimple(t.p);
      const first = found.get(t.p.variants[0]!.sku.toLowerCase());
      if (simple && first && first.type !== 'variation') {
        out.set(t.w.writeId, { writeId: t.w.writeId, status: 'ok', applied: { productId: String(first.id), adopted: true, variants: [{ sku: t.p.variants[0]!.sku, id: String(first.id) }] } });
        continue;
      }
      // A variant SKU used by another product there: WooCommerce would refuse it; nothing is created.
      const clash = t.p.variants.find((v) => {
        const x = found.get(v.sku.toLowerCase());
        return x && (simple || !parent || (x.parent_id ?? 0) !== parent.id);
      });
      if (clash) {
        const x = found.get(clash.sku.toLowerCase())!;
        out.set(t.w.writeId, { writeId: t.w.writeId, status: 'permanent', code: 'product_invalid_sku', message: `Invalid or duplicated SKU. (${clash.sku} is product ${x.id} on this site)` });
      } else if (parent && !simple) adopted.push({ ...t, parentId: parent.id });
      else toCreate.push(t);
    }

    for (let i = 0; i < toCreate.length; i += 100) {
      const chunk = toCreate.slice(i, i + 100);
      let items: Array<{ id?: number; error?: { code?: string; message?: string } }> = [];
      try {
        const body = (await this.client.request<unknown>({ method: 'POST', path: '/products/batch', body: { create: chunk.map(({ p }) => parentBody(p)) }, signal })).body;
        items = (wooBatchResponseSchema.safeParse(body).data?.create ?? []) as typeof items;
      } catch (err) {
        for (const { w } of chunk) out.set(w.writeId, retriable(w, err));
        continue;
      }
      chunk.forEach((t, j) => {
        const item = items[j];
        if (!item) out.set(t.w.writeId, { writeId: t.w.writeId, status: 'retriable', code: 'WOO_MALFORMED_RESPONSE', message: `/products/batch answered without a result for item ${j}` });
        else if (item.error || !item.id) out.set(t.w.writeId, { writeId: t.w.writeId, status: 'permanent', code: item.error?.code ?? 'WOO_ITEM_ERROR', message: item.error?.message ?? 'product not created' });
        else if (isSimple(t.p)) out.set(t.w.writeId, { writeId: t.w.writeId, status: 'ok', applied: { productId: String(item.id), adopted: false, variants: [{ sku: t.p.variants[0]!.sku, id: String(item.id) }] } });
        else adopted.push({ ...t, parentId: item.id });
      });
    }
    for (const t of adopted) out.set(t.w.writeId, await this.variations(t.w, t.p, t.parentId, found, signal));
    return writes.map((w) => out.get(w.writeId) ?? { writeId: w.writeId, status: 'retriable', code: 'WOO_NOT_SENT', message: 'write was not sent' });
  }

  /** Creates the variations a parent lacks; on a refused one, deletes what this product got and fails. */
  private async variations(w: SinkWrite, p: ListingProduct, parentId: number, found: Map<string, WooProduct>, signal?: AbortSignal): Promise<SinkResult> {
    const have = p.variants.filter((v) => found.get(v.sku.toLowerCase())?.parent_id === parentId).map((v) => ({ sku: v.sku, id: String(found.get(v.sku.toLowerCase())!.id) }));
    const missing = p.variants.filter((v) => !have.some((h) => h.sku === v.sku));
    const created: Array<{ sku: string; id: string }> = [];
    const path = `/products/${parentId}/variations/batch`;
    for (let i = 0; i < missing.length; i += 100) {
      const chunk = missing.slice(i, i + 100);
      let items: Array<{ id?: number; error?: { code?: string; message?: string } }>;
      try {
        const body = (await this.client.request<unknown>({ method: 'POST', path, body: { create: chunk.map((v) => variationBody(p, v)) }, signal })).body;
        items = (wooBatchResponseSchema.safeParse(body).data?.create ?? []) as typeof items;
      } catch (err) {
        return retriable(w, err); // the retry adopts the parent and what was created
      }
      const refused = chunk.map((v, j) => ({ v, item: items[j] })).find((x) => !x.item || x.item.error || !x.item.id);
      chunk.forEach((v, j) => { if (items[j]?.id && !items[j]?.error) created.push({ sku: v.sku, id: String(items[j]!.id) }); });
      if (refused) {
        await this.rollBack(parentId, have.length === 0, created, signal);
        const e = refused.item?.error;
        return { writeId: w.writeId, status: 'permanent', code: e?.code ?? 'WOO_ITEM_ERROR', message: `${e?.message ?? 'variation not created'} (variation ${refused.v.sku}; the product was not created)` };
      }
    }
    return { writeId: w.writeId, status: 'ok', applied: { productId: String(parentId), adopted: have.length > 0 || created.length < p.variants.length, variants: [...have, ...created] } };
  }

  /** Deletes the variations this round created, and the parent when it has no variation of ours left. */
  private async rollBack(parentId: number, parentIsNew: boolean, created: Array<{ id: string }>, signal?: AbortSignal): Promise<void> {
    try {
      if (created.length) await this.client.request({ method: 'POST', path: `/products/${parentId}/variations/batch`, body: { delete: created.map((c) => Number(c.id)) }, signal });
      if (parentIsNew) await this.client.request({ method: 'DELETE', path: `/products/${parentId}`, query: { force: true }, signal });
    } catch (err) {
      this.log.warn({ parentId, err: describeError(err) }, 'could not delete a product whose variations WooCommerce refused; delete it by hand');
    }
  }
}

const MONEY = /^\d{1,13}(\.\d{1,4})?$/;

/** Why WooCommerce cannot take this product as it is (checked before anything is created), or null. */
export function invalidListing(p: ListingProduct): string | null {
  if (!p.title?.trim()) return `product ${p.key} has no title`;
  if (p.variants.length === 0) return `product ${p.key} has no variants`;
  const skus = new Set<string>();
  for (const v of p.variants) {
    if (!v.sku?.trim()) return `a variant of product ${p.key} has no SKU`;
    if (skus.has(v.sku.toLowerCase())) return `SKU ${v.sku} appears twice in product ${p.key}`;
    skus.add(v.sku.toLowerCase());
    if (!MONEY.test(v.price ?? '')) return `SKU ${v.sku}: invalid price ${JSON.stringify(v.price)}`;
    if (v.compareAtPrice != null && !MONEY.test(v.compareAtPrice)) return `SKU ${v.sku}: invalid compare-at price ${JSON.stringify(v.compareAtPrice)}`;
    if (v.optionValues.length !== p.options.length) return `SKU ${v.sku}: ${v.optionValues.length} option values for ${p.options.length} options`;
  }
  if (p.options.length === 0 && p.variants.length > 1) return `product ${p.key} has ${p.variants.length} variants but no options to tell them apart`;
  return null;
}

const isSimple = (p: ListingProduct): boolean => p.options.length === 0 && p.variants.length === 1;
const retriable = (w: SinkWrite, err: unknown): SinkResult => {
  const d = describeError(err);
  if (err instanceof SyncError && !err.retriable) return { writeId: w.writeId, status: 'permanent', code: err.code, message: err.message };
  return { writeId: w.writeId, status: 'retriable', code: d.code ?? 'WOO_ERROR', message: d.message, ...(err instanceof RetriableError && err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
};
const wooStatus = (s: ListingProduct['status']): string => (s === 'active' ? 'publish' : 'draft');
const prices = (v: ListingProduct['variants'][number]): Record<string, string> =>
  v.compareAtPrice && Number(v.compareAtPrice) > Number(v.price) ? { regular_price: v.compareAtPrice, sale_price: v.price } : { regular_price: v.price };

/** The barcode as WooCommerce's `global_unique_id` (GTIN, UPC, EAN or ISBN; WooCommerce 9.2+). */
const gtin = (v: ListingProduct['variants'][number]): Record<string, string> => (v.barcode ? { global_unique_id: v.barcode } : {});

function parentBody(p: ListingProduct): Record<string, unknown> {
  const common = { name: p.title, status: wooStatus(p.status), ...(p.description ? { description: p.description } : {}) };
  if (isSimple(p)) {
    const v = p.variants[0]!;
    return { ...common, type: 'simple', sku: v.sku, ...prices(v), ...gtin(v), manage_stock: true, stock_quantity: 0 };
  }
  return {
    ...common,
    type: 'variable',
    sku: p.key,
    attributes: p.options.map((name, i) => ({ name, options: [...new Set(p.variants.map((v) => v.optionValues[i]!))], visible: true, variation: true })),
  };
}

function variationBody(p: ListingProduct, v: ListingProduct['variants'][number]): Record<string, unknown> {
  return {
    sku: v.sku,
    ...prices(v),
    ...gtin(v),
    manage_stock: true,
    stock_quantity: 0,
    attributes: p.options.map((name, i) => ({ name, option: v.optionValues[i] })),
  };
}
