import { strict as assert } from 'node:assert';
import pg from 'pg';
import { configSchema, type SyncConfig } from '../../src/config/schema.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildConnectorSet } from '../../src/daemon/registry.js';
import { applyCatalog, planCatalog } from '../../src/services/catalog/index.js';
import { initDb } from '../../src/services/init-db.js';
import { initErp } from '../../src/simulators/erp/index.js';
import { startShopifySimulator, type ShopifySimulator } from '../../src/simulators/shopify/index.js';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { ADMIN_URL, CONNECT_URL, connectUp, dbUrl, deleteTopics, dropDatabase, sql, uniqueName } from '../connectors/erp/helpers.js';
import { isolatedConfig } from '../support/config.js';
import { dropEverything } from '../support/isolation.js';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/wait.js';

/*
 * The issue's scenario, end to end on the real daemon (in process): the sample ERP (Debezium on
 * the shared Kafka Connect) is the product master and the stock authority of two Shopify stores
 * and a WooCommerce site that have none of its products. The daemon's catalog sync
 * (`catalog.enabled`) plans the listings, its writers create them, the new SKUs come back through the platforms' webhooks, the
 * UNMATCHED_SKU conflicts resolve themselves and the stock is written; then a title and price
 * change on the ERP reaches every channel, and archiving the product on the ERP archives the
 * listings (never deletes them).
 */
describe('catalog sync on the daemon: an ERP product with three variants listed on two Shopify stores and a WooCommerce site', function () {
  this.timeout(300_000);
  const id = uniqueName('catalog_e2e');
  let main: ShopifySimulator;
  let eu: ShopifySimulator;
  let woo: WooCommerceSimulator;
  let config: SyncConfig;
  let daemon: Daemon | undefined;
  let db: pg.Pool;
  const SKUS = ['SKU-000001-1', 'SKU-000001-2', 'SKU-000001-3'];

  before(async () => {
    await connectUp();
    await initErp({ databaseUrl: dbUrl(id), products: 1, variantsPerProduct: 3, seed: 9, orders: 0 });
    await sql(dbUrl(id), `update stock_levels set on_hand = case when warehouse = 'MAIN' then 7 else 0 end, reserved = 0`);
    const shop = () => startShopifySimulator({ catalog: { products: 0 }, webhookRetryScale: 0.001 });
    [main, eu] = [await shop(), await shop()];
    woo = await startWooCommerceSimulator({ products: 0, seed: 3, coalesceWindowMs: 50 });
    const base = isolatedConfig('catalog_e2e');
    const shopCfg = (s: ShopifySimulator) => ({ shop: s.info.shop, url: s.baseUrl, accessToken: s.info.accessToken!, clientSecret: s.info.clientSecret, pollIntervalSeconds: 1 });
    config = configSchema.parse({
      ...base,
      http: { public: { host: '127.0.0.1', port: await freePort() }, admin: { port: 0 } },
      sources: {
        erp: { databaseUrl: dbUrl(id), topicPrefix: id, slotName: id, publicationName: id, connectorName: id, connectUrl: CONNECT_URL, heartbeatIntervalMs: 1000 },
        shopify: { main: shopCfg(main), eu: shopCfg(eu) },
        woocommerce: { outlet: { url: woo.info.siteUrl, consumerKey: woo.info.consumerKey, consumerSecret: woo.info.consumerSecret, webhookSecret: 'whsec-outlet', pollIntervalSeconds: 1 } },
      },
      sync: { authority: 'erp' },
      catalog: { master: 'erp', enabled: true, intervalSeconds: 10 },
      daemon: { settleSeconds: 0, drainTimeoutSeconds: 10, writeLeaseSeconds: 5, groupPrefix: base.kafka.topicPrefix },
      monitoring: { metricsHistory: { enabled: false } },
    });
    await initDb(config);
    db = new pg.Pool({ connectionString: config.database.url, max: 2, options: `-c search_path="${config.database.schema}"` });
    daemon = new Daemon(config, buildConnectorSet);
    await daemon.start();
  });
  after(async () => {
    await daemon?.stop().catch(() => undefined);
    await db?.end().catch(() => undefined);
    for (const s of [main, eu, woo]) await s?.close().catch(() => undefined);
    await fetch(`${CONNECT_URL}/connectors/${id}`, { method: 'DELETE' }).catch(() => undefined);
    await eventually(async () => {
      const r = await sql<{ active: boolean }>(ADMIN_URL, 'select active from pg_replication_slots where slot_name = $1', [id]);
      if (r.rows[0]?.active) return false;
      if (r.rows[0]) await sql(ADMIN_URL, 'select pg_drop_replication_slot($1)', [id]);
      return true;
    }, 'the replication slot released', 30_000, 250).catch(() => undefined);
    await dropDatabase(id).catch(() => undefined);
    await deleteTopics(id).catch(() => undefined);
    if (config) await dropEverything(config);
  });

  const shopProduct = (s: ShopifySimulator) => s.store.products.find((p) => p.handle === 'p-000001');
  const wooParent = () => [...woo.store.products.values()].find((p) => p.sku === 'P-000001');

  it('creates one product with three variants on every channel, learns its ids (UNMATCHED_SKU resolved) and writes the ERP stock', async () => {
    // Each SKU is first seen on some sources only (the ERP's CDC snapshot, or a new listing's webhook): unmatched.
    await eventually(async () => (await db.query(`select distinct entity_id from conflict_log where conflict_type = 'UNMATCHED_SKU'`)).rowCount === 3, 'three UNMATCHED_SKU conflicts', 120_000, 250);
    // catalog.enabled: the daemon's leader plans the creations itself (no `catalog apply`).
    const creations = async () => (await db.query<{ target_key: string; status: string }>(`select target_key, status from planned_writes where kind = 'create_product' order by target_key`)).rows;
    await eventually(async () => (await creations()).filter((r) => r.status === 'DONE').length === 3, 'three creations done', 120_000, 250);
    assert.deepEqual((await creations()).map((r) => r.target_key), ['shopify:eu', 'shopify:main', 'woocommerce:outlet']);
    const again = await applyCatalog(config, db, { waitSeconds: 0 });
    assert.deepEqual([again.planned, again.plan.channels.map((c) => c.create.length)], [0, [0, 0, 0]], 'nothing left to create');

    for (const s of [main, eu]) {
      const p = shopProduct(s)!;
      assert.deepEqual([p.title, p.status, p.variants.map((v) => v.sku)], ['Classic Tee 1', 'DRAFT', SKUS]);
    }
    const parent = wooParent()!;
    assert.equal(parent.type, 'variable');
    assert.deepEqual(parent.children.map((c) => [woo.store.get(c)!.sku, woo.store.get(c)!.manageStock]), SKUS.map((s) => [s, true]));

    await eventually(async () => (await db.query(`select 1 from conflict_log where conflict_type = 'UNMATCHED_SKU' and status = 'OPEN'`)).rowCount === 0, 'the UNMATCHED_SKU conflicts resolved', 60_000, 250);
    const mapped = await db.query<{ source_key: string; n: string }>(`select source_key, count(*) as n from entity_map group by source_key order by source_key`);
    assert.deepEqual(mapped.rows.map((r) => [r.source_key, Number(r.n)]), [['erp', 3], ['shopify:eu', 3], ['shopify:main', 3], ['woocommerce:outlet', 3]]);
    // The engine writes the ERP's stock (7 in MAIN) to every new listing.
    await eventually(async () => [main, eu].every((s) => shopProduct(s)!.variants.every((v) => [...v.inventoryItem.levels.values()][0]!.quantities.available === 7)), 'Shopify stock at 7', 60_000, 250);
    await eventually(async () => wooParent()!.children.every((c) => woo.store.get(c)!.stockQuantity === 7), 'WooCommerce stock at 7', 60_000, 250);
  });

  it('a title and price change on the ERP reaches every channel', async () => {
    await sql(dbUrl(id), `update items set product_title = 'Classic Tee One', price = 21.50, updated_at = now() where product_code = 'P-000001'`);
    await eventually(async () => [main, eu].every((s) => shopProduct(s)!.title === 'Classic Tee One' && shopProduct(s)!.variants.every((v) => v.price === '21.50')), 'Shopify title and prices', 60_000, 250);
    await eventually(async () => wooParent()!.name === 'Classic Tee One' && wooParent()!.children.every((c) => woo.store.get(c)!.regularPrice === '21.50'), 'WooCommerce title and prices', 60_000, 250);
    const plan = (await planCatalog(config)).plan;
    assert.deepEqual(plan.channels.map((c) => c.update), [[], [], []], 'nothing left to update');
  });

  it('archiving the product on the ERP archives the listings (never deletes them)', async () => {
    await sql(dbUrl(id), `update items set active = false, updated_at = now() where product_code = 'P-000001'`);
    const applied = await applyCatalog(config, db, { waitSeconds: 0 });
    assert.deepEqual(applied.plan.channels.map((c) => c.archive.length), [3, 3, 3]);
    await eventually(async () => [main, eu].every((s) => shopProduct(s)!.status === 'ARCHIVED'), 'Shopify products archived', 60_000, 250);
    await eventually(async () => wooParent()!.children.every((c) => woo.store.get(c)!.status === 'private'), 'WooCommerce variations private', 60_000, 250);
    assert.equal(main.store.products.length, 1);
    assert.ok(wooParent(), 'the WooCommerce product is still there');
  });
});
