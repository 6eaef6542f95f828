import { strict as assert } from 'node:assert';
import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildConnectorSet } from '../../src/daemon/registry.js';
import { configSchema, type SyncConfig } from '../../src/config/schema.js';
import { initDb } from '../../src/services/init-db.js';
import { isolatedConfig } from '../support/config.js';
import { dropEverything } from '../support/isolation.js';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/wait.js';
import pg from 'pg';

const TOKEN = 'listeners-test-admin-token';
const SECRET = 'listeners-webhook-secret';

/** An HTTP request from a chosen local address (a "source"), resolving with status and body. */
function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; from?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, localAddress: opts.from ?? '127.0.0.1', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A valid Alertmanager notification (version 4). */
const notification = () => JSON.stringify({
  version: '4', groupKey: '{}:{alertname="X"}', truncatedAlerts: 0, status: 'firing', receiver: 'syncctl-tickets',
  groupLabels: { alertname: 'X' }, commonLabels: { alertname: 'X', severity: 'warning' }, commonAnnotations: {}, externalURL: 'http://am',
  alerts: [{ status: 'firing', labels: { alertname: 'X', severity: 'warning' }, annotations: {}, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'abc' }],
});

describe('Daemon listeners: public (webhooks only) and admin (token)', function () {
  this.timeout(180_000);
  let sim: WooCommerceSimulator;
  let config: SyncConfig;
  let daemon: Daemon;
  let db: pg.Pool;
  let genuine: string;

  before(async () => {
    sim = await startWooCommerceSimulator({ products: 2, seed: 3, coalesceWindowMs: 50 });
    const base = isolatedConfig('listeners');
    config = configSchema.parse({
      ...base,
      http: { public: { host: '127.0.0.1', port: await freePort(), rateLimit: { burst: 20, perSecond: 0.5 } }, admin: { host: '127.0.0.1', port: 0, token: TOKEN } },
      sources: { woocommerce: { a: { url: sim.info.siteUrl, consumerKey: sim.info.consumerKey, consumerSecret: sim.info.consumerSecret, webhookSecret: SECRET, pollIntervalSeconds: 60 } } },
      sync: { authority: 'woocommerce:a' },
      daemon: { settleSeconds: 0, drainTimeoutSeconds: 10, registerWebhooks: false },
      monitoring: { metricsHistory: { enabled: false } },
    });
    await initDb(config);
    daemon = new Daemon(config, buildConnectorSet);
    await daemon.start();
    db = new pg.Pool({ connectionString: config.database.url, max: 2, options: `-c search_path="${config.database.schema}"` });
    // A genuine product body, as WooCommerce's REST API (and so its product webhooks) shows it.
    const [product] = (await (await fetch(`${sim.info.controlUrl}/products?sku=SKU-000001-1`)).json()) as unknown[];
    assert.ok(product, 'the simulator has the product');
    genuine = JSON.stringify(product);
  });
  after(async () => {
    await db?.end();
    await daemon?.stop();
    await sim?.close();
    if (config) await dropEverything(config);
  });

  const deliver = (body: string, opts: { signature?: string; from?: string } = {}) =>
    send(`${daemon.url}/webhooks/woocommerce/a`, {
      method: 'POST',
      from: opts.from,
      body,
      headers: { 'content-type': 'application/json', 'x-wc-webhook-topic': 'product.updated', 'x-wc-webhook-delivery-id': randomUUID(), 'x-wc-webhook-signature': opts.signature ?? createHmac('sha256', SECRET).update(body).digest('base64') },
    });
  const storedWebhooks = async () => (await db.query<{ n: number }>(`select count(*)::int as n from source_events where origin = 'webhook'`)).rows[0]!.n;

  it('answers every admin path with 404 on the public listener, and only a bare liveness on its /healthz', async () => {
    for (const [method, path] of [['GET', '/metrics'], ['GET', '/readyz'], ['POST', '/alerts'], ['GET', '/alerts'], ['POST', '/metrics']] as const) {
      const r = await send(`${daemon.url}${path}`, { method, headers: method === 'POST' ? { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } : { authorization: `Bearer ${TOKEN}` }, body: method === 'POST' ? notification() : undefined });
      assert.equal(r.status, 404, `${method} ${path} on the public listener`);
    }
    const live = await send(`${daemon.url}/healthz`, {});
    assert.equal(live.status, 200);
    assert.deepEqual(JSON.parse(live.body), { status: 'ok' }, 'no details on the public listener');
  });

  it('answers 401 on the admin listener without the token or with a wrong one, and serves each path with it', async () => {
    const paths = [['GET', '/metrics'], ['GET', '/healthz'], ['GET', '/readyz'], ['POST', '/alerts']] as const;
    for (const [method, path] of paths) {
      const body = method === 'POST' ? notification() : undefined;
      const json: Record<string, string> = method === 'POST' ? { 'content-type': 'application/json' } : {};
      const none = await send(`${daemon.adminUrl}${path}`, { method, headers: json, body });
      assert.equal(none.status, 401, `${method} ${path} without a token`);
      const wrong = await send(`${daemon.adminUrl}${path}`, { method, headers: { ...json, authorization: `Bearer ${TOKEN}x` }, body });
      assert.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
      const basic = await send(`${daemon.adminUrl}${path}`, { method, headers: { ...json, authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, body });
      assert.equal(basic.status, 401, `${method} ${path} with the token in another scheme`);
      const ok = await send(`${daemon.adminUrl}${path}`, { method, headers: { ...json, authorization: `Bearer ${TOKEN}` }, body });
      assert.equal(ok.status, 200, `${method} ${path} with the token: ${ok.body}`);
    }
    const ready = await send(`${daemon.adminUrl}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.ok(JSON.parse(ready.body).checks.postgres, 'the admin /readyz has the details');
    const webhook = await send(`${daemon.adminUrl}/webhooks/woocommerce/a`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: genuine });
    assert.equal(webhook.status, 404, 'webhooks are not served on the admin listener');
  });

  it('stores a genuine delivery, and answers a source that keeps sending forgeries 429 while a genuine source is still served', async () => {
    const before = await storedWebhooks();
    assert.equal((await deliver(genuine)).status, 200);
    let limited = 0;
    for (let i = 0; i < 40; i++) {
      const r = await deliver(genuine, { signature: 'Zm9yZ2VkIHNpZ25hdHVyZSBvZiBhIGZha2UgYm9keQ==', from: '127.0.0.2' });
      assert.ok(r.status === 401 || r.status === 429, `a forgery is refused (${r.status})`);
      if (r.status === 429) limited++;
    }
    assert.ok(limited >= 15, `the forging source is limited after its burst of 20 (${limited} of 40 answered 429)`);
    assert.equal((await deliver(genuine, { from: '127.0.0.2' })).status, 429, 'a source out of budget is refused before its signature is even checked');
    assert.equal((await deliver(genuine)).status, 200, 'another source is served');
    assert.equal(await storedWebhooks(), before + 2, 'the genuine deliveries were stored, nothing else');
    const metrics = await send(`${daemon.adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.match(metrics.body, /syncctl_webhook_deliveries_total\{platform="woocommerce",instance="a",outcome="rejected",reason="rate_limited"\} [1-9]/);
  });

  it('labels deliveries to forged paths "unknown" in the metrics (the sender does not choose the series)', async () => {
    for (let i = 0; i < 3; i++) await send(`${daemon.url}/webhooks/evil${i}/x${i}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', from: '127.0.0.3' });
    const metrics = (await send(`${daemon.adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).body;
    assert.ok(!metrics.includes('evil'), 'no series named after a forged path');
    assert.match(metrics, /syncctl_webhook_deliveries_total\{platform="unknown",instance="unknown",outcome="rejected",reason="unknown_instance"\} [1-9]/);
  });

  it('stays up and keeps storing genuine deliveries under 200 concurrent forged requests', async () => {
    const before = await storedWebhooks();
    const forged = 'x'.repeat(4096);
    let stop = false;
    let forgedSent = 0;
    // 200 concurrent forgers, each from its own source address, each sending again as soon as answered.
    const forgers = Array.from({ length: 200 }, async (_, i) => {
      const from = `127.0.${10 + Math.floor(i / 200)}.${(i % 200) + 1}`;
      while (!stop) {
        await deliver(forged, { signature: 'Zm9yZ2Vk', from }).catch(() => undefined);
        forgedSent++;
      }
    });
    let genuineStored = 0;
    try {
      for (let i = 0; i < 20; i++) {
        const r = await deliver(genuine);
        assert.equal(r.status, 200, `a genuine delivery during the flood: ${r.status} ${r.body}`);
        genuineStored++;
      }
    } finally {
      stop = true;
      await Promise.all(forgers);
    }
    assert.ok(forgedSent >= 200, `the flood ran (${forgedSent} forged requests)`);
    await eventually(async () => (await storedWebhooks()) === before + genuineStored, 'every genuine delivery stored', 10_000);
    const live = await send(`${daemon.url}/healthz`, {});
    assert.equal(live.status, 200, 'the daemon is still up');
  });
});
