import { strict as assert } from 'node:assert';
import { startRig, inconsistencies, sell, type Rig } from './support/rig.js';
import { killNow, startDaemonProcess, type DaemonProcess, reportDaemonOnFailure } from './support/process.js';
import { eventually } from '../support/wait.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CHANNELS = ['main', 'a', 'b'];

/** A small seeded generator, so a failing interleaving can be re-run (seed printed on failure). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

describe('syncctl start (the real CLI): crash safety', function () {
  this.timeout(300_000);
  let rig: Rig;
  let daemon: DaemonProcess | undefined;
  const sold = new Map<string, number>();
  const otherChannelSales: Array<{ channel: string; sku: string; quantity: number }> = [];
  let failed = false;

  const record = (channel: string, sku: string, quantity: number) => {
    sold.set(sku, (sold.get(sku) ?? 0) + quantity);
    if (channel !== 'main') otherChannelSales.push({ channel, sku, quantity });
  };
  const settled = async (what: string) => {
    let last: string[] = [];
    try {
      await eventually(async () => (last = await inconsistencies(rig, sold)).length === 0, what, 90_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${last.join('\n')}`);
    }
  };

  before(async () => {
    rig = await startRig('crash', { skus: 5, woo: { a: { buffer: 0 }, b: { buffer: 2 } }, initial: 500 });
    daemon = await startDaemonProcess(rig.configPath);
    await settled('initial sync: every channel at authority − buffer');
  });
  afterEach(reportDaemonOnFailure(() => daemon, () => void (failed = true)));
  after(async () => {
    if (daemon) await killNow(daemon);
    await rig?.close(failed);
  });

  it('loses no change and applies none twice when SIGKILLed at random points during a stream of sales', async () => {
    const seed = Number(process.env.SYNCCTL_TEST_SEED ?? Date.now() % 100_000);
    const rand = rng(seed);
    let streaming = true;
    let kills = 0;
    const stream = (async () => {
      const end = Date.now() + 25_000;
      while (Date.now() < end) {
        const channel = CHANNELS[Math.floor(rand() * CHANNELS.length)]!;
        const sku = rig.skus[Math.floor(rand() * rig.skus.length)]!;
        const quantity = 1 + Math.floor(rand() * 2);
        await sell(rig, channel, sku, quantity);
        record(channel, sku, quantity);
        await sleep(50 + rand() * 150);
      }
      streaming = false;
    })();
    const killer = (async () => {
      while (streaming) {
        await sleep(500 + rand() * 2000);
        if (!streaming) break;
        await killNow(daemon!);
        kills++;
        await sleep(rand() * 1000);
        daemon = await startDaemonProcess(rig.configPath);
      }
    })();
    await Promise.all([stream, killer]);
    assert.ok(kills >= 3, `the daemon was killed ${kills} times (seed ${seed})`);

    await settled(`consistency after ${kills} kills (seed ${seed})`);
    await sleep(4000); // webhooks, polls and confirmations keep arriving: nothing may move any more
    assert.deepEqual(await inconsistencies(rig, sold), [], `still consistent (seed ${seed})`);

    const adjusts = await rig.adjustWrites();
    assert.equal(adjusts.length, otherChannelSales.length, `one adjust write on the authority per sale on another channel (seed ${seed}, ${kills} kills)`);
    const want = new Map<string, number>();
    for (const s of otherChannelSales) want.set(s.sku, (want.get(s.sku) ?? 0) - s.quantity);
    const got = new Map<string, number>();
    for (const a of adjusts) got.set(a.sku, (got.get(a.sku) ?? 0) + a.delta);
    assert.deepEqual(got, want, 'the adjust deltas sum to the sales per SKU');
    assert.equal(new Set(adjusts.map((a) => a.key)).size, adjusts.length, 'every adjust carries its own idempotency key');
    assert.deepEqual(await rig.query(`select error_code, count(*)::int as n from dead_letters group by 1`), [], 'no dead letters');
  });

  it('drains on SIGTERM during load and exits 0 within the drain timeout; a restart finds nothing lost', async () => {
    const burst: Array<Promise<void>> = [];
    for (let i = 0; i < 30; i++) {
      const channel = CHANNELS[i % 3]!;
      const sku = rig.skus[i % rig.skus.length]!;
      burst.push(sell(rig, channel, sku, 1).then(() => record(channel, sku, 1)));
      await sleep(20);
    }
    await Promise.all(burst);
    await sleep(300); // work in flight: webhooks arriving, writes planned
    const d = daemon!;
    d.kill('SIGTERM');
    const exit = await d.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM (a drain timeout exits 3):\n${d.stderr().slice(-3000)}`);
    assert.match(d.stderr(), /SIGTERM: draining/);
    daemon = await startDaemonProcess(rig.configPath);
    await settled('consistency after a drain and restart');
    const adjusts = await rig.adjustWrites();
    assert.equal(adjusts.length, otherChannelSales.length, 'one adjust per sale on another channel');
  });

  it('exits at once on a second signal during the drain', async () => {
    const d = daemon!;
    for (let i = 0; i < 10; i++) {
      const sku = rig.skus[i % rig.skus.length]!;
      await sell(rig, 'a', sku, 1);
      record('a', sku, 1);
    }
    d.kill('SIGTERM');
    await sleep(50);
    d.kill('SIGTERM');
    const exit = await d.exited;
    assert.ok(exit.code !== null || exit.signal !== null, 'the process exited');
    daemon = await startDaemonProcess(rig.configPath);
    await settled('consistency after a forced stop and restart');
    assert.equal((await rig.adjustWrites()).length, otherChannelSales.length, 'one adjust per sale on another channel');
  });
});
