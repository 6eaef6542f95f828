import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { shopifyInstanceSchema } from '../../../src/config/schema.js';
import { createShopifyConnector, type ShopifyConnector } from '../../../src/connectors/shopify/index.js';
import { loadDocument } from '../../../src/connectors/shopify/documents.js';
import { ConfigError } from '../../../src/core/errors.js';
import { SyncEventBus } from '../../../src/core/events.js';
import { configureLogger } from '../../../src/core/logger.js';
import { ManualClock } from '../../../src/simulators/shopify/clock.js';
import { startShopifySimulator, type ShopifySimulator } from '../../../src/simulators/shopify/index.js';
import { control } from './helpers.js';

const INVALID_TOKEN = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };
const ISSUED = /shpat_[0-9a-f]{32}/;

async function post(url: string, contentType: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': contentType, ...headers }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('Shopify client credentials (simulator and token provider)', () => {
  let sim: ShopifySimulator;
  let clock: ManualClock;
  const logLines: string[] = [];

  before(async () => {
    // Every log line of the provider and the client, at the most verbose level, to look for tokens.
    configureLogger({ level: 'trace', destination: new Writable({ write(chunk, _enc, cb) { logLines.push(String(chunk)); cb(); } }) });
    clock = new ManualClock(Date.now());
    sim = await startShopifySimulator({ catalog: { products: 3, variantsPerProduct: 1 }, accessToken: null, tokenLifetimeSeconds: 100 }, { clock });
  });
  after(async () => {
    configureLogger({ level: 'silent' });
    await sim.close();
  });

  const connector = (bus = new SyncEventBus(), secret = sim.info.clientSecret): ShopifyConnector =>
    createShopifyConnector('main', shopifyInstanceSchema.parse({ shop: sim.info.shop, url: sim.baseUrl, clientId: sim.info.clientId, clientSecret: secret }), {
      events: bus, retry: { initialDelayMs: 5, maxDelayMs: 20, retries: 2 }, refusedRetryMs: 60_000, now: () => clock.now(),
    });
  const shopName = (c: ShopifyConnector) => c.client.request<{ shop: { name: string } }>(loadDocument('FirstLocation'), {}).then(() => true);

  describe('the simulated token endpoint', () => {
    it('grants a token to a form-encoded and to a JSON request, with scope and lifetime', async () => {
      const form = await post(sim.info.tokenUrl, 'application/x-www-form-urlencoded', new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.info.clientId, client_secret: sim.info.clientSecret }).toString());
      assert.equal(form.status, 200);
      assert.match(String(form.body.access_token), ISSUED);
      assert.equal(form.body.expires_in, 100);
      assert.match(String(form.body.scope), /write_inventory/);
      const json = await post(sim.info.tokenUrl, 'application/json', JSON.stringify({ grant_type: 'client_credentials', client_id: sim.info.clientId, client_secret: sim.info.clientSecret }));
      assert.equal(json.status, 200);
      assert.notEqual(json.body.access_token, form.body.access_token);
      const api = await fetch(sim.graphqlUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': String(json.body.access_token) }, body: JSON.stringify({ query: '{ shop { name } }' }) });
      assert.equal(api.status, 200);
    });

    it('answers a wrong secret, a missing or other grant type, and an uninstalled app as Shopify does', async () => {
      const wrong = await post(sim.info.tokenUrl, 'application/x-www-form-urlencoded', `grant_type=client_credentials&client_id=${sim.info.clientId}&client_secret=nope`);
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.body, { error: 'invalid_client', error_description: 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.' });
      const missing = await post(sim.info.tokenUrl, 'application/x-www-form-urlencoded', `client_id=${sim.info.clientId}`);
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error, 'invalid_request');
      const other = await post(sim.info.tokenUrl, 'application/x-www-form-urlencoded', 'grant_type=authorization_code&code=x');
      assert.equal(other.status, 400);
      assert.equal(other.body.error, 'unsupported_grant_type');
      await control(sim, 'PUT', '/auth', { installed: false });
      try {
        const gone = await post(sim.info.tokenUrl, 'application/x-www-form-urlencoded', new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.info.clientId, client_secret: sim.info.clientSecret }).toString());
        assert.equal(gone.status, 400);
        assert.deepEqual(gone.body, { error: 'app_not_installed', error_description: 'The application is not installed on this shop.' });
      } finally {
        await control(sim, 'PUT', '/auth', { installed: true });
      }
    });

    it('refuses an expired token and, without a static token, any other with Shopify\'s 401 body', async () => {
      const g = await post(sim.info.tokenUrl, 'application/x-www-form-urlencoded', new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.info.clientId, client_secret: sim.info.clientSecret }).toString());
      const ask = (token: string) => post(sim.graphqlUrl, 'application/json', JSON.stringify({ query: '{ shop { name } }' }), { 'X-Shopify-Access-Token': token });
      assert.equal((await ask(String(g.body.access_token))).status, 200);
      clock.advance(100_001);
      const expired = await ask(String(g.body.access_token));
      assert.equal(expired.status, 401);
      assert.deepEqual(expired.body, INVALID_TOKEN);
      assert.deepEqual((await ask('shpat_simulator_token')).body, INVALID_TOKEN);
    });

    it('keeps accepting the static token when started with one', async () => {
      const s = await startShopifySimulator({ catalog: { products: 1, variantsPerProduct: 1 }, accessToken: 'shpat_static' });
      try {
        const r = await post(s.graphqlUrl, 'application/json', JSON.stringify({ query: '{ shop { name } }' }), { 'X-Shopify-Access-Token': 'shpat_static' });
        assert.equal(r.status, 200);
        assert.equal(s.info.accessToken, 'shpat_static');
        assert.equal(s.info.clientId, 'sim_client_id');
      } finally {
        await s.close();
      }
    });
  });

  describe('the token provider', () => {
    it('obtains one token for concurrent first requests and renews it ahead of expiry', async () => {
      const c = connector();
      const before = (await control(sim, 'GET', '/auth')).grants as number;
      await Promise.all(Array.from({ length: 8 }, () => shopName(c)));
      assert.equal((await control(sim, 'GET', '/auth')).grants, before + 1, 'one grant for eight concurrent requests');
      assert.equal(c.auth.status().state, 'ok');
      // 10 % of a 100 s lifetime before expiry the token is renewed, not used until refused.
      clock.advance(85_000);
      await shopName(c);
      assert.equal((await control(sim, 'GET', '/auth')).grants, before + 1, 'still the first token');
      clock.advance(6_000);
      await Promise.all(Array.from({ length: 4 }, () => shopName(c)));
      assert.equal((await control(sim, 'GET', '/auth')).grants, before + 2, 'renewed once, ahead of expiry');
    });

    it('renews once on a 401 (single flight) and carries on', async () => {
      const c = connector();
      await shopName(c);
      const before = (await control(sim, 'GET', '/auth')).grants as number;
      await control(sim, 'POST', '/auth/revoke-tokens');
      await Promise.all(Array.from({ length: 6 }, () => shopName(c)));
      assert.equal((await control(sim, 'GET', '/auth')).grants, before + 1, 'one grant for six requests refused at once');
    });

    it('turns a refused grant into a ConfigError naming the store, holds, and resumes once the secret is right again', async () => {
      const bus = new SyncEventBus();
      const states: string[] = [];
      bus.on('shopify.auth', (e) => { states.push(e.state); });
      const c = connector(bus);
      await shopName(c);
      const original = sim.info.clientSecret;
      await control(sim, 'POST', '/auth/rotate', { clientSecret: 'shpss_rotated' });
      try {
        await assert.rejects(shopName(c), (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.equal(err.code, 'SHOPIFY_AUTH_REFUSED');
          assert.match(err.message, /Shopify store main \(sim-shop\.myshopify\.com\) refused the client credentials grant \(invalid_client: Client authentication failed/);
          return true;
        });
        assert.equal(c.auth.status().state, 'refused');
        assert.match((await c.sink.held())!, /refused the client credentials grant/);
        // Until the next attempt is due nothing is sent: the refusal is answered from memory.
        const grants = (await control(sim, 'GET', '/auth')).grants as number;
        await assert.rejects(shopName(c), ConfigError);
        assert.equal((await control(sim, 'GET', '/auth')).grants, grants);
      } finally {
        await control(sim, 'POST', '/auth/rotate', { clientSecret: original });
      }
      clock.advance(60_001);
      assert.equal(await c.sink.held(), null);
      await shopName(c);
      assert.equal(c.auth.status().state, 'ok');
      assert.deepEqual(states, ['ok', 'refused', 'ok']);
    });

    it('treats a static token refused with 401 as a refusal of the store\'s credentials', async () => {
      const s = await startShopifySimulator({ catalog: { products: 1, variantsPerProduct: 1 }, accessToken: 'shpat_static' });
      try {
        const c = createShopifyConnector('legacy', shopifyInstanceSchema.parse({ shop: s.info.shop, url: s.baseUrl, accessToken: 'shpat_revoked', clientSecret: s.info.clientSecret }), { events: new SyncEventBus() });
        await assert.rejects(shopName(c), (err: unknown) => err instanceof ConfigError && err.code === 'SHOPIFY_TOKEN_REFUSED' && /Shopify store legacy/.test(err.message));
        assert.equal(c.auth.status().state, 'refused');
        assert.equal(c.auth.status().mode, 'access-token');
      } finally {
        await s.close();
      }
    });

    it('never writes a token into a log line', () => {
      assert.ok(logLines.some((l) => /obtained a Shopify access token/.test(l)), 'the provider logged its grants');
      const leaking = logLines.filter((l) => ISSUED.test(l) || l.includes('shpss_'));
      assert.deepEqual(leaking, []);
    });
  });

  describe('config', () => {
    const base = { shop: 'acme.myshopify.com', clientSecret: 's' };
    it('takes accessToken or clientId, and explains which is which when neither or both are set', () => {
      assert.ok(shopifyInstanceSchema.safeParse({ ...base, accessToken: 't' }).success);
      assert.ok(shopifyInstanceSchema.safeParse({ ...base, clientId: 'c' }).success);
      const neither = shopifyInstanceSchema.safeParse(base);
      assert.equal(neither.success, false);
      assert.match(neither.error!.issues[0]!.message, /set either `accessToken` or `clientId`.*Shopify admin.*Dev Dashboard/);
      const both = shopifyInstanceSchema.safeParse({ ...base, accessToken: 't', clientId: 'c' });
      assert.match(both.error!.issues[0]!.message, /not both/);
    });
    it('accepts the supported API versions only', () => {
      for (const v of ['2026-01', '2026-04', '2026-07', '2026-10']) assert.ok(shopifyInstanceSchema.safeParse({ ...base, accessToken: 't', apiVersion: v }).success, v);
      assert.equal(shopifyInstanceSchema.parse({ ...base, accessToken: 't' }).apiVersion, '2026-04');
      const old = shopifyInstanceSchema.safeParse({ ...base, accessToken: 't', apiVersion: '2025-07' });
      assert.match(old.error!.issues[0]!.message, /2026-01, 2026-04, 2026-07, 2026-10/);
    });
  });
});
