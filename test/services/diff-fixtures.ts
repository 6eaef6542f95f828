/**
 * Shared fixtures of the diff and backfill tests: a Shopify store and a WooCommerce site
 * (simulators, real HTTP) with the same catalog, aligned value by value, then given deliberate
 * drift; and a config file for the CLI that points at them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SyncConfig } from '../../src/config/schema.js';
import { startShopifySimulator, type ShopifySimulator } from '../../src/simulators/shopify/index.js';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';

/** Calls a simulator's control API. */
export async function control(baseControlUrl: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${baseControlUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** The Shopify config of a simulator. */
export const shopifyCfg = (sim: ShopifySimulator) => ({ shop: sim.info.shop, url: sim.baseUrl, accessToken: sim.info.accessToken, clientSecret: sim.info.clientSecret });
/** The WooCommerce config of a simulator. */
export const wooCfg = (sim: WooCommerceSimulator) => ({ url: sim.info.siteUrl, consumerKey: sim.info.consumerKey, consumerSecret: sim.info.consumerSecret, webhookSecret: 'test-secret' });

/** Writes a config file with the test's database/Kafka/Redis and the given sources and sync rules. */
export function writeConfig(base: SyncConfig, extra: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'syncctl-diff-'));
  const file = join(dir, 'syncctl.config.json');
  const cfg = { database: base.database, kafka: base.kafka, redis: base.redis, logging: { level: 'warn' }, ...extra };
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

/** Shopify's state of each SKU (first location), read in process from the simulator. */
export function shopifyState(sim: ShopifySimulator): Map<string, { price: string; title: string; available: number }> {
  const out = new Map<string, { price: string; title: string; available: number }>();
  for (const v of sim.store.variants) {
    if (!v.sku || out.has(v.sku)) continue;
    const level = [...v.inventoryItem.levels.values()][0]!;
    out.set(v.sku, { price: v.price, title: v.product.title, available: level.quantities.available });
  }
  return out;
}

/** Makes the WooCommerce site show exactly what Shopify shows for every shared SKU. */
export async function alignWooToShopify(shop: ShopifySimulator, woo: WooCommerceSimulator): Promise<void> {
  for (const [sku, s] of shopifyState(shop)) {
    const found = await control(woo.info.controlUrl, 'GET', `/products?sku=${encodeURIComponent(sku)}`);
    if (!found.length) continue;
    await control(woo.info.controlUrl, 'PUT', '/products', { sku, regular_price: s.price, name: s.title });
    await control(woo.info.controlUrl, 'POST', '/stock', { sku, quantity: s.available });
  }
}

/** A Shopify store of `products` simple products (one variant each), 2 SKUs only there. */
export const startShop = (products: number, extraSkus = 2, seed = 1) =>
  startShopifySimulator({ seed, bulkOperationLatencyMs: 5, catalog: { products, variantsPerProduct: 1, extraSkus } });

/** A WooCommerce site of `products` simple products, 1 SKU only there. */
export const startWoo = (products: number, extraSkus = 1, seed = 2) => startWooCommerceSimulator({ products, seed, extraSkus, coalesceWindowMs: 0 });
