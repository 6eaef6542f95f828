/**
 * The location whose stock syncctl manages: `locationId` from config, else the shop's first
 * active location (asked once, then cached).
 */
import { ConfigError } from '../../core/errors.js';
import type { ShopifyClient } from './client.js';
import { loadDocument } from './documents.js';
import { toGid } from './normalise.js';

interface FirstLocationData { locations: { nodes: Array<{ id: string; name: string; isActive: boolean }> } }

/** Resolves and caches the managed location of one store. */
export class ManagedLocation {
  private value: Promise<string> | null;

  constructor(private readonly client: ShopifyClient, configured?: string) {
    this.value = configured ? Promise.resolve(toGid('Location', configured)) : null;
  }

  /** The managed location's GID. */
  get(signal?: AbortSignal): Promise<string> {
    if (!this.value) {
      const p = this.client.request<FirstLocationData>(loadDocument('FirstLocation'), {}, { signal }).then((d) => {
        const first = d.locations.nodes[0];
        if (!first) throw new ConfigError('SHOPIFY_NO_LOCATION', `Shopify store ${this.client.instance} has no active location`, { hint: 'Set `locationId` in the Shopify instance config.' });
        return first.id;
      });
      // A failure is not cached: the next call asks again.
      p.catch(() => { if (this.value === p) this.value = null; });
      this.value = p;
    }
    return this.value;
  }
}
