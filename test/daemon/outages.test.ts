import { strict as assert } from 'node:assert';
import { inconsistencies, sell, startRig, type Rig } from './support/rig.js';
import { killNow, probe, startDaemonProcess, type DaemonProcess, reportDaemonOnFailure } from './support/process.js';
import { createDaemonRole, startPrivateBroker, type DaemonRole, type PrivateBroker } from './support/outages.js';
import { eventually } from '../support/wait.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('syncctl start (the real CLI): Kafka and PostgreSQL outages under load', function () {
  this.timeout(300_000);
  let broker: PrivateBroker;
  let role: DaemonRole;
  let rig: Rig;
  let daemon: DaemonProcess;
  let failed = false;
  const sold = new Map<string, number>();
  let otherSales = 0;

  /** Sells one unit every ~100 ms on a rotating channel until the returned stop() is awaited. */
  const load = () => {
    let on = true;
    let i = 0;
    const done = (async () => {
      while (on) {
        const channel = ['main', 'a', 'b'][i % 3]!;
        const sku = rig.skus[i++ % rig.skus.length]!;
        await sell(rig, channel, sku, 1);
        sold.set(sku, (sold.get(sku) ?? 0) + 1);
        if (channel !== 'main') otherSales++;
        await sleep(100);
      }
    })();
    return async () => {
      on = false;
      await done;
    };
  };
  const settled = async (what: string) => {
    let last: string[] = [];
    try {
      await eventually(async () => (last = await inconsistencies(rig, sold)).length === 0, what, 120_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${last.join('\n')}`);
    }
    assert.equal((await rig.adjustWrites()).length, otherSales, 'one adjust on the authority per sale on another channel');
  };

  before(async () => {
    broker = await startPrivateBroker();
    rig = await startRig('outage', { skus: 4, woo: { a: { buffer: 0 }, b: { buffer: 1 } }, initial: 300, overrides: { kafka: { brokers: [broker.address] } } });
    role = await createDaemonRole(rig.config.database.url, rig.config.database.schema);
    daemon = await startDaemonProcess(rig.writeConfig({ database: { url: role.url } }, 'daemon'));
    await eventually(async () => (await inconsistencies(rig, sold)).length === 0, 'initial sync', 90_000, 500);
  });
  afterEach(reportDaemonOnFailure(() => daemon, () => void (failed = true)));
  after(async () => {
    if (daemon) await killNow(daemon);
    await rig?.close(failed);
    await role?.drop();
    await broker?.destroy();
  });

  it('reports Kafka down on /readyz (503) and /healthz (degraded), and resumes by itself when it is back, losing nothing', async () => {
    const stop = load();
    await sleep(1000);
    await broker.down();
    const ready = await eventually(async () => {
      const r = await probe(daemon.adminUrl, '/readyz');
      return r.status === 503 && r.body?.checks?.kafka?.ok === false ? r : undefined;
    }, '/readyz reporting Kafka down', 30_000, 250);
    assert.equal(ready.body.checks.postgres.ok, true);
    const live = await eventually(async () => {
      const r = await probe(daemon.adminUrl, '/healthz');
      return r.body?.down?.includes('kafka') ? r : undefined;
    }, '/healthz naming Kafka', 15_000, 250);
    assert.equal(live.status, 200, 'alive: a supervisor must not restart it for an outage');
    assert.equal(live.body.dependencies, 'degraded');
    await sleep(3000); // sales keep coming while Kafka is down
    assert.equal(daemon.child.exitCode, null, 'the daemon keeps running');
    await broker.up();
    await eventually(async () => (await probe(daemon.adminUrl, '/readyz')).status === 200, '/readyz ready again', 60_000, 250);
    await eventually(async () => (await probe(daemon.adminUrl, '/healthz')).body?.dependencies === 'ok', '/healthz ok again', 15_000, 250);
    await stop();
    await settled('consistency after the Kafka outage');
  });

  it('reports PostgreSQL down on /readyz (503) and /healthz (degraded) while its connections are refused, and resumes by itself', async () => {
    const stop = load();
    await sleep(1000);
    assert.ok((await role.lockOut()) > 0, 'the daemon had connections to kill');
    const ready = await eventually(async () => {
      const r = await probe(daemon.adminUrl, '/readyz');
      return r.status === 503 && r.body?.checks?.postgres?.ok === false ? r : undefined;
    }, '/readyz reporting PostgreSQL down', 30_000, 250);
    assert.equal(ready.body.checks.kafka.ok, true);
    const live = await eventually(async () => {
      const r = await probe(daemon.adminUrl, '/healthz');
      return r.body?.down?.includes('postgres') ? r : undefined;
    }, '/healthz naming PostgreSQL', 15_000, 250);
    assert.equal(live.status, 200);
    await sleep(3000);
    assert.equal(daemon.child.exitCode, null, 'the daemon keeps running');
    await role.letIn();
    await eventually(async () => (await probe(daemon.adminUrl, '/readyz')).status === 200, '/readyz ready again', 60_000, 250);
    // The intake refused webhooks meanwhile: the subscriptions are re-checked at once (by the waiting
    // leader task, or at the re-election if the outage cost the leadership).
    await eventually(async () => /answer again after an outage: re-checking the webhook subscriptions now/.test(daemon.stderr()), 'subscriptions re-checked after the outage', 15_000, 250);
    // Connections killed again while work is in flight: nothing to see but the effects.
    for (let i = 0; i < 3; i++) {
      await sleep(1000);
      await role.terminate();
    }
    await stop();
    await settled('consistency after the PostgreSQL outage');
    assert.equal(daemon.child.exitCode, null, 'the daemon kept running');
  });
});
