import { strict as assert } from 'node:assert';
import { initErp } from '../../src/simulators/erp/index.js';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { dbUrl, dropDatabase, uniqueName } from '../connectors/erp/helpers.js';
import { runCli } from '../support/cli.js';
import { isolate, type Isolation } from '../support/isolation.js';
import { wooCfg, writeConfig } from '../services/diff-fixtures.js';

/* `syncctl catalog plan|apply` (compiled CLI) against the sample ERP and an empty WooCommerce site. */
describe('syncctl catalog plan|apply (CLI)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let woo: WooCommerceSimulator;
  let configFile: string;
  const erpDb = uniqueName('catalog_cli');

  before(async () => {
    iso = await isolate('catalog_cmd');
    await initErp({ databaseUrl: dbUrl(erpDb), products: 2, variantsPerProduct: 3, seed: 1, orders: 0 });
    woo = await startWooCommerceSimulator({ products: 0, seed: 8, coalesceWindowMs: 0 });
    configFile = writeConfig(iso.config, { sources: { woocommerce: { outlet: wooCfg(woo) }, erp: { databaseUrl: dbUrl(erpDb) } }, sync: { authority: 'erp' } });
  });
  after(async () => {
    await woo?.close();
    await iso?.cleanup();
    await dropDatabase(erpDb);
  });

  it('plan shows the creations terraform-style and exits 1 (something to do)', async () => {
    const r = await runCli(['catalog', 'plan', '--config', configFile]);
    assert.equal(r.exitCode, 1, String(r.stderr));
    const out = String(r.stdout);
    assert.match(out, /^Product master: erp \(2 products\)$/m);
    assert.match(out, /^woocommerce:outlet:$/m);
    assert.match(out, /^ {2}\+ create P-000001 "Classic Tee 1" \(3 variants: SKU-000001-1, SKU-000001-2, SKU-000001-3\)$/m);
    assert.match(out, /^Plan: 2 to create, 0 to update, 0 to archive\.$/m);
    assert.equal(String(r.stderr), '', 'no warnings');
  });

  it('apply --wait 0 --json plans the creations once; plan --json then still lists them (no daemon ran)', async () => {
    const a = await runCli(['catalog', 'apply', '--wait', '0', '--json', '--config', configFile]);
    assert.equal(a.exitCode, 1, String(a.stderr)); // writes still pending: nothing executed them
    assert.deepEqual([a.json.result.planned, a.json.result.writes], [2, { done: 0, failed: 0, pending: 2 }]);
    const again = await runCli(['catalog', 'apply', '--wait', '0', '--json', '--config', configFile]);
    assert.equal(again.json.result.planned, 0);
    const p = await runCli(['catalog', 'plan', '--channel', 'woocommerce', '--json', '--config', configFile]);
    assert.deepEqual(p.json.result.channels.map((c: any) => [c.channel, c.create.length]), [['woocommerce:outlet', 2]]);
  });

  it('refuses a channel that is not one, with a hint', async () => {
    const r = await runCli(['catalog', 'plan', '--channel', 'erp', '--config', configFile]);
    assert.equal(r.exitCode, 2, String(r.stderr));
    assert.match(String(r.stderr), /The ERP is the product master, not a channel/);
  });
});
