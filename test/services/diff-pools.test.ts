import { strict as assert } from 'node:assert';
import { configSchema, type SyncConfig } from '../../src/config/schema.js';
import { resolveSide, runDiff } from '../../src/services/diff/index.js';
import type { ShopifySimulator } from '../../src/simulators/shopify/index.js';
import type { WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { api } from '../simulators/woocommerce/helpers.js';
import { isolate, type Isolation } from '../support/isolation.js';
import { alignWooToShopify, control, shopifyCfg, startShop, startWoo, wooCfg } from './diff-fixtures.js';

/*
 * Shopify has SKU-000002-1 and SKU-000003-1 with stock of their own; on WooCommerce they are the
 * variations of one product whose stock is managed by the product (manage_stock "parent", one
 * pool of 4). The pool is not either SKU's stock: diff shows it as a pool, never as a quantity.
 */
describe('diff: a WooCommerce stock pool shared by several SKUs', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let shop: ShopifySimulator;
  let woo: WooCommerceSimulator;
  let config: SyncConfig;
  let parent = 0;

  before(async () => {
    iso = await isolate('diff_pools');
    shop = await startShop(3, 0);
    woo = await startWoo(3, 0);
    await alignWooToShopify(shop, woo);
    const pooled = ['SKU-000002-1', 'SKU-000003-1'];
    const prices = new Map<string, string>();
    for (const sku of pooled) {
      const p = (await control(woo.info.controlUrl, 'GET', `/products?sku=${sku}`))[0];
      prices.set(sku, p.regular_price);
      assert.equal((await api(woo, 'DELETE', `/products/${p.id}?force=true`)).status, 200);
    }
    parent = (await api(woo, 'POST', '/products', { name: 'Pooled', type: 'variable', manage_stock: true, stock_quantity: 4, attributes: [{ name: 'Size', options: ['S', 'M'] }] })).json.id;
    for (const [i, sku] of pooled.entries()) {
      await api(woo, 'POST', `/products/${parent}/variations`, { sku, regular_price: prices.get(sku), attributes: [{ name: 'Size', option: ['S', 'M'][i] }] });
    }
    config = configSchema.parse({ ...iso.config, sources: { shopify: { main: shopifyCfg(shop) }, woocommerce: { outlet: wooCfg(woo) } }, sync: { authority: 'shopify:main' } });
  });
  after(async () => {
    await shop?.close();
    await woo?.close();
    await iso?.cleanup();
  });

  it('lists each pooled SKU as shared_stock with the pool, not as a quantity difference', async () => {
    const run = await runDiff(config, resolveSide('shopify', config), resolveSide('woocommerce', config), { pool: iso.pool });
    try {
      const diffs = [];
      for await (const d of run.differences()) diffs.push(d);
      const shopQty = (sku: string) => [...shop.store.variantsBySku.get(sku)[0]!.inventoryItem.levels.values()][0]!.quantities.available;
      assert.deepEqual(diffs, [
        { sku: 'SKU-000002-1', kind: 'shared_stock', a: shopQty('SKU-000002-1'), b: `pool of product ${parent}: 4` },
        { sku: 'SKU-000003-1', kind: 'shared_stock', a: shopQty('SKU-000003-1'), b: `pool of product ${parent}: 4` },
      ]);
      assert.equal(run.summary.sharedStock, 2);
      assert.equal(run.summary.quantity, 0);
      assert.equal(run.inSync, false);
      assert.equal(run.kinds.shared_stock, 2);
    } finally {
      await run.close();
    }
  });
});
