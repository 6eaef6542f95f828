import { strict as assert } from 'node:assert';
import type { ShopifySimulator } from '../../src/simulators/shopify/index.js';
import type { WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { runCli } from '../support/cli.js';
import { isolate, type Isolation } from '../support/isolation.js';
import { freePort } from '../support/ports.js';
import { alignWooToShopify, control, shopifyCfg, startShop, startWoo, wooCfg, writeConfig } from '../services/diff-fixtures.js';

/*
 * a = Shopify (12 shared SKUs + 2 of its own), b = WooCommerce (12 shared + 1 of its own), aligned
 * value by value, then: SKU-000011-1 renamed to SKU-000010-1 on Shopify (a duplicate on a, and
 * SKU-000011-1 missing on a), quantities changed for 3 SKUs and prices for 2 on WooCommerce.
 */
const EXPECTED = { missingOnA: 2, missingOnB: 2, duplicates: 1, quantity: 3, sharedStock: 0, price: 2, title: 0, compared: 11 };

describe('syncctl diff (CLI) against a Shopify and a WooCommerce simulator', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let shop: ShopifySimulator;
  let twin: ShopifySimulator;
  let twin2: ShopifySimulator;
  let woo: WooCommerceSimulator;
  let configFile: string;

  before(async () => {
    iso = await isolate('diff_cmd');
    [shop, twin, twin2, woo] = await Promise.all([startShop(12), startShop(12), startShop(12), startWoo(12)]);
    await alignWooToShopify(shop, woo);
    await control(shop.info.controlUrl, 'PATCH', '/variants/SKU-000011-1', { sku: 'SKU-000010-1' });
    for (const [sku, quantity] of [['SKU-000002-1', 1000], ['SKU-000003-1', 0], ['SKU-000006-1', 999]] as const) await control(woo.info.controlUrl, 'POST', '/stock', { sku, quantity });
    for (const [sku, price] of [['SKU-000004-1', '1234.50'], ['SKU-000005-1', '0.99']]) await control(woo.info.controlUrl, 'PUT', '/products', { sku, regular_price: price });
    await control(woo.info.controlUrl, 'PUT', '/products', { sku: 'SKU-000007-1', name: 'Renamed on the site' });
    const down = await freePort();
    configFile = writeConfig(iso.config, {
      sources: {
        shopify: { main: shopifyCfg(shop), twin: shopifyCfg(twin), twin2: shopifyCfg(twin2) },
        woocommerce: { outlet: wooCfg(woo), down: { ...wooCfg(woo), url: `http://127.0.0.1:${down}` } },
      },
      sync: { authority: 'peer' },
    });
  });
  after(async () => {
    await Promise.all([shop?.close(), twin?.close(), twin2?.close(), woo?.close()]);
    await iso?.cleanup();
  });

  const diff = (...args: string[]) => runCli(['diff', ...args, '--config', configFile]);

  it('reports each kind of drift with exact counts in --json and exits 1', async () => {
    const r = await diff('shopify', 'woocommerce', '--shopify', 'main', '--woocommerce', 'outlet', '--json');
    assert.equal(r.exitCode, 1, String(r.stderr));
    assert.equal(r.json.status, 1);
    const res = r.json.result;
    assert.equal(res.pair, 'shopify:main->woocommerce:outlet');
    assert.deepEqual(res.fields, ['quantity', 'price']);
    const { rows: _rows, blankSkus: _blank, ...counts } = res.summary;
    assert.deepEqual(counts, EXPECTED);
    assert.equal(res.inSync, false);
    assert.equal(res.differences.length, 10);
    assert.deepEqual(res.differences.find((d: any) => d.sku === 'SKU-000010-1'), { sku: 'SKU-000010-1', kind: 'duplicate', a: 2, b: 1 });
    assert.deepEqual(res.differences.find((d: any) => d.sku === 'SKU-000004-1'), { sku: 'SKU-000004-1', kind: 'price', a: shopPrice(shop, 'SKU-000004-1'), b: '1234.50' });
    assert.deepEqual(res.differences.find((d: any) => d.sku === 'SKU-000003-1')?.b, 0);
    assert.deepEqual(res.differences.filter((d: any) => d.kind === 'missing_on_a').map((d: any) => d.sku), ['EXTRA-2-000001', 'SKU-000011-1']);
  });

  it('compares titles only when asked with --fields', async () => {
    const r = await diff('shopify:main', 'woocommerce:outlet', '--fields', 'quantity,price,title', '--json');
    assert.equal(r.json.result.summary.title, 1);
    assert.deepEqual(r.json.result.differences.find((d: any) => d.kind === 'title'), { sku: 'SKU-000007-1', kind: 'title', a: shopTitle(shop, 'SKU-000007-1'), b: 'Renamed on the site' });
  });

  it('streams every difference as CSV rows with --csv', async () => {
    const r = await diff('shopify:main', 'woocommerce:outlet', '--csv', '--limit', '1');
    assert.equal(r.exitCode, 1, String(r.stderr));
    const lines = String(r.stdout).trim().split('\n');
    assert.equal(lines[0], 'sku,kind,a,b');
    assert.equal(lines.length, 11);
    assert.ok(lines.includes('SKU-000010-1,duplicate,2,1'));
    assert.ok(lines.some((l) => /^SKU-000011-1,missing_on_a,,\S.* 11$/.test(l)), lines.join('\n'));
  });

  it('prints a summary table and the first differences for a person', async () => {
    const r = await diff('shopify:main', 'woocommerce:outlet', '--limit', '3');
    assert.equal(r.exitCode, 1);
    assert.match(String(r.stdout), /quantity differs\s+3/);
    assert.match(String(r.stdout), /First 3 differences/);
    assert.match(String(r.stdout), /Drift found/);
  });

  it('exits 0 when both sides are identical', async () => {
    const r = await diff('shopify:twin', 'shopify:twin2', '--json');
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(r.json.result.inSync, true);
    assert.equal(r.json.result.summary.compared, 14);
    assert.deepEqual(r.json.result.differences, []);
  });

  it('exits 2 with a clear message for an unknown --shopify instance', async () => {
    const r = await diff('shopify', 'woocommerce:outlet', '--shopify', 'nope');
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), /no shopify instance "nope".*configured: main, twin, twin2/);
    assert.doesNotMatch(String(r.stderr), /at .*\.js:\d+/);
  });

  it('exits 2 when a side is ambiguous', async () => {
    const r = await diff('shopify', 'woocommerce:outlet', '--json');
    assert.equal(r.exitCode, 2);
    assert.equal(r.json.error.code, 'DIFF_INSTANCE_REQUIRED');
  });

  it('exits 3 naming the side when a platform is down', async () => {
    const r = await diff('shopify:main', 'woocommerce:down', '--json');
    assert.equal(r.exitCode, 3, String(r.stderr));
    assert.match(r.json.error.message, /Could not read the catalog of woocommerce:down/);
  });

  it('with --fix, stores the differing SKUs\' states as raw events of origin diff and writes no platform', async () => {
    const writesBefore = (await control(shop.info.controlUrl, 'GET', '/writes')).length;
    const r = await diff('shopify:main', 'woocommerce:outlet', '--fix', '--json');
    assert.equal(r.exitCode, 1, String(r.stderr));
    assert.deepEqual(r.json.result.fix, { submittedSkus: 5, events: 10, stored: 10, alreadyKnown: 0, notFixable: 5 });
    const rows = await iso.pool.query(`select source_type, sku, data->>'kind' as kind, data->>'available' as available from source_events where origin = 'diff' order by sku, source_type`);
    assert.equal(rows.rowCount, 10);
    assert.deepEqual(rows.rows.filter((x) => x.sku === 'SKU-000002-1').map((x) => [x.source_type, x.kind]), [['SHOPIFY', 'inventory'], ['WOOCOMMERCE', 'inventory']]);
    assert.equal(rows.rows.find((x) => x.sku === 'SKU-000002-1' && x.source_type === 'WOOCOMMERCE')?.available, '1000');
    assert.equal((await control(shop.info.controlUrl, 'GET', '/writes')).length, writesBefore);
    const again = await diff('shopify:main', 'woocommerce:outlet', '--fix', '--json');
    assert.equal(again.json.result.fix.stored, 0, 'the same states are not stored twice');
  });
});

const shopVariant = (sim: ShopifySimulator, sku: string) => sim.store.variants.find((v) => v.sku === sku)!;
const shopPrice = (sim: ShopifySimulator, sku: string) => shopVariant(sim, sku).price;
const shopTitle = (sim: ShopifySimulator, sku: string) => shopVariant(sim, sku).product.title;
