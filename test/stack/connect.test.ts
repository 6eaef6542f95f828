import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { configSchema } from '../../src/config/schema.js';
import { erpSchema } from '../../src/config/schema.js';
import { DebeziumConnector } from '../../src/connectors/erp/debezium.js';
import { stackEnv } from '../../src/stack/manager.js';
import { scriptsDir } from '../../src/stack/paths.js';
import { ScriptComponent } from '../../src/stack/script-component.js';
import { initErp } from '../../src/simulators/erp/index.js';
import { testBaseConfig } from '../support/config.js';
import { CONNECT_URL, connectUp, dbUrl, deleteTopics, dropDatabase, uniqueName } from '../connectors/erp/helpers.js';

const env = stackEnv(configSchema.parse(testBaseConfig()));
const script = join(scriptsDir(), 'connect.sh');
const runScript = (action: string, extraEnv: Record<string, string> = {}) =>
  execa('bash', [script, action], { env: { ...process.env, ...env, ...extraEnv }, reject: false, stdin: 'ignore', timeout: 240_000 });

describe('connect.sh (Kafka Connect + Debezium in the local stack)', function () {
  this.timeout(60_000);

  before(async function () {
    this.timeout(240_000);
    await connectUp();
  });

  it('a second `up` is harmless: it reports the worker already running', async () => {
    const connect = new ScriptComponent('connect', env);
    const first = await connect.up();
    const second = await connect.up();
    assert.equal(second.ready, true);
    assert.equal(second.managed, true);
    assert.equal(second.pid, first.pid);
    assert.match(String(second.detail), /Kafka Connect 4\.4\.0, Debezium PostgreSQL 3\.7\.1\.Final/);
  });

  it('serves the Debezium PostgreSQL plugin', async () => {
    const plugins = (await (await fetch(`${CONNECT_URL}/connector-plugins`)).json()) as Array<{ class: string; version: string }>;
    assert.ok(plugins.some((p) => p.class === 'io.debezium.connector.postgresql.PostgresConnector' && p.version === '3.7.1.Final'));
  });

  it('`status` prints one JSON line listing each connector with its state and tasks', async function () {
    this.timeout(120_000);
    const id = uniqueName('erp_stk');
    const erp = erpSchema.parse({ databaseUrl: dbUrl(id), topicPrefix: id, slotName: id, publicationName: id });
    const dbz = new DebeziumConnector(erp, CONNECT_URL, { connectorName: id });
    try {
      await initErp({ databaseUrl: erp.databaseUrl, products: 1, variantsPerProduct: 1 });
      await dbz.register();
      await dbz.waitUntilRunning();
      const res = await runScript('status');
      assert.equal(res.exitCode, 0);
      const lines = String(res.stdout).trim().split('\n');
      assert.equal(lines.length, 1);
      const status = JSON.parse(lines[0]!);
      assert.equal(status.component, 'connect');
      assert.equal(status.ready, true);
      assert.deepEqual(
        status.items.find((i: { connector: string }) => i.connector === id),
        { connector: id, state: 'RUNNING', type: 'source', tasks: [{ id: 0, state: 'RUNNING' }] },
      );
    } finally {
      await dbz.remove().catch(() => undefined);
      await dropDatabase(id);
      await deleteTopics(id).catch(() => undefined);
    }
  });

  it('`down` stops the worker it started and `up` brings it back with its connectors (stored in Kafka)', async function () {
    this.timeout(180_000);
    const id = uniqueName('erp_stk');
    const erp = erpSchema.parse({ databaseUrl: dbUrl(id), topicPrefix: id, slotName: id, publicationName: id });
    const dbz = new DebeziumConnector(erp, CONNECT_URL, { connectorName: id });
    const connect = new ScriptComponent('connect', env);
    try {
      await initErp({ databaseUrl: erp.databaseUrl, products: 1, variantsPerProduct: 1 });
      await dbz.register();
      await dbz.waitUntilRunning({ streaming: true });
      const down = await connect.down();
      assert.equal(down.running, false);
      assert.equal(await dbz.connect.healthy(), false);
      const up = await connect.up();
      assert.equal(up.ready, true);
      const s = await dbz.waitUntilRunning({ streaming: true, timeoutMs: 60_000 });
      assert.equal(s.state, 'RUNNING');
    } finally {
      await dbz.remove().catch(() => undefined);
      await dropDatabase(id);
      await deleteTopics(id).catch(() => undefined);
    }
  });

  it('`fetch` is cached: with the jars and plugin in place it never calls Maven', async () => {
    const fakeBin = mkdtempSync(join(tmpdir(), 'no-mvn-'));
    try {
      writeFileSync(join(fakeBin, 'mvn'), '#!/bin/sh\necho "mvn must not run" >&2\nexit 1\n');
      chmodSync(join(fakeBin, 'mvn'), 0o755);
      const res = await runScript('fetch', { PATH: `${fakeBin}:${process.env.PATH}` });
      assert.equal(res.exitCode, 0, String(res.stderr));
      assert.doesNotMatch(String(res.stderr), /mvn must not run/);
    } finally {
      rmSync(fakeBin, { recursive: true, force: true });
    }
  });
});
