import assert from 'node:assert/strict';
import { ManualClock, type ShopifySimulator } from '../../../src/simulators/shopify/index.js';
import { gql, startSim } from './helpers.js';

const PAGE = (n: number) => `{ products(first: ${n}) { edges { node { id title } } } }`;

describe('Shopify simulator: query cost and leaky bucket', () => {
  let sim: ShopifySimulator;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock();
    sim = await startSim({ plan: 'standard', catalog: { products: 300, variantsPerProduct: 1 } }, { clock });
  });
  afterEach(async () => { await sim.close(); });

  it('reports extensions.cost with the throttle status on every response', async () => {
    const r = await gql(sim, '{ shop { name } }');
    assert.deepEqual(r.body.extensions.cost, {
      requestedQueryCost: 1, actualQueryCost: 1,
      throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1999, restoreRate: 100 },
    });
  });

  it('charges a connection 2 + first × node cost and refunds what was not returned', async () => {
    const r = await gql(sim, '{ products(first: 50, query: "sku:SKU-000001-1") { edges { node { id title } } } }');
    assert.equal(r.body.extensions.cost.requestedQueryCost, 52);
    assert.equal(r.body.extensions.cost.actualQueryCost, 3);
    assert.equal(r.body.extensions.cost.throttleStatus.currentlyAvailable, 2000 - 3);
  });

  it('answers THROTTLED with HTTP 200 and no data when the bucket is short', async () => {
    let r = await gql(sim, PAGE(250));
    for (let i = 0; i < 10 && !r.body.errors; i++) r = await gql(sim, PAGE(250));
    assert.equal(r.status, 200);
    assert.equal(r.body.errors![0].extensions.code, 'THROTTLED');
    assert.equal(r.body.data, undefined);
    assert.equal(r.body.extensions.cost.requestedQueryCost, 252);
    assert.equal(r.body.extensions.cost.actualQueryCost, null);
    assert.ok(r.body.extensions.cost.throttleStatus.currentlyAvailable < 252);
  });

  it('restores the bucket at the plan\'s restore rate as time passes', async () => {
    let r = await gql(sim, PAGE(250));
    for (let i = 0; i < 10 && !r.body.errors; i++) r = await gql(sim, PAGE(250));
    const left = r.body.extensions.cost.throttleStatus.currentlyAvailable as number;
    clock.advance(1_500); // 100 points/s on the standard plan
    const later = await gql(sim, '{ shop { id } }');
    assert.equal(later.body.extensions.cost.throttleStatus.currentlyAvailable, left + 150 - 1);
    clock.advance(60_000);
    const full = await gql(sim, PAGE(250));
    assert.equal(full.body.errors, undefined);
    assert.equal(full.body.extensions.cost.throttleStatus.currentlyAvailable, 2000 - 252);
  });

  it('rejects a query above 1,000 points with MAX_COST_EXCEEDED', async () => {
    const r = await gql(sim, '{ products(first: 250) { nodes { id variants(first: 250) { nodes { id } } } } }');
    assert.equal(r.status, 200);
    assert.equal(r.body.errors![0].extensions.code, 'MAX_COST_EXCEEDED');
    assert.equal(r.body.data, undefined);
    assert.equal(r.body.extensions.cost.throttleStatus.currentlyAvailable, 2000, 'nothing charged');
  });

  it('rejects first > 250', async () => {
    const r = await gql(sim, PAGE(251));
    assert.equal(r.body.data, null);
    assert.match(r.body.errors![0].message, /Expected a page size from 0 to 250/);
  });

  it('rejects a connection without first or last', async () => {
    const r = await gql(sim, '{ products { nodes { id } } }');
    assert.equal(r.body.errors![0].message, 'you must provide one of first or last');
  });

  it('rejects a mutation input array above 250 items with MAX_INPUT_SIZE_EXCEEDED', async () => {
    const variants = Array.from({ length: 251 }, () => ({ id: 'gid://shopify/ProductVariant/1', price: '1.00' }));
    const r = await gql(sim, `mutation($p: ID!, $v: [ProductVariantsBulkInput!]!) { productVariantsBulkUpdate(productId: $p, variants: $v) { userErrors { message } } }`,
      { p: 'gid://shopify/Product/1', v: variants });
    assert.equal(r.body.errors![0].extensions.code, 'MAX_INPUT_SIZE_EXCEEDED');
    assert.equal(r.body.data.productVariantsBulkUpdate, null);
  });

  it('charges a mutation 10 points', async () => {
    const r = await gql(sim, `mutation { webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") { userErrors { message } } }`);
    assert.equal(r.body.extensions.cost.requestedQueryCost, 10);
  });
});
