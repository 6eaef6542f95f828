/**
 * The raw → canonical mapping, as data. Both transform runners implement exactly this:
 * the embedded runner interprets it (`./interpret.ts`), the Flink runner compiles it to
 * SQL (`./flink/sql.ts`), and the equivalence test feeds both the same raw events.
 *
 * A rule matches raw events by `payload.kind`, optionally explodes an array of the payload
 * (one canonical event per element), filters elements, and builds the canonical event's
 * fields from a tiny expression language that both runners can evaluate.
 */

/** A value expression over the raw event (`event.*`), its payload (`payload.*`) and the exploded element (`item.*`). */
export type Expr =
  /** A JSON path like `payload.title`, `item.sku`, `event.occurredAt`. */
  | { path: string }
  /** A SKU normalised with the configured rule (trim, case); null when blank. */
  | { sku: string }
  /** A constant. */
  | { const: string | number | boolean | null }
  /** The first of the expressions that is not null. */
  | { coalesce: Expr[] }
  /** Strings joined (null if any part is null). */
  | { concat: Expr[] }
  /** The source key: `erp`, or `<platform>:<instance>`. */
  | { sourceKey: true };

/** A condition on the exploded element or the payload. */
export type Cond =
  | { notNull: Expr }
  | { isTrue: Expr }
  | { isFalse: Expr };

/** One mapping rule. */
export interface MappingRule {
  /** Stable id, part of documentation and of the Flink statement names. */
  id: string;
  /** `payload.kind` this rule applies to. */
  kind: 'product' | 'inventory' | 'order' | 'product_deleted';
  /** Path of an array in the payload to explode (`payload.variants`, `payload.lines`, `payload.skus`). */
  explode?: string;
  /** Every condition must hold for an element to be emitted. */
  where: Cond[];
  /** The canonical event type emitted. */
  emit: 'ProductChanged' | 'ProductDeleted' | 'InventoryObserved' | 'SaleRecorded' | 'SaleCancelled';
  /** The canonical event's fields (nested objects allowed one level deep: `fields.title`). */
  fields: Record<string, Expr>;
}

const base = (emit: MappingRule['emit'], idPart: Expr, sku: Expr): Record<string, Expr> => ({
  type: { const: emit },
  eventId: { concat: [{ path: 'event.eventId' }, { const: `:${emit}:` }, idPart] },
  sku,
  source: { sourceKey: true },
  occurredAt: { path: 'event.occurredAt' },
  receivedAt: { path: 'event.receivedAt' },
  rawEventId: { path: 'event.eventId' },
  origin: { path: 'event.origin' },
});

/** The mapping of syncctl (version in `MAPPING_VERSION`; bump it when a rule changes). */
export const MAPPING: MappingRule[] = [
  {
    id: 'product_variant_fields',
    kind: 'product',
    explode: 'payload.variants',
    where: [{ notNull: { sku: 'item.sku' } }],
    emit: 'ProductChanged',
    fields: {
      ...base('ProductChanged', { sku: 'item.sku' }, { sku: 'item.sku' }),
      sourceVersion: { path: 'payload.updatedAt' },
      'fields.title': { path: 'payload.title' },
      'fields.price': { path: 'item.price' },
      'fields.status': { path: 'payload.status' },
      'refs.id': { path: 'item.id' },
      'refs.productId': { path: 'payload.productId' },
      'refs.inventoryItemId': { path: 'item.inventoryItemId' },
      'refs.parentId': { path: 'item.parentId' },
      'refs.stockPool': { path: 'item.stockPool' },
    },
  },
  {
    id: 'product_variant_stock',
    kind: 'product',
    explode: 'payload.variants',
    where: [{ notNull: { sku: 'item.sku' } }, { notNull: { path: 'item.available' } }],
    emit: 'InventoryObserved',
    fields: {
      ...base('InventoryObserved', { sku: 'item.sku' }, { sku: 'item.sku' }),
      sourceVersion: { path: 'payload.updatedAt' },
      available: { path: 'item.available' },
      'refs.id': { path: 'item.id' },
      'refs.productId': { path: 'payload.productId' },
      'refs.inventoryItemId': { path: 'item.inventoryItemId' },
      'refs.parentId': { path: 'item.parentId' },
    },
  },
  {
    id: 'inventory_level',
    kind: 'inventory',
    where: [{ notNull: { sku: 'payload.sku' } }, { notNull: { path: 'payload.available' } }],
    emit: 'InventoryObserved',
    fields: {
      ...base('InventoryObserved', { sku: 'payload.sku' }, { sku: 'payload.sku' }),
      sourceVersion: { path: 'payload.updatedAt' },
      available: { path: 'payload.available' },
      'refs.id': { path: 'payload.refs.id' },
      'refs.productId': { path: 'payload.refs.productId' },
      'refs.inventoryItemId': { path: 'payload.refs.inventoryItemId' },
      'refs.locationId': { path: 'payload.refs.locationId' },
      'refs.parentId': { path: 'payload.refs.parentId' },
    },
  },
  {
    id: 'order_line_sale',
    kind: 'order',
    explode: 'payload.lines',
    where: [{ notNull: { sku: 'item.sku' } }, { isTrue: { path: 'payload.committed' } }, { isFalse: { path: 'payload.cancelled' } }],
    emit: 'SaleRecorded',
    fields: {
      ...base('SaleRecorded', { path: 'item.lineId' }, { sku: 'item.sku' }),
      sourceVersion: { path: 'payload.updatedAt' },
      orderId: { path: 'payload.orderId' },
      lineId: { path: 'item.lineId' },
      quantity: { path: 'item.quantity' },
      price: { path: 'item.price' },
      'order.orderId': { path: 'payload.orderId' },
      'order.name': { path: 'payload.name' },
      'order.currency': { path: 'payload.currency' },
      'order.createdAt': { path: 'payload.createdAt' },
    },
  },
  {
    id: 'order_line_cancel',
    kind: 'order',
    explode: 'payload.lines',
    where: [{ notNull: { sku: 'item.sku' } }, { isTrue: { path: 'payload.cancelled' } }],
    emit: 'SaleCancelled',
    fields: {
      ...base('SaleCancelled', { path: 'item.lineId' }, { sku: 'item.sku' }),
      sourceVersion: { path: 'payload.updatedAt' },
      orderId: { path: 'payload.orderId' },
      lineId: { path: 'item.lineId' },
      quantity: { path: 'item.quantity' },
    },
  },
  {
    id: 'product_deleted',
    kind: 'product_deleted',
    explode: 'payload.skus',
    where: [{ notNull: { sku: 'item' } }],
    emit: 'ProductDeleted',
    fields: {
      ...base('ProductDeleted', { sku: 'item' }, { sku: 'item' }),
      sourceVersion: { path: 'payload.updatedAt' },
      'refs.id': { path: 'payload.productId' },
      'refs.productId': { path: 'payload.productId' },
    },
  },
];

/**
 * Kinds whose raw event, when the named array is empty, carries nothing to sync (not `NO_SKU`): a
 * product without variants (a variable parent), the deletion of a product never mapped. Both
 * runners read it from here.
 */
export const EMPTY_IS_NOTHING_TO_SYNC: Partial<Record<MappingRule['kind'], string>> = { product: 'payload.variants', product_deleted: 'payload.skus' };

/** Version of the mapping; part of the Flink job name so a change is rolled out by savepoint + restore. */
export const MAPPING_VERSION = 2;

/** Why a raw event produced no canonical event (for dead letters; never silent). */
export type RejectReason = 'MALFORMED_JSON' | 'NOT_A_RAW_EVENT' | 'UNKNOWN_KIND' | 'NO_SKU';
