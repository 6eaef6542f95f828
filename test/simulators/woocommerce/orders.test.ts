import assert from 'node:assert/strict';
import type { WooCommerceSimulator } from '../../../src/simulators/woocommerce/index.js';
import { api, startSim } from './helpers.js';

describe('WooCommerce simulator: orders and stock', () => {
  let sim: WooCommerceSimulator;
  afterEach(async () => sim?.close());

  const stockOf = async (sku: string): Promise<number | null> => (await api(sim, 'GET', `/products?sku=${sku}`)).json[0].stock_quantity;
  const setStock = async (sku: string, quantity: number) =>
    fetch(`${sim.controlUrl}/stock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku, quantity }) });

  it('reduces stock once when an order reaches processing, and not again on completed', async () => {
    sim = await startSim();
    await setStock('SKU-000001-1', 10);
    const order = await api(sim, 'POST', '/orders', { status: 'pending', line_items: [{ sku: 'SKU-000001-1', quantity: 3 }] });
    assert.equal(await stockOf('SKU-000001-1'), 10);
    await api(sim, 'PUT', `/orders/${order.json.id}`, { status: 'processing' });
    assert.equal(await stockOf('SKU-000001-1'), 7);
    await api(sim, 'PUT', `/orders/${order.json.id}`, { status: 'on-hold' });
    await api(sim, 'PUT', `/orders/${order.json.id}`, { status: 'completed' });
    assert.equal(await stockOf('SKU-000001-1'), 7);
  });

  it('restores stock once when the order is cancelled', async () => {
    sim = await startSim();
    await setStock('SKU-000002-1', 10);
    const order = await api(sim, 'POST', '/orders', { status: 'processing', line_items: [{ sku: 'SKU-000002-1', quantity: 4 }] });
    assert.equal(await stockOf('SKU-000002-1'), 6);
    await api(sim, 'PUT', `/orders/${order.json.id}`, { status: 'cancelled' });
    assert.equal(await stockOf('SKU-000002-1'), 10);
    await api(sim, 'PUT', `/orders/${order.json.id}`, { status: 'cancelled' });
    await api(sim, 'PUT', `/orders/${order.json.id}`, { status: 'failed' });
    assert.equal(await stockOf('SKU-000002-1'), 10);
  });

  it('leaves items whose stock is not managed untouched', async () => {
    sim = await startSim();
    const p = await api(sim, 'POST', '/products', { name: 'Service', sku: 'SERVICE-1', regular_price: '5.00', manage_stock: false });
    await api(sim, 'POST', '/orders', { status: 'processing', line_items: [{ product_id: p.json.id, quantity: 2 }] });
    assert.equal(await stockOf('SERVICE-1'), null);
  });

  it('shows line items with a numeric price, a string total and the sku', async () => {
    sim = await startSim({ products: 1, variationsPerProduct: 2 });
    const order = await api(sim, 'POST', '/orders', { status: 'pending', line_items: [{ sku: 'SKU-000001-2', quantity: 2 }] });
    const line = order.json.line_items[0];
    assert.equal(typeof line.price, 'number');
    assert.equal(line.total, (line.price * 2).toFixed(2));
    assert.equal(line.sku, 'SKU-000001-2');
    assert.ok(line.variation_id > 0 && line.product_id !== line.variation_id);
  });

  it('creates orders through the control API by SKU, which moves stock and is not in the write log', async () => {
    sim = await startSim();
    await setStock('SKU-000003-1', 5);
    const res = await fetch(`${sim.controlUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lines: [{ sku: 'SKU-000003-1', quantity: 2 }], status: 'processing' }) });
    assert.equal(res.status, 200);
    assert.equal(await stockOf('SKU-000003-1'), 3);
    assert.equal(sim.store.writes.length, 0);
    const listed = await api(sim, 'GET', '/orders');
    assert.equal(listed.json.length, 1);
  });

  it('places processing orders by itself when ordersPerSecond is set', async () => {
    sim = await startSim({ ordersPerSecond: 50 });
    let total = 0;
    for (let i = 0; i < 100 && total === 0; i++) {
      total = Number((await api(sim, 'GET', '/orders')).headers.get('x-wp-total'));
      if (total === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(total > 0);
    const [order] = (await api(sim, 'GET', '/orders?orderby=id&order=asc')).json;
    assert.ok(['processing', 'cancelled'].includes(order.status));
    assert.ok(order.line_items[0].sku.startsWith('SKU-'));
  });

  it('rejects an unknown order status with rest_invalid_param', async () => {
    sim = await startSim();
    const res = await api(sim, 'POST', '/orders', { status: 'shipped', line_items: [] });
    assert.equal(res.status, 400);
    assert.equal(res.json.code, 'rest_invalid_param');
  });
});
