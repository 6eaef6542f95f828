import { strict as assert } from 'node:assert';
import type { NewRawEvent, PollCheckpoint, RawProduct } from '../../../src/connectors/types.js';
import { createWooCommerceConnector, type WooCommerceConnector } from '../../../src/connectors/woocommerce/index.js';
import { EventStore } from '../../../src/pipeline/intake/event-store.js';
import { catalogSku } from '../../../src/simulators/woocommerce/index.js';
import { isolate, type Isolation } from '../../support/isolation.js';
import { control, startRig, type WooRig } from './support.js';

/** Polls `resource` to the end from `cp`; returns the events and the last checkpoint. */
async function drain(conn: WooCommerceConnector, resource: string, cp: PollCheckpoint | null, onPage?: (n: number) => Promise<void>) {
  const events: NewRawEvent[] = [];
  for (let n = 1; n < 500; n++) {
    const page = await conn.source.poll(resource, cp);
    events.push(...page.events);
    cp = page.checkpoint;
    if (onPage) await onPage(n);
    if (!page.more) return { events, checkpoint: cp };
  }
  throw new Error('poll did not finish');
}

/** Latest stored `available` per SKU in source_events (by occurredAt, then received order). */
async function storedAvailability(iso: Isolation): Promise<Map<string, number>> {
  const r = await iso.pool.query<{ data: RawProduct }>(`select data from source_events where data->>'kind' = 'product' order by timestamp, received_at`);
  const out = new Map<string, number>();
  for (const { data } of r.rows) for (const v of data.variants) if (v.sku && typeof v.available === 'number') out.set(v.sku, v.available);
  return out;
}

const stockOf = async (rig: WooRig, sku: string): Promise<number> => (await control(rig.sim, 'GET', `/products?sku=${sku}`))[0].stock_quantity;

describe('WooCommerce poller', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let store: EventStore;
  before(async () => {
    iso = await isolate('woo_poller');
    store = new EventStore(iso.pool);
  });
  after(async () => iso.cleanup());

  describe('with 30 % of webhooks dropped', () => {
    let rig: WooRig;
    before(async () => {
      rig = await startRig({ products: 20, variationsPerProduct: 2, seed: 7 }, { webhooks: true });
    });
    after(async () => rig.close());

    it('recovers every change the webhooks lost, and recognises those they delivered', async () => {
      const { checkpoint: start } = await drain(rig.conn, 'products', null);
      rig.sim.setFaults({ dropWebhooksPercent: 30 });
      const changed = new Set<string>();
      for (let i = 0; i < 60; i++) {
        const sku = catalogSku((i * 7) % 20 + 1, (i % 2) + 1);
        changed.add(sku);
        await control(rig.sim, 'POST', '/stock', { sku, quantity: 100 + i });
      }
      await rig.flush();
      assert.ok(rig.sim.deliveries.some((d) => d.outcome === 'dropped'), 'nothing was dropped');
      for (const req of rig.take()) {
        const out = await rig.conn.source.verifyAndParse(req);
        if (out.kind === 'events') await store.store(out.events);
      }
      const { events } = await drain(rig.conn, 'products', start);
      const r = await store.store(events);
      assert.ok(r.unchanged > 0, 'no polled state was recognised as already delivered');
      const stored = await storedAvailability(iso);
      for (const sku of changed) assert.equal(stored.get(sku), await stockOf(rig, sku), `SKU ${sku}`);
    });
  });

  describe('paging', () => {
    let rig: WooRig;
    before(async () => {
      rig = await startRig({ products: 260, seed: 8 });
    });
    after(async () => rig.close());

    it('sees every row when hundreds change in the same second and rows move while it pages', async () => {
      const { checkpoint: start } = await drain(rig.conn, 'products', null);
      const ids = [...rig.sim.store.products.keys()].slice(0, 250);
      for (let i = 0; i < ids.length; i += 100) {
        await rig.conn.client.request({ method: 'POST', path: '/products/batch', body: { update: ids.slice(i, i + 100).map((id) => ({ id, stock_quantity: 500 })) } });
      }
      const moved: number[] = [];
      const { events } = await drain(rig.conn, 'products', start, async (n) => {
        if (n !== 1) return;
        // Rows of the first page change again: they move to the end, the others shift down.
        const update = ids.slice(0, 10).map((id) => ({ id, stock_quantity: 600 }));
        moved.push(...update.map((u) => u.id));
        await rig.conn.client.request({ method: 'POST', path: '/products/batch', body: { update } });
      });
      const last = new Map<string, number>();
      for (const e of events) for (const v of (e.payload as RawProduct).variants ?? []) if (typeof v.available === 'number') last.set(v.id, v.available);
      for (const id of ids) assert.equal(last.get(String(id)), moved.includes(id) ? 600 : 500, `product ${id}`);
    });

    it('resumes from a stored checkpoint after a restart without gaps', async () => {
      const first = await drain(rig.conn, 'products', null);
      const stored = JSON.stringify(first.checkpoint);
      // While the daemon is down: 150 changes (two pages) and a new product.
      const ids = [...rig.sim.store.products.keys()].slice(100, 250);
      for (let i = 0; i < ids.length; i += 100) {
        await rig.conn.client.request({ method: 'POST', path: '/products/batch', body: { update: ids.slice(i, i + 100).map((id) => ({ id, regular_price: '7.25' })) } });
      }
      const created = await rig.conn.client.request<any>({ method: 'POST', path: '/products', body: { name: 'New', sku: 'NEW-1', regular_price: '1.00' } });
      // A fresh connector (restart) stops after one page, "crashes", and a third one resumes from that checkpoint.
      const restarted = createWooCommerceConnector('test', rig.cfg);
      const page1 = await restarted.source.poll('products', JSON.parse(stored));
      assert.equal(page1.more, true);
      const again = createWooCommerceConnector('test', rig.cfg);
      const rest = await drain(again, 'products', JSON.parse(JSON.stringify(page1.checkpoint)));
      const seen = new Map<string, RawProduct>();
      for (const e of [...page1.events, ...rest.events]) seen.set(e.entityRef, e.payload as RawProduct);
      for (const id of ids) assert.equal(seen.get(String(id))?.variants[0]?.price, '7.25', `product ${id}`);
      assert.ok(seen.has(String(created.body.id)), 'new product missed');
      // Nothing older than the checkpoint minus the overlap window (5 s) is replayed.
      const floor = Date.parse(first.checkpoint!.since) - 5000;
      const old = [...page1.events, ...rest.events].filter((e) => Date.parse(e.occurredAt) < floor);
      assert.deepEqual(old.map((e) => e.entityRef), []);
      assert.ok(Date.parse(rest.checkpoint!.since) >= Date.parse(first.checkpoint!.since));
    });

    it('polls orders with the same checkpointing', async () => {
      const { checkpoint } = await drain(rig.conn, 'orders', null);
      const order = await control(rig.sim, 'POST', '/orders', { lines: [{ sku: catalogSku(3, 1), quantity: 1 }] });
      const { events } = await drain(rig.conn, 'orders', checkpoint);
      assert.ok(events.some((e) => e.entityRef === `order:${order.id}` && e.origin === 'poll'));
    });
  });
});
