import { strict as assert } from 'node:assert';
import { configSchema } from '../../../../src/config/schema.js';
import { stackStatus } from '../../../../src/stack/manager.js';
import { testBaseConfig } from '../../../support/config.js';
import { ensureFlink, flinkScript } from './support.js';

describe('flink.sh (local Flink session cluster + SQL Gateway)', function () {
  this.timeout(240_000);

  before(async () => ensureFlink());

  it('is harmless to bring up twice: the second `up` keeps the same JobManager, TaskManager and gateway', async () => {
    const before = await flinkScript('status');
    const again = await flinkScript('up');
    assert.match(again.stderr, /already running/);
    assert.deepEqual(again.status.items.slice(0, 3).map((i) => i.pid), before.status.items.slice(0, 3).map((i) => i.pid));
    assert.equal(again.status.ready, true);
  });

  it('prints one JSON status line with the JobManager, TaskManager, gateway and jobs', async () => {
    const { status } = await flinkScript('status');
    assert.equal(status.component, 'flink');
    assert.equal(status.ready, true);
    const ports = configSchema.parse(testBaseConfig()).stack.flink;
    assert.equal(status.port, ports.gatewayPort);
    const [jm, tm, gw, jobs] = status.items;
    assert.deepEqual([jm!.role, tm!.role, gw!.role], ['jobmanager', 'taskmanager', 'gateway']);
    assert.equal(jm!.port, ports.restPort);
    for (const i of [jm!, tm!, gw!]) {
      assert.equal(i.ready, true, `${i.role} ready`);
      assert.equal(typeof i.pid, 'number', `${i.role} pid`);
    }
    assert.equal(tm!.registered, 1);
    assert.equal(gw!.version, '2.3.0');
    assert.ok(Array.isArray(jobs!.jobs));
    assert.equal(status.pid, jm!.pid);
  });

  it('is reported by `stackStatus` as the `flink` component when selected', async () => {
    const all = await stackStatus(configSchema.parse(testBaseConfig()), { flink: true });
    const flink = all.find((c) => c.component === 'flink');
    assert.equal(flink?.ready, true);
    assert.match(flink?.detail ?? '', /Flink 2\.3\.0: 1 TaskManager/);
  });
});
