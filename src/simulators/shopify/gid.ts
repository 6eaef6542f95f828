/** Shopify global IDs: `gid://shopify/Product/123`. */
export type GidType =
  | 'Shop' | 'Product' | 'ProductVariant' | 'InventoryItem' | 'InventoryLevel' | 'InventoryQuantity' | 'Location'
  | 'Order' | 'LineItem' | 'WebhookSubscription' | 'BulkOperation' | 'InventoryAdjustmentGroup';

/** The GID of a resource. */
export const gid = (type: GidType, id: number | string): string => `gid://shopify/${type}/${id}`;

/** The numeric id inside a GID of the expected type, or null when the GID is malformed or of another type. */
export function parseGid(value: unknown, type: GidType): number | null {
  if (typeof value !== 'string') return null;
  const m = /^gid:\/\/shopify\/(\w+)\/(\d+)(?:\?.*)?$/.exec(value);
  if (!m || m[1] !== type) return null;
  const n = Number(m[2]);
  return Number.isSafeInteger(n) ? n : null;
}

/** The GID of an inventory level, which Shopify builds from the location and the inventory item. */
export const inventoryLevelGid = (locationId: number, inventoryItemId: number): string =>
  `gid://shopify/InventoryLevel/${locationId}?inventory_item_id=${inventoryItemId}`;

/** Parses an inventory level GID into its location and inventory item ids. */
export function parseInventoryLevelGid(value: unknown): { locationId: number; inventoryItemId: number } | null {
  if (typeof value !== 'string') return null;
  const m = /^gid:\/\/shopify\/InventoryLevel\/(\d+)\?inventory_item_id=(\d+)$/.exec(value);
  return m ? { locationId: Number(m[1]), inventoryItemId: Number(m[2]) } : null;
}
