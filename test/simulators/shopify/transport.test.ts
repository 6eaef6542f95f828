import assert from 'node:assert/strict';
import type { ShopifySimulator } from '../../../src/simulators/shopify/index.js';
import { control, gql, startSim } from './helpers.js';

describe('Shopify simulator: transport', () => {
  let sim: ShopifySimulator;
  before(async () => { sim = await startSim(); });
  after(async () => { await sim.close(); });

  it('answers 401 with Shopify\'s error JSON for a wrong access token', async () => {
    const r = await gql(sim, '{ shop { name } }', undefined, { token: 'shpat_wrong' });
    assert.equal(r.status, 401);
    assert.match(r.body.errors as unknown as string, /Invalid API key or access token/);
  });

  it('answers 401 when the access token header is missing', async () => {
    const r = await gql(sim, '{ shop { name } }', undefined, { token: null });
    assert.equal(r.status, 401);
  });

  it('serves the pinned version 2026-04 and says so in X-Shopify-API-Version', async () => {
    const r = await gql(sim, '{ shop { myshopifyDomain } }');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-shopify-api-version'), '2026-04');
    assert.equal(r.body.data.shop.myshopifyDomain, 'sim-shop.myshopify.com');
  });

  it('answers other supported versions as themselves', async () => {
    const r = await gql(sim, '{ shop { name } }', undefined, { version: '2026-07' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-shopify-api-version'), '2026-07');
  });

  it('serves an unsupported older version as the oldest supported one', async () => {
    const r = await gql(sim, '{ shop { name } }', undefined, { version: '2024-10' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-shopify-api-version'), '2026-01');
  });

  it('answers 404 for a version that is not a version', async () => {
    const r = await gql(sim, '{ shop { name } }', undefined, { version: 'banana' });
    assert.equal(r.status, 404);
  });

  it('reports GraphQL validation errors with HTTP 200, as Shopify does', async () => {
    const r = await gql(sim, '{ shop { notAField } }');
    assert.equal(r.status, 200);
    assert.match(r.body.errors![0].message, /notAField/);
  });

  it('rejects a body without a query with 400', async () => {
    const res = await fetch(sim.graphqlUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': sim.info.accessToken! }, body: '{}' });
    assert.equal(res.status, 400);
  });

  it('changes only the faults a PUT /_sim/faults names (a partial body keeps the others)', async () => {
    const s2 = await startSim();
    try {
      await control(s2, 'PUT', '/faults', { webhooks: { dropRate: 0.2, delayMs: [5, 10] }, api: { errorRate: 0.1 } });
      const r = await control(s2, 'PUT', '/faults', { webhooks: { duplicateRate: 0.3 } });
      assert.equal(r.status, 200);
      assert.equal(r.body.webhooks.dropRate, 0.2);
      assert.deepEqual(r.body.webhooks.delayMs, [5, 10]);
      assert.equal(r.body.webhooks.duplicateRate, 0.3);
      assert.equal(r.body.api.errorRate, 0.1);
      assert.equal((await control(s2, 'PUT', '/faults', { webhooks: { dropRat: 1 } })).status, 400);
    } finally {
      await s2.close();
    }
  });
});
