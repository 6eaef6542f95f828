import assert from 'node:assert/strict';
import type { WooCommerceSimulator } from '../../../src/simulators/woocommerce/index.js';
import { api, startSim, body } from './helpers.js';

describe('WooCommerce simulator: catalog and control API', () => {
  const sims: WooCommerceSimulator[] = [];
  const start = async (o: Parameters<typeof startSim>[0]) => {
    const s = await startSim(o);
    sims.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  const skus = (s: WooCommerceSimulator) => [...s.store.products.values()].map((p) => p.sku).filter(Boolean).sort();

  it('generates the same catalog from the same seed', async () => {
    const a = await start({ products: 10, variationsPerProduct: 2, seed: 3, quantityDrift: 0.5, missingSkuRatio: 0.2 });
    const b = await start({ products: 10, variationsPerProduct: 2, seed: 3, quantityDrift: 0.5, missingSkuRatio: 0.2 });
    const strip = (list: Array<Record<string, unknown>>) => list.map(({ _links, permalink, ...rest }) => rest);
    assert.deepEqual(strip((await api(a, 'GET', '/products?per_page=100')).json), strip((await api(b, 'GET', '/products?per_page=100')).json));
  });

  it('names SKUs SKU-<product 6 digits>-<variant> from 1, shared by stores with other seeds', async () => {
    const a = await start({ products: 3, variationsPerProduct: 2, seed: 1 });
    const b = await start({ products: 3, variationsPerProduct: 2, seed: 2 });
    assert.deepEqual(skus(a), ['SKU-000001-1', 'SKU-000001-2', 'SKU-000002-1', 'SKU-000002-2', 'SKU-000003-1', 'SKU-000003-2']);
    assert.deepEqual(skus(b), skus(a));
    const qty = (s: WooCommerceSimulator) => s.store.findBySku('SKU-000002-2')[0]!.stockQuantity;
    assert.equal(qty(a), qty(b), 'base quantities come from catalogSeed, not the store seed');
  });

  it('leaves out, adds, drifts and duplicates SKUs on request', async () => {
    const base = await start({ products: 50, seed: 9 });
    const odd = await start({ products: 50, seed: 9, missingSkuRatio: 0.2, extraSkus: 3, quantityDrift: 0.5, duplicateSkus: 2 });
    const missing = skus(base).filter((s) => !skus(odd).includes(s));
    assert.ok(missing.length > 0);
    assert.equal(skus(odd).filter((s) => s.startsWith('EXTRA-9-')).length, 3);
    const drifted = skus(base).filter((s) => odd.store.findBySku(s)[0] && odd.store.findBySku(s)[0]!.stockQuantity !== base.store.findBySku(s)[0]!.stockQuantity);
    assert.ok(drifted.length > 0);
    const counts = new Map<string, number>();
    for (const s of skus(odd)) counts.set(s, (counts.get(s) ?? 0) + 1);
    assert.equal([...counts.values()].filter((n) => n > 1).length, 2);
  });

  it('answers a share of API requests with the host throttle status when throttlePercent is set', async () => {
    const s = await start({ faults: { throttlePercent: 100, throttleStatus: 503 } });
    const res = await fetch(`${s.apiUrl}/products`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    const faults = await fetch(`${s.controlUrl}/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ throttlePercent: 0 }) });
    assert.equal((await body(faults)).throttlePercent, 0);
    assert.equal((await api(s, 'GET', '/products')).status, 200);
  });

  it('edits products and adjusts stock through the control API', async () => {
    const s = await start({ products: 2 });
    const put = await fetch(`${s.controlUrl}/products`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'SKU-000001-1', name: 'Renamed', regular_price: '12.50' }) });
    assert.equal((await body(put)).name, 'Renamed');
    const before = s.store.findBySku('SKU-000001-1')[0]!.stockQuantity!;
    const adj = await fetch(`${s.controlUrl}/stock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'SKU-000001-1', delta: -2 }) });
    assert.equal((await body(adj)).stock_quantity, before - 2);
    const got = (await api(s, 'GET', '/products?sku=SKU-000001-1')).json[0];
    assert.equal(got.regular_price, '12.50');
  });

  it('returns to the generated catalog on reset', async () => {
    const s = await start({ products: 2 });
    const id = s.store.findBySku('SKU-000001-1')[0]!.id;
    await api(s, 'PUT', `/products/${id}`, { stock_quantity: 999 });
    await fetch(`${s.controlUrl}/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.notEqual((await api(s, 'GET', `/products/${id}`)).json.stock_quantity, 999);
    assert.equal((await body(await fetch(`${s.controlUrl}/writes`))).writes.length, 0);
  });
});
