// WooCommerce as it really behaves, end to end (daemon in process, Shopify as the stock authority,
// one WooCommerce site): stock shared by the variations of a product (manage_stock "parent") is
// never split, and deletions WooCommerce does not announce are found by the deletion check.
import { strict as assert } from 'node:assert';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildConnectorSet } from '../../src/daemon/registry.js';
import type { SyncConfigInput } from '../../src/config/schema.js';
import { simControl, skuOf, startRig, type Rig } from './support/rig.js';
import { api } from '../simulators/woocommerce/helpers.js';
import { eventually } from '../support/wait.js';

const SITE = 'outlet';
const WOO = `woocommerce:${SITE}`;

describe('syncctl daemon end to end: WooCommerce shared stock pools and unannounced deletions', function () {
  this.timeout(180_000);
  let rig: Rig;
  let daemon: Daemon;
  const pooled = [skuOf(2), skuOf(3), skuOf(4)];
  let parentId = 0;
  let variationIds: number[] = [];
  let ownVariation = { parent: 0, id: 0 };
  let mapped = { parent: 0, variations: [] as number[] };
  const woo = () => rig.woo.get(SITE)!;
  const wooStock = async (sku: string): Promise<number | null> => (await simControl(woo().info.controlUrl, 'GET', `/products?sku=${sku}`))[0]?.stock_quantity ?? null;
  const idOf = (sku: string) => woo().store.findBySku(sku)[0]!.id;

  before(async () => {
    rig = await startRig('woo_pools', { skus: 10, woo: { [SITE]: { buffer: 0 } }, initial: 10, overrides: { sources: { woocommerce: { [SITE]: { deletionCheckSeconds: 1 } } } } as unknown as SyncConfigInput });
    const sim = woo();
    // SKUs 2..4 become the variations of one product whose stock is managed by the product (one pool of 6).
    for (const sku of [...pooled, skuOf(7)]) assert.equal((await api(sim, 'DELETE', `/products/${idOf(sku)}?force=true`)).status, 200);
    const p = await api(sim, 'POST', '/products', { name: 'Pooled', type: 'variable', manage_stock: true, stock_quantity: 6, attributes: [{ name: 'Size', options: ['S', 'M', 'L'] }] });
    parentId = p.json.id;
    for (const [i, sku] of pooled.entries()) {
      const v = await api(sim, 'POST', `/products/${parentId}/variations`, { sku, regular_price: '10', attributes: [{ name: 'Size', option: ['S', 'M', 'L'][i] }] });
      variationIds.push(v.json.id);
    }
    // SKU 7 becomes a variation with stock of its own (deleted later: no webhook for that).
    const q = await api(sim, 'POST', '/products', { name: 'Own stock', type: 'variable', attributes: [{ name: 'Size', options: ['S'] }] });
    const v7 = await api(sim, 'POST', `/products/${q.json.id}/variations`, { sku: skuOf(7), regular_price: '10', manage_stock: true, stock_quantity: 1, attributes: [{ name: 'Size', option: 'S' }] });
    ownVariation = { parent: q.json.id, id: v7.json.id };
    // A second pooled product, configured (stockPools) as SKU 10: its pool is synced as that SKU.
    assert.equal((await api(sim, 'DELETE', `/products/${idOf(skuOf(10))}?force=true`)).status, 200);
    const m = await api(sim, 'POST', '/products', { name: 'Mapped', type: 'variable', manage_stock: true, stock_quantity: 3, attributes: [{ name: 'Size', options: ['S', 'M'] }] });
    mapped = { parent: m.json.id, variations: [] };
    for (const size of ['S', 'M']) mapped.variations.push((await api(sim, 'POST', `/products/${m.json.id}/variations`, { sku: `MAPPED-${size}`, regular_price: '10', attributes: [{ name: 'Size', option: size }] })).json.id);
    rig.config.sources.woocommerce[SITE]!.stockPools = { [String(mapped.parent)]: skuOf(10) };
    await simControl(sim.info.controlUrl, 'DELETE', '/writes');
    daemon = new Daemon(rig.config, buildConnectorSet);
    await daemon.start();
    const others = rig.skus.filter((s) => !pooled.includes(s) && s !== skuOf(10));
    await eventually(async () => {
      for (const s of others) if ((await wooStock(s)) !== 10) return false;
      return true;
    }, 'the site showing the authority\'s 10 on its own-stock SKUs', 90_000, 250);
  });
  after(async () => {
    await daemon?.stop();
    await rig?.close();
  });

  it('records SHARED_STOCK for each variation of the pool, naming the product', async () => {
    const rows = await eventually(async () => {
      const r = await rig.query<{ entity_id: string; details: { pool: { productId: string }; variantId: string } }>(
        `select entity_id, details from conflict_log where conflict_type = 'SHARED_STOCK' and status = 'OPEN' and source_type = $1 and entity_id = any($2) order by entity_id`, [WOO, pooled]);
      return r.length === 3 ? r : undefined;
    }, 'three SHARED_STOCK conflicts', 60_000, 250);
    assert.deepEqual(rows.map((r) => r.entity_id), pooled);
    for (const r of rows) assert.equal(r.details.pool.productId, String(parentId));
    assert.deepEqual(rows.map((r) => Number(r.details.variantId)), variationIds);
  });

  it('sold on Shopify and WooCommerce at once: every sale counted once, the pool never above the authority, never split', async () => {
    await Promise.all([
      simControl(rig.shop.info.controlUrl, 'POST', '/orders', { lines: [{ sku: pooled[0], quantity: 2 }] }),
      simControl(rig.shop.info.controlUrl, 'POST', '/orders', { lines: [{ sku: pooled[1], quantity: 1 }] }),
      simControl(woo().info.controlUrl, 'POST', '/orders', { status: 'processing', lines: [{ sku: pooled[0], quantity: 1 }] }),
      simControl(woo().info.controlUrl, 'POST', '/orders', { status: 'processing', lines: [{ sku: pooled[2], quantity: 2 }] }),
    ]);
    const want = new Map([[pooled[0]!, 7], [pooled[1]!, 9], [pooled[2]!, 8]]);
    await eventually(async () => {
      const auth = await rig.authorityStock();
      return [...want].every(([s, q]) => auth.get(s) === q);
    }, 'the authority after both channels\' sales', 60_000, 250);
    // A later change of another SKU, synced: the sales' events were processed by then.
    await simControl(rig.shop.info.controlUrl, 'POST', '/inventory/set', { sku: skuOf(1), quantity: 4 });
    await eventually(async () => (await wooStock(skuOf(1))) === 4, 'a later change synced', 60_000, 250);
    const auth = await rig.authorityStock();
    for (const [s, q] of want) assert.equal(auth.get(s), q, `${s}: each sale counted once on the authority`);
    const pool = (await api(woo(), 'GET', `/products/${parentId}`)).json;
    assert.equal(pool.stock_quantity, 3, 'the pool moved only by the site\'s own sales');
    for (const s of pooled) assert.ok(pool.stock_quantity <= auth.get(s)!, `the pool (${pool.stock_quantity}) never offers more than the authority has of ${s}`);
    for (const v of (await api(woo(), 'GET', `/products/${parentId}/variations`)).json) assert.equal(v.manage_stock, 'parent', `variation ${v.id} still leaves stock to its product`);
    const writes = (await simControl(woo().info.controlUrl, 'GET', '/writes')).writes as Array<{ id: number; fields: Record<string, unknown> }>;
    const touched = writes.filter((w) => (w.id === parentId || variationIds.includes(w.id)) && ('manage_stock' in w.fields || 'stock_quantity' in w.fields));
    assert.deepEqual(touched, [], 'no stock write ever reached the pool or its variations');
  });

  it('finds deletions WooCommerce does not announce (force, batch, variation) and a trashed product, and stops writing those SKUs there', async () => {
    const sim = woo();
    const gone = [skuOf(5), skuOf(6), skuOf(7), skuOf(8)];
    await api(sim, 'DELETE', `/products/${idOf(skuOf(5))}?force=true`);
    await api(sim, 'POST', '/products/batch', { delete: [idOf(skuOf(6))] });
    await api(sim, 'DELETE', `/products/${ownVariation.parent}/variations/${ownVariation.id}?force=true`);
    await api(sim, 'DELETE', `/products/${idOf(skuOf(8))}`);
    await eventually(async () => {
      const r = await rig.query<{ n: number }>(`select count(*)::int as n from sync_state where source_type = $1 and status = 'DELETED' and entity_id = any($2)`, [WOO, gone]);
      return r[0]!.n === gone.length;
    }, 'the four SKUs marked deleted on the site', 60_000, 250);
    const since = (await rig.query<{ now: Date }>('select now()'))[0]!.now;
    for (const s of gone) await simControl(rig.shop.info.controlUrl, 'POST', '/inventory/set', { sku: s, quantity: 3 });
    await simControl(rig.shop.info.controlUrl, 'POST', '/inventory/set', { sku: skuOf(1), quantity: 2 });
    await eventually(async () => (await wooStock(skuOf(1))) === 2, 'a later change synced', 60_000, 250);
    const planned = await rig.query<{ sku: string }>(`select sku from planned_writes where target_key = $1 and sku = any($2) and created_at >= $3`, [WOO, gone, since]);
    assert.deepEqual(planned, [], 'no write planned to a SKU deleted on the site');
  });

  it('survives WooCommerce\'s webhook quirks: product.updated repeated, order.updated at creation, an order webhook skipped (the poller catches it)', async () => {
    const sim = woo();
    sim.setFaults({ repeatProductUpdated: 2, skipOrderWebhooksPercent: 100 });
    try {
      const sku = skuOf(9);
      const adjustsBefore = (await rig.adjustWrites()).filter((w) => w.sku === sku).length;
      const seqBefore = sim.deliveries.length;
      await simControl(sim.info.controlUrl, 'POST', '/orders', { status: 'processing', lines: [{ sku, quantity: 2 }] });
      await eventually(async () => (await rig.authorityStock()).get(sku) === 8, 'the sale applied to the authority', 60_000, 250);
      await simControl(rig.shop.info.controlUrl, 'POST', '/inventory/set', { sku: skuOf(1), quantity: 6 });
      await eventually(async () => (await wooStock(skuOf(1))) === 6, 'a later change synced', 60_000, 250);
      assert.equal((await rig.authorityStock()).get(sku), 8, 'counted once');
      assert.equal((await rig.adjustWrites()).filter((w) => w.sku === sku).length - adjustsBefore, 1, 'one adjust on the authority');
      const fresh = sim.deliveries.slice(seqBefore);
      assert.ok(fresh.some((d) => d.outcome === 'skipped' && d.topic.startsWith('order.')), 'the order webhooks were skipped');
      const pid = String(idOf(sku));
      assert.ok(fresh.filter((d) => d.topic === 'product.updated' && d.resourceId === Number(pid)).length >= 3, 'product.updated repeated for one save');
    } finally {
      sim.setFaults({ repeatProductUpdated: 0, skipOrderWebhooksPercent: 0 });
    }
  });

  it('syncs a pool configured as one SKU (stockPools): the pool shows the authority, sales on both sides counted once against that SKU', async () => {
    const poolQty = async () => (await api(woo(), 'GET', `/products/${mapped.parent}`)).json.stock_quantity as number;
    await eventually(async () => (await poolQty()) === 10, 'the pool brought to the authority\'s 10', 60_000, 250);
    await Promise.all([
      simControl(woo().info.controlUrl, 'POST', '/orders', { status: 'processing', lines: [{ sku: 'MAPPED-S', quantity: 2 }] }),
      simControl(woo().info.controlUrl, 'POST', '/orders', { status: 'processing', lines: [{ sku: 'MAPPED-M', quantity: 1 }] }),
      simControl(rig.shop.info.controlUrl, 'POST', '/orders', { lines: [{ sku: skuOf(10), quantity: 3 }] }),
    ]);
    await eventually(async () => (await rig.authorityStock()).get(skuOf(10)) === 4 && (await poolQty()) === 4, 'authority and pool at 10 − 3 − 3', 60_000, 250);
    await simControl(rig.shop.info.controlUrl, 'POST', '/inventory/set', { sku: skuOf(1), quantity: 7 });
    await eventually(async () => (await wooStock(skuOf(1))) === 7, 'a later change synced', 60_000, 250);
    assert.equal((await rig.authorityStock()).get(skuOf(10)), 4, 'each sale counted once');
    assert.equal(await poolQty(), 4, 'the pool never shows more than the authority has');
    for (const v of (await api(woo(), 'GET', `/products/${mapped.parent}/variations`)).json) assert.equal(v.manage_stock, 'parent');
    const writes = (await simControl(woo().info.controlUrl, 'GET', '/writes')).writes as Array<{ id: number; fields: Record<string, unknown> }>;
    assert.deepEqual(writes.filter((w) => mapped.variations.includes(w.id) && ('manage_stock' in w.fields || 'stock_quantity' in w.fields)), [], 'no stock write to a variation');
    assert.ok(writes.some((w) => w.id === mapped.parent && 'stock_quantity' in w.fields), 'the pool itself is written');
  });
});
