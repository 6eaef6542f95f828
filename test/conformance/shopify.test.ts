import { createShopifyConnector, type ShopifyConnector } from '../../src/connectors/shopify/index.js';
import { shopifyInstanceSchema } from '../../src/config/schema.js';
import type { PlatformRefs } from '../../src/core/model.js';
import type { ShopifySimulator } from '../../src/simulators/shopify/index.js';
import { control, startReceiver, variantOf, type Receiver } from '../connectors/shopify/helpers.js';
import { startShopifySimulator } from '../../src/simulators/shopify/index.js';
import type { ConformanceHarness } from './harness.js';
import { conformance } from './suite.js';

let sim: ShopifySimulator;
let conn: ShopifyConnector;
let rx: Receiver;

/** The i-th SKU: the first variant of product i, so SKUs of different cases live on different products. */
const variant = (i: number) => variantOf(sim, i * 2);

const harness: ConformanceHarness = {
  name: 'shopify',
  async setup() {
    sim = await startShopifySimulator({ catalog: { products: 20, variantsPerProduct: 2 } });
    const cfg = shopifyInstanceSchema.parse({ shop: sim.info.shop, url: sim.baseUrl, accessToken: sim.info.accessToken, clientSecret: sim.info.clientSecret });
    conn = createShopifyConnector('conformance', cfg);
    rx = await startReceiver();
    await conn.subscriptions.ensureWebhooks(rx.url);
  },
  async teardown() {
    await sim.close();
    await rx.close();
  },
  source: () => conn.source,
  sink: () => conn.sink,
  sku: (i) => variant(i).sku,
  async refsOf(sku: string): Promise<PlatformRefs> {
    const i = sim.store.variants.findIndex((v) => v.sku === sku);
    const v = variantOf(sim, i);
    return { id: v.variantId, productId: v.productId, inventoryItemId: v.inventoryItemId, locationId: v.locationId };
  },
  platform: {
    async setPrice(sku, price) { await control(sim, 'PATCH', `/variants/${encodeURIComponent(sku)}`, { price }); },
    async setStock(sku, available) { await control(sim, 'POST', '/inventory/set', { sku, quantity: available }); },
    async readStock(sku) { return (await control(sim, 'GET', `/inventory?sku=${encodeURIComponent(sku)}`))[0].levels[0].available as number; },
    async placeOrder(lines) { return String((await control(sim, 'POST', '/orders', { lines })).id); },
    async cancelOrder(orderId) { await control(sim, 'POST', `/orders/${encodeURIComponent(orderId)}/cancel`, { restock: true }); },
  },
  async takeDeliveries() {
    await sim.webhooksIdle();
    return rx.take();
  },
  badWriteRefs: () => ({ id: 'gid://shopify/ProductVariant/999999999', inventoryItemId: 'gid://shopify/InventoryItem/999999999' }),
};

conformance(harness);
