import assert from 'node:assert/strict';
import type { ShopifySimulator } from '../../../src/simulators/shopify/index.js';
import { gql, startSim } from './helpers.js';

const RUN = `mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: false) { bulkOperation { id status } userErrors { field message code } } }`;
const CURRENT = '{ currentBulkOperation { id status url objectCount rootObjectCount errorCode } }';
const PRODUCTS_WITH_VARIANTS = '{ products { edges { node { id title variants { edges { node { id sku } } } } } } }';

async function waitDone(sim: ShopifySimulator): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const op = (await gql(sim, CURRENT)).body.data.currentBulkOperation;
    if (op.status === 'COMPLETED' || op.status === 'FAILED') return op;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('bulk operation did not finish');
}

describe('Shopify simulator: bulk operations', () => {
  let sim: ShopifySimulator;
  afterEach(async () => { await sim.close(); });

  it('runs a bulk query CREATED → COMPLETED and serves JSONL with __parentId on children', async () => {
    sim = await startSim({ catalog: { products: 3, variantsPerProduct: 2 } });
    const started = (await gql(sim, RUN, { q: PRODUCTS_WITH_VARIANTS })).body.data.bulkOperationRunQuery;
    assert.deepEqual(started.userErrors, []);
    assert.equal(started.bulkOperation.status, 'CREATED');
    const done = await waitDone(sim);
    assert.equal(done.status, 'COMPLETED');
    assert.equal(done.objectCount, '9');
    assert.equal(done.rootObjectCount, '3');
    const lines = (await (await fetch(done.url as string)).text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 9);
    assert.deepEqual(Object.keys(lines[0]).sort(), ['id', 'title']);
    assert.deepEqual(lines[1], { id: `gid://shopify/ProductVariant/${sim.store.variants[0]!.id}`, sku: 'SKU-000001-1', __parentId: lines[0].id });
    const byId = await gql(sim, 'query($id: ID!) { bulkOperation(id: $id) { status } }', { id: started.bulkOperation.id });
    assert.equal(byId.body.data.bulkOperation.status, 'COMPLETED');
  });

  it('runs five bulk queries at once and answers a sixth LIMIT_REACHED, as Shopify does from 2026-01', async () => {
    sim = await startSim({ bulkOperationLatencyMs: 60_000 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = (await gql(sim, RUN, { q: PRODUCTS_WITH_VARIANTS })).body.data.bulkOperationRunQuery;
      assert.deepEqual(r.userErrors, []);
      ids.push(r.bulkOperation.id);
    }
    assert.equal(new Set(ids).size, 5);
    const sixth = (await gql(sim, RUN, { q: PRODUCTS_WITH_VARIANTS })).body.data.bulkOperationRunQuery;
    assert.equal(sixth.bulkOperation, null);
    assert.deepEqual(sixth.userErrors, [{ field: null, message: 'Bulk operations limit reached. Please try again later.', code: 'LIMIT_REACHED' }]);
    for (const id of ids) assert.equal((await gql(sim, 'query($id: ID!) { bulkOperation(id: $id) { status } }', { id })).body.data.bulkOperation.status, 'CREATED');
  });

  it('refuses a bulk query without a connection', async () => {
    sim = await startSim();
    const r = (await gql(sim, RUN, { q: '{ shop { name } }' })).body.data.bulkOperationRunQuery;
    assert.equal(r.userErrors[0].code, 'INVALID');
  });

  it('refuses connections nested more than two levels deep', async () => {
    sim = await startSim();
    const q = '{ products { edges { node { id variants { edges { node { id inventoryItem { id inventoryLevels { edges { node { id } } } } } } } } } } }';
    const r = (await gql(sim, RUN, { q })).body.data.bulkOperationRunQuery;
    assert.equal(r.userErrors[0].code, 'INVALID');
    assert.match(r.userErrors[0].message, /nesting depth/);
  });
});
