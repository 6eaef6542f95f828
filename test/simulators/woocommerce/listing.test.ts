import assert from 'node:assert/strict';
import type { WooCommerceSimulator } from '../../../src/simulators/woocommerce/index.js';
import { api, startSim } from './helpers.js';

describe('WooCommerce simulator: reading collections', () => {
  let sim: WooCommerceSimulator;
  afterEach(async () => sim?.close());

  it('rejects per_page=101 with 400 rest_invalid_param in WordPress\'s shape', async () => {
    sim = await startSim();
    const res = await api(sim, 'GET', '/products?per_page=101');
    assert.equal(res.status, 400);
    assert.equal(res.json.code, 'rest_invalid_param');
    assert.equal(res.json.message, 'Invalid parameter(s): per_page');
    assert.equal(res.json.data.status, 400);
    assert.equal(res.json.data.params.per_page, 'per_page must be between 1 (inclusive) and 100 (inclusive)');
    assert.equal(res.json.data.details.per_page.code, 'rest_out_of_bounds');
  });

  it('sends X-WP-Total, X-WP-TotalPages and Link rel="next"/"prev" headers', async () => {
    sim = await startSim({ products: 25 });
    const res = await api(sim, 'GET', '/products?per_page=10&page=2&orderby=id&order=asc');
    assert.equal(res.headers.get('x-wp-total'), '25');
    assert.equal(res.headers.get('x-wp-totalpages'), '3');
    const link = res.headers.get('link') ?? '';
    assert.match(link, /<[^>]*\/wp-json\/wc\/v3\/products\?[^>]*page=1[^>]*>; rel="prev"/);
    assert.match(link, /<[^>]*\/wp-json\/wc\/v3\/products\?[^>]*page=3[^>]*>; rel="next"/);
    assert.equal(res.json.length, 10);
    assert.equal(res.json[0].sku, 'SKU-000011-1');
  });

  it('filters modified_after on the GMT column with dates_are_gmt=true and on site time otherwise', async () => {
    sim = await startSim({ products: 3, timezoneOffsetMinutes: 120 });
    // Catalog dates are 2025-01-01T00:00:0p GMT = 02:00:0p site time.
    const gmt = await api(sim, 'GET', '/products?modified_after=2025-01-01T00:00:01&dates_are_gmt=true&orderby=id&order=asc');
    assert.deepEqual(gmt.json.map((p: { sku: string }) => p.sku), ['SKU-000002-1', 'SKU-000003-1']);
    const local = await api(sim, 'GET', '/products?modified_after=2025-01-01T00:00:01');
    assert.equal(local.json.length, 3);
    assert.equal(gmt.json[0].date_modified_gmt, '2025-01-01T00:00:02');
    assert.equal(gmt.json[0].date_modified, '2025-01-01T02:00:02');
  });

  it('orders by modified ascending so a poller sees the latest change last', async () => {
    sim = await startSim({ products: 3 });
    const first = sim.store.findBySku('SKU-000001-1')[0]!;
    await api(sim, 'PUT', `/products/${first.id}`, { name: 'touched' });
    const res = await api(sim, 'GET', '/products?orderby=modified&order=asc');
    assert.equal(res.json.at(-1).id, first.id);
  });

  it('matches a comma list of SKUs against variations too', async () => {
    sim = await startSim({ products: 2, variationsPerProduct: 2 });
    const res = await api(sim, 'GET', '/products?sku=SKU-000001-2,SKU-000002-1');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.map((p: { sku: string }) => p.sku).sort(), ['SKU-000001-2', 'SKU-000002-1']);
    assert.ok(res.json.every((p: { type: string; parent_id: number }) => p.type === 'variation' && p.parent_id > 0));
  });

  it('lists only top-level products without a sku filter, and variations under /products/{id}/variations', async () => {
    sim = await startSim({ products: 2, variationsPerProduct: 3 });
    const products = await api(sim, 'GET', '/products');
    assert.equal(products.json.length, 2);
    const parent = products.json.find((p: { variations: number[] }) => p.variations.length === 3);
    const variations = await api(sim, 'GET', `/products/${parent.id}/variations`);
    assert.equal(variations.json.length, 3);
    assert.equal(variations.headers.get('x-wp-total'), '3');
  });

  it('answers an unknown route with 404 rest_no_route', async () => {
    sim = await startSim();
    const res = await api(sim, 'GET', '/products/abc/nothing');
    assert.equal(res.status, 404);
    assert.equal(res.json.code, 'rest_no_route');
  });

  it('answers an unknown product id with 404 on GET and 400 on update (woocommerce_rest_product_invalid_id)', async () => {
    sim = await startSim();
    const get = await api(sim, 'GET', '/products/999999');
    assert.equal(get.status, 404);
    assert.equal(get.json.code, 'woocommerce_rest_product_invalid_id');
    const put = await api(sim, 'PUT', '/products/999999', { name: 'x' });
    assert.equal(put.status, 400);
    assert.equal(put.json.code, 'woocommerce_rest_product_invalid_id');
  });

  it('pages through the whole catalog by id with the same totals on every page, and an empty page past the end', async () => {
    sim = await startSim({ products: 250, extraSkus: 5 });
    const skus: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const res = await api(sim, 'GET', `/products?per_page=100&page=${page}&orderby=id&order=asc`);
      assert.equal(res.headers.get('x-wp-total'), '255');
      assert.equal(res.headers.get('x-wp-totalpages'), '3');
      skus.push(...res.json.map((p: { sku: string }) => p.sku));
    }
    assert.equal(skus.length, 255);
    assert.equal(new Set(skus).size, 255);
    assert.equal(skus[0], 'SKU-000001-1');
    assert.equal(skus[249], 'SKU-000250-1');
    const past = await api(sim, 'GET', '/products?per_page=100&page=4&orderby=id&order=asc');
    assert.equal(past.status, 200);
    assert.deepEqual(past.json, []);
    assert.equal(past.headers.get('x-wp-total'), '255');
  });

  it('shows a product created, trashed or changed between two page reads on the next read', async () => {
    sim = await startSim({ products: 3 });
    const list = async (q: string) => (await api(sim, 'GET', `/products?${q}`)).json.map((p: { id: number }) => p.id);
    const [a, b, c] = await list('orderby=id&order=asc');
    await api(sim, 'DELETE', `/products/${b}`);
    const created = await api(sim, 'POST', '/products', { name: 'New', sku: 'NEW-1', regular_price: '5000.00' });
    assert.deepEqual(await list('orderby=id&order=asc'), [a, c, created.json.id]);
    assert.deepEqual(await list('status=trash'), [b]);
    assert.equal((await list('orderby=modified&order=asc'))[0], a);
    assert.equal((await list('orderby=price&order=desc'))[0], created.json.id);
    await api(sim, 'PUT', `/products/${a}`, { regular_price: '9999.00' });
    const byModified = await list('orderby=modified&order=asc');
    assert.ok(byModified.indexOf(a) > byModified.indexOf(c), 'the saved product moves after the untouched ones');
    assert.equal((await list('orderby=price&order=desc'))[0], a);
  });

  it('keeps only the fields listed in _fields, item by item, and _links only when listed', async () => {
    sim = await startSim({ products: 2 });
    const res = await api(sim, 'GET', '/products?orderby=id&order=asc&_fields=id,sku,date_modified_gmt,attributes.name');
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.json[0]), ['id', 'date_modified_gmt', 'sku', 'attributes']);
    assert.equal(res.json[0].sku, 'SKU-000001-1');
    assert.equal(res.headers.get('x-wp-total'), '2');
    const one = await api(sim, 'GET', `/products/${res.json[0].id}?_fields=name _links.self`);
    assert.deepEqual(Object.keys(one.json), ['name', '_links']);
    assert.deepEqual(Object.keys(one.json._links), ['self']);
    const err = await api(sim, 'GET', '/products/999999?_fields=id');
    assert.equal(err.json.code, 'woocommerce_rest_product_invalid_id');
  });

  it('rejects an invalid modified_after date with rest_invalid_param', async () => {
    sim = await startSim();
    const res = await api(sim, 'GET', '/products?modified_after=2025-01-01');
    assert.equal(res.status, 400);
    assert.equal(res.json.data.params.modified_after, 'Invalid date.');
  });
});
