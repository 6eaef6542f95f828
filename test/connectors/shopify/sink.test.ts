import { strict as assert } from 'node:assert';
import type { SinkWrite } from '../../../src/connectors/types.js';
import { newId } from '../../../src/core/ids.js';
import { control, startRig, variantOf, type Rig } from './helpers.js';

const stock = async (rig: Rig, sku: string): Promise<number> => {
  const items = await control(rig.sim, 'GET', `/inventory?sku=${encodeURIComponent(sku)}`);
  return items[0].levels[0].available as number;
};

const inventoryWrite = (v: ReturnType<typeof variantOf>, available: number, expected: number | null, key = newId()): SinkWrite => ({
  writeId: newId(), sku: v.sku, kind: 'inventory', idempotencyKey: key,
  refs: { id: v.variantId, productId: v.productId, inventoryItemId: v.inventoryItemId }, payload: { available }, expected,
});

describe('Shopify sink', function () {
  let rig: Rig;

  before(async () => {
    rig = await startRig({ catalog: { products: 60, variantsPerProduct: 5 } });
  });
  after(() => rig.close());

  it('sets absolute stock levels in one batch and reports what each write left', async () => {
    const vs = [0, 1, 2].map((i) => variantOf(rig.sim, i));
    const before = await Promise.all(vs.map((v) => stock(rig, v.sku)));
    const res = await rig.conn.sink.write(vs.map((v, i) => inventoryWrite(v, before[i]! + 5, before[i]!)));
    assert.deepEqual(res.map((r) => r.status), ['ok', 'ok', 'ok']);
    for (const [i, v] of vs.entries()) assert.equal(await stock(rig, v.sku), before[i]! + 5);
    const applied = res[0]!.status === 'ok' ? res[0]!.applied : {};
    assert.equal(applied.available, before[0]! + 5);
    assert.match(String(applied.version), /Z$/);
  });

  it('re-reads a stale compare and writes again with the current quantity', async () => {
    const v = variantOf(rig.sim, 3);
    const actual = await stock(rig, v.sku);
    const [res] = await rig.conn.sink.write([inventoryWrite(v, 77, actual + 10)]);
    assert.equal(res!.status, 'ok', JSON.stringify(res));
    assert.equal(await stock(rig, v.sku), 77);
    assert.equal(res!.status === 'ok' ? res!.applied.observedBefore : null, actual);
  });

  it('applies an adjustment once when it is sent again with the same key', async () => {
    const v = variantOf(rig.sim, 4);
    const before = await stock(rig, v.sku);
    const w: SinkWrite = { ...inventoryWrite(v, 0, null), kind: 'adjust' as SinkWrite['kind'], payload: { delta: -3 } };
    const [a] = await rig.conn.sink.write([w]);
    const [b] = await rig.conn.sink.write([w]);
    assert.equal(a!.status, 'ok');
    assert.equal(b!.status, 'ok');
    assert.equal(await stock(rig, v.sku), before - 3);
    const log = await control(rig.sim, 'GET', '/writes?mutation=inventoryAdjustQuantities');
    const entries = log.filter((x: { idempotencyKey: string }) => x.idempotencyKey === w.idempotencyKey);
    assert.equal(entries.length, 1);
  });

  it('reports an unknown inventory item as permanent and applies the rest of its batch', async () => {
    const v = variantOf(rig.sim, 5);
    const before = await stock(rig, v.sku);
    const good = inventoryWrite(v, before + 2, before);
    const bad: SinkWrite = { ...inventoryWrite(v, 1, null), sku: 'NOPE', refs: { id: 'gid://shopify/ProductVariant/1', inventoryItemId: 'gid://shopify/InventoryItem/999999999' } };
    const res = await rig.conn.sink.write([bad, good]);
    assert.equal(res[0]!.status, 'permanent');
    assert.equal(res[0]!.status === 'permanent' ? res[0]!.code : '', 'SHOPIFY_INVALID_INVENTORY_ITEM');
    assert.equal(res[1]!.status, 'ok');
    assert.equal(await stock(rig, v.sku), before + 2);
  });

  it('updates prices per variant, title and status per product, and refuses fields it cannot write', async () => {
    const [v1, v2] = [variantOf(rig.sim, 6), variantOf(rig.sim, 7)];
    const fields = (v: typeof v1, f: Record<string, unknown>): SinkWrite => ({ ...inventoryWrite(v, 0, null), kind: 'fields', payload: { fields: f } });
    const res = await rig.conn.sink.write([fields(v1, { price: '19.9' }), fields(v2, { price: '5', title: 'New title', status: 'archived' }), fields(v1, { weight: 3 })]);
    assert.deepEqual(res.map((r) => r.status), ['ok', 'ok', 'permanent']);
    assert.equal(res[2]!.status === 'permanent' ? res[2]!.code : '', 'SHOPIFY_FIELD_UNSUPPORTED');
    const read = await rig.conn.sink.read([v1.sku, v2.sku]);
    assert.deepEqual(read.map((r) => r.price), ['19.90', '5.00']);
    const p2 = rig.sim.store.variantById.get(Number(v2.variantId.split('/').pop()))!.product;
    assert.deepEqual([p2.title, p2.status], ['New title', 'ARCHIVED']);
  });

  it('reads available, price and title by SKU and leaves unknown SKUs out', async () => {
    const skus = Array.from({ length: 120 }, (_, i) => variantOf(rig.sim, i).sku);
    const read = await rig.conn.sink.read([...skus, 'NO-SUCH-SKU']);
    assert.equal(read.length, 120);
    const v = variantOf(rig.sim, 10);
    const r = read.find((x) => x.sku === v.sku)!;
    assert.equal(r.available, await stock(rig, v.sku));
    assert.equal(r.refs.inventoryItemId, v.inventoryItemId);
    assert.equal(r.title, rig.sim.store.variants[10]!.product.title);
  });

  it('finds the ids of a write that carries only its SKU', async () => {
    const v = variantOf(rig.sim, 11);
    const before = await stock(rig, v.sku);
    const w: SinkWrite = { ...inventoryWrite(v, before + 1, before), refs: { id: v.sku } };
    const [res] = await rig.conn.sink.write([w]);
    assert.equal(res!.status, 'ok', JSON.stringify(res));
    assert.equal(await stock(rig, v.sku), before + 1);
  });

  it('paces a backlog under a small bucket: no THROTTLED answer', async function () {
    this.timeout(60_000);
    // 1,200 writes in batches of 4: 300 mutations of 10 points, 3,000 points against a 2,000-point bucket restored at 100/s.
    const vs = Array.from({ length: 300 }, (_, i) => variantOf(rig.sim, i));
    let low = Infinity;
    const off = rig.bus.on('shopify.bucket', (b) => { low = Math.min(low, b.available); });
    try {
      const batches: Promise<unknown>[] = [];
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < vs.length; i += 4) {
          batches.push(rig.conn.sink.write(vs.slice(i, i + 4).map((v) => inventoryWrite(v, 10 + round, null))).then((res) => {
            for (const r of res) assert.equal(r.status, 'ok', JSON.stringify(r));
          }));
        }
        await Promise.all(batches);
      }
    } finally {
      off();
    }
    assert.ok(low < 100, `the bucket was never short (lowest ${low})`);
    assert.equal(rig.throttled(), 0);
    assert.equal(rig.conn.client.bucket.stats.throttled, 0);
    assert.equal(await stock(rig, vs[299]!.sku), 13);
  });
});
