import { strict as assert } from 'node:assert';
import { configSchema, type SyncConfig } from '../../src/config/schema.js';
import { SyncEventBus } from '../../src/core/events.js';
import { runBackfill } from '../../src/services/backfill/index.js';
import { driftPairs, readDriftResults, resolveSide, runDiff, runDriftCheck } from '../../src/services/diff/index.js';
import type { ShopifySimulator } from '../../src/simulators/shopify/index.js';
import { initErp } from '../../src/simulators/erp/index.js';
import { dbUrl, dropDatabase, sql, uniqueName } from '../connectors/erp/helpers.js';
import { isolate, type Isolation } from '../support/isolation.js';
import { control, shopifyCfg, startShop } from './diff-fixtures.js';

/*
 * The ERP is the stock authority and Shopify keeps a buffer of 2: Shopify should show
 * max(0, ERP available − 2). SKU-000001-1 and -2-1 follow the rule exactly; -3-1 has 1 in the ERP
 * and 0 on Shopify (the buffer clamps at zero: in sync); -4-1 shows the ERP's quantity without
 * the buffer (drift); -5-1 has another price on Shopify.
 */
describe('diff service: a channel against the ERP (stock authority, channel buffer)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let shop: ShopifySimulator;
  let config: SyncConfig;
  const erpDb = uniqueName('diff_erp');

  before(async () => {
    iso = await isolate('diff_svc');
    await initErp({ databaseUrl: dbUrl(erpDb), products: 5, variantsPerProduct: 1, seed: 3 });
    shop = await startShop(5, 0);
    await sql(dbUrl(erpDb), `update stock_levels set on_hand = case when warehouse = 'MAIN' then 1 else 0 end, reserved = 0 where sku = 'SKU-000003-1'`);
    const erp = new Map((await sql<{ sku: string; available: number; price: string }>(dbUrl(erpDb), `select i.sku, sum(s.on_hand - s.reserved)::int as available, i.price::text as price from items i join stock_levels s using (sku) group by i.sku, i.price`)).rows.map((r) => [r.sku, r]));
    for (const [sku, r] of erp) {
      const shown = sku === 'SKU-000004-1' ? r.available : Math.max(0, r.available - 2);
      await control(shop.info.controlUrl, 'POST', '/inventory/set', { sku, quantity: shown });
      await control(shop.info.controlUrl, 'PATCH', `/variants/${sku}`, { price: sku === 'SKU-000005-1' ? '999.00' : r.price });
    }
    config = configSchema.parse({ ...iso.config, sources: { shopify: { main: { ...shopifyCfg(shop), buffer: 2 } }, erp: { databaseUrl: dbUrl(erpDb) } }, sync: { authority: 'erp' } });
  });
  after(async () => {
    await shop?.close();
    await iso?.cleanup();
    await dropDatabase(erpDb);
  });

  it('applies the authority − buffer rule (clamped at zero) to quantities', async () => {
    const run = await runDiff(config, resolveSide('erp', config), resolveSide('shopify', config), { pool: iso.pool });
    try {
      const diffs = [];
      for await (const d of run.differences()) diffs.push(d);
      assert.deepEqual(diffs.map((d) => [d.sku, d.kind]), [['SKU-000004-1', 'quantity'], ['SKU-000005-1', 'price']]);
      assert.equal(run.summary.compared, 5);
    } finally {
      await run.close();
    }
    const left = await iso.pool.query(`select 1 from pg_tables where schemaname = current_schema() and tablename like 'syncctl_diff_%'`);
    assert.equal(left.rowCount, 0, 'the staging table is dropped');
  });

  it('derives drift-check pairs from the stock authority', () => {
    assert.deepEqual(driftPairs(config), ['erp->shopify:main']);
  });

  it('records a drift check in checkpoints and emits drift.completed', async () => {
    const bus = new SyncEventBus();
    const seen: unknown[] = [];
    bus.on('drift.completed', (e) => seen.push(e));
    const r = await runDriftCheck(config, iso.pool, 'erp->shopify:main', { bus });
    assert.deepEqual(r.kinds, { missing_a: 0, missing_b: 0, duplicate: 0, quantity: 1, price: 1 });
    assert.equal(seen.length, 1);
    const stored = await readDriftResults(iso.pool);
    assert.deepEqual(stored.map((s) => [s.pair, s.ok, s.kinds.quantity]), [['erp->shopify:main', true, 1]]);
  });

  it('backfills the ERP snapshot as product and stock events, and --dry-run stores nothing', async () => {
    const dry = await runBackfill(config, resolveSide('erp', config), { pool: iso.pool, dryRun: true });
    assert.deepEqual(dry.phases.map((p) => [p.phase, p.records, p.events, p.stored]), [['products', 5, 10, 0]]);
    const r = await runBackfill(config, resolveSide('erp', config), { pool: iso.pool });
    assert.equal(r.stored, 10);
    const row = await iso.pool.query(`select data from source_events where source_type = 'ERP' and origin = 'backfill' and data->>'kind' = 'inventory' and sku = 'SKU-000003-1'`);
    assert.equal(row.rows[0].data.available, 1);
  });
});
