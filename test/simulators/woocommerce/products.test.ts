import assert from 'node:assert/strict';
import type { WooCommerceSimulator } from '../../../src/simulators/woocommerce/index.js';
import { api, startSim, body } from './helpers.js';

describe('WooCommerce simulator: writing products', () => {
  let sim: WooCommerceSimulator;
  afterEach(async () => sim?.close());

  it('returns prices as strings', async () => {
    sim = await startSim();
    const res = await api(sim, 'POST', '/products', { name: 'Mug', sku: 'MUG-1', regular_price: '19.99' });
    assert.equal(res.status, 201);
    assert.equal(res.json.regular_price, '19.99');
    assert.equal(res.json.price, '19.99');
  });

  it('rejects a numeric price with 400 rest_invalid_param (the schema says string)', async () => {
    sim = await startSim();
    const res = await api(sim, 'POST', '/products', { name: 'Mug', regular_price: 19.99 });
    assert.equal(res.status, 400);
    assert.equal(res.json.code, 'rest_invalid_param');
    assert.equal(res.json.data.params.regular_price, 'regular_price is not of type string.');
  });

  it('keeps stock_quantity null and ignores it when manage_stock is false', async () => {
    sim = await startSim();
    const created = await api(sim, 'POST', '/products', { name: 'Free', sku: 'FREE-1', manage_stock: false, stock_quantity: 5 });
    assert.equal(created.json.stock_quantity, null);
    const updated = await api(sim, 'PUT', `/products/${created.json.id}`, { stock_quantity: 9 });
    assert.equal(updated.json.manage_stock, false);
    assert.equal(updated.json.stock_quantity, null);
  });

  it('derives stock_status from stock_quantity when stock is managed', async () => {
    sim = await startSim();
    const created = await api(sim, 'POST', '/products', { name: 'Box', manage_stock: true, stock_quantity: 0, stock_status: 'instock' });
    assert.equal(created.json.stock_status, 'outofstock');
    const updated = await api(sim, 'PUT', `/products/${created.json.id}`, { stock_quantity: 3 });
    assert.equal(updated.json.stock_status, 'instock');
  });

  it('rejects a duplicate SKU with 400 product_invalid_sku, also one used by a variation', async () => {
    sim = await startSim({ products: 1, variationsPerProduct: 2 });
    const res = await api(sim, 'POST', '/products', { name: 'Copy', sku: 'SKU-000001-2' });
    assert.equal(res.status, 400);
    assert.equal(res.json.code, 'product_invalid_sku');
    assert.equal(res.json.message, 'Invalid or duplicated SKU.');
    assert.equal(sim.store.findBySku('SKU-000001-2').length, 1);
  });

  it('rejects a batch of 101 items with 413 woocommerce_rest_request_entity_too_large and applies nothing', async () => {
    sim = await startSim({ products: 101 });
    const update = [...sim.store.products.values()].slice(0, 101).map((p) => ({ id: p.id, stock_quantity: 1 }));
    const res = await api(sim, 'POST', '/products/batch', { update });
    assert.equal(res.status, 413);
    assert.equal(res.json.code, 'woocommerce_rest_request_entity_too_large');
    assert.equal(res.json.message, 'Unable to accept more than 100 items for this request.');
    assert.equal(sim.store.writes.length, 0);
  });

  it('applies the other items of a batch when one fails and reports that one as {id, error}', async () => {
    sim = await startSim({ products: 3 });
    const [a, b] = [...sim.store.products.values()];
    const res = await api(sim, 'POST', '/products/batch', {
      create: [{ name: 'New', sku: 'SKU-000003-1' }],
      update: [{ id: a!.id, stock_quantity: 4 }, { id: 999999, stock_quantity: 1 }, { id: b!.id, stock_quantity: 5 }],
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.create[0].error, { code: 'product_invalid_sku', message: 'Invalid or duplicated SKU.', data: res.json.create[0].error.data });
    assert.equal(res.json.create[0].id, 0);
    assert.equal(res.json.update[0].stock_quantity, 4);
    assert.deepEqual(res.json.update[1], { id: 999999, error: { code: 'woocommerce_rest_product_invalid_id', message: 'Invalid ID.', data: { status: 400 } } });
    assert.equal(res.json.update[2].stock_quantity, 5);
  });

  it('updates variations in a batch under /products/{id}/variations/batch', async () => {
    sim = await startSim({ products: 1, variationsPerProduct: 2 });
    const parent = [...sim.store.products.values()].find((p) => p.type === 'variable')!;
    const res = await api(sim, 'POST', `/products/${parent.id}/variations/batch`, { update: parent.children.map((id) => ({ id, stock_quantity: 11 })) });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.update.map((v: { stock_quantity: number }) => v.stock_quantity), [11, 11]);
  });

  it('records every write an API client applies in the write log', async () => {
    sim = await startSim({ products: 3 });
    const ids = [...sim.store.products.keys()];
    await api(sim, 'PUT', `/products/${ids[0]}`, { stock_quantity: 2 });
    await api(sim, 'POST', '/products/batch', { update: [{ id: ids[1], stock_quantity: 3 }, { id: ids[2], stock_quantity: 4 }] });
    await api(sim, 'GET', '/products');
    const log = await body(await fetch(`${sim.controlUrl}/writes`));
    assert.equal(log.writes.length, 3);
    assert.deepEqual(log.writes.map((w: { action: string }) => w.action), ['product.update', 'product.update', 'product.update']);
    assert.equal(log.writes[2].fields.stock_quantity, 4);
  });

  it('trashes a product on DELETE without force and deletes it with force=true', async () => {
    sim = await startSim({ products: 2 });
    const [a, b] = [...sim.store.products.keys()];
    const trashed = await api(sim, 'DELETE', `/products/${a}`);
    assert.equal(trashed.json.status, 'trash');
    const deleted = await api(sim, 'DELETE', `/products/${b}?force=true`);
    assert.equal(deleted.status, 200);
    assert.equal((await api(sim, 'GET', `/products/${b}`)).status, 404);
    assert.equal((await api(sim, 'GET', '/products')).json.length, 0);
  });
});
