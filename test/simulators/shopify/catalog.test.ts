import assert from 'node:assert/strict';
import { ManualClock, type ShopifySimulator } from '../../../src/simulators/shopify/index.js';
import { control, gql, startSim } from './helpers.js';

const PRODUCTS = `query($first: Int, $after: String, $last: Int, $before: String, $query: String, $sortKey: ProductSortKeys) {
  products(first: $first, after: $after, last: $last, before: $before, query: $query, sortKey: $sortKey) {
    nodes { id title updatedAt } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

describe('Shopify simulator: catalog queries', () => {
  let sim: ShopifySimulator;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'));
    sim = await startSim({ catalog: { products: 12, variantsPerProduct: 2 } }, { clock });
  });
  afterEach(async () => { await sim.close(); });

  it('pages forward with first/after until hasNextPage is false, visiting every product once', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r = await gql(sim, PRODUCTS, { first: 5, after });
      const c = r.body.data.products;
      seen.push(...c.nodes.map((n: { id: string }) => n.id));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    assert.equal(seen.length, 12);
    assert.equal(new Set(seen).size, 12);
  });

  it('pages backward with last/before', async () => {
    const all = (await gql(sim, PRODUCTS, { first: 12 })).body.data.products.nodes.map((n: { id: string }) => n.id);
    const r = await gql(sim, PRODUCTS, { last: 3, before: (await gql(sim, PRODUCTS, { first: 10 })).body.data.products.pageInfo.endCursor });
    assert.deepEqual(r.body.data.products.nodes.map((n: { id: string }) => n.id), all.slice(6, 9));
    assert.equal(r.body.data.products.pageInfo.hasPreviousPage, true);
  });

  it('filters products by updated_at and sorts them by UPDATED_AT', async () => {
    const second = sim.store.products[1]!;
    const fifth = sim.store.products[4]!;
    clock.advance(10_000);
    await control(sim, 'PATCH', `/products/${fifth.id}`, { title: 'Renamed 5' });
    clock.advance(10_000);
    await control(sim, 'PATCH', `/products/${second.id}`, { title: 'Renamed 2' });
    const since = new Date(Date.parse('2026-11-25T12:00:05Z')).toISOString().replace('.000Z', 'Z');
    const r = await gql(sim, PRODUCTS, { first: 10, query: `updated_at:>'${since}'`, sortKey: 'UPDATED_AT' });
    assert.deepEqual(r.body.data.products.nodes.map((n: { title: string }) => n.title), ['Renamed 5', 'Renamed 2']);
    assert.equal(r.body.data.products.nodes[1].updatedAt, '2026-11-25T12:00:20Z');
  });

  it('finds products and variants by sku', async () => {
    const p = await gql(sim, PRODUCTS, { first: 5, query: 'sku:SKU-000003-2' });
    assert.deepEqual(p.body.data.products.nodes.map((n: { id: string }) => n.id), [`gid://shopify/Product/${sim.store.products[2]!.id}`]);
    const v = await gql(sim, `{ productVariants(first: 5, query: "sku:SKU-000003-2") { nodes { sku price inventoryQuantity product { id } } } }`);
    assert.equal(v.body.data.productVariants.nodes.length, 1);
    assert.equal(v.body.data.productVariants.nodes[0].sku, 'SKU-000003-2');
  });

  it('filters productVariants by updated_at after a stock change', async () => {
    clock.advance(60_000);
    await control(sim, 'POST', '/inventory/adjust', { sku: 'SKU-000007-1', delta: 3 });
    const r = await gql(sim, `{ productVariants(first: 50, query: "updated_at:>'2026-11-25T12:00:30Z'") { nodes { sku } } }`);
    assert.deepEqual(r.body.data.productVariants.nodes.map((n: { sku: string }) => n.sku), ['SKU-000007-1']);
  });

  it('reports unknown search fields as warnings in extensions.search and ignores them', async () => {
    const r = await gql(sim, PRODUCTS, { first: 3, query: 'colour:blue' });
    assert.equal(r.body.data.products.nodes.length, 3);
    assert.equal(r.body.extensions.search[0].warnings[0].field, 'colour');
  });

  it('builds the same catalog for the same seed and a different one for another seed', async () => {
    const read = async (s: ShopifySimulator) => (await gql(s, '{ productVariants(first: 24) { nodes { sku price inventoryQuantity } } }')).body.data.productVariants.nodes;
    const same = await startSim({ catalog: { products: 12, variantsPerProduct: 2, quantityDrift: 0.5 }, seed: 7 });
    const again = await startSim({ catalog: { products: 12, variantsPerProduct: 2, quantityDrift: 0.5 }, seed: 7 });
    const other = await startSim({ catalog: { products: 12, variantsPerProduct: 2, quantityDrift: 0.5 }, seed: 8 });
    try {
      assert.deepEqual(await read(same), await read(again));
      assert.notDeepEqual(await read(same), await read(other));
    } finally {
      await Promise.all([same.close(), again.close(), other.close()]);
    }
  });

  it('leaves out missing SKUs and adds store-only ones when asked', async () => {
    const s = await startSim({ shop: 'east', catalog: { products: 20, variantsPerProduct: 2, missingSkuRatio: 0.25, extraSkus: 3 } });
    try {
      const skus = s.store.variants.map((v) => v.sku);
      assert.ok(skus.filter((x) => x?.startsWith('SKU-')).length < 40);
      assert.equal(skus.filter((x) => x?.startsWith('EAST-ONLY-')).length, 3);
    } finally {
      await s.close();
    }
  });
});
