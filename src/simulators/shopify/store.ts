import type { SimClock } from './clock.js';
import { MultiIndex, RecencyIndex } from './indexes.js';
import {
  ON_HAND_PARTS, emptyQuantities, type InventoryItemRec, type InventoryLevelRec, type LineItemRec, type LocationRec,
  type OrderRec, type ProductRec, type QuantityName, type VariantRec,
} from './model.js';

/** What changed in the store; the webhook dispatcher turns these into deliveries. */
export type StoreEvent =
  | { kind: 'product.created'; product: ProductRec }
  | { kind: 'product.updated'; product: ProductRec }
  | { kind: 'inventoryItem.updated'; item: InventoryItemRec }
  | { kind: 'inventoryLevel.updated'; level: InventoryLevelRec }
  | { kind: 'order.created'; order: OrderRec }
  | { kind: 'order.cancelled'; order: OrderRec };

/** A line of an order placed through the control API or the traffic generator. */
export interface OrderLineInput {
  variant: VariantRec;
  quantity: number;
  price?: string;
}

/** Thrown by store operations for a request that cannot be honoured (the control API answers 422). */
export class StoreRejection extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/**
 * The in-memory store of one simulated shop: catalog, stock per location and orders, with
 * indexes by id, SKU and last change so that large catalogs are served without scans.
 */
export class ShopifyStore {
  readonly locations: LocationRec[] = [];
  readonly products: ProductRec[] = [];
  readonly variants: VariantRec[] = [];
  readonly orders: OrderRec[] = [];
  readonly productById = new Map<number, ProductRec>();
  readonly variantById = new Map<number, VariantRec>();
  readonly itemById = new Map<number, InventoryItemRec>();
  readonly locationById = new Map<number, LocationRec>();
  readonly orderById = new Map<number, OrderRec>();
  readonly variantsBySku = new MultiIndex<VariantRec>();
  /** Products by handle (handles are unique per store). */
  readonly productByHandle = new Map<string, ProductRec>();
  readonly productRecency = new RecencyIndex<ProductRec>();
  readonly variantRecency = new RecencyIndex<VariantRec>();
  readonly orderRecency = new RecencyIndex<OrderRec>();
  private seq = 0;
  private lastStamp = 0;
  private nextIds = { order: 5_600_000_000_000, lineItem: 14_200_000_000_000, orderNumber: 1001, group: 9_000_000_000 };
  private listeners: ((e: StoreEvent) => void)[] = [];

  constructor(private readonly clock: SimClock) {}

  /** The current time, never earlier than a time already handed out (timestamps stay ordered). */
  stamp(): number {
    this.lastStamp = Math.max(this.lastStamp, this.clock.now());
    return this.lastStamp;
  }

  /** The next change sequence number. */
  nextSeq(): number {
    return ++this.seq;
  }

  /** A new id for an inventory adjustment group. */
  nextGroupId(): number {
    return ++this.nextIds.group;
  }

  /** Subscribes to store events. */
  onEvent(listener: (e: StoreEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(e: StoreEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Adds a location (catalog generation). */
  addLocation(loc: LocationRec): void {
    this.locations.push(loc);
    this.locationById.set(loc.id, loc);
  }

  /** Adds a product with its variants and inventory items (catalog generation; ids must grow). */
  addProduct(p: ProductRec): void {
    this.products.push(p);
    this.productById.set(p.id, p);
    this.productByHandle.set(p.handle, p);
    p.seq = this.nextSeq();
    this.productRecency.touch(p);
    for (const v of p.variants) {
      this.variants.push(v);
      this.variantById.set(v.id, v);
      this.itemById.set(v.inventoryItem.id, v.inventoryItem);
      this.variantsBySku.add(v.sku, v);
      v.seq = this.nextSeq();
      v.inventoryItem.seq = v.seq;
      this.variantRecency.touch(v);
    }
  }

  /**
   * Creates a product with its variants, inventory items and levels (quantities given per
   * location; every variant is stocked at the first location), with new ids above every id in
   * use, and announces it (`products/create`).
   */
  createProduct(input: {
    title: string; handle: string; vendor: string; productType: string; status: ProductRec['status']; descriptionHtml: string | null;
    options: Array<{ name: string; values: string[] }>;
    variants: Array<{ title: string; sku: string | null; price: string; compareAtPrice: string | null; barcode: string | null; taxable: boolean; inventoryPolicy: 'DENY' | 'CONTINUE'; tracked: boolean; requiresShipping: boolean; weight?: InventoryItemRec['weight']; quantities: Map<number, number> }>;
  }): ProductRec {
    const at = this.stamp();
    const max = (m: Map<number, unknown>) => { let x = 0; for (const k of m.keys()) if (k > x) x = k; return x; };
    const productId = Math.max(max(this.productById), 8_100_000_000_000) + 1;
    let variantId = Math.max(max(this.variantById), 45_000_000_000_000);
    let itemId = Math.max(max(this.itemById), 47_000_000_000_000);
    const product: ProductRec = {
      id: productId, title: input.title, handle: input.handle, vendor: input.vendor, productType: input.productType, status: input.status, tags: [], variants: [],
      descriptionHtml: input.descriptionHtml, options: input.options, createdAt: at, updatedAt: at, seq: 0,
    };
    input.variants.forEach((v, i) => {
      const variant = {
        id: ++variantId, product, title: v.title, sku: v.sku, price: v.price, compareAtPrice: v.compareAtPrice, barcode: v.barcode, position: i + 1,
        taxable: v.taxable, inventoryPolicy: v.inventoryPolicy, createdAt: at, updatedAt: at, seq: 0,
      } as unknown as VariantRec;
      const item: InventoryItemRec = { id: ++itemId, variant, tracked: v.tracked, requiresShipping: v.requiresShipping, ...(v.weight ? { weight: v.weight } : {}), levels: new Map(), createdAt: at, updatedAt: at, seq: 0 };
      variant.inventoryItem = item;
      const first = this.locations[0];
      if (first) item.levels.set(first.id, { item, location: first, quantities: emptyQuantities(0), createdAt: at, updatedAt: at });
      for (const [locationId, q] of v.quantities) {
        const location = this.locationById.get(locationId)!;
        item.levels.set(locationId, { item, location, quantities: emptyQuantities(q), createdAt: at, updatedAt: at });
      }
      product.variants.push(variant);
    });
    this.addProduct(product);
    this.emit({ kind: 'product.created', product });
    return product;
  }

  /** Marks a product as changed now (bumps `updatedAt`, reindexes). */
  touchProduct(p: ProductRec, at = this.stamp()): void {
    p.updatedAt = at;
    p.seq = this.nextSeq();
    this.productRecency.touch(p);
  }

  /** Marks a variant (and its product) as changed now. */
  touchVariant(v: VariantRec, at = this.stamp()): void {
    v.updatedAt = at;
    v.seq = this.nextSeq();
    this.variantRecency.touch(v);
    this.touchProduct(v.product, at);
  }

  private touchOrder(o: OrderRec, at: number): void {
    o.updatedAt = at;
    o.seq = this.nextSeq();
    this.orderRecency.touch(o);
  }

  /** Changes one variant's fields and announces it (`products/update`, `inventory_items/update` for SKU/tracking). */
  updateVariant(v: VariantRec, patch: { price?: string; compareAtPrice?: string | null; barcode?: string | null; title?: string; sku?: string | null; tracked?: boolean; taxable?: boolean; inventoryPolicy?: 'DENY' | 'CONTINUE'; requiresShipping?: boolean; weight?: InventoryItemRec['weight'] }): void {
    const at = this.stamp();
    let itemChanged = false;
    if (patch.sku !== undefined && patch.sku !== v.sku) {
      this.variantsBySku.remove(v.sku, v);
      v.sku = patch.sku;
      this.variantsBySku.add(v.sku, v);
      itemChanged = true;
    }
    if (patch.tracked !== undefined && patch.tracked !== v.inventoryItem.tracked) {
      v.inventoryItem.tracked = patch.tracked;
      itemChanged = true;
    }
    if (patch.requiresShipping !== undefined && patch.requiresShipping !== v.inventoryItem.requiresShipping) {
      v.inventoryItem.requiresShipping = patch.requiresShipping;
      itemChanged = true;
    }
    if (patch.weight !== undefined) {
      v.inventoryItem.weight = patch.weight;
      itemChanged = true;
    }
    if (patch.price !== undefined) v.price = patch.price;
    if (patch.compareAtPrice !== undefined) v.compareAtPrice = patch.compareAtPrice;
    if (patch.barcode !== undefined) v.barcode = patch.barcode;
    if (patch.title !== undefined) v.title = patch.title;
    if (patch.taxable !== undefined) v.taxable = patch.taxable;
    if (patch.inventoryPolicy !== undefined) v.inventoryPolicy = patch.inventoryPolicy;
    this.touchVariant(v, at);
    if (itemChanged) {
      v.inventoryItem.updatedAt = at;
      this.emit({ kind: 'inventoryItem.updated', item: v.inventoryItem });
    }
  }

  /** Announces product changes once per product after a batch of variant updates. */
  announceProducts(products: Iterable<ProductRec>): void {
    for (const p of new Set(products)) this.emit({ kind: 'product.updated', product: p });
  }

  /** Changes a product's title/status/vendor and announces it. */
  updateProduct(p: ProductRec, patch: { title?: string; vendor?: string; status?: ProductRec['status'] }): void {
    if (patch.title !== undefined) p.title = patch.title;
    if (patch.vendor !== undefined) p.vendor = patch.vendor;
    if (patch.status !== undefined) p.status = patch.status;
    this.touchProduct(p);
    this.announceProducts([p]);
  }

  /**
   * Applies quantity changes (already validated) to levels, keeping `on_hand` equal to the sum
   * of its parts, bumping every `updatedAt` and announcing the levels and products touched.
   */
  applyQuantityDeltas(changes: { level: InventoryLevelRec; name: QuantityName; delta: number }[]): void {
    const at = this.stamp();
    const levels = new Set<InventoryLevelRec>();
    for (const c of changes) {
      const q = c.level.quantities;
      if (c.name === 'on_hand') {
        q.on_hand += c.delta;
        q.available += c.delta;
      } else {
        q[c.name] += c.delta;
        if (ON_HAND_PARTS.includes(c.name) && c.name !== 'committed') q.on_hand += c.delta;
      }
      levels.add(c.level);
    }
    this.afterLevelChanges(levels, at);
  }

  private afterLevelChanges(levels: Set<InventoryLevelRec>, at: number): void {
    const products = new Set<ProductRec>();
    for (const l of levels) {
      l.updatedAt = at;
      l.item.updatedAt = at;
      this.touchVariant(l.item.variant, at);
      products.add(l.item.variant.product);
      this.emit({ kind: 'inventoryLevel.updated', level: l });
    }
    this.announceProducts(products);
  }

  /** The level of an item at a location, creating an empty one if the item is not stocked there yet. */
  levelAt(item: InventoryItemRec, location: LocationRec): InventoryLevelRec {
    let level = item.levels.get(location.id);
    if (!level) {
      const at = this.stamp();
      level = { item, location, quantities: emptyQuantities(0), createdAt: at, updatedAt: at };
      item.levels.set(location.id, level);
    }
    return level;
  }

  /** Places an order: stock moves from `available` to `committed` at the location. */
  createOrder(lines: OrderLineInput[], opts: { location?: LocationRec; email?: string } = {}): OrderRec {
    const location = opts.location ?? this.locations[0];
    if (!location) throw new StoreRejection('NO_LOCATION', 'the shop has no location');
    if (lines.length === 0) throw new StoreRejection('INVALID', 'an order needs at least one line');
    for (const l of lines) {
      if (!Number.isInteger(l.quantity) || l.quantity < 1) throw new StoreRejection('INVALID', 'line quantities must be positive integers');
      const level = l.variant.inventoryItem.levels.get(location.id);
      const needed = lines.filter((x) => x.variant === l.variant).reduce((s, x) => s + x.quantity, 0);
      if (l.variant.inventoryItem.tracked && l.variant.inventoryPolicy === 'DENY' && (level?.quantities.available ?? 0) < needed) {
        throw new StoreRejection('INSUFFICIENT_STOCK', `not enough stock of ${l.variant.sku ?? l.variant.id} at ${location.name}`);
      }
    }
    const at = this.stamp();
    const id = ++this.nextIds.order;
    const number = this.nextIds.orderNumber++;
    const lineItems: LineItemRec[] = lines.map((l) => ({
      id: ++this.nextIds.lineItem, variant: l.variant, sku: l.variant.sku, title: l.variant.product.title,
      variantTitle: l.variant.title, vendor: l.variant.product.vendor, quantity: l.quantity, currentQuantity: l.quantity,
      price: l.price ?? l.variant.price, location,
    }));
    const order: OrderRec = {
      id, number, name: `#${number}`, email: opts.email ?? `buyer${number}@example.com`, createdAt: at, updatedAt: at,
      seq: 0, processedAt: at, cancelledAt: null, cancelReason: null, financialStatus: 'PAID', restocked: false, lineItems,
    };
    this.orders.push(order);
    this.orderById.set(id, order);
    this.touchOrder(order, at);
    const levels = new Set<InventoryLevelRec>();
    for (const li of lineItems) {
      if (!li.variant?.inventoryItem.tracked) continue;
      const level = this.levelAt(li.variant.inventoryItem, location);
      level.quantities.available -= li.quantity;
      level.quantities.committed += li.quantity;
      levels.add(level);
    }
    this.emit({ kind: 'order.created', order });
    this.afterLevelChanges(levels, at);
    return order;
  }

  /** Cancels an order; with `restock` the committed stock goes back to `available`. */
  cancelOrder(order: OrderRec, opts: { restock: boolean; reason?: OrderRec['cancelReason'] }): OrderRec {
    if (order.cancelledAt !== null) throw new StoreRejection('ALREADY_CANCELLED', `order ${order.name} is already cancelled`);
    const at = this.stamp();
    order.cancelledAt = at;
    order.cancelReason = opts.reason ?? 'CUSTOMER';
    order.financialStatus = 'REFUNDED';
    this.touchOrder(order, at);
    const levels = new Set<InventoryLevelRec>();
    for (const li of order.lineItems) {
      if (!li.variant?.inventoryItem.tracked) continue;
      const level = this.levelAt(li.variant.inventoryItem, li.location);
      level.quantities.committed -= li.currentQuantity;
      if (opts.restock) level.quantities.available += li.currentQuantity;
      else level.quantities.on_hand -= li.currentQuantity;
      li.currentQuantity = 0;
      levels.add(level);
    }
    order.restocked = opts.restock;
    this.emit({ kind: 'order.cancelled', order });
    this.afterLevelChanges(levels, at);
    return order;
  }
}
