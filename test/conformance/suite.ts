import { strict as assert } from 'node:assert';
import type { NewRawEvent, PollCheckpoint, RawInventory, RawOrder, RawProduct, SinkWrite } from '../../src/connectors/types.js';
import { EventStore } from '../../src/pipeline/intake/event-store.js';
import { newId } from '../../src/core/ids.js';
import { isolate, type Isolation } from '../support/isolation.js';
import type { ConformanceHarness } from './harness.js';

/** Polls until `fn` returns a truthy value or `ms` pass. */
async function eventually<T>(fn: () => Promise<T | undefined | null | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Drains every poll page of every resource from `cp` and returns the events and final checkpoints. */
async function pollAll(h: ConformanceHarness, cps: Record<string, PollCheckpoint | null>) {
  const src = h.source();
  const events: NewRawEvent[] = [];
  const next: Record<string, PollCheckpoint | null> = { ...cps };
  for (const r of src.pollResources) {
    for (let i = 0; i < 1000; i++) {
      const page = await src.poll(r, next[r] ?? null);
      events.push(...page.events);
      next[r] = page.checkpoint;
      if (!page.more) break;
    }
  }
  return { events, checkpoints: next };
}

const skusOf = (e: NewRawEvent): string[] => {
  const p = e.payload;
  if (p.kind === 'product') return p.variants.map((v) => v.sku ?? '').filter(Boolean);
  if (p.kind === 'inventory') return p.sku ? [p.sku] : [];
  if (p.kind === 'order') return p.lines.map((l) => l.sku ?? '').filter(Boolean);
  return p.skus;
};

/**
 * The cases every connector must pass, whatever its platform: ingest, dedupe, restart from a
 * checkpoint, write and read back, partial failure. Run with `conformance(harness)` inside a test file.
 */
export function conformance(h: ConformanceHarness): void {
  describe(`${h.name} connector conformance`, function () {
    this.timeout(60_000);
    let iso: Isolation;
    let store: EventStore;

    before(async () => {
      iso = await isolate(`conf_${h.name}`);
      store = new EventStore(iso.pool);
      await h.setup();
    });
    after(async () => {
      await h.teardown();
      await iso.cleanup();
    });

    it('ingests a price change as a product event naming the SKU', async function () {
      if (h.capabilities?.poll === false) this.skip();
      const sku = h.sku(1);
      await h.platform.setPrice(sku, '42.50');
      const { events } = await pollAll(h, {});
      const mine = events.filter((e) => e.payload.kind === 'product' && skusOf(e).includes(sku));
      assert.ok(mine.length >= 1, 'no product event for the SKU');
      const v = (mine.at(-1)!.payload as RawProduct).variants.find((x) => x.sku === sku)!;
      assert.equal(v.price, '42.50');
    });

    it('ingests a stock change as the SKU\'s available quantity', async function () {
      if (h.capabilities?.poll === false) this.skip();
      const sku = h.sku(2);
      await h.platform.setStock(sku, 17);
      const { events } = await pollAll(h, {});
      const avail = events.flatMap((e) => {
        if (e.payload.kind === 'inventory' && e.payload.sku === sku) return [(e.payload as RawInventory).available];
        if (e.payload.kind === 'product') return (e.payload as RawProduct).variants.filter((v) => v.sku === sku && typeof v.available === 'number').map((v) => v.available as number);
        return [];
      });
      assert.ok(avail.includes(17), `saw ${JSON.stringify(avail)}`);
    });

    it('ingests an order with its lines, then its cancellation', async function () {
      if (h.capabilities?.poll === false) this.skip();
      const sku = h.sku(3);
      const orderId = await h.platform.placeOrder([{ sku, quantity: 2 }]);
      let { events } = await pollAll(h, {});
      const placed = events.filter((e) => e.payload.kind === 'order').map((e) => e.payload as RawOrder).find((o) => o.lines.some((l) => l.sku === sku));
      assert.ok(placed, 'order not ingested');
      assert.equal(placed.committed, true);
      assert.equal(placed.lines.find((l) => l.sku === sku)?.quantity, 2);
      await h.platform.cancelOrder(orderId);
      ({ events } = await pollAll(h, {}));
      const cancelled = events.map((e) => e.payload).find((p) => p.kind === 'order' && p.orderId === placed.orderId && p.cancelled);
      assert.ok(cancelled, 'cancellation not ingested');
    });

    it('stores a webhook delivered twice only once', async function () {
      const pending = h.takeDeliveries();
      if (pending === null) this.skip();
      await pending;
      await h.platform.setPrice(h.sku(4), '9.99');
      const deliveries = await eventually(async () => {
        const d = await h.takeDeliveries();
        return d && d.length ? d : undefined;
      });
      const src = h.source();
      let stored = 0;
      for (const d of [...deliveries, ...deliveries]) {
        const out = await src.verifyAndParse(d);
        if (out.kind === 'events') stored += (await store.store(out.events)).stored.length;
      }
      const first = await Promise.all(deliveries.map((d) => src.verifyAndParse(d)));
      const expected = first.reduce((n, o) => n + (o.kind === 'events' ? o.events.length : 0), 0);
      assert.equal(stored, expected, 'duplicates were stored');
    });

    it('recognises a polled state equal to one already stored and does not store it again', async function () {
      if (h.capabilities?.poll === false) this.skip();
      const sku = h.sku(5);
      await h.platform.setPrice(sku, '11.11');
      const first = await pollAll(h, {});
      await store.store(first.events);
      const again = await pollAll(h, {});
      const r = await store.store(again.events);
      assert.equal(r.stored.length, 0, `${r.stored.length} events stored twice`);
    });

    it('resumes from its checkpoint without gaps and without replaying old changes', async function () {
      if (h.capabilities?.poll === false) this.skip();
      const { checkpoints } = await pollAll(h, {});
      const sku = h.sku(6);
      await new Promise((r) => setTimeout(r, 1100)); // second-granular updated_at filters
      await h.platform.setPrice(sku, '55.00');
      const resumed = await pollAll(h, JSON.parse(JSON.stringify(checkpoints)));
      const hit = resumed.events.filter((e) => skusOf(e).includes(sku));
      assert.ok(hit.length >= 1, 'change after the checkpoint was missed');
      assert.ok(resumed.events.length < 50, `replayed ${resumed.events.length} events`);
    });

    it('writes an absolute stock level and reads it back', async function () {
      if (h.capabilities?.absoluteStockWrites === false) this.skip();
      const sku = h.sku(7);
      const refs = await h.refsOf(sku);
      const before = await h.platform.readStock(sku);
      const w: SinkWrite = { writeId: newId(), sku, kind: 'inventory', idempotencyKey: newId(), refs, payload: { available: before + 3 }, expected: before };
      const [res] = await h.sink().write([w]);
      assert.equal(res?.status, 'ok', JSON.stringify(res));
      assert.equal(await h.platform.readStock(sku), before + 3);
      const [read] = await h.sink().read([sku]);
      assert.equal(read?.available, before + 3);
    });

    it('applies a write once when it is sent again with the same idempotency key', async function () {
      if (h.capabilities?.absoluteStockWrites === false) this.skip();
      const sku = h.sku(8);
      const refs = await h.refsOf(sku);
      const before = await h.platform.readStock(sku);
      const w: SinkWrite = { writeId: newId(), sku, kind: 'inventory', idempotencyKey: newId(), refs, payload: { available: before - 1 }, expected: before };
      await h.sink().write([w]);
      const [again] = await h.sink().write([w]);
      assert.notEqual(again?.status, 'permanent', JSON.stringify(again));
      assert.equal(await h.platform.readStock(sku), before - 1);
    });

    it('reports a bad item of a batch as permanent and applies the others', async function () {
      if (h.capabilities?.absoluteStockWrites === false) this.skip();
      const good = h.sku(9);
      const refs = await h.refsOf(good);
      const before = await h.platform.readStock(good);
      const ok: SinkWrite = { writeId: newId(), sku: good, kind: 'inventory', idempotencyKey: newId(), refs, payload: { available: before + 1 }, expected: before };
      const bad: SinkWrite = { writeId: newId(), sku: 'NO-SUCH-SKU', kind: 'inventory', idempotencyKey: newId(), refs: h.badWriteRefs(), payload: { available: 1 }, expected: null };
      const res = await h.sink().write([ok, bad]);
      const byId = Object.fromEntries(res.map((r) => [r.writeId, r]));
      assert.equal(byId[ok.writeId]?.status, 'ok', JSON.stringify(res));
      assert.equal(byId[bad.writeId]?.status, 'permanent', JSON.stringify(res));
      assert.equal(await h.platform.readStock(good), before + 1);
    });

    it('ingests a deletion naming the product', async function () {
      if (!h.platform.deleteProduct || h.capabilities?.poll === false) this.skip();
      const sku = h.sku(10);
      await h.platform.deleteProduct!(sku);
      const { events } = await pollAll(h, {});
      const deletions = events.filter((e) => e.payload.kind === 'product_deleted');
      const d = await h.takeDeliveries();
      const fromHooks = d ? (await Promise.all(d.map((x) => h.source().verifyAndParse(x)))).flatMap((o) => (o.kind === 'events' ? o.events : [])) : [];
      assert.ok([...deletions, ...fromHooks].some((e) => e.payload.kind === 'product_deleted'), 'no deletion event');
    });
  });
}
