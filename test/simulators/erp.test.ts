import assert from 'node:assert/strict';
import { basePrice, erpSku, initErp, runErpGenerator, type ErpChangeKind } from '../../src/simulators/erp/index.js';
import SimErp from '../../src/commands/sim/erp.js';
import { REPO_ROOT } from '../support/cli.js';
import { dbUrl, dropDatabase, sql, uniqueName } from '../connectors/erp/helpers.js';

/** Every row of the seeded tables, in a stable order (to compare two databases or two moments). */
async function contents(url: string): Promise<string> {
  const parts: unknown[] = [];
  for (const q of [
    'select sku, name, price from items order by sku',
    'select sku, warehouse, on_hand, reserved from stock_levels order by sku, warehouse',
    'select channel, channel_order_id, status, total from sales_orders order by channel, channel_order_id',
    'select o.channel_order_id, l.line_no, l.sku, l.qty, l.price from sales_order_lines l join sales_orders o on o.id = l.order_id order by 1, 2',
  ]) parts.push((await sql(url, q)).rows);
  return JSON.stringify(parts);
}

describe('sample ERP simulator (real PostgreSQL)', function () {
  this.timeout(60_000);
  const a = uniqueName('erp_sim_a');
  const b = uniqueName('erp_sim_b');

  after(async () => {
    await dropDatabase(a);
    await dropDatabase(b);
  });

  it('creates the database, the schema and deterministic rows keyed by the shared SKU scheme', async () => {
    const r = await initErp({ databaseUrl: dbUrl(a), products: 4, variantsPerProduct: 3, seed: 5 });
    assert.equal(r.createdDatabase, true);
    assert.deepEqual(r.totals, { items: 12, stockLevels: 24, orders: 4 });
    const skus = (await sql<{ sku: string; price: string }>(dbUrl(a), 'select sku, price::text from items order by sku')).rows;
    assert.equal(skus[0]!.sku, 'SKU-000001-1');
    assert.equal(skus.at(-1)!.sku, 'SKU-000004-3');
    assert.equal(erpSku(12, 2), 'SKU-000012-2');
    for (const s of skus) assert.equal(s.price, basePrice(s.sku));
  });

  it('a second init with the same options inserts and changes nothing', async () => {
    const before = await contents(dbUrl(a));
    const r = await initErp({ databaseUrl: dbUrl(a), products: 4, variantsPerProduct: 3, seed: 5 });
    assert.equal(r.createdDatabase, false);
    assert.deepEqual(r.inserted, { warehouses: 0, items: 0, stockLevels: 0, orders: 0 });
    assert.equal(await contents(dbUrl(a)), before);
  });

  it('items carry the product attributes catalog sync needs; a database seeded before they existed gains them once', async () => {
    const attrs = async () => (await sql(dbUrl(a), `select sku, product_code, product_title, vendor, product_type, option_name, option_value from items order by sku`)).rows;
    const now = await attrs();
    assert.deepEqual(now.slice(0, 3).map((r) => [r.product_code, r.product_title, r.vendor, r.product_type, r.option_name, r.option_value]), [
      ['P-000001', 'Classic Tee 1', 'Sample Co', 'Tee', 'Size', 'S'],
      ['P-000001', 'Classic Tee 1', 'Sample Co', 'Tee', 'Size', 'M'],
      ['P-000001', 'Classic Tee 1', 'Sample Co', 'Tee', 'Size', 'L'],
    ]);
    // As an older sample database has them: the columns empty.
    await sql(dbUrl(a), `update items set product_code = null, product_title = null, vendor = null, product_type = null, option_name = null, option_value = null`);
    await initErp({ databaseUrl: dbUrl(a), products: 4, variantsPerProduct: 3, seed: 5 });
    assert.deepEqual(await attrs(), now);
  });

  it('the same seed gives the same rows in another database', async () => {
    await initErp({ databaseUrl: dbUrl(b), products: 4, variantsPerProduct: 3, seed: 5 });
    assert.equal(await contents(dbUrl(b)), await contents(dbUrl(a)));
  });

  it('logs full before-images for items, stock levels, orders and order lines only', async () => {
    const r = await sql<{ relname: string; relreplident: string }>(
      dbUrl(a),
      "select relname, relreplident::text from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace order by relname",
    );
    const full = r.rows.filter((x) => x.relreplident === 'f').map((x) => x.relname);
    assert.deepEqual(full, ['items', 'sales_order_lines', 'sales_orders', 'stock_levels']);
  });

  it('the generator makes receipts, adjustments and price changes, one transaction each', async () => {
    const seen: Record<ErpChangeKind, number> = { receipt: 0, adjustment: 0, priceChange: 0 };
    const stats = await runErpGenerator({ databaseUrl: dbUrl(a), ratePerSecond: 500, seed: 9, maxChanges: 60, onChange: (k) => seen[k]++ });
    assert.equal(stats.errors, 0);
    assert.equal(stats.receipt + stats.adjustment + stats.priceChange, 60);
    assert.deepEqual(seen, { receipt: stats.receipt, adjustment: stats.adjustment, priceChange: stats.priceChange });
    assert.ok(stats.receipt > 0 && stats.adjustment > 0 && stats.priceChange > 0);
    const receipts = await sql<{ n: string; lines: string }>(dbUrl(a), 'select count(*) as n, (select count(*) from purchase_receipt_lines) as lines from purchase_receipts');
    assert.equal(Number(receipts.rows[0]!.n), stats.receipt);
    assert.ok(Number(receipts.rows[0]!.lines) >= stats.receipt);
    const negative = await sql(dbUrl(a), 'select 1 from stock_levels where on_hand < 0');
    assert.equal(negative.rowCount, 0);
    const changedPrices = await sql(dbUrl(a), 'select sku, price::text from items');
    assert.ok(changedPrices.rows.some((x) => x.price !== basePrice(x.sku)));
  });

  it('the generator stops when its signal aborts', async () => {
    const stop = new AbortController();
    const stats = await runErpGenerator({ databaseUrl: dbUrl(b), ratePerSecond: 20, signal: stop.signal, onChange: () => stop.abort() });
    assert.equal(stats.receipt + stats.adjustment + stats.priceChange, 1);
  });

  it('`sim erp --init --rate --duration` seeds the database and runs the generator, with a --json result', async function () {
    this.timeout(30_000);
    const db = uniqueName('erp_sim_cmd');
    try {
      const result = (await SimErp.run(['--init', '--products', '2', '--variants-per-product', '2', '--rate', '50', '--duration', '1', '--database-url', dbUrl(db)], REPO_ROOT)) as Awaited<ReturnType<SimErp['run']>>;
      assert.equal(result.init?.totals.items, 4);
      assert.ok(result.generator!.receipt + result.generator!.adjustment + result.generator!.priceChange > 0);
    } finally {
      await dropDatabase(db);
    }
  });
});
