import { strict as assert } from 'node:assert';
import type { SinkWrite } from '../../../src/connectors/types.js';
import { createWooCommerceConnector, orderPayload, productPayload, variationPayload } from '../../../src/connectors/woocommerce/index.js';
import { wooOrderSchema, wooProductSchema } from '../../../src/connectors/woocommerce/schemas.js';
import { newId } from '../../../src/core/ids.js';
import { catalogSku } from '../../../src/simulators/woocommerce/index.js';
import { api } from '../../simulators/woocommerce/helpers.js';
import { startRig, type WooRig } from './support.js';

/** A variable product managing stock (8) with two variations leaving stock to it. */
async function pool(rig: WooRig): Promise<{ parent: number; variations: number[] }> {
  const p = await api(rig.sim, 'POST', '/products', { name: 'Pool', type: 'variable', manage_stock: true, stock_quantity: 8, attributes: [{ name: 'Size', options: ['S', 'M'] }] });
  const variations: number[] = [];
  for (const size of ['S', 'M']) variations.push((await api(rig.sim, 'POST', `/products/${p.json.id}/variations`, { sku: `POOL-${size}`, regular_price: '5', attributes: [{ name: 'Size', option: size }] })).json.id);
  return { parent: p.json.id, variations };
}

describe('WooCommerce connector: shared stock pools and unannounced deletions', function () {
  this.timeout(60_000);
  let rig: WooRig;
  beforeEach(async () => {
    rig = await startRig({ products: 6, variationsPerProduct: 0 });
  });
  afterEach(async () => rig.close());

  it('reports a variation with manage_stock "parent" as a pool, without stock of its own', async () => {
    const { parent, variations } = await pool(rig);
    const v = wooProductSchema.parse((await api(rig.sim, 'GET', `/products/${parent}/variations/${variations[0]}`)).json);
    const payload = variationPayload(v, parent);
    assert.equal(payload.variants[0]!.stockPool, String(parent));
    assert.equal(payload.variants[0]!.available, null);
    const [reading] = await rig.conn.sink.read(['POOL-S']);
    assert.equal(reading!.available, null);
    assert.equal(reading!.refs.stockPool, String(parent));
  });

  it('refuses a stock write to a pooled variation (WOO_SHARED_STOCK) and sends nothing, absolute or relative', async () => {
    const { parent, variations } = await pool(rig);
    const refs = { id: String(variations[0]), productId: String(parent), parentId: String(parent) };
    const abs: SinkWrite = { writeId: newId(), sku: 'POOL-S', kind: 'inventory', idempotencyKey: newId(), refs, payload: { available: 3 } };
    const rel: SinkWrite = { writeId: newId(), sku: 'POOL-S', kind: 'adjust', idempotencyKey: newId(), refs, payload: { delta: -1 } };
    const before = rig.sim.store.writes.length;
    const res = await rig.conn.sink.write([abs, rel]);
    for (const r of res) {
      assert.equal(r.status, 'permanent');
      assert.equal(r.status === 'permanent' && r.code, 'WOO_SHARED_STOCK');
    }
    assert.equal(rig.sim.store.writes.length, before, 'nothing was written');
    assert.equal((await api(rig.sim, 'GET', `/products/${parent}/variations/${variations[0]}`)).json.manage_stock, 'parent');
  });

  it('finds products and variations deleted without a webhook, and keeps those still there', async () => {
    const { parent, variations } = await pool(rig);
    const id = (sku: string) => rig.sim.store.findBySku(sku)[0]!.id;
    const known = [catalogSku(1, 1), catalogSku(2, 1), catalogSku(3, 1), catalogSku(4, 1)].map((s) => ({ id: String(id(s)), refs: { id: String(id(s)), productId: String(id(s)) } }));
    for (const v of variations) known.push({ id: String(v), refs: { id: String(v), productId: String(parent), parentId: String(parent) } as never });
    await api(rig.sim, 'DELETE', `/products/${known[0]!.id}?force=true`);
    await api(rig.sim, 'POST', '/products/batch', { delete: [Number(known[1]!.id)] });
    await api(rig.sim, 'DELETE', `/products/${known[2]!.id}`); // trashed: gone for us too
    await api(rig.sim, 'DELETE', `/products/${parent}/variations/${variations[1]}?force=true`);
    const gone = await rig.conn.deletions.gone(known);
    assert.deepEqual([...gone].sort(), [known[0]!.id, known[1]!.id, known[2]!.id, String(variations[1])].sort());
    await api(rig.sim, 'DELETE', `/products/${parent}?force=true`);
    const all = await rig.conn.deletions.gone(known);
    assert.ok(all.has(String(variations[0])), 'a variation of a deleted product is gone');
    assert.ok(!all.has(known[3]!.id));
  });

  it('syncs a configured pool (stockPools) as one SKU: read as the product, written to the product, sales counted against it', async () => {
    const { parent, variations } = await pool(rig);
    const pools = new Map([[String(parent), 'POOL-ITEM']]);
    const p = wooProductSchema.parse((await api(rig.sim, 'GET', `/products/${parent}`)).json);
    assert.deepEqual(productPayload(p, pools).variants, [{ id: String(parent), sku: 'POOL-ITEM', available: 8 }]);
    assert.deepEqual(productPayload(p).variants, [], 'without the mapping the product has no SKU of its own');
    const o = (await api(rig.sim, 'POST', '/orders', { status: 'processing', line_items: [{ variation_id: variations[1], quantity: 3 }] })).json;
    const line = orderPayload(wooOrderSchema.parse(o), pools).lines[0]!;
    assert.equal(line.sku, 'POOL-ITEM');
    assert.equal(line.variantId, String(parent));
    assert.equal(orderPayload(wooOrderSchema.parse(o)).lines[0]!.sku, 'POOL-M');
    const conn = createWooCommerceConnector('pools', { ...rig.cfg, stockPools: { [String(parent)]: 'POOL-ITEM' } });
    const res = await conn.sink.write([{ writeId: newId(), sku: 'POOL-ITEM', kind: 'inventory', idempotencyKey: newId(), refs: { id: String(parent), productId: String(parent) }, payload: { available: 11 } }]);
    assert.equal(res[0]!.status, 'ok', JSON.stringify(res[0]));
    assert.equal(res[0]!.status === 'ok' && res[0]!.applied.available, 11);
    for (const v of (await api(rig.sim, 'GET', `/products/${parent}/variations`)).json) {
      assert.equal(v.manage_stock, 'parent', 'the variations still share the pool');
      assert.equal(v.stock_quantity, 11);
    }
  });

  it('reading variations before a stock write: a deleted parent fails only its own variations', async () => {
    const own = async (name: string, sku: string) => {
      const p = (await api(rig.sim, 'POST', '/products', { name, type: 'variable', attributes: [{ name: 'Size', options: ['S'] }] })).json;
      const v = (await api(rig.sim, 'POST', `/products/${p.id}/variations`, { sku, manage_stock: true, stock_quantity: 1, attributes: [{ name: 'Size', option: 'S' }] })).json;
      return { id: String(v.id), productId: String(p.id), parentId: String(p.id) };
    };
    const gone = await own('Gone', 'GONE-S');
    const kept = await own('Kept', 'KEPT-S');
    await api(rig.sim, 'DELETE', `/products/${gone.parentId}?force=true`);
    const w = (sku: string, refs: SinkWrite['refs']): SinkWrite => ({ writeId: newId(), sku, kind: 'inventory', idempotencyKey: newId(), refs, payload: { available: 4 } });
    const res = await rig.conn.sink.write([w('GONE-S', gone), w('KEPT-S', kept)]);
    assert.notEqual(res[0]!.status, 'ok');
    assert.equal(res[1]!.status, 'ok', JSON.stringify(res[1]));
    assert.equal((await api(rig.sim, 'GET', `/products/${kept.parentId}/variations/${kept.id}`)).json.stock_quantity, 4);
  });
});
