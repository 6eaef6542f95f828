import { strict as assert } from 'node:assert';
import type { NewRawEvent, RawInventory, RawProduct } from '../../../src/connectors/types.js';
import { payloadChecksum } from '../../../src/core/ids.js';
import type { BackfillCursor } from '../../../src/connectors/shopify/index.js';
import { control, pollAll, startRig, type Rig } from './helpers.js';

describe('Shopify backfill (bulk operation)', function () {
  this.timeout(60_000);
  let rig: Rig;

  before(async () => { rig = await startRig({ plan: 'plus', catalog: { products: 1000, variantsPerProduct: 3 } }); });
  after(() => rig.close());

  it('streams a few thousand variants as products with their variants and stock', async () => {
    const events: NewRawEvent[] = [];
    let batches = 0;
    for await (const b of rig.conn.backfill.run(null, { batchSize: 400 })) {
      batches++;
      assert.ok(b.events.length <= 400 + 4, 'a batch grew beyond its size');
      events.push(...b.events);
    }
    assert.ok(batches > 5);
    const products = events.filter((e) => e.payload.kind === 'product').map((e) => e.payload as RawProduct);
    const levels = events.filter((e) => e.payload.kind === 'inventory').map((e) => e.payload as RawInventory);
    assert.equal(products.length, 1000);
    assert.equal(new Set(products.map((p) => p.productId)).size, 1000);
    assert.equal(levels.length, 3000);
    for (const p of products.slice(0, 50)) {
      const expected = rig.sim.store.productById.get(Number(p.productId.split('/').at(-1)))!.variants.map((v) => v.sku).sort();
      assert.deepEqual(p.variants.map((v) => v.sku).sort(), expected, `variants of ${p.productId} were not reassembled`);
    }
    assert.ok(events.every((e) => e.origin === 'backfill'));
  });

  it('runs six backfills and comparisons of one shop at once: the sixth waits out LIMIT_REACHED, all finish', async () => {
    const small = await startRig({ plan: 'plus', catalog: { products: 40, variantsPerProduct: 2 }, bulkOperationLatencyMs: 400 });
    try {
      const backfill = async () => {
        let n = 0;
        for await (const b of small.conn.backfill.run(null, { batchSize: 50 })) n += b.events.filter((e) => e.payload.kind === 'product').length;
        return n;
      };
      const diff = async () => {
        let n = 0;
        for await (const states of small.conn.backfill.productStates({ batchSize: 50 })) n += states.length;
        return n;
      };
      const counts = await Promise.all([backfill(), diff(), backfill(), diff(), backfill(), diff()]);
      assert.deepEqual(counts, [40, 40, 40, 40, 40, 40]);
      assert.ok(small.sim.bulk.limitReached >= 1, 'the sixth bulk query was refused at least once');
      const runs = (await control(small.sim, 'GET', '/writes')).length;
      assert.equal(runs, 0, 'reads only');
    } finally {
      await small.close();
    }
  });

  it('normalises rows like the poller, so intake recognises states it holds', async () => {
    const bulk = new Map<string, string>();
    for await (const b of rig.conn.backfill.run(null)) for (const e of b.events) bulk.set(e.entityRef, payloadChecksum(e.payload));
    const { events } = await pollAll(rig.conn);
    const polled = events.filter((e) => e.payload.kind !== 'order');
    assert.equal(polled.length, bulk.size);
    for (const e of polled) assert.equal(bulk.get(e.entityRef), payloadChecksum(e.payload), e.entityRef);
  });

  it('resumes from a cursor without repeating or skipping a product', async () => {
    const all: string[] = [];
    let cursor: BackfillCursor | null = null;
    for await (const b of rig.conn.backfill.run(null, { batchSize: 300 })) {
      all.push(...b.events.filter((e) => e.payload.kind === 'product').map((e) => e.entityRef));
      cursor = b.cursor;
      if (all.length >= 200) break;
    }
    for await (const b of rig.conn.backfill.run(cursor, { batchSize: 300 })) all.push(...b.events.filter((e) => e.payload.kind === 'product').map((e) => e.entityRef));
    assert.equal(all.length, 1000);
    assert.equal(new Set(all).size, 1000);
  });

  it('gives a comparison the same product and stock states as the events of a backfill, without building events', async () => {
    const fromEvents = new Map<string, string>();
    for await (const b of rig.conn.backfill.run(null)) for (const e of b.events) fromEvents.set(e.entityRef, payloadChecksum(e.payload));
    const fromStates = new Map<string, string>();
    let batches = 0;
    for await (const states of rig.conn.backfill.productStates({ batchSize: 250 })) {
      batches++;
      assert.ok(states.length <= 250);
      for (const s of states) {
        fromStates.set(s.product.productId, payloadChecksum(s.product));
        for (const i of s.inventory) fromStates.set(i.entityRef, payloadChecksum(i.payload));
      }
    }
    assert.equal(batches, 4);
    assert.deepEqual(fromStates, fromEvents);
  });
});
