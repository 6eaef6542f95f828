import assert from 'node:assert/strict';
import type { WooCommerceSimulator } from '../../../src/simulators/woocommerce/index.js';
import { basic, oauthUrl, startSim, body } from './helpers.js';

describe('WooCommerce simulator: authentication', () => {
  let sim: WooCommerceSimulator;
  afterEach(async () => sim?.close());

  it('accepts HTTP Basic with the consumer key and secret', async () => {
    sim = await startSim();
    const res = await fetch(`${sim.apiUrl}/products`, { headers: basic(sim) });
    assert.equal(res.status, 200);
  });

  it('rejects a wrong consumer secret with 401 woocommerce_rest_authentication_error and WWW-Authenticate', async () => {
    sim = await startSim();
    const res = await fetch(`${sim.apiUrl}/products`, { headers: basic(sim, 'cs_wrong') });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.deepEqual(await body(res), { code: 'woocommerce_rest_authentication_error', message: 'Consumer secret is invalid.', data: { status: 401 } });
  });

  it('answers a request without credentials with 401 woocommerce_rest_cannot_view', async () => {
    sim = await startSim();
    const res = await fetch(`${sim.apiUrl}/products`);
    assert.equal(res.status, 401);
    assert.equal((await body(res)).code, 'woocommerce_rest_cannot_view');
  });

  it('ignores Basic over plain http when requireOAuthOverHttp is set, as real WooCommerce does', async () => {
    sim = await startSim({ requireOAuthOverHttp: true });
    const res = await fetch(`${sim.apiUrl}/products`, { headers: basic(sim) });
    assert.equal(res.status, 401);
    assert.equal((await body(res)).code, 'woocommerce_rest_cannot_view');
  });

  it('accepts a one-legged OAuth 1.0a HMAC-SHA1 signature in the query string', async () => {
    sim = await startSim({ requireOAuthOverHttp: true });
    const res = await fetch(oauthUrl(sim, '/products', { per_page: '2', sku: 'SKU-000001-1,SKU-000002-1' }));
    assert.equal(res.status, 200);
    assert.equal((await body(res)).length, 2);
  });

  it('accepts an OAuth 1.0a HMAC-SHA256 signature on a write', async () => {
    sim = await startSim({ requireOAuthOverHttp: true });
    const id = sim.store.findBySku('SKU-000001-1')[0]!.id;
    const url = oauthUrl(sim, `/products/${id}`, {}, { method: 'PUT', algorithm: 'HMAC-SHA256' });
    const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stock_quantity: 7 }) });
    assert.equal(res.status, 200);
    assert.equal((await body(res)).stock_quantity, 7);
  });

  it('signs query values with spaces and reserved characters the way WooCommerce normalises them', async () => {
    sim = await startSim({ requireOAuthOverHttp: true });
    const res = await fetch(oauthUrl(sim, '/products', { search: "Mug & Co's (best)!", per_page: '5' }));
    assert.equal(res.status, 200);
  });

  it('rejects an OAuth signature made with the wrong secret', async () => {
    sim = await startSim();
    const res = await fetch(oauthUrl(sim, '/products', {}, { secret: 'cs_wrong' }));
    assert.equal(res.status, 401);
    assert.deepEqual(await body(res), { code: 'woocommerce_rest_authentication_error', message: 'Invalid signature - provided signature does not match.', data: { status: 401 } });
  });

  it('rejects an OAuth timestamp older than 15 minutes', async () => {
    sim = await startSim();
    const res = await fetch(oauthUrl(sim, '/products', {}, { timestamp: Math.floor(Date.now() / 1000) - 16 * 60 }));
    assert.equal(res.status, 401);
    assert.equal((await body(res)).message, 'Invalid timestamp.');
  });

  it('rejects a replayed OAuth nonce', async () => {
    sim = await startSim();
    const url = oauthUrl(sim, '/products', {}, { nonce: 'abc123' });
    assert.equal((await fetch(url)).status, 200);
    const again = await fetch(url);
    assert.equal(again.status, 401);
    assert.equal((await body(again)).message, 'Invalid nonce - nonce has already been used.');
  });

  it('reports missing OAuth parameters with woocommerce_rest_authentication_missing_parameter', async () => {
    sim = await startSim();
    const res = await fetch(`${sim.apiUrl}/products?oauth_consumer_key=${sim.info.consumerKey}`);
    assert.equal(res.status, 401);
    assert.equal((await body(res)).code, 'woocommerce_rest_authentication_missing_parameter');
  });

  it('refuses writes with a read-only key', async () => {
    sim = await startSim({ keyPermissions: 'read' });
    const res = await fetch(`${sim.apiUrl}/products`, { method: 'POST', headers: { ...basic(sim), 'content-type': 'application/json' }, body: '{"name":"x"}' });
    assert.equal(res.status, 401);
    assert.equal((await body(res)).message, 'The API key provided does not have write permissions.');
  });

  it('derives the same ck_/cs_ credentials from the same seed', async () => {
    sim = await startSim({ seed: 42 });
    const other = await startSim({ seed: 42 });
    try {
      assert.match(sim.info.consumerKey, /^ck_[0-9a-f]{40}$/);
      assert.match(sim.info.consumerSecret, /^cs_[0-9a-f]{40}$/);
      assert.equal(other.info.consumerKey, sim.info.consumerKey);
      assert.equal(other.info.consumerSecret, sim.info.consumerSecret);
    } finally {
      await other.close();
    }
  });
});
