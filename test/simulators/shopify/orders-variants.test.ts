import assert from 'node:assert/strict';
import type { ShopifySimulator } from '../../../src/simulators/shopify/index.js';
import { control, firstItem, gql, startSim } from './helpers.js';

const LEVEL = `query($id: ID!, $loc: ID!) { inventoryItem(id: $id) { inventoryLevel(locationId: $loc) { quantities(names: ["available", "committed", "on_hand"]) { name quantity } } } }`;
const quantities = async (sim: ShopifySimulator, itemId: string, loc: string) =>
  Object.fromEntries((await gql(sim, LEVEL, { id: itemId, loc })).body.data.inventoryItem.inventoryLevel.quantities.map((q: { name: string; quantity: number }) => [q.name, q.quantity]));

const BULK_UPDATE = `mutation($p: ID!, $v: [ProductVariantsBulkInput!]!, $partial: Boolean) {
  productVariantsBulkUpdate(productId: $p, variants: $v, allowPartialUpdates: $partial) {
    productVariants { id price sku } userErrors { field message code }
  }
}`;

describe('Shopify simulator: orders', () => {
  let sim: ShopifySimulator;
  beforeEach(async () => { sim = await startSim(); });
  afterEach(async () => { await sim.close(); });

  it('commits stock when an order is created: available goes down, committed up, on_hand stays', async () => {
    const f = firstItem(sim);
    const r = await control(sim, 'POST', '/orders', { lines: [{ sku: f.sku, quantity: 2 }] });
    assert.equal(r.status, 201);
    assert.deepEqual(await quantities(sim, f.itemId, f.locationId), { available: f.available - 2, committed: 2, on_hand: f.available });
  });

  it('restocks when an order is cancelled with restock', async () => {
    const f = firstItem(sim);
    const order = (await control(sim, 'POST', '/orders', { lines: [{ sku: f.sku, quantity: 2 }] })).body;
    const r = await control(sim, 'POST', `/orders/${encodeURIComponent(order.id)}/cancel`, { restock: true });
    assert.equal(r.status, 200);
    assert.deepEqual(await quantities(sim, f.itemId, f.locationId), { available: f.available, committed: 0, on_hand: f.available });
  });

  it('lists orders with line items and filters them by updated_at', async () => {
    const f = firstItem(sim);
    await control(sim, 'POST', '/orders', { lines: [{ sku: f.sku, quantity: 1 }] });
    const r = await gql(sim, `{ orders(first: 5, query: "updated_at:>'2020-01-01T00:00:00Z'") { nodes { name cancelledAt displayFinancialStatus lineItems(first: 5) { nodes { sku quantity variant { id } } } } } }`);
    const o = r.body.data.orders.nodes[0];
    assert.equal(o.name, '#1001');
    assert.equal(o.cancelledAt, null);
    assert.equal(o.displayFinancialStatus, 'PAID');
    assert.deepEqual(o.lineItems.nodes[0], { sku: f.sku, quantity: 1, variant: { id: `gid://shopify/ProductVariant/${sim.store.variants[0]!.id}` } });
  });

  it('places orders on its own when the traffic generator runs', async () => {
    await control(sim, 'PUT', '/traffic', { ordersPerSecond: 200 });
    let orders: unknown[] = [];
    for (let i = 0; i < 200 && orders.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      orders = (await control(sim, 'GET', '/orders')).body;
    }
    await control(sim, 'PUT', '/traffic', { ordersPerSecond: 0 });
    assert.ok(orders.length > 0);
  });

  it('goes back to the seeded catalog on reset', async () => {
    const f = firstItem(sim);
    await control(sim, 'POST', '/orders', { lines: [{ sku: f.sku, quantity: 1 }] });
    await control(sim, 'POST', '/reset', {});
    assert.deepEqual(await quantities(sim, f.itemId, f.locationId), { available: f.available, committed: 0, on_hand: f.available });
    assert.deepEqual((await control(sim, 'GET', '/orders')).body, []);
  });

  it('refuses an order for more than the available stock of a DENY variant', async () => {
    const f = firstItem(sim);
    const r = await control(sim, 'POST', '/orders', { lines: [{ sku: f.sku, quantity: f.available + 1 }] });
    assert.equal(r.status, 422);
  });
});

describe('Shopify simulator: productVariantsBulkUpdate', () => {
  let sim: ShopifySimulator;
  beforeEach(async () => { sim = await startSim(); });
  afterEach(async () => { await sim.close(); });

  it('updates price and SKU and bumps updatedAt', async () => {
    const p = sim.store.products[0]!;
    const v = p.variants[0]!;
    const r = await gql(sim, BULK_UPDATE, { p: `gid://shopify/Product/${p.id}`, v: [{ id: `gid://shopify/ProductVariant/${v.id}`, price: '12.50', inventoryItem: { sku: 'NEW-SKU' } }] });
    assert.deepEqual(r.body.data.productVariantsBulkUpdate.userErrors, []);
    assert.deepEqual(r.body.data.productVariantsBulkUpdate.productVariants[0], { id: `gid://shopify/ProductVariant/${v.id}`, price: '12.50', sku: 'NEW-SKU' });
    const found = await gql(sim, '{ productVariants(first: 2, query: "sku:NEW-SKU") { nodes { id } } }');
    assert.equal(found.body.data.productVariants.nodes.length, 1);
  });

  it('reports per-variant userErrors and changes nothing without allowPartialUpdates', async () => {
    const p = sim.store.products[0]!;
    const [v1, v2] = p.variants;
    const other = sim.store.products[1]!.variants[0]!;
    const r = await gql(sim, BULK_UPDATE, { p: `gid://shopify/Product/${p.id}`, v: [
      { id: `gid://shopify/ProductVariant/${v1!.id}`, price: '1.00' },
      { id: `gid://shopify/ProductVariant/${other.id}`, price: '2.00' },
      { id: `gid://shopify/ProductVariant/${v2!.id}`, price: 'abc' },
    ] });
    const payload = r.body.data.productVariantsBulkUpdate;
    assert.equal(payload.productVariants, null);
    assert.deepEqual(payload.userErrors.map((e: { field: string[]; code: string }) => [e.field.join('.'), e.code]), [
      ['variants.1.id', 'PRODUCT_VARIANT_DOES_NOT_EXIST'], ['variants.2.price', 'INVALID_INPUT'],
    ]);
    assert.notEqual(sim.store.variants[0]!.price, '1.00');
  });

  it('applies the valid variants with allowPartialUpdates', async () => {
    const p = sim.store.products[0]!;
    const r = await gql(sim, BULK_UPDATE, { partial: true, p: `gid://shopify/Product/${p.id}`, v: [
      { id: `gid://shopify/ProductVariant/${p.variants[0]!.id}`, price: '3.00' }, { price: '4.00' },
    ] });
    const payload = r.body.data.productVariantsBulkUpdate;
    assert.equal(payload.productVariants.length, 1);
    assert.equal(payload.userErrors[0].code, 'PRODUCT_VARIANT_ID_MISSING');
  });

  it('answers PRODUCT_DOES_NOT_EXIST for an unknown product', async () => {
    const r = await gql(sim, BULK_UPDATE, { p: 'gid://shopify/Product/1', v: [{ id: 'gid://shopify/ProductVariant/1', price: '1.00' }] });
    assert.equal(r.body.data.productVariantsBulkUpdate.userErrors[0].code, 'PRODUCT_DOES_NOT_EXIST');
  });
});
