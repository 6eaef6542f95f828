/** The records of the simulated store (plain objects; resolvers map them to GraphQL fields). */

/** Quantity names of an inventory level, as Shopify names them. */
export const QUANTITY_NAMES = ['available', 'on_hand', 'committed', 'reserved', 'incoming', 'damaged', 'quality_control', 'safety_stock'] as const;
/** One quantity name. */
export type QuantityName = (typeof QUANTITY_NAMES)[number];
/** Names that `inventorySetQuantities` accepts. */
export const SETTABLE_NAMES: readonly QuantityName[] = ['available', 'on_hand'];
/** Names that `inventoryAdjustQuantities` accepts. */
export const ADJUSTABLE_NAMES: readonly QuantityName[] = ['available', 'incoming', 'damaged', 'quality_control', 'reserved', 'safety_stock'];
/** States that add up to `on_hand`. */
export const ON_HAND_PARTS: readonly QuantityName[] = ['available', 'committed', 'reserved', 'damaged', 'quality_control', 'safety_stock'];

/** Fields every listable record carries: ids, timestamps and the change sequence used by the recency index. */
export interface Listable {
  /** Numeric id (the tail of the GID). */
  id: number;
  /** Creation time, ms. */
  createdAt: number;
  /** Last change, ms. */
  updatedAt: number;
  /** Global change counter at the last change (orders the recency index). */
  seq: number;
}

/** A location. */
export interface LocationRec extends Listable {
  name: string;
  isActive: boolean;
}

/** A product. */
export interface ProductRec extends Listable {
  title: string;
  handle: string;
  vendor: string;
  productType: string;
  status: 'ACTIVE' | 'ARCHIVED' | 'DRAFT';
  tags: string[];
  variants: VariantRec[];
  /** Set by `productSet` (not exposed by the simulator's schema subset). */
  descriptionHtml?: string | null;
  /** Options and their values, set by `productSet` (generated products have none recorded). */
  options?: Array<{ name: string; values: string[] }>;
}

/** A product variant. */
export interface VariantRec extends Listable {
  product: ProductRec;
  title: string;
  sku: string | null;
  price: string;
  compareAtPrice: string | null;
  barcode: string | null;
  position: number;
  taxable: boolean;
  inventoryPolicy: 'DENY' | 'CONTINUE';
  inventoryItem: InventoryItemRec;
}

/** An inventory item (one per variant). */
export interface InventoryItemRec extends Listable {
  variant: VariantRec;
  tracked: boolean;
  requiresShipping: boolean;
  /** Weight set through `inventoryItem.measurement` (absent: 0 kg, as generated). */
  weight?: { value: number; unit: 'KILOGRAMS' | 'GRAMS' | 'POUNDS' | 'OUNCES' };
  /** Levels by location id. */
  levels: Map<number, InventoryLevelRec>;
}

/** The stock of one inventory item at one location. */
export interface InventoryLevelRec {
  item: InventoryItemRec;
  location: LocationRec;
  quantities: Record<QuantityName, number>;
  createdAt: number;
  updatedAt: number;
}

/** An order line. */
export interface LineItemRec {
  id: number;
  variant: VariantRec | null;
  sku: string | null;
  title: string;
  variantTitle: string | null;
  vendor: string;
  quantity: number;
  currentQuantity: number;
  price: string;
  location: LocationRec;
}

/** An order. */
export interface OrderRec extends Listable {
  number: number;
  name: string;
  email: string;
  processedAt: number;
  cancelledAt: number | null;
  cancelReason: 'CUSTOMER' | 'DECLINED' | 'FRAUD' | 'INVENTORY' | 'STAFF' | 'OTHER' | null;
  financialStatus: 'PAID' | 'PENDING' | 'REFUNDED' | 'VOIDED';
  restocked: boolean;
  lineItems: LineItemRec[];
}

/** One quantity change inside an adjustment group. */
export interface ChangeRec {
  name: QuantityName;
  delta: number;
  quantityAfterChange: number;
  item: InventoryItemRec;
  location: LocationRec;
  ledgerDocumentUri: string | null;
}

/** The result of an inventory mutation (what `inventoryAdjustmentGroup` shows). */
export interface AdjustmentGroupRec {
  id: number;
  createdAt: number;
  reason: string;
  referenceDocumentUri: string | null;
  changes: ChangeRec[];
}

/** Sum of the `available` quantity over every location. */
export function availableTotal(item: InventoryItemRec): number {
  let n = 0;
  for (const l of item.levels.values()) n += l.quantities.available;
  return n;
}

/** A level with every quantity at zero except `available` (on hand follows). */
export function emptyQuantities(available: number): Record<QuantityName, number> {
  return { available, on_hand: available, committed: 0, reserved: 0, incoming: 0, damaged: 0, quality_control: 0, safety_stock: 0 };
}
