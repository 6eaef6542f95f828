/**
 * The domain model shared by every part: source keys, raw events (what intake stores and
 * publishes) and canonical events (what the transform stage emits, keyed by SKU).
 */

/** The platforms syncctl talks to. */
export type Platform = 'shopify' | 'woocommerce' | 'erp';

/** `shopify:main`, `woocommerce:outlet`, `erp` (the ERP has one instance). */
export type SourceKey = string;

/** Builds the key of a source instance. */
export const sourceKey = (platform: Platform, instance: string): SourceKey => (platform === 'erp' ? 'erp' : `${platform}:${instance}`);

/** Splits a source key into platform and instance (`erp` → `['erp', 'default']`). */
export function parseSourceKey(key: SourceKey): { platform: Platform; instance: string } {
  if (key === 'erp') return { platform: 'erp', instance: 'default' };
  const [platform, instance] = key.split(':') as [Platform, string | undefined];
  if (!instance || !['shopify', 'woocommerce'].includes(platform)) throw new TypeError(`not a source key: ${key}`);
  return { platform, instance };
}

/** How an event reached us. */
export type EventOrigin = 'webhook' | 'poll' | 'backfill' | 'cdc' | 'replay' | 'diff' | 'writer';

/**
 * One change as a platform reported it, normalised just enough to be stored once
 * (`source_events`) and published to the platform's raw topic keyed by entity.
 */
export interface RawEvent {
  /** UUID of the `source_events` row. */
  eventId: string;
  platform: Platform;
  /** Instance name (`main`, `outlet`; `default` for the ERP). */
  instance: string;
  /** e.g. `products/update`, `inventory_levels/update`, `orders/create`, `product.updated`, `erp.stock_levels`. */
  eventType: string;
  /** The platform's id of the entity (GID, Woo id, ERP primary key). */
  entityRef: string;
  origin: EventOrigin;
  /** Unique per delivery or version: the same change seen twice has the same key. */
  dedupeKey: string;
  /** When the source says the change happened (ISO 8601). */
  occurredAt: string;
  /** When syncctl stored it (ISO 8601). */
  receivedAt: string;
  /** SHA-256 of the canonical JSON of `payload`. */
  checksum: string;
  /** The platform's payload (webhook body, poll node, Debezium `after`...). */
  payload: unknown;
  /** Normalised SKU when the payload is about one SKU (routing hint; the transform decides). */
  sku?: string | null;
}

/** Catalog fields syncctl syncs. */
export interface CatalogFields {
  title?: string;
  /** Decimal string, e.g. `"19.99"`. */
  price?: string;
  status?: 'active' | 'draft' | 'archived';
}

/** Ids of one SKU on one source instance. */
export interface PlatformRefs {
  /** Primary id: Shopify variant GID, Woo product/variation id, ERP sku. */
  id: string;
  productId?: string;
  inventoryItemId?: string;
  locationId?: string;
  /** Woo: the parent of a variation. */
  parentId?: string;
  /**
   * Woo: the product whose stock this SKU shares (a variation with `manage_stock: "parent"`: one
   * pool for all such variations of that product). Such a SKU's stock is never written.
   */
  stockPool?: string;
}

/** Fields common to every canonical event. */
export interface CanonicalBase {
  /** Deterministic id (`<rawEventId>:<type>:<sku or line>`), so a replayed raw event maps to the same ids. */
  eventId: string;
  /** Normalised SKU (the Kafka key). */
  sku: string;
  /** Source instance the change came from. */
  source: SourceKey;
  /** The source's version of the entity (updated_at or LSN), used to drop stale events. */
  sourceVersion: string;
  /** When the change happened at the source (ISO). */
  occurredAt: string;
  /** When syncctl received it (ISO; absent on events the engine itself produces). */
  receivedAt?: string;
  /** The raw event it came from. */
  rawEventId: string;
  origin: EventOrigin;
}

/** The catalog fields of a SKU changed (or were observed) on a source. */
export interface ProductChanged extends CanonicalBase {
  type: 'ProductChanged';
  fields: CatalogFields;
  refs: PlatformRefs;
}

/** A SKU was deleted on a source. */
export interface ProductDeleted extends CanonicalBase {
  type: 'ProductDeleted';
  refs: PlatformRefs;
}

/** A source reported the available quantity of a SKU. */
export interface InventoryObserved extends CanonicalBase {
  type: 'InventoryObserved';
  /** Available units (Shopify `available`, Woo `stock_quantity`, ERP on_hand − reserved). */
  available: number;
  refs: PlatformRefs;
}

/** One line of an order placed on a channel (exact sale). */
export interface SaleRecorded extends CanonicalBase {
  type: 'SaleRecorded';
  orderId: string;
  lineId: string;
  quantity: number;
  /** Unit price as a decimal string. */
  price?: string;
  /** The whole order, for the ERP writer (same on every line of the order). */
  order: { orderId: string; name?: string; currency?: string; createdAt: string; lineCount: number };
}

/** One line of a cancelled (restocked) order. */
export interface SaleCancelled extends CanonicalBase {
  type: 'SaleCancelled';
  orderId: string;
  lineId: string;
  quantity: number;
}

/** A writer applied a planned write (published by the writers, keyed by SKU like the rest). */
export interface WriteConfirmed extends CanonicalBase {
  type: 'WriteConfirmed';
  /** The target written (also in `source`). */
  target: SourceKey;
  writeId: string;
  kind: string;
  /** The available quantity at the target right after the write, when the target reports it. */
  available?: number | null;
  /** For writes to the stock authority: the pending adjustment this write settled. */
  pendingDelta?: number;
}

/** A writer gave up on a planned write (dead-lettered). */
export interface WriteFailed extends CanonicalBase {
  type: 'WriteFailed';
  target: SourceKey;
  writeId: string;
  kind: string;
  code: string;
}

/** An operator resolved a conflict (`syncctl conflicts resolve`): the engine applies the decision. */
export interface ConflictResolved extends CanonicalBase {
  type: 'ConflictResolved';
  conflictId: string;
  /** The field decided (FIELD_CONFLICT). */
  field: string;
  /** The value to use everywhere. */
  value: string | null;
}

/** The events of the canonical topic. */
export type CanonicalEvent = ProductChanged | ProductDeleted | InventoryObserved | SaleRecorded | SaleCancelled | WriteConfirmed | WriteFailed | ConflictResolved;
export type CanonicalType = CanonicalEvent['type'];
