import type { WooInstanceConfig } from '../../src/config/schema.js';
import type { WebhookRequest } from '../../src/connectors/types.js';
import { createWooCommerceConnector, type WooCommerceConnector } from '../../src/connectors/woocommerce/index.js';
import { catalogSku, type WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { startListener, startSim, type HookListener } from '../simulators/woocommerce/helpers.js';
import { control, productBySku, toRequest } from '../connectors/woocommerce/support.js';
import type { ConformanceHarness } from './harness.js';
import { conformance } from './suite.js';

/** The WooCommerce connector on its simulator, over real HTTP (OAuth 1.0a, as on a plain-http site). */
function wooHarness(): ConformanceHarness {
  let sim: WooCommerceSimulator;
  let listener: HookListener;
  let conn: WooCommerceConnector;
  let seen = 0;
  return {
    name: 'woocommerce',
    async setup() {
      sim = await startSim({ products: 20, requireOAuthOverHttp: true });
      listener = await startListener();
      const cfg: WooInstanceConfig = {
        url: sim.baseUrl,
        consumerKey: sim.info.consumerKey,
        consumerSecret: sim.info.consumerSecret,
        webhookSecret: 'conformance-secret',
        concurrency: 2,
        buffer: 0,
        pollIntervalSeconds: 60,
        deletionCheckSeconds: 600,
        stockPools: {},
        repairWebhooks: true,
      };
      conn = createWooCommerceConnector('conf', cfg, { deliveryUrl: listener.url });
      await conn.health.ensureWebhooks(listener.url);
    },
    async teardown() {
      await sim?.close();
      await listener?.close();
    },
    source: () => conn.source,
    sink: () => conn.sink,
    sku: (i) => catalogSku(i + 1, 1),
    async refsOf(sku) {
      const p = await productBySku(sim, sku);
      return { id: String(p.id), productId: String(p.parent_id || p.id), ...(p.parent_id ? { parentId: String(p.parent_id) } : {}) };
    },
    platform: {
      async setPrice(sku, price) {
        await control(sim, 'PUT', '/products', { sku, regular_price: price });
      },
      async setStock(sku, available) {
        await control(sim, 'POST', '/stock', { sku, quantity: available });
      },
      async readStock(sku) {
        return (await productBySku(sim, sku)).stock_quantity as number;
      },
      async placeOrder(lines) {
        return String((await control(sim, 'POST', '/orders', { lines })).id);
      },
      async cancelOrder(orderId) {
        await control(sim, 'POST', `/orders/${orderId}/status`, { status: 'cancelled' });
      },
      async deleteProduct(sku) {
        const p = await productBySku(sim, sku);
        // Trash: the deletion WooCommerce announces (product.deleted is hooked to wp_trash_post);
        // permanent deletes send nothing and are found by the deletion check (its own tests).
        await conn.client.request({ method: 'DELETE', path: `/products/${p.id}` });
      },
    },
    async takeDeliveries(): Promise<WebhookRequest[]> {
      await sim.flushWebhooks();
      const fresh = listener.received.slice(seen);
      seen = listener.received.length;
      return fresh.filter((r) => r.headers['x-wc-webhook-topic'] !== undefined).map(toRequest);
    },
    badWriteRefs: () => ({ id: '999999' }),
  };
}

conformance(wooHarness());
