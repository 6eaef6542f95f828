/**
 * Who owns an inventory item (SKU, variant, product): `inventory_levels/update` webhooks carry only
 * the inventory item id, so the connector asks the API once and keeps the answer in a small LRU
 * cache with a time to live (a SKU can be edited; the TTL bounds how long a stale one is used).
 */
import type { ShopifyClient } from './client.js';
import { loadDocument } from './documents.js';

/** The owner of an inventory item. */
export interface ItemOwner {
  inventoryItemId: string;
  sku: string | null;
  variantId: string;
  productId: string;
}

interface OwnerData {
  inventoryItem: { id: string; sku: string | null; variants: { nodes: Array<{ id: string; product: { id: string } }> } } | null;
}

/** An LRU cache of inventory item owners backed by the Admin API. */
export class InventoryItemDirectory {
  private readonly cache = new Map<string, { owner: ItemOwner | null; at: number }>();

  constructor(private readonly client: ShopifyClient, private readonly capacity = 50_000, private readonly ttlMs = 10 * 60_000) {}

  /** The owner of `inventoryItemId` (GID), or null when Shopify does not know the item. */
  async owner(inventoryItemId: string, signal?: AbortSignal): Promise<ItemOwner | null> {
    const hit = this.cache.get(inventoryItemId);
    if (hit && Date.now() - hit.at < this.ttlMs) {
      this.cache.delete(inventoryItemId);
      this.cache.set(inventoryItemId, hit);
      return hit.owner;
    }
    const d = await this.client.request<OwnerData>(loadDocument('InventoryItemOwner'), { id: inventoryItemId }, { signal });
    const v = d.inventoryItem?.variants.nodes[0];
    const owner = d.inventoryItem && v ? { inventoryItemId, sku: d.inventoryItem.sku, variantId: v.id, productId: v.product.id } : null;
    this.remember(inventoryItemId, owner);
    return owner;
  }

  /** Records an owner learnt elsewhere (poll pages, product webhooks), sparing a lookup later. */
  remember(inventoryItemId: string, owner: ItemOwner | null): void {
    this.cache.delete(inventoryItemId);
    this.cache.set(inventoryItemId, { owner, at: Date.now() });
    while (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
  }
}
