import { strict as assert } from 'node:assert';
import { freePort, inconsistencies, sell, startRig, type Rig } from './support/rig.js';
import { killNow, probe, startDaemonProcess, type DaemonProcess } from './support/process.js';
import { startBalancer, type Balancer } from './support/balancer.js';
import { createKafka } from '../../src/pipeline/kafka/client.js';
import { eventually } from '../support/wait.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const roleOf = async (d: DaemonProcess): Promise<string | undefined> => (await probe(d.adminUrl, '/readyz')).body?.checks?.leader?.detail;

describe('syncctl start (the real CLI): two daemons on one stack', function () {
  this.timeout(300_000);
  let rig: Rig;
  let lb: Balancer;
  const daemons = new Map<string, DaemonProcess>();
  let failed = false;
  const sold = new Map<string, number>();
  let otherSales = 0;

  before(async () => {
    rig = await startRig('scaleout', { skus: 6, woo: { a: { buffer: 0 }, b: { buffer: 1 } }, initial: 400 });
    const portB = await freePort();
    lb = await startBalancer([`http://127.0.0.1:${rig.config.http.public.port}`, `http://127.0.0.1:${portB}`]);
    daemons.set('one', await startDaemonProcess(rig.writeConfig({ http: { publicUrl: lb.url } }, 'one')));
    daemons.set('two', await startDaemonProcess(rig.writeConfig({ http: { public: { port: portB }, admin: { port: await freePort() }, publicUrl: lb.url } }, 'two')));
    await eventually(async () => (await inconsistencies(rig, sold)).length === 0, 'initial sync', 90_000, 500);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      failed = true;
      for (const [name, d] of daemons) process.stderr.write(`[test] daemon ${name} stderr (tail):\n${d.stderr().slice(-4000)}\n`);
    }
  });
  after(async () => {
    for (const d of daemons.values()) await killNow(d);
    await lb?.close();
    await rig?.close(failed);
  });

  it('runs sync workers in both daemons (one consumer group) and single-owner tasks in exactly one', async () => {
    const roles = await Promise.all([...daemons.values()].map(roleOf));
    assert.deepEqual(roles.sort(), ['follower', 'leader']);
    const admin = createKafka(rig.config.kafka).admin();
    await admin.connect();
    try {
      const group = `${rig.config.daemon.groupPrefix}.sync`;
      const members = await eventually(async () => {
        const g = (await admin.describeGroups([group])).groups[0]!;
        return g.state === 'Stable' && g.members.length === 2 ? g.members : undefined;
      }, 'two members in the sync group', 30_000, 500);
      assert.ok(members.every((m) => m.memberAssignment.length > 0), 'both members have partitions');
    } finally {
      await admin.disconnect();
    }
  });

  it('hands leadership to the survivor within seconds of a kill -9 and loses or doubles nothing', async () => {
    let on = true;
    let i = 0;
    const stream = (async () => {
      while (on) {
        const channel = ['main', 'a', 'b'][i % 3]!;
        const sku = rig.skus[(i * 7) % rig.skus.length]!;
        const q = 1 + (i++ % 2);
        await sell(rig, channel, sku, q);
        sold.set(sku, (sold.get(sku) ?? 0) + q);
        if (channel !== 'main') otherSales++;
        await sleep(80);
      }
    })();
    await sleep(3000);
    let leaderName: string | undefined;
    for (const [name, d] of daemons) if ((await roleOf(d)) === 'leader') leaderName = name;
    assert.ok(leaderName, 'a leader');
    const leader = daemons.get(leaderName)!;
    const survivorName = leaderName === 'one' ? 'two' : 'one';
    const survivor = daemons.get(survivorName)!;
    await killNow(leader);
    daemons.delete(leaderName);
    // Bounded: the lease is a session advisory lock, released when the dead process's connection closes.
    await eventually(async () => (await roleOf(survivor)) === 'leader', 'the survivor elected leader', 15_000, 200);
    await sleep(6000); // the stream goes on against the survivor alone
    on = false;
    await stream;
    let last: string[] = [];
    try {
      await eventually(async () => (last = await inconsistencies(rig, sold)).length === 0, 'consistency after the kill', 120_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${last.join('\n')}`);
    }
    await sleep(3000);
    assert.deepEqual(await inconsistencies(rig, sold), []);
    const adjusts = await rig.adjustWrites();
    assert.equal(adjusts.length, otherSales, 'one adjust on the authority per sale on another channel');
    assert.equal(new Set(adjusts.map((a) => a.key)).size, adjusts.length, 'no idempotency key applied twice');
    // Writes the killed daemon held INFLIGHT are resent after their lease (5 s here) by the survivor,
    // and a retried write waits out its backoff: none may stay behind, though they may still be finishing.
    let left: unknown[] = [];
    try {
      await eventually(async () => (left = await rig.query(`select status, kind, target_key, sku, attempts, not_before, updated_at, last_error from planned_writes where status in ('PENDING', 'INFLIGHT')`)).length === 0, 'no write left behind', 60_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${JSON.stringify(left, null, 1)}`);
    }
  });
});
