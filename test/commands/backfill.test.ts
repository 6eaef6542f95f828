import { strict as assert } from 'node:assert';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import type { ShopifySimulator } from '../../src/simulators/shopify/index.js';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { runCli, REPO_ROOT } from '../support/cli.js';
import { isolate, type Isolation } from '../support/isolation.js';
import { eventually } from '../support/wait.js';
import { control, shopifyCfg, startShop, wooCfg, writeConfig } from '../services/diff-fixtures.js';

const BIN = fileURLToPath(new URL('../../bin/syncctl.js', import.meta.url));

describe('syncctl backfill (CLI) from simulators', function () {
  this.timeout(180_000);
  let iso: Isolation;
  let woo: WooCommerceSimulator;
  let slow: WooCommerceSimulator;
  let shop: ShopifySimulator;
  let configFile: string;

  before(async () => {
    iso = await isolate('backfill_cmd');
    [woo, slow, shop] = await Promise.all([
      startWooCommerceSimulator({ products: 250, seed: 3, coalesceWindowMs: 0 }),
      startWooCommerceSimulator({ products: 4000, seed: 4, coalesceWindowMs: 0, faults: { latencyMs: 120 } }),
      startShop(30, 0),
    ]);
    for (let i = 1; i <= 3; i++) await control(woo.info.controlUrl, 'POST', '/orders', { status: 'processing', lines: [{ sku: `SKU-00000${i}-1`, quantity: 1 }] });
    configFile = writeConfig(iso.config, { sources: { woocommerce: { outlet: wooCfg(woo), slow: { ...wooCfg(slow), concurrency: 1 } }, shopify: { main: shopifyCfg(shop) } } });
  });
  after(async () => {
    await Promise.all([woo?.close(), slow?.close(), shop?.close()]);
    await iso?.cleanup();
  });

  const count = async (instance: string): Promise<number> =>
    (await iso.pool.query(`select count(*)::int as n from source_events where origin = 'backfill' and source_instance = $1`, [instance])).rows[0].n;

  it('with --dry-run, counts everything and stores nothing', async () => {
    const r = await runCli(['backfill', '--source', 'woocommerce:outlet', '--dry-run', '--json', '--config', configFile]);
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.deepEqual(r.json.result.phases.map((p: any) => [p.phase, p.records, p.stored]), [['products', 250, 0], ['orders', 3, 0]]);
    assert.equal(await count('outlet'), 0);
    assert.equal((await iso.pool.query(`select 1 from checkpoints where name = 'backfill:woocommerce:outlet'`)).rowCount, 0);
  });

  it('stores every product and order of a WooCommerce site once, with origin backfill', async () => {
    const r = await runCli(['backfill', '--source', 'woocommerce:outlet', '--json', '--config', configFile]);
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(r.json.result.stored, 253);
    assert.equal(r.json.result.complete, true);
    assert.equal(await count('outlet'), 253);
    const cp = await iso.pool.query(`select value from checkpoints where name = 'backfill:woocommerce:outlet'`);
    assert.equal(cp.rows[0].value.status, 'done');
    const again = await runCli(['backfill', '--source', 'woocommerce:outlet', '--json', '--config', configFile]);
    assert.equal(again.json.result.stored, 0, 'states already held are not stored again');
    assert.equal(await count('outlet'), 253);
  });

  it('prints nothing but the JSON result on stdout with --json', async () => {
    const r = await runCli(['backfill', '--source', 'woocommerce:outlet', '--json', '--config', configFile]);
    assert.doesNotThrow(() => JSON.parse(String(r.stdout)));
  });

  it('backfills a Shopify store through a bulk operation: products and stock', async () => {
    const r = await runCli(['backfill', '--source', 'shopify', '--json', '--config', configFile]);
    assert.equal(r.exitCode, 0, String(r.stderr));
    const kinds = await iso.pool.query(`select data->>'kind' as kind, count(*)::int as n from source_events where origin = 'backfill' and source_instance = 'main' group by 1 order by 1`);
    assert.deepEqual(kinds.rows, [{ kind: 'inventory', n: 30 }, { kind: 'product', n: 30 }]);
  });

  it('backfills a Dev Dashboard store through the client credentials grant, and names the store when the grant is refused', async () => {
    const cc = { shop: shop.info.shop, url: shop.baseUrl, clientId: shop.info.clientId };
    const file = writeConfig(iso.config, { sources: { shopify: { dev: { ...cc, clientSecret: shop.info.clientSecret }, wrong: { ...cc, clientSecret: 'shpss_not_the_secret' } } } });
    const grants = (await control(shop.info.controlUrl, 'GET', '/auth')).grants as number;
    const ok = await runCli(['backfill', '--source', 'shopify:dev', '--json', '--config', file]);
    assert.equal(ok.exitCode, 0, String(ok.stderr));
    assert.equal(ok.json.result.stored, 60);
    assert.equal((await control(shop.info.controlUrl, 'GET', '/auth')).grants, grants + 1, 'one token for the whole run');
    assert.doesNotMatch(String(ok.stderr) + String(ok.stdout), /shpat_[0-9a-f]{32}/);
    const refused = await runCli(['backfill', '--source', 'shopify:wrong', '--config', file]);
    assert.equal(refused.exitCode, 2, 'a configuration error');
    assert.match(String(refused.stderr), /Shopify store wrong \(sim-shop\.myshopify\.com\) refused the client credentials grant \(invalid_client/);
    assert.match(String(refused.stderr), /clientSecret/);
    assert.doesNotMatch(String(refused.stderr), /\n\s+at /, 'no stack trace');
  });

  it('resumes a run killed mid-way from its checkpoint, storing nothing twice', async () => {
    const child = execa('node', [BIN, 'backfill', '--source', 'woocommerce:slow', '--config', configFile], { cwd: REPO_ROOT, reject: false, env: { FORCE_COLOR: '0' } });
    await eventually(async () => {
      const cp = await iso.pool.query(`select value from checkpoints where name = 'backfill:woocommerce:slow'`);
      return (cp.rows[0]?.value.records ?? 0) >= 800;
    }, 'the first pages stored', 60_000, 50);
    child.kill('SIGKILL');
    await child;
    const before = await count('slow');
    assert.ok(before >= 800 && before < 4000, `stored ${before} before the crash`);
    const r = await runCli(['backfill', '--source', 'woocommerce:slow', '--resume', '--json', '--config', configFile], { timeoutMs: 120_000 });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.notEqual(r.json.result.resumedFrom, null);
    assert.ok(r.json.result.phases[0].records <= 4000 - before + 100, 'the resumed run did not start over');
    assert.equal(await count('slow'), 4000);
    const dupes = await iso.pool.query(`select count(*)::int - count(distinct (source_id, checksum))::int as n from source_events where source_instance = 'slow'`);
    assert.equal(dupes.rows[0].n, 0);
  });

  it('exits 2 for a source that is not configured', async () => {
    const r = await runCli(['backfill', '--source', 'woocommerce:nope', '--config', configFile]);
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), /no woocommerce instance "nope"/);
  });
});
