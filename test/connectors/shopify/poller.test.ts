import { strict as assert } from 'node:assert';
import type { RawInventory, RawProduct } from '../../../src/connectors/types.js';
import { EventStore } from '../../../src/pipeline/intake/event-store.js';
import { isolate, type Isolation } from '../../support/isolation.js';
import { control, pollAll, startReceiver, startRig, variantOf, type Receiver, type Rig } from './helpers.js';

describe('Shopify poller', function () {
  this.timeout(60_000);

  describe('with 30% of webhooks dropped', () => {
    let rig: Rig;
    let rx: Receiver;
    let iso: Isolation;
    let store: EventStore;

    before(async () => {
      iso = await isolate('shopify_poller');
      store = new EventStore(iso.pool);
      rig = await startRig({ seed: 7, catalog: { products: 40, variantsPerProduct: 2 }, faults: { webhooks: { dropRate: 0.3 } } });
      rx = await startReceiver();
      await rig.conn.subscriptions.ensureWebhooks(rx.url);
    });
    after(async () => {
      await rig.close();
      await rx.close();
      await iso.cleanup();
    });

    it('finds every change the webhooks lost, and stores none of the delivered ones twice', async () => {
      const { checkpoints } = await pollAll(rig.conn);
      const changed = Array.from({ length: 40 }, (_, i) => variantOf(rig.sim, i * 2));
      for (const [i, v] of changed.entries()) {
        await control(rig.sim, 'PATCH', `/variants/${encodeURIComponent(v.sku)}`, { price: `${i + 1}.25` });
        await control(rig.sim, 'POST', '/inventory/set', { sku: v.sku, quantity: 500 + i });
      }
      await rig.sim.webhooksIdle();
      const hooked = [];
      for (const d of rx.take()) {
        const out = await rig.conn.source.verifyAndParse(d);
        if (out.kind === 'events') hooked.push(...out.events);
      }
      await store.store(hooked);
      const dropped = (await control(rig.sim, 'GET', '/webhooks/deliveries')).filter((d: { state: string }) => d.state === 'dropped').length;
      assert.ok(dropped > 0, 'the fault did not drop anything');

      const polled = await pollAll(rig.conn, checkpoints);
      const r = await store.store(polled.events);
      assert.ok(r.unchanged > 0, 'states already delivered by webhook were not recognised');

      const rows = await iso.pool.query<{ data: RawProduct | RawInventory }>(`select data from source_events`);
      for (const [i, v] of changed.entries()) {
        const prices = rows.rows.flatMap((x) => (x.data.kind === 'product' ? x.data.variants.filter((y) => y.sku === v.sku).map((y) => y.price) : []));
        const stocks = rows.rows.flatMap((x) => (x.data.kind === 'inventory' && x.data.sku === v.sku ? [x.data.available] : []));
        assert.ok(prices.includes(`${i + 1}.25`), `price of ${v.sku} missing`);
        assert.ok(stocks.includes(500 + i), `stock of ${v.sku} missing`);
      }
    });
  });

  describe('paging', () => {
    let rig: Rig;
    before(async () => { rig = await startRig({ plan: 'plus', catalog: { products: 120, variantsPerProduct: 12 } }, {}, { pollOverlapMs: 5_000 }); });
    after(() => rig.close());

    it('pages through products with more variants than one page holds, oldest change first', async () => {
      const page = await rig.conn.source.poll('products', null);
      assert.equal(page.more, true);
      const p = page.events.find((e) => e.payload.kind === 'product')!.payload as RawProduct;
      assert.equal(p.variants.length, 12, 'variants beyond the first page were not fetched');
      const { events } = await pollAll(rig.conn);
      assert.equal(events.filter((e) => e.payload.kind === 'product').length, 120);
      assert.equal(events.filter((e) => e.payload.kind === 'inventory').length, 120 * 12);
    });

    it('resumes from its checkpoint and reads only the overlap window again', async () => {
      const { checkpoints } = await pollAll(rig.conn);
      const v = variantOf(rig.sim, 500);
      await control(rig.sim, 'PATCH', `/variants/${encodeURIComponent(v.sku)}`, { price: '8.88' });
      const again = await pollAll(rig.conn, checkpoints);
      const products = again.events.filter((e) => e.payload.kind === 'product');
      assert.ok(products.some((e) => e.entityRef === v.productId));
      assert.ok(products.length < 120, 'a resumed poll read the whole catalog');
      const page = await rig.conn.source.poll('orders', checkpoints.orders ?? null);
      assert.equal(page.more, false);
    });
  });
});
