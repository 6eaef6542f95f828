import { strict as assert } from 'node:assert';
import { runCli } from '../support/cli.js';

describe('syncctl stack', () => {
  it('reports PostgreSQL, Redis and Kafka as ready in `stack status --json`', async () => {
    const r = await runCli(['stack', 'status', '--json']);
    assert.equal(r.exitCode, 0, String(r.stderr));
    const byName = Object.fromEntries(r.json.result.components.map((c: { component: string }) => [c.component, c]));
    for (const name of ['postgres', 'redis', 'kafka']) assert.equal(byName[name]?.ready, true, `${name} not ready`);
    assert.equal(byName.kafka.port, 29092);
  });

  it('is harmless to bring up twice: the second `stack up` keeps the running broker', async () => {
    const before = await runCli(['stack', 'status', '--json']);
    const pid = before.json.result.components.find((c: { component: string }) => c.component === 'kafka').pid;
    const r = await runCli(['stack', 'up', '--json'], { timeoutMs: 120_000 });
    assert.equal(r.exitCode, 0, String(r.stderr));
    const kafka = r.json.result.components.find((c: { component: string }) => c.component === 'kafka');
    assert.equal(kafka.ready, true);
    assert.equal(kafka.pid, pid);
  });

  it('fails with exit code 3 and names the port when the Kafka port is taken by something else', async () => {
    // Redis's port is certainly taken by a process that is not our broker.
    const r = await runCli(['stack', 'up', '--json'], { env: { SYNCCTL_STACK__KAFKA__PORT: '6379', SYNCCTL_STACK__DIR: '/tmp/syncctl-stack-port-test' } });
    assert.equal(r.exitCode, 3);
    assert.match(r.json.error.message, /port 6379 is taken/);
  });
});
