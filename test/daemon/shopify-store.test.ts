import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import type { SyncConfigInput } from '../../src/config/schema.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildConnectorSet } from '../../src/daemon/registry.js';
import { configureLogger } from '../../src/core/logger.js';
import { SHOPIFY_SUBSCRIPTION_TOPICS } from '../../src/connectors/shopify/index.js';
import { collectStatus } from '../../src/services/status.js';
import { inconsistencies, sell, simControl, startRig, type Rig } from './support/rig.js';
import { eventually } from '../support/wait.js';

/** A token issued by the client credentials grant (the simulator's shape). */
const ISSUED_TOKEN = /shpat_[0-9a-f]{32}/;

describe('syncctl daemon on a Shopify store connected as today (Dev Dashboard app)', function () {
  this.timeout(180_000);
  let rig: Rig;
  let daemon: Daemon;
  let failed = false;
  const sold = new Map<string, number>();
  const record = (sku: string, q: number) => sold.set(sku, (sold.get(sku) ?? 0) + q);
  const logLines: string[] = [];
  const grants = async () => (await simControl(rig.shop.info.controlUrl, 'GET', '/auth')).grants as number;
  const consistent = (what: string) => eventually(async () => (await inconsistencies(rig, sold)).length === 0, what, 60_000, 200);

  before(async () => {
    // Every line the daemon logs, Shopify's components at debug, to look for tokens and secrets.
    configureLogger({
      level: 'info', components: { 'shopify.auth': 'debug', shopify: 'debug', 'shopify.sink': 'debug', 'shopify.subscriptions': 'debug', writer: 'debug' },
      destination: new Writable({ write(chunk, _enc, cb) { logLines.push(String(chunk)); cb(); } }),
    });
    rig = await startRig('shopifycc', {
      skus: 3, woo: { a: { buffer: 0 } }, initial: 100, shopifyAuth: 'client-credentials',
      // Tokens live 2 s (Shopify: 24 h); a delivery's 8 retries take ~1.4 s (Shopify: ~4 h).
      shopify: { accessToken: null, tokenLifetimeSeconds: 2, webhookRetryScale: 0.0001 },
      // Merged over the rig's store config, which has the required keys.
      overrides: { sources: { shopify: { main: { subscriptionCheckSeconds: 2 } } } } as unknown as SyncConfigInput,
    });
    daemon = new Daemon(rig.config, buildConnectorSet);
    await daemon.start();
    await consistent('initial sync');
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });
  after(async () => {
    await daemon?.stop();
    configureLogger({ level: 'silent' });
    await rig?.close(failed);
  });

  it('keeps syncing across several token expiries, with no failed write and no token in any log line', async () => {
    const first = await grants();
    let sales = 0;
    // Sales on WooCommerce become inventoryAdjustQuantities on Shopify, each with the token of the moment.
    while ((await grants()) < first + 4) {
      const sku = rig.skus[sales % rig.skus.length]!;
      await sell(rig, 'a', sku, 1);
      record(sku, 1);
      sales++;
      await consistent(`sale ${sales} synced`);
      assert.ok(sales < 200, 'tokens were not renewed');
    }
    const adjusts = await rig.adjustWrites();
    assert.equal(adjusts.reduce((n, a) => n - a.delta, 0), sales, 'every sale applied once on Shopify');
    assert.deepEqual(await rig.query(`select write_id, last_error from planned_writes where status = 'FAILED'`), []);
    assert.deepEqual(await rig.query('select dead_letter_id from dead_letters'), []);
    assert.ok(logLines.some((l) => l.includes('obtained a Shopify access token')), 'the grants were logged (without their tokens)');
    const leaking = logLines.filter((l) => ISSUED_TOKEN.test(l) || l.includes(rig.shop.info.clientSecret));
    assert.deepEqual(leaking, []);
    assert.equal((await daemon.readiness()).checks['credentials:shopify:main']?.ok, true);
  });

  it('reports a revoked secret clearly (readiness, status) and holds the store\'s writes until it is accepted again', async () => {
    const original = rig.shop.info.clientSecret;
    await simControl(rig.shop.info.controlUrl, 'POST', '/auth/rotate', { clientSecret: 'shpss_rotated_by_the_merchant', revokeTokens: true });
    const sku = rig.skus[0]!;
    try {
      await sell(rig, 'a', sku, 2);
      record(sku, 2);
      const check = await eventually(async () => {
        const c = (await daemon.readiness()).checks['credentials:shopify:main'];
        return c && !c.ok ? c : undefined;
      }, 'readiness reports the refusal', 30_000, 100);
      assert.match(check.detail!, /Shopify store main \(sim-shop\.myshopify\.com\) refused the client credentials grant \(invalid_client/);
      const status = await collectStatus(rig.config);
      assert.ok(status.problems.some((p) => /^shopify:main: Shopify store main .* refused the client credentials grant .*clientSecret/.test(p)), status.problems.join('\n'));
      // The write waits: pending, its attempts not spent, nothing dead-lettered.
      const held = await eventually(async () => (await rig.query(`select status, attempts, last_error from planned_writes where sku = $1 and kind = 'adjust' and status <> 'DONE'`, [sku]))[0], 'the held write', 30_000, 100);
      assert.equal(held.status === 'PENDING' || held.status === 'INFLIGHT', true, held.status);
      assert.ok(held.attempts <= 1, `attempts ${held.attempts}`);
      assert.deepEqual(await rig.query('select dead_letter_id from dead_letters'), []);
      assert.ok(logLines.some((l) => l.includes('writes to this target are held')), 'the hold was logged');
    } finally {
      await simControl(rig.shop.info.controlUrl, 'POST', '/auth/rotate', { clientSecret: original, revokeTokens: false });
    }
    // The provider tries again (5 s after the refusal), is granted a token, and the write goes through once.
    await consistent('the held write applied after the secret was fixed');
    assert.equal((await daemon.readiness()).checks['credentials:shopify:main']?.ok, true);
    assert.deepEqual((await rig.adjustWrites()).filter((a) => a.delta === -2).length, 1);
    assert.deepEqual(await rig.query(`select write_id from planned_writes where status = 'FAILED'`), []);
  });

  it('registers again the subscriptions Shopify deleted while the intake was unreachable, and loses no change meanwhile', async () => {
    const url = `${rig.config.http.publicUrl ?? `http://${rig.config.http.public.host}:${rig.config.http.public.port}`}/webhooks/shopify/main`;
    await eventually(async () => (await simControl(rig.shop.info.controlUrl, 'GET', '/webhooks/subscriptions')).length === SHOPIFY_SUBSCRIPTION_TOPICS.length, 'every subscription present');
    const removedBefore = (await simControl(rig.shop.info.controlUrl, 'GET', '/webhooks/subscriptions/removed')).length as number;
    await daemon.stop();
    // Sales on Shopify while syncctl is down: their deliveries fail 8 retries, and Shopify deletes the subscriptions.
    for (const sku of rig.skus) {
      await sell(rig, 'main', sku, 3);
      record(sku, 3);
    }
    const removed = await eventually(async () => {
      const r = (await simControl(rig.shop.info.controlUrl, 'GET', '/webhooks/subscriptions/removed')) as Array<{ topic: string; uri: string }>;
      const now = r.slice(removedBefore);
      return now.some((x) => x.topic === 'INVENTORY_LEVELS_UPDATE') && now.some((x) => x.topic === 'ORDERS_CREATE') ? now : undefined;
    }, 'Shopify deleting the failing subscriptions', 30_000, 100);
    assert.ok(removed.every((x) => x.uri === url));
    daemon = new Daemon(rig.config, buildConnectorSet);
    await daemon.start();
    // The leader lists them when elected and creates the missing ones; the poller brings the lost changes.
    await eventually(async () => (await simControl(rig.shop.info.controlUrl, 'GET', '/webhooks/subscriptions')).length === SHOPIFY_SUBSCRIPTION_TOPICS.length, 'subscriptions registered again', 30_000, 200);
    await consistent('the sales made while syncctl was down reach WooCommerce');
    const report = (await rig.query(`select value from checkpoints where name = 'subscriptions:shopify:main'`))[0]!.value as { topics: Array<{ topic: string; state: string }> };
    const again = report.topics.filter((t) => t.state === 're-registered').map((t) => t.topic);
    for (const r of removed) assert.ok(again.includes(r.topic), `${r.topic} shown as re-registered`);
    assert.ok(logLines.some((l) => l.includes('a Shopify webhook subscription had disappeared')));
    const status = await collectStatus(rig.config);
    const detail = status.sources.find((s) => s.source === 'shopify:main')!.detail as { subscriptions: Array<{ topic: string; state: string }> };
    assert.deepEqual(detail.subscriptions.filter((s) => s.state === 're-registered').map((s) => s.topic).sort(), [...new Set(removed.map((r) => r.topic))].sort());
    assert.ok(status.warnings.some((w) => /Shopify had deleted webhook subscription/.test(w)));
    // Deliveries flow again to the new subscriptions.
    const sku = rig.skus[1]!;
    await sell(rig, 'main', sku, 1);
    record(sku, 1);
    await consistent('a sale after the re-registration');
    assert.deepEqual(await rig.query('select dead_letter_id from dead_letters'), []);
  });
});
