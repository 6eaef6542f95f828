import type { PlatformRefs } from '../../core/model.js';
import type { WooClient } from './client.js';

/** A product or variation syncctl knows on the site: its id and refs (a variation names its parent). */
export interface KnownWooItem {
  id: string;
  refs: PlatformRefs;
}

const CHUNK = 100;

/**
 * Finds which known products and variations no longer exist on a WooCommerce site. WooCommerce
 * announces a deletion only when a product is moved to the trash (`product.deleted` is hooked to
 * `wp_trash_post`): a permanent delete (`?force=true`), every delete through `products/batch` and
 * the deletion of a variation send nothing, and a `modified_after` poll cannot see rows that are
 * gone. So the known ids are checked now and then, cheaply:
 *
 * - `GET /products?include=<≤100 ids>&_fields=id,variations` for the simple products and the
 *   parents of the variations (status `any`: a trashed product is absent, i.e. gone for us);
 * - a variation is present when its parent is and lists it in `variations`; one its parent does
 *   not list is confirmed with `GET /products/<parent>/variations?include=…&_fields=id` before it
 *   is called gone (a variation `variations` leaves out, e.g. a draft, is not deleted).
 *
 * Returns the ids that are gone. Reads only; requests go through the client (its concurrency,
 * retries and throttling).
 */
export class WooDeletionCheck {
  constructor(private readonly client: WooClient) {}

  async gone(known: KnownWooItem[], signal?: AbortSignal): Promise<Set<string>> {
    const productIds = new Set<string>();
    for (const k of known) productIds.add(k.refs.parentId ?? k.id);
    const present = new Map<string, Set<string>>(); // product id → its variation ids
    const ids = [...productIds];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const rows = await this.client.all<{ id?: unknown; variations?: unknown }>('/products', { include: chunk.join(','), per_page: CHUNK, _fields: 'id,variations' }, signal);
      for (const r of rows) {
        const vars = Array.isArray(r.variations) ? r.variations.map(String) : [];
        present.set(String(r.id), new Set(vars));
      }
    }
    const gone = new Set<string>();
    const suspects = new Map<string, string[]>(); // parent → variation ids it does not list
    for (const k of known) {
      const parent = k.refs.parentId;
      if (!parent) {
        if (!present.has(k.id)) gone.add(k.id);
        continue;
      }
      const siblings = present.get(parent);
      if (!siblings) gone.add(k.id);
      else if (!siblings.has(k.id)) suspects.set(parent, [...(suspects.get(parent) ?? []), k.id]);
    }
    for (const [parent, vids] of suspects) {
      for (let i = 0; i < vids.length; i += CHUNK) {
        const chunk = vids.slice(i, i + CHUNK);
        const rows = await this.client.all<{ id?: unknown }>(`/products/${parent}/variations`, { include: chunk.join(','), per_page: CHUNK, _fields: 'id' }, signal);
        const found = new Set(rows.map((r) => String(r.id)));
        for (const v of chunk) if (!found.has(v)) gone.add(v);
      }
    }
    return gone;
  }
}
