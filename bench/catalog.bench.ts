/**
 * Catalog creation: N products of 3 variants (the sample ERP's shape, `create_product` writes as
 * `catalog apply` plans them) created through the sinks on one simulated Shopify store (standard
 * plan: bucket 2,000 points restored at 100/s) and one simulated WooCommerce site, in the batches
 * the writers hand them over (Shopify 250, WooCommerce 100). N: CATALOG_BENCH_PRODUCTS (default
 * 10,000, the figure; run it smaller on a busy machine).
 *
 * Shopify: products/s, points spent per second and per product, the share of the points the store
 * made available over the run that was spent (budget utilisation), and the steady-state rate the
 * restore rate allows (restore rate / points per product). WooCommerce: products/s.
 */
import { shopifyInstanceSchema, wooInstanceSchema } from '../src/config/schema.js';
import { createShopifyConnector } from '../src/connectors/shopify/index.js';
import { createWooCommerceConnector } from '../src/connectors/woocommerce/index.js';
import type { ListingProduct, SinkWrite } from '../src/connectors/types.js';
import { configureLogger } from '../src/core/logger.js';
import { startShopifySimulator } from '../src/simulators/shopify/index.js';
import { startWooCommerceSimulator } from '../src/simulators/woocommerce/index.js';
import { round, type BenchFigure } from './lib.js';

const N = Number(process.env.CATALOG_BENCH_PRODUCTS ?? 10_000);
const SIZES = ['S', 'M', 'L'];

const writes = (prefix: string): SinkWrite[] => Array.from({ length: N }, (_, i) => {
  const key = `BENCH-${String(i + 1).padStart(6, '0')}`;
  const product: ListingProduct = {
    key, handle: key.toLowerCase(), title: `Bench product ${i + 1}`, vendor: 'Bench', productType: 'Tee', status: 'draft', options: ['Size'],
    variants: SIZES.map((s, v) => ({ sku: `${key}-${v + 1}`, optionValues: [s], price: (10 + (i % 90)).toFixed(2) })),
  };
  return { writeId: `${prefix}${i}`, sku: product.variants[0]!.sku, kind: 'create_product', idempotencyKey: `${prefix}-${key}`, refs: { id: '' }, payload: { product } };
});

async function shopify(): Promise<{ seconds: number; spent: number; restoreRate: number; restorable: number; failed: number }> {
  const sim = await startShopifySimulator({ plan: 'standard', catalog: { products: 0 } });
  try {
    const cfg = shopifyInstanceSchema.parse({ shop: sim.info.shop, url: sim.baseUrl, accessToken: sim.info.accessToken, clientSecret: sim.info.clientSecret, plan: 'standard' });
    const conn = createShopifyConnector('bench', cfg);
    const all = writes('s');
    const start = sim.state.bucket.status();
    const restoreRate = start.restoreRate;
    const before = conn.client.bucket.stats.spent;
    let failed = 0;
    const t0 = performance.now();
    for (let i = 0; i < all.length; i += conn.sink.maxBatch) for (const r of await conn.sink.write(all.slice(i, i + conn.sink.maxBatch))) if (r.status !== 'ok') failed++;
    const seconds = (performance.now() - t0) / 1000;
    if (sim.store.products.length !== N - failed) throw new Error(`Shopify has ${sim.store.products.length} products, expected ${N - failed}`);
    return { seconds, spent: conn.client.bucket.stats.spent - before, restoreRate, restorable: start.currentlyAvailable + restoreRate * seconds, failed };
  } finally {
    await sim.close();
  }
}

async function woo(): Promise<{ seconds: number; failed: number }> {
  const sim = await startWooCommerceSimulator({ products: 0, seed: 1 });
  try {
    const cfg = wooInstanceSchema.parse({ url: sim.info.siteUrl, consumerKey: sim.info.consumerKey, consumerSecret: sim.info.consumerSecret, webhookSecret: 'bench' });
    const conn = createWooCommerceConnector('bench', cfg, { readBack: false });
    const all = writes('w');
    let failed = 0;
    const t0 = performance.now();
    for (let i = 0; i < all.length; i += conn.sink.maxBatch) for (const r of await conn.sink.write(all.slice(i, i + conn.sink.maxBatch))) if (r.status !== 'ok') failed++;
    return { seconds: (performance.now() - t0) / 1000, failed };
  } finally {
    await sim.close();
  }
}

/** Products created per second on each platform, and Shopify's points per second against its limit. */
export default async function (): Promise<BenchFigure[]> {
  configureLogger({ level: 'silent' });
  const s = await shopify();
  const w = await woo();
  const params = { products: N, variantsPerProduct: 3, shopifyPlan: 'standard' };
  return [
    { name: 'catalog.shopify.products_per_second', value: round(N / s.seconds, 1), unit: 'products/s', params: { ...params, seconds: round(s.seconds), failed: s.failed } },
    { name: 'catalog.shopify.points_per_second', value: round(s.spent / s.seconds, 1), unit: 'points/s', params: { ...params, pointsSpent: s.spent, restoreRate: s.restoreRate } },
    // Points spent / points the store made available over the run (the full bucket at the start + restore rate × duration).
    { name: 'catalog.shopify.budget_utilisation', value: round((s.spent / s.restorable) * 100, 1), unit: '%', params: { ...params, pointsRestorable: round(s.restorable) } },
    { name: 'catalog.shopify.points_per_product', value: round(s.spent / N, 1), unit: 'points', params },
    // Once the initial bucket is spent, creation is bound by the restore rate: restore rate / points per product.
    { name: 'catalog.shopify.steady_state_products_per_second', value: round(s.restoreRate / (s.spent / N), 1), unit: 'products/s', params: { ...params, restoreRate: s.restoreRate } },
    { name: 'catalog.woocommerce.products_per_second', value: round(N / w.seconds, 1), unit: 'products/s', params: { ...params, seconds: round(w.seconds), failed: w.failed } },
  ];
}
