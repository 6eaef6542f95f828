import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { configSchema, type SyncConfig } from '../../src/config/schema.js';
import { applyCatalog } from '../../src/services/catalog/index.js';
import { initDb } from '../../src/services/init-db.js';
import { initErp } from '../../src/simulators/erp/index.js';
import { startShopifySimulator, type ShopifySimulator } from '../../src/simulators/shopify/index.js';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { dbUrl, dropDatabase, uniqueName } from '../connectors/erp/helpers.js';
import { isolatedConfig } from '../support/config.js';
import { dropEverything } from '../support/isolation.js';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/wait.js';
import { killNow, startDaemonProcess, type DaemonProcess } from './support/process.js';

/*
 * kill -9 of the real daemon (`syncctl start`, compiled) while its writers create a catalog of
 * 40 products × 3 variants on a Shopify store and a WooCommerce site, three times: the creations
 * abandoned INFLIGHT are resent after their lease, look the product up first and adopt it, so
 * every product exists exactly once on each platform with its three variants.
 */
describe('catalog creation survives kill -9 of the daemon without duplicates', function () {
  this.timeout(300_000);
  const PRODUCTS = 40;
  const erpDb = uniqueName('catalog_crash');
  let shop: ShopifySimulator;
  let woo: WooCommerceSimulator;
  let config: SyncConfig;
  let daemonConfigPath: string;
  let daemon: DaemonProcess | undefined;
  let db: pg.Pool;

  before(async () => {
    await initErp({ databaseUrl: dbUrl(erpDb), products: PRODUCTS, variantsPerProduct: 3, seed: 2, orders: 0 });
    shop = await startShopifySimulator({ catalog: { products: 0 }, webhookRetryScale: 0.001 });
    woo = await startWooCommerceSimulator({ products: 0, seed: 4, coalesceWindowMs: 50 });
    const base = isolatedConfig('catalog_crash');
    const channels = {
      shopify: { main: { shop: shop.info.shop, url: shop.baseUrl, accessToken: shop.info.accessToken!, clientSecret: shop.info.clientSecret, pollIntervalSeconds: 1 } },
      woocommerce: { outlet: { url: woo.info.siteUrl, consumerKey: woo.info.consumerKey, consumerSecret: woo.info.consumerSecret, webhookSecret: 'whsec-outlet', pollIntervalSeconds: 1 } },
    };
    const common = {
      database: base.database, kafka: base.kafka, redis: base.redis, logging: { level: 'warn' },
      daemon: { settleSeconds: 0, drainTimeoutSeconds: 10, writeLeaseSeconds: 5, groupPrefix: base.kafka.topicPrefix },
      monitoring: { metricsHistory: { enabled: false } },
    };
    // The daemon writes to the channels (no ERP capture needed for that); `apply` reads the ERP master.
    const daemonRaw = { ...common, http: { public: { host: '127.0.0.1', port: await freePort() }, admin: { port: 0 } }, sources: channels, sync: { authority: 'shopify:main' } };
    config = configSchema.parse({ ...common, sources: { ...channels, erp: { databaseUrl: dbUrl(erpDb) } }, sync: { authority: 'shopify:main' } });
    await initDb(config);
    const dir = mkdtempSync(join(tmpdir(), 'syncctl-catalog-crash-'));
    daemonConfigPath = join(dir, 'syncctl.json');
    writeFileSync(daemonConfigPath, JSON.stringify(daemonRaw, null, 2));
    db = new pg.Pool({ connectionString: config.database.url, max: 2, options: `-c search_path="${config.database.schema}"` });
  });
  after(async () => {
    if (daemon) await killNow(daemon);
    await db?.end().catch(() => undefined);
    await shop?.close().catch(() => undefined);
    await woo?.close().catch(() => undefined);
    await dropDatabase(erpDb).catch(() => undefined);
    if (config) await dropEverything(config);
  });

  const done = async () => Number((await db.query<{ n: string }>(`select count(*) as n from planned_writes where kind = 'create_product' and status = 'DONE'`)).rows[0]!.n);

  it('creates every product exactly once on each platform', async () => {
    const applied = await applyCatalog(config, db, { waitSeconds: 0 });
    assert.equal(applied.planned, PRODUCTS * 2);
    daemon = await startDaemonProcess(daemonConfigPath);
    let kills = 0;
    for (const threshold of [5, 25, 50]) {
      await eventually(async () => (await done()) >= threshold, `${threshold} creations done`, 120_000, 20);
      await killNow(daemon);
      kills++;
      daemon = await startDaemonProcess(daemonConfigPath);
    }
    await eventually(async () => (await done()) === PRODUCTS * 2, 'every creation done', 180_000, 250);
    assert.equal(kills, 3);

    const failed = await db.query(`select last_error from planned_writes where kind = 'create_product' and status <> 'DONE'`);
    assert.deepEqual(failed.rows, []);
    // Shopify: one product per code, three variants, no SKU twice.
    assert.equal(shop.store.products.length, PRODUCTS);
    assert.ok(shop.store.products.every((p) => p.variants.length === 3));
    const shopSkus = shop.store.variants.map((v) => v.sku);
    assert.equal(new Set(shopSkus).size, PRODUCTS * 3);
    // WooCommerce: one variable product per code, three variations, no SKU twice.
    const live = [...woo.store.products.values()].filter((p) => p.status !== 'trash');
    assert.equal(live.filter((p) => p.type === 'variable').length, PRODUCTS);
    assert.equal(live.filter((p) => p.type === 'variation').length, PRODUCTS * 3);
    assert.equal(new Set(live.map((p) => p.sku)).size, live.length);
  });
});
