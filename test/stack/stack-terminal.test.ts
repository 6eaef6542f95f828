import { linkSharedKafkaJars } from '../support/kafka-jars.js';
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/wait.js';
import { assertScriptAvailable, portOpen, Pty } from '../support/pty.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * `syncctl stack up` typed in a terminal that is then interrupted and closed: Kafka must outlive
 * both (it runs in a session of its own), and `stack down` stops it by its pid file. Uses its own
 * stack directory and ports, never the shared stack's.
 */
describe('syncctl stack up in a real terminal', function () {
  this.timeout(180_000);
  let dir: string;
  let env: Record<string, string>;
  let kafkaPort: number;

  before(async () => {
    await assertScriptAvailable();
    dir = mkdtempSync(join(tmpdir(), 'syncctl-stack-pty-'));
    await linkSharedKafkaJars(dir); // the pinned jars of the test run's stack (no second download)
    kafkaPort = await freePort();
    env = {
      SYNCCTL_STACK__DIR: dir,
      SYNCCTL_STACK__KAFKA__PORT: String(kafkaPort),
      SYNCCTL_STACK__KAFKA__CONTROLLER_PORT: String(await freePort()),
      SYNCCTL_STACK__KAFKA__HEAP_MB: '256',
      SYNCCTL_KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    };
  });

  after(async () => {
    if (dir) {
      await runCli(['stack', 'down'], { env }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps Kafka running after Ctrl-C in the terminal and after the terminal is closed; stack down stops it', async () => {
    const term = Pty.start(`node bin/syncctl.js stack up --no-connect; echo "UP-EXIT=$?"; sleep 600`, { env });
    let pid: number;
    try {
      const [, code] = await term.waitFor(/UP-EXIT=(\d+)/, 'stack up to finish', 120_000);
      assert.equal(code, '0', term.output);
      pid = Number(readFileSync(join(dir, 'run', 'kafka.pid'), 'utf8'));
      assert.ok(alive(pid), 'the pid file names the running Kafka');
      term.type('\x03'); // SIGINT to the terminal's foreground process group (the `sleep`)
      await term.close(); // the terminal goes away: its session is hung up
    } finally {
      await term.close();
    }
    assert.ok(alive(pid), 'Kafka survived Ctrl-C and the closed terminal');
    assert.equal(await portOpen(kafkaPort), true, 'Kafka still accepts connections');
    const status = await runCli(['stack', 'status', '--json'], { env });
    const kafka = status.json.result.components.find((c: { component: string }) => c.component === 'kafka');
    assert.equal(kafka.ready, true, JSON.stringify(kafka));
    assert.equal(kafka.pid, pid);

    // stops by pid file: only what this stack directory's pid files name
    const down = await runCli(['stack', 'down'], { env });
    assert.equal(down.exitCode, 0, String(down.stderr));
    await eventually(async () => !alive(pid), 'Kafka stopped', 30_000);
    assert.equal(await portOpen(kafkaPort), false);
    assert.equal(existsSync(join(dir, 'run', 'kafka.pid')), false, 'the pid file is removed');
  });
});
