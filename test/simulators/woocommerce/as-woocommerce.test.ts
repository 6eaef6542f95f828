import assert from 'node:assert/strict';
import type { WooCommerceSimulator } from '../../../src/simulators/woocommerce/index.js';
import { api, createWebhook, startListener, startSim, type HookListener } from './helpers.js';

/**
 * Behaviours taken from WooCommerce's source (WC_Product_Variation, the variations controller,
 * WC_Webhook, WC_Webhook_Data_Store, the webhooks controller) that the simulator used to soften.
 */
describe('WooCommerce simulator: as WooCommerce behaves', () => {
  let sim: WooCommerceSimulator;
  let hooks: HookListener;
  beforeEach(async () => {
    hooks = await startListener();
  });
  afterEach(async () => {
    await sim?.close();
    await hooks.close();
  });

  /** A variable product managing stock (10 units) with three variations that leave stock to it. */
  async function pooledProduct(): Promise<{ parent: number; variations: number[] }> {
    const p = await api(sim, 'POST', '/products', { name: 'Pooled tee', type: 'variable', sku: 'POOL', manage_stock: true, stock_quantity: 10, attributes: [{ name: 'Size', options: ['S', 'M', 'L'] }] });
    assert.equal(p.status, 201, JSON.stringify(p.json));
    const variations: number[] = [];
    for (const size of ['S', 'M', 'L']) {
      const v = await api(sim, 'POST', `/products/${p.json.id}/variations`, { sku: `POOL-${size}`, regular_price: '10', attributes: [{ name: 'Size', option: size }] });
      assert.equal(v.status, 201, JSON.stringify(v.json));
      variations.push(v.json.id);
    }
    return { parent: p.json.id, variations };
  }

  describe('stock managed by the parent product', () => {
    it('shows manage_stock "parent", the parent quantity and backorders on every variation, and the quantity on the product', async () => {
      sim = await startSim();
      const { parent, variations } = await pooledProduct();
      const prod = await api(sim, 'GET', `/products/${parent}`);
      assert.equal(prod.json.manage_stock, true);
      assert.equal(prod.json.stock_quantity, 10);
      assert.equal(prod.json.stock_status, 'instock');
      const list = await api(sim, 'GET', `/products/${parent}/variations`);
      assert.equal(list.json.length, 3);
      for (const v of list.json) {
        assert.equal(v.manage_stock, 'parent');
        assert.equal(v.stock_quantity, 10);
        assert.equal(v.backorders, 'no');
      }
      const bySku = await api(sim, 'GET', '/products?sku=POOL-M');
      assert.equal(bySku.json[0].id, variations[1]);
      assert.equal(bySku.json[0].manage_stock, 'parent');
      assert.equal(bySku.json[0].stock_quantity, 10);
    });

    it('generates pooled variable products with parentManagedStockRatio', async () => {
      sim = await startSim({ products: 4, variationsPerProduct: 3, parentManagedStockRatio: 1 });
      const products = (await api(sim, 'GET', '/products?type=variable')).json;
      assert.equal(products.length, 4);
      for (const p of products) {
        assert.equal(p.manage_stock, true);
        for (const v of (await api(sim, 'GET', `/products/${p.id}/variations`)).json) {
          assert.equal(v.manage_stock, 'parent');
          assert.equal(v.stock_quantity, p.stock_quantity);
        }
      }
    });

    it('takes an order of any variation from the one pool and fires product.updated for the parent only', async () => {
      sim = await startSim();
      const { parent, variations } = await pooledProduct();
      await createWebhook(sim, 'product.updated', hooks.url);
      await sim.flushWebhooks();
      hooks.received.length = 0;
      const order = await api(sim, 'POST', '/orders', { status: 'processing', line_items: [{ variation_id: variations[0], quantity: 2 }, { variation_id: variations[2], quantity: 3 }] });
      assert.equal(order.status, 201, JSON.stringify(order.json));
      await sim.flushWebhooks();
      const list = await api(sim, 'GET', `/products/${parent}/variations`);
      for (const v of list.json) assert.equal(v.stock_quantity, 5);
      assert.equal((await api(sim, 'GET', `/products/${parent}`)).json.stock_quantity, 5);
      const ids = hooks.deliveries().map((d) => JSON.parse(d.raw.toString()).id as number);
      assert.deepEqual([...new Set(ids)], [parent]);
    });

    it('passes the parent stock status down to its variations when the pool runs out', async () => {
      sim = await startSim();
      const { parent, variations } = await pooledProduct();
      await api(sim, 'POST', '/orders', { status: 'processing', line_items: [{ variation_id: variations[1], quantity: 10 }] });
      assert.equal((await api(sim, 'GET', `/products/${parent}`)).json.stock_status, 'outofstock');
      for (const v of (await api(sim, 'GET', `/products/${parent}/variations`)).json) assert.equal(v.stock_status, 'outofstock');
    });

    it('stores a stock_quantity sent without manage_stock on the variation, where nothing reads it; manage_stock true splits the pool', async () => {
      sim = await startSim();
      const { parent, variations } = await pooledProduct();
      await api(sim, 'PUT', `/products/${parent}/variations/${variations[0]}`, { stock_quantity: 3 });
      const still = await api(sim, 'GET', `/products/${parent}/variations/${variations[0]}`);
      assert.equal(still.json.manage_stock, 'parent');
      assert.equal(still.json.stock_quantity, 10);
      await api(sim, 'PUT', `/products/${parent}/variations/${variations[0]}`, { manage_stock: true, stock_quantity: 3 });
      const split = await api(sim, 'GET', `/products/${parent}/variations/${variations[0]}`);
      assert.equal(split.json.manage_stock, true);
      assert.equal(split.json.stock_quantity, 3);
    });
  });

  it('forces backorders to "no" when stock is not managed, so re-enabling management at 0 units is out of stock', async () => {
    sim = await startSim();
    const p = await api(sim, 'POST', '/products', { name: 'B', sku: 'BO-1', manage_stock: true, stock_quantity: 0, backorders: 'yes' });
    assert.equal(p.json.stock_status, 'onbackorder');
    const off = await api(sim, 'PUT', `/products/${p.json.id}`, { manage_stock: false });
    assert.equal(off.json.backorders, 'no');
    const on = await api(sim, 'PUT', `/products/${p.json.id}`, { manage_stock: true });
    assert.equal(on.json.stock_quantity, 0);
    assert.equal(on.json.stock_status, 'outofstock');
  });

  describe('deletions', () => {
    it('fires product.deleted on trash only: not on force=true, not on batch delete, not on variation delete', async () => {
      sim = await startSim({ products: 4, variationsPerProduct: 2 });
      await createWebhook(sim, 'product.deleted', hooks.url);
      const ids = [...sim.store.products.values()].filter((r) => r.parentId === 0).map((r) => r.id);
      const [trashed, forced, batched, withVariation] = ids as [number, number, number, number];
      const variation = sim.store.get(withVariation)!.children[0]!;
      await api(sim, 'DELETE', `/products/${forced}?force=true`);
      await api(sim, 'POST', '/products/batch', { delete: [batched] });
      await api(sim, 'DELETE', `/products/${withVariation}/variations/${variation}?force=true`);
      await sim.flushWebhooks();
      assert.equal(hooks.deliveries().length, 0, 'permanent deletions announce nothing');
      const kids = [...sim.store.get(trashed)!.children];
      await api(sim, 'DELETE', `/products/${trashed}`);
      await sim.flushWebhooks();
      const announced = hooks.deliveries().map((d) => JSON.parse(d.raw.toString()).id as number).sort((a, b) => a - b);
      assert.deepEqual(announced, [trashed, ...kids].sort((a, b) => a - b), 'trashing a variable product trashes (and announces) its variations');
    });
  });

  describe('webhooks', () => {
    it('lists the topic hooks of a webhook', async () => {
      sim = await startSim();
      const id = await createWebhook(sim, 'product.deleted', hooks.url);
      assert.deepEqual((await api(sim, 'GET', `/webhooks/${id}`)).json.hooks, ['wp_trash_post']);
      const upd = await createWebhook(sim, 'product.updated', hooks.url);
      assert.deepEqual((await api(sim, 'GET', `/webhooks/${upd}`)).json.hooks, ['woocommerce_process_product_meta', 'woocommerce_update_product', 'woocommerce_update_product_variation']);
    });

    it('answers 400 "ID is invalid." when reading or updating a deleted webhook, 404 when deleting it again', async () => {
      sim = await startSim();
      const id = await createWebhook(sim, 'order.updated', hooks.url);
      assert.equal((await api(sim, 'DELETE', `/webhooks/${id}?force=true`)).status, 200);
      const get = await api(sim, 'GET', `/webhooks/${id}`);
      assert.equal(get.status, 400);
      assert.equal(get.json.code, 'woocommerce_rest_shop_webhook_invalid_id');
      assert.equal(get.json.message, 'ID is invalid.');
      assert.equal((await api(sim, 'PUT', `/webhooks/${id}`, { name: 'x' })).status, 400);
      assert.equal((await api(sim, 'DELETE', `/webhooks/${id}?force=true`)).status, 404);
    });

    it('creates, updates and deletes webhooks through webhooks/batch', async () => {
      sim = await startSim();
      const keep = await createWebhook(sim, 'order.created', hooks.url);
      const gone = await createWebhook(sim, 'order.updated', hooks.url);
      const res = await api(sim, 'POST', '/webhooks/batch', {
        create: [{ topic: 'product.updated', delivery_url: hooks.url }, { topic: 'nope.nope', delivery_url: hooks.url }],
        update: [{ id: keep, name: 'renamed' }],
        delete: [gone],
      });
      assert.equal(res.status, 200);
      assert.equal(res.json.create[0].topic, 'product.updated');
      assert.equal(res.json.create[1].error.code, 'woocommerce_rest_shop_webhook_invalid_topic');
      assert.equal(res.json.update[0].name, 'renamed');
      assert.equal(res.json.delete[0].id, gone);
      assert.deepEqual((await api(sim, 'GET', '/webhooks?orderby=id&order=asc')).json.map((w: { id: number }) => w.id), [keep, res.json.create[0].id]);
    });

    it('pings again on every save until a ping gets exactly 200, and pings a changed delivery_url', async () => {
      sim = await startSim();
      hooks.status = 204; // a success for deliveries, not for the ping
      const id = await createWebhook(sim, 'product.updated', hooks.url);
      const pings = () => sim.deliveries.filter((d) => d.kind === 'ping' && d.webhookId === id).length;
      assert.equal(pings(), 1);
      await api(sim, 'PUT', `/webhooks/${id}`, { name: 'again' });
      assert.equal(pings(), 2, 'a save pings while the ping is pending');
      await api(sim, 'PUT', '/products/' + sim.store.findBySku('SKU-000001-1')[0]!.id, { regular_price: '7' });
      await sim.flushWebhooks();
      assert.equal(pings(), 3, 'the save after a delivery pings too');
      hooks.status = 200;
      await api(sim, 'PUT', `/webhooks/${id}`, { name: 'ok now' });
      assert.equal(pings(), 4);
      await api(sim, 'PUT', `/webhooks/${id}`, { name: 'quiet' });
      assert.equal(pings(), 4, 'no ping once one got 200');
      const other = await startListener();
      try {
        await api(sim, 'PUT', `/webhooks/${id}`, { delivery_url: other.url });
        assert.equal(pings(), 5);
        assert.equal(other.received.length, 1);
        assert.equal(other.received[0]!.raw.toString(), `webhook_id=${id}`);
      } finally {
        await other.close();
      }
    });
  });

  it('changes only the faults a PUT /_sim/faults names', async () => {
    sim = await startSim();
    const put = (b: unknown): Promise<Record<string, number>> => fetch(`${sim.controlUrl}/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) }).then(async (r) => (await r.json()) as Record<string, number>);
    await put({ dropWebhooksPercent: 20, latencyMs: 5 });
    const after = await put({ throttlePercent: 10 });
    assert.equal(after.dropWebhooksPercent, 20);
    assert.equal(after.latencyMs, 5);
    assert.equal(after.throttlePercent, 10);
    const bad = await fetch(`${sim.controlUrl}/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dropWebhooksPercnt: 1 }) });
    assert.equal(bad.status, 400);
  });

  describe('list parameters', () => {
    it('applies exclude, slug, on_sale and min_price/max_price as WooCommerce does', async () => {
      sim = await startSim({ products: 0 });
      const mk = async (name: string, regular: string, sale = '') => (await api(sim, 'POST', '/products', { name, regular_price: regular, sale_price: sale })).json;
      const a = await mk('Alpha', '10');
      const b = await mk('Beta', '20', '15');
      const c = await mk('Gamma', '30');
      const ids = async (q: string) => (await api(sim, 'GET', `/products?orderby=id&order=asc&${q}`)).json.map((p: { id: number }) => p.id);
      assert.deepEqual(await ids(`exclude=${a.id},${c.id}`), [b.id]);
      assert.deepEqual(await ids('slug=gamma'), [c.id]);
      assert.deepEqual(await ids('on_sale=true'), [b.id]);
      assert.deepEqual(await ids('on_sale=false'), [a.id, c.id]);
      assert.equal(b.on_sale, true);
      assert.deepEqual(await ids('min_price=15&max_price=30'), [b.id, c.id], 'inclusive, on the active price (sale price when on sale)');
      assert.deepEqual(await ids('max_price=12'), [a.id]);
      assert.deepEqual(await ids('min_price=0'), [a.id, b.id, c.id], '"0" is no bound (empty() in PHP)');
    });

    it('takes date_created_gmt given on create, so after/before filter by it', async () => {
      sim = await startSim({ products: 0 });
      const old = (await api(sim, 'POST', '/products', { name: 'Old', date_created_gmt: '2020-05-01T10:00:00' })).json;
      const mid = (await api(sim, 'POST', '/products', { name: 'Mid', date_created: '2022-05-01T11:00:00' })).json; // site time (UTC+1)
      assert.equal(old.date_created_gmt, '2020-05-01T10:00:00');
      assert.equal(mid.date_created_gmt, '2022-05-01T10:00:00');
      const ids = async (q: string) => (await api(sim, 'GET', `/products?dates_are_gmt=true&${q}`)).json.map((p: { id: number }) => p.id);
      assert.deepEqual(await ids('before=2021-01-01T00:00:00'), [old.id]);
      assert.deepEqual(await ids('after=2021-01-01T00:00:00&before=2023-01-01T00:00:00'), [mid.id]);
    });

    it('answers 400 rest_invalid_param naming a WooCommerce parameter it does not model', async () => {
      sim = await startSim();
      const res = await api(sim, 'GET', '/products?category=12&featured=true');
      assert.equal(res.status, 400);
      assert.equal(res.json.code, 'rest_invalid_param');
      assert.deepEqual(Object.keys(res.json.data.params).sort(), ['category', 'featured']);
      assert.equal((await api(sim, 'GET', '/orders?customer=3')).status, 400);
      assert.equal((await api(sim, 'GET', '/webhooks?after=2020-01-01T00:00:00')).status, 400);
    });
  });

  describe('quirks connectors must survive', () => {
    it('delivers order.updated for an order creation, and nothing for a permanently deleted order', async () => {
      sim = await startSim();
      await createWebhook(sim, 'order.updated', hooks.url);
      await createWebhook(sim, 'order.deleted', hooks.url);
      const o = (await api(sim, 'POST', '/orders', { status: 'processing', line_items: [{ sku: 'SKU-000001-1', quantity: 1 }] })).json;
      await sim.flushWebhooks();
      assert.deepEqual(hooks.deliveries().map((d) => [d.headers['x-wc-webhook-topic'], JSON.parse(d.raw.toString()).id]), [['order.updated', o.id]]);
      await api(sim, 'DELETE', `/orders/${o.id}?force=true`);
      await sim.flushWebhooks();
      assert.equal(hooks.deliveries().length, 1);
    });

    it('fires product.updated up to three times for one save when repeatProductUpdated is set', async () => {
      sim = await startSim({ faults: { repeatProductUpdated: 2 } });
      await createWebhook(sim, 'product.updated', hooks.url);
      const id = sim.store.findBySku('SKU-000002-1')[0]!.id;
      await api(sim, 'PUT', `/products/${id}`, { regular_price: '9' });
      await sim.flushWebhooks();
      const bodies = hooks.deliveries().map((d) => JSON.parse(d.raw.toString()));
      assert.equal(bodies.length, 3);
      for (const b of bodies) assert.equal(b.regular_price, '9');
    });

    it('skips order webhooks while a background job holds the order when skipOrderWebhooksPercent is set', async () => {
      sim = await startSim({ faults: { skipOrderWebhooksPercent: 100 } });
      await createWebhook(sim, 'order.created', hooks.url);
      await api(sim, 'POST', '/orders', { status: 'processing', line_items: [{ sku: 'SKU-000001-1', quantity: 1 }] });
      await sim.flushWebhooks();
      assert.equal(hooks.deliveries().length, 0);
      assert.equal(sim.deliveries.filter((d) => d.outcome === 'skipped').length, 1);
    });
  });
});
