import { strict as assert } from 'node:assert';
import { getEventListeners } from 'node:events';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildConnectorSet } from '../../src/daemon/registry.js';
import { configSchema, type SyncConfig } from '../../src/config/schema.js';
import { initDb } from '../../src/services/init-db.js';
import { isolatedConfig } from '../support/config.js';
import { dropEverything } from '../support/isolation.js';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/wait.js';

const SKU = 'SKU-000001-1';

async function control(sim: WooCommerceSimulator, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${sim.info.controlUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return r.json();
}
const stockOf = async (sim: WooCommerceSimulator, sku: string): Promise<number> => (await control(sim, 'GET', `/products?sku=${sku}`))[0].stock_quantity;

describe('syncctl daemon end to end: two WooCommerce sites (simulators), one the stock authority', function () {
  this.timeout(120_000);
  let a: WooCommerceSimulator;
  let b: WooCommerceSimulator;
  let config: SyncConfig;
  let daemon: Daemon;
  // A leader task of the test's own, run every 5 ms: how many abort listeners its signal holds at each run.
  const abortListeners: number[] = [];
  /** Leader tasks besides the probe: each holds at most one abort listener, while it waits for its next run. */
  let otherLeaderTasks = 0;

  before(async () => {
    a = await startWooCommerceSimulator({ products: 3, seed: 1, coalesceWindowMs: 50 });
    b = await startWooCommerceSimulator({ products: 3, seed: 2, coalesceWindowMs: 50 });
    await control(a, 'POST', '/stock', { sku: SKU, quantity: 10 });
    await control(b, 'POST', '/stock', { sku: SKU, quantity: 7 });
    const base = isolatedConfig('daemon_woo');
    const woo = (sim: WooCommerceSimulator) => ({ url: sim.info.siteUrl, consumerKey: sim.info.consumerKey, consumerSecret: sim.info.consumerSecret, webhookSecret: `secret-${sim.info.consumerKey.slice(-6)}`, pollIntervalSeconds: 1 });
    config = configSchema.parse({
      ...base,
      http: { public: { host: '127.0.0.1', port: await freePort() }, admin: { port: 0 } },
      sources: { woocommerce: { a: woo(a), b: woo(b) } },
      sync: { authority: 'woocommerce:a', fieldPolicies: { price: 'priority:woocommerce:a' } },
      daemon: { settleSeconds: 0, drainTimeoutSeconds: 10 },
      monitoring: { metricsHistory: { enabled: false } },
    });
    await initDb(config);
    daemon = new Daemon(config, async (c, ctx) => {
      const set = await buildConnectorSet(c, ctx);
      otherLeaderTasks = set.leaderTasks.length;
      set.leaderTasks.push({ name: 'test:listener-probe', intervalMs: 5, run: async (signal) => void abortListeners.push(getEventListeners(signal, 'abort').length) });
      return set;
    });
    await daemon.start();
  });
  after(async () => {
    await daemon?.stop();
    await a?.close();
    await b?.close();
    if (config) await dropEverything(config);
  });

  it('brings the other site to the authority\'s quantity', async () => {
    await eventually(async () => (await stockOf(b, SKU)) === 10, 'site b showing 10', 30_000);
    assert.equal(await stockOf(a, SKU), 10);
  });

  it('applies a sale on the other site to the authority exactly once', async () => {
    await control(b, 'POST', '/orders', { status: 'processing', lines: [{ sku: SKU, quantity: 2 }] });
    await eventually(async () => (await stockOf(a, SKU)) === 8, 'the authority at 8', 30_000);
    await new Promise((r) => setTimeout(r, 3000)); // polls and webhooks keep arriving: nothing may count twice
    assert.equal(await stockOf(a, SKU), 8);
    assert.equal(await stockOf(b, SKU), 8);
  });

  it('brings a price changed on the authority to the other site', async () => {
    await control(a, 'PUT', '/products', { sku: SKU, regular_price: '77.50' });
    await eventually(async () => (await control(b, 'GET', `/products?sku=${SKU}`))[0].regular_price === '77.50', 'the price on site b', 30_000);
  });

  it('keeps no abort listener of a finished wait between leader-task runs (one leaked per run: MaxListenersExceededWarning after 11)', async () => {
    await eventually(async () => abortListeners.length >= 40, '40 runs of the probe task', 30_000, 20);
    assert.ok(abortListeners.at(-1)! <= otherLeaderTasks, `at most one per other leader task (${otherLeaderTasks}); abort listeners on the leader signal at runs 1..${abortListeners.length}: ${abortListeners.slice(0, 12).join(' ')} ... ${abortListeners.at(-1)}`);
  });

  it('answers /healthz, /readyz and /metrics', async () => {
    assert.equal((await fetch(`${daemon.adminUrl}/healthz`)).status, 200);
    const ready = await fetch(`${daemon.adminUrl}/readyz`);
    assert.equal(ready.status, 200, JSON.stringify(await ready.json()));
    const metrics = await (await fetch(`${daemon.adminUrl}/metrics`)).text();
    assert.match(metrics, /syncctl_events_processed_total/);
    assert.match(metrics, /syncctl_sync_latency_seconds_bucket/);
  });

  it('rejects a forged webhook with 401 and stores nothing', async () => {
    const before = await countEvents(config);
    const r = await fetch(`${daemon.url}/webhooks/woocommerce/a`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-wc-webhook-signature': 'Zm9yZ2Vk', 'x-wc-webhook-topic': 'product.updated', 'x-wc-webhook-resource': 'product', 'x-wc-webhook-event': 'updated', 'x-wc-webhook-delivery-id': '1', 'x-wc-webhook-id': '1' }, body: '{"id":1}' });
    assert.equal(r.status, 401);
    assert.equal(await countEvents(config), before);
  });

  it('answers 404 for an unknown instance and 413 for an oversized body', async () => {
    assert.equal((await fetch(`${daemon.url}/webhooks/woocommerce/nope`, { method: 'POST', body: '{}' })).status, 404);
    const big = 'x'.repeat(config.http.bodyLimitBytes + 10);
    assert.equal((await fetch(`${daemon.url}/webhooks/woocommerce/a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })).status, 413);
  });
});

async function countEvents(config: SyncConfig): Promise<number> {
  const pg = await import('pg');
  const c = new pg.default.Client({ connectionString: config.database.url });
  await c.connect();
  try {
    const r = await c.query(`select count(*)::int as n from "${config.database.schema}".source_events`);
    return r.rows[0].n;
  } finally {
    await c.end();
  }
}
