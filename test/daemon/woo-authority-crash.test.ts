// A WooCommerce site as the stock authority: an adjustment is a read-modify-write there (no
// relative stock write in WooCommerce). The daemon is SIGKILLed after WooCommerce applied an
// adjustment and before its answer came back (the simulator holds the answer), so the outcome is
// never recorded; the restarted daemon resends it under the same key, and the marker saved with
// the quantity makes the resend a no-op instead of a second decrement.
import { strict as assert } from 'node:assert';
import { startRig, sell, simControl, skuOf, type Rig } from './support/rig.js';
import { killNow, startDaemonProcess, type DaemonProcess, reportDaemonOnFailure } from './support/process.js';
import { eventually } from '../support/wait.js';

const SKU = skuOf(1);

describe('syncctl start (the real CLI): a WooCommerce stock authority after a crash', function () {
  this.timeout(180_000);
  let rig: Rig;
  let daemon: DaemonProcess | undefined;
  let failed = false;

  const wooStock = async (site: string) => (await rig.wooStock(site)).get(SKU);
  const everywhere = async (want: number) => (await wooStock('a')) === want && (await wooStock('b')) === want && (await rig.authorityStock()).get(SKU) === want;

  before(async () => {
    rig = await startRig('woo_auth_crash', {
      skus: 2,
      woo: { a: { buffer: 0 }, b: { buffer: 0 } },
      initial: 40,
      overrides: { sync: { authority: 'woocommerce:a', fieldPolicies: { price: 'priority:woocommerce:a' } }, daemon: { writeLeaseSeconds: 5, settleSeconds: 0 } },
    });
    await simControl(rig.woo.get('a')!.info.controlUrl, 'POST', '/stock', { sku: SKU, quantity: 100 });
    daemon = await startDaemonProcess(rig.configPath);
    await eventually(() => everywhere(100), 'every channel at the authority\'s 100', 60_000, 250);
  });
  afterEach(reportDaemonOnFailure(() => daemon, () => void (failed = true)));
  after(async () => {
    if (daemon) await killNow(daemon);
    await rig?.close(failed);
  });

  it('applies an adjustment WooCommerce applied before the crash once, when the restarted daemon resends it', async () => {
    const a = rig.woo.get('a')!;
    a.setFaults({ writeAnswerDelayMs: 20_000 }); // applied at once, answered 20 s later
    await sell(rig, 'main', SKU, 2);
    await eventually(async () => (await wooStock('a')) === 98, 'WooCommerce applying the adjustment', 60_000, 100);
    await killNow(daemon!); // the answer never reaches the daemon: the write stays INFLIGHT
    daemon = undefined;
    a.setFaults({ writeAnswerDelayMs: 0 });
    const adjust = await rig.query<{ status: string }>(`select status from planned_writes where target_key = 'woocommerce:a' and kind = 'adjust'`);
    assert.deepEqual(adjust.map((r) => r.status), ['INFLIGHT'], 'the outcome was not recorded before the kill');

    daemon = await startDaemonProcess(rig.configPath);
    // After the lease the write is resent with the same key; the marker says it was applied.
    const done = await eventually(
      async () => (await rig.query<{ status: string; result: { alreadyApplied?: boolean } | null }>(`select status, result from planned_writes where target_key = 'woocommerce:a' and kind = 'adjust' and status = 'DONE'`))[0],
      'the resent adjustment recorded',
      60_000,
      250,
    );
    assert.equal(done.result?.alreadyApplied, true, 'recognised as applied by its marker');
    await eventually(() => everywhere(98), 'every channel at 98', 60_000, 250);
    assert.equal(await wooStock('a'), 98, 'the sale counted once on the authority');
  });
});
