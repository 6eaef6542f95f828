import { WooApiError, toSecond, type Backorders, type ProductRecord, type StockStatus, type WebhookRecord, type WriteLogEntry, type OrderRecord } from './model.js';
import type { ProductPatch } from './product-input.js';

/** A change WooCommerce would fire a webhook hook for. */
export interface StoreChange {
  resource: 'product' | 'order';
  event: 'created' | 'updated' | 'deleted';
  id: number;
}

/**
 * The in-memory store of one simulated WooCommerce site: products and variations (one ID space,
 * like WordPress posts, shared with orders), a SKU index, orders, webhooks and the write log.
 * Every save bumps `date_modified` (whole seconds) and announces a change, as WooCommerce's data
 * stores do, so the webhook queue can react.
 */
export class WooStore {
  /** Products and variations by id (trashed ones included, with status `trash`). */
  readonly products = new Map<number, ProductRecord>();
  /** Orders by id. */
  readonly orders = new Map<number, OrderRecord>();
  /** Webhooks by id. */
  readonly webhooks = new Map<number, WebhookRecord>();
  /** Writes applied by API clients, oldest first. */
  readonly writes: WriteLogEntry[] = [];
  private readonly skuIndex = new Map<string, Set<number>>();
  private revision = 0;
  private readonly listeners: Array<(c: StoreChange) => void> = [];
  private nextPostId = 10;
  private nextLineId = 1;
  private nextWebhookId = 1;
  private writeSeq = 0;

  constructor(readonly now: () => number = Date.now) {}

  /**
   * Changes whenever a product or variation is inserted, changed or removed, so a listing can
   * reuse what it computed for an unchanged catalog (every record write goes through this class).
   */
  get productsRevision(): number {
    return this.revision;
  }

  /** Subscribes to changes (the webhook queue does). */
  onChange(fn: (c: StoreChange) => void): void {
    this.listeners.push(fn);
  }

  /** Empties the store (ids restart), keeping listeners; webhooks too unless `keepWebhooks`. */
  clear(keepWebhooks = false): void {
    this.revision++;
    this.products.clear();
    this.orders.clear();
    this.skuIndex.clear();
    this.writes.length = 0;
    this.nextPostId = 10;
    this.nextLineId = 1;
    this.writeSeq = 0;
    if (!keepWebhooks) {
      this.webhooks.clear();
      this.nextWebhookId = 1;
    }
  }

  /** Announces a change to the listeners. */
  emit(resource: StoreChange['resource'], event: StoreChange['event'], id: number): void {
    for (const fn of this.listeners) fn({ resource, event, id });
  }

  /** A new post id (products, variations and orders share the sequence). */
  allocateId(): number {
    return this.nextPostId++;
  }

  /** A new order line item id. */
  allocateLineId(): number {
    return this.nextLineId++;
  }

  /** A new webhook id. */
  allocateWebhookId(): number {
    return this.nextWebhookId++;
  }

  /** Records a write applied by an API client. */
  logWrite(entry: Omit<WriteLogEntry, 'seq' | 'at'>): void {
    this.writes.push({ seq: ++this.writeSeq, at: new Date(this.now()).toISOString(), ...entry });
  }

  // ---- products ---------------------------------------------------------------------------

  /** A product or variation by id, trashed ones included. */
  get(id: number): ProductRecord | undefined {
    return this.products.get(id);
  }

  /** Live (not trashed) products and variations carrying exactly this SKU. */
  findBySku(sku: string): ProductRecord[] {
    const ids = this.skuIndex.get(sku);
    if (!ids) return [];
    const out: ProductRecord[] = [];
    for (const id of ids) {
      const p = this.products.get(id);
      if (p && p.status !== 'trash') out.push(p);
    }
    return out;
  }

  /** Inserts a fully built record without checks (catalog generation, imports with duplicate SKUs). */
  insertRaw(rec: ProductRecord): void {
    this.revision++;
    this.products.set(rec.id, rec);
    this.indexSku(rec.id, '', rec.sku);
    if (rec.parentId) this.products.get(rec.parentId)?.children.push(rec.id);
  }

  /** Creates a product, or a variation of `parent`; throws `product_invalid_sku` on a taken SKU. */
  createProduct(patch: ProductPatch, parent?: ProductRecord): ProductRecord {
    if (patch.sku) this.assertUniqueSku(patch.sku, 0);
    if (patch.globalUniqueId !== undefined) patch = { ...patch, globalUniqueId: this.checkGlobalUniqueId(patch.globalUniqueId, 0) };
    const t = toSecond(this.now());
    const rec: ProductRecord = {
      id: this.allocateId(),
      parentId: parent?.id ?? 0,
      type: parent ? 'variation' : patch.type ?? 'simple',
      name: parent ? parent.name : patch.name ?? '',
      slug: '',
      status: patch.status ?? 'publish',
      description: '',
      shortDescription: '',
      sku: '',
      regularPrice: '',
      salePrice: '',
      manageStock: false,
      stockQuantity: null,
      stockStatus: 'instock',
      backorders: 'no',
      createdMs: t,
      modifiedMs: t,
      children: [],
      attributes: [],
      menuOrder: 0,
      totalSales: 0,
      meta: [],
    };
    this.applyPatch(rec, patch);
    rec.slug = slugify(rec.name || `product-${rec.id}`);
    this.insertRaw(rec);
    this.emit('product', 'created', rec.id);
    if (parent) this.touch(parent);
    return rec;
  }

  /** Applies an update; validates the SKU before changing anything (no partial update on error). */
  updateProduct(rec: ProductRecord, patch: ProductPatch): ProductRecord {
    if (patch.sku && patch.sku !== rec.sku) this.assertUniqueSku(patch.sku, rec.id);
    if (patch.globalUniqueId !== undefined) patch = { ...patch, globalUniqueId: this.checkGlobalUniqueId(patch.globalUniqueId, rec.id) };
    this.applyPatch(rec, patch);
    this.touch(rec);
    return rec;
  }

  /**
   * Saves a product: bumps date_modified, fires product.updated; a variation also re-syncs its
   * parent. A variable product that manages stock passes its stock status down to the variations
   * that leave stock to it (WC_Product_Variable_Data_Store_CPT::sync_managed_variation_stock_status:
   * a direct meta update, no hook, so no webhook for those variations).
   */
  touch(rec: ProductRecord): void {
    this.revision++;
    rec.modifiedMs = toSecond(this.now());
    this.syncManagedVariations(rec);
    this.emit('product', 'updated', rec.id);
    if (rec.parentId) {
      const parent = this.products.get(rec.parentId);
      if (parent) {
        parent.modifiedMs = rec.modifiedMs;
        this.emit('product', 'updated', parent.id);
      }
    }
  }

  /** The variable product whose stock this variation uses (`manage_stock: "parent"`), if any. */
  managingParent(rec: ProductRecord): ProductRecord | undefined {
    if (!rec.parentId || rec.manageStock) return undefined;
    const parent = this.products.get(rec.parentId);
    return parent?.manageStock ? parent : undefined;
  }

  /** The record holding the stock an order of `rec` moves (WC_Product_Variation::get_stock_managed_by_id), or undefined when stock is not managed. */
  stockHolder(rec: ProductRecord): ProductRecord | undefined {
    return rec.manageStock ? rec : this.managingParent(rec);
  }

  private syncManagedVariations(rec: ProductRecord): void {
    if (rec.type !== 'variable' || !rec.manageStock) return;
    for (const id of rec.children) {
      const c = this.products.get(id);
      if (c && !c.manageStock) c.stockStatus = rec.stockStatus;
    }
  }

  /**
   * Trashes (force=false) or deletes a product. Only trashing fires `product.deleted` (the topic
   * is hooked to `wp_trash_post`); a permanent delete (`wp_delete_post`) fires nothing. Trashing a
   * variable product trashes its variations (each fires `product.deleted`), deleting it deletes them.
   */
  deleteProduct(rec: ProductRecord, force: boolean): void {
    this.revision++;
    if (!force) {
      rec.status = 'trash';
      rec.modifiedMs = toSecond(this.now());
      this.emit('product', 'deleted', rec.id);
      for (const childId of rec.children) {
        const child = this.products.get(childId);
        if (!child || child.status === 'trash') continue;
        child.status = 'trash';
        child.modifiedMs = rec.modifiedMs;
        this.emit('product', 'deleted', child.id);
      }
      return;
    }
    for (const childId of [...rec.children]) {
      const child = this.products.get(childId);
      if (child) this.deleteProduct(child, true);
    }
    this.products.delete(rec.id);
    this.indexSku(rec.id, rec.sku, '');
    if (rec.parentId) {
      const parent = this.products.get(rec.parentId);
      if (parent) {
        parent.children = parent.children.filter((c) => c !== rec.id);
        this.touch(parent);
      }
    }
  }

  /** Sets the quantity of a managed-stock item (control API, orders) and saves it. */
  setStock(rec: ProductRecord, quantity: number): void {
    this.revision++;
    rec.stockQuantity = quantity;
    rec.stockStatus = derivedStockStatus(rec);
    this.touch(rec);
  }

  /** What the API shows of a record's stock: a variation left to its parent shows the parent's quantity and backorders. */
  stockView(rec: ProductRecord): { manageStock: boolean | 'parent'; stockQuantity: number | null; backorders: Backorders } {
    const parent = this.managingParent(rec);
    if (parent) return { manageStock: 'parent', stockQuantity: parent.stockQuantity, backorders: parent.backorders };
    return { manageStock: rec.manageStock, stockQuantity: rec.manageStock ? rec.stockQuantity : null, backorders: rec.backorders };
  }

  /** The stock status a variable product shows: from its live variations. */
  parentStockStatus(rec: ProductRecord): StockStatus {
    let backorder = false;
    for (const id of rec.children) {
      const c = this.products.get(id);
      if (!c || c.status === 'trash') continue;
      if (c.stockStatus === 'instock') return 'instock';
      if (c.stockStatus === 'onbackorder') backorder = true;
    }
    return backorder ? 'onbackorder' : 'outofstock';
  }

  private assertUniqueSku(sku: string, selfId: number): void {
    const taken = this.findBySku(sku).find((p) => p.id !== selfId);
    if (taken) throw new WooApiError('product_invalid_sku', 'Invalid or duplicated SKU.', 400, { resource_id: taken.id, unique_sku: `${sku}-1` });
  }

  /**
   * `WC_Data::update_meta_data($key, $value, $meta_id)` as the REST controllers call it for each
   * `meta_data` item: with an id, that meta (key and value replaced); without, the first meta of
   * the key gets the value (others of the key are set to null, i.e. deleted on save), else a new
   * meta is added. Meta ids share one sequence per store (the postmeta table's).
   */
  private updateMeta(rec: ProductRecord, m: { id?: number; key: string; value: unknown }): void {
    if (!m.id) rec.meta = rec.meta.filter((x, i) => x.key !== m.key || i === rec.meta.findIndex((y) => y.key === m.key));
    const at = m.id ? rec.meta.findIndex((x) => x.id === m.id) : rec.meta.findIndex((x) => x.key === m.key);
    if (at >= 0) rec.meta[at] = { id: rec.meta[at]!.id, key: m.key, value: m.value };
    else rec.meta.push({ id: ++this.metaSeq, key: m.key, value: m.value });
  }
  private metaSeq = 0;

  /**
   * WC_Product::set_global_unique_id: keeps digits, `-` and `X`, checks the format (an `X` only as
   * the last ISBN-10 digit), then that no other product or variation has it.
   */
  private checkGlobalUniqueId(raw: string, selfId: number): string {
    const v = raw.replace(/[^0-9Xx-]/g, '');
    if (v !== '' && !/^[0-9-]*[0-9Xx]?$/.test(v)) throw new WooApiError('product_invalid_global_unique_id_format', 'Invalid GTIN, UPC, EAN, or ISBN. The letter X is only valid as the final ISBN-10 check digit.', 400);
    if (v !== '') {
      for (const p of this.products.values()) {
        if (p.id !== selfId && p.globalUniqueId === v && p.status !== 'trash') throw new WooApiError('product_invalid_global_unique_id', 'Invalid or duplicated GTIN, UPC, EAN or ISBN.', 400, { resource_id: p.id });
      }
    }
    return v;
  }

  private applyPatch(rec: ProductRecord, patch: ProductPatch): void {
    this.revision++;
    if (patch.globalUniqueId !== undefined) rec.globalUniqueId = patch.globalUniqueId;
    if (patch.sku !== undefined && patch.sku !== rec.sku) {
      this.indexSku(rec.id, rec.sku, patch.sku);
      rec.sku = patch.sku;
    }
    if (patch.name !== undefined) rec.name = patch.name;
    if (patch.type !== undefined && rec.type !== 'variation') rec.type = patch.type;
    if (patch.status !== undefined) rec.status = patch.status;
    if (patch.description !== undefined) rec.description = patch.description;
    if (patch.shortDescription !== undefined) rec.shortDescription = patch.shortDescription;
    if (patch.regularPrice !== undefined) rec.regularPrice = patch.regularPrice;
    if (patch.salePrice !== undefined) rec.salePrice = patch.salePrice;
    if (patch.menuOrder !== undefined) rec.menuOrder = patch.menuOrder;
    if (patch.createdMs !== undefined) rec.createdMs = patch.createdMs;
    if (patch.attributes !== undefined) rec.attributes = patch.attributes;
    if (patch.manageStock !== undefined) rec.manageStock = patch.manageStock;
    if (patch.backorders !== undefined) rec.backorders = patch.backorders;
    if (patch.stockStatus !== undefined) rec.stockStatus = patch.stockStatus;
    for (const m of patch.metaData ?? []) this.updateMeta(rec, m);
    const parent = this.managingParent(rec);
    if (rec.manageStock || parent) {
      // `get_manage_stock()` is truthy ("parent") for a variation left to its parent: the
      // controller then stores stock_quantity on the variation, where nothing reads it.
      if (patch.stockQuantity !== undefined) rec.stockQuantity = patch.stockQuantity;
      if (rec.manageStock && rec.stockQuantity === null) rec.stockQuantity = 0;
      // validate_props: the status follows the quantity (the parent's for "parent").
      rec.stockStatus = derivedStockStatus(parent ? parent : rec);
    } else {
      // WC_Product::validate_props and the REST controllers: unmanaged stock has no quantity and no backorders.
      rec.stockQuantity = null;
      rec.backorders = 'no';
    }
  }

  private indexSku(id: number, oldSku: string, newSku: string): void {
    if (oldSku) {
      const s = this.skuIndex.get(oldSku);
      s?.delete(id);
      if (s && s.size === 0) this.skuIndex.delete(oldSku);
    }
    if (newSku) {
      let s = this.skuIndex.get(newSku);
      if (!s) this.skuIndex.set(newSku, (s = new Set()));
      s.add(id);
    }
  }
}

/** Stock status of a managed-stock item: in stock above 0, else on backorder if allowed, else out of stock. */
export function derivedStockStatus(rec: Pick<ProductRecord, 'stockQuantity' | 'backorders'>): StockStatus {
  if ((rec.stockQuantity ?? 0) > 0) return 'instock';
  return rec.backorders === 'no' ? 'outofstock' : 'onbackorder';
}

/** sanitize_title, roughly. */
export function slugify(s: string): string {
  return s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'product';
}
