import { linkSharedKafkaJars } from '../support/kafka-jars.js';
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { stackStatus } from '../../src/stack/manager.js';
import { quoteIdent } from '../../src/db/pool.js';
import { removeErpTopics, removeStaleDemoTopics } from '../../src/services/demo/reset.js';
import { REPO_ROOT } from '../support/cli.js';
import { randomSuffix } from '../support/config.js';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/wait.js';
import { assertScriptAvailable, portOpen, processesWith, Pty } from '../support/pty.js';

/** What must never reach the user's terminal in normal output. */
const NOISE = /ECONNREFUSED|Warning|\bError\b|"level":|at .+\.js:\d+/;

/**
 * The README's main job as a person runs it: `npm run demo` in a terminal, Ctrl-C typed on the
 * keyboard. The demo gets its own config (ports, databases, names), reuses the running stack or
 * starts what is missing, and must leave nothing of its own behind.
 */
describe('npm run demo in a real terminal (Ctrl-C as keystrokes)', function () {
  // On a clean clone the first demo fetches Kafka Connect's jars (Maven) before the live view.
  this.timeout(900_000);
  let dir: string;
  let file: string;
  let ports: number[];
  let names: { db: string; erpDb: string; slot: string; erpTopics: string; topics: string; connector: string };

  before(async () => {
    await assertScriptAvailable();
    dir = mkdtempSync(join(tmpdir(), 'syncctl-pty-'));
    file = join(dir, 'config.yml');
    const id = randomSuffix();
    names = { db: `syncctl_pty_${id}`, erpDb: `syncctl_pty_erp_${id}`, slot: `syncctl_pty_${id}`, erpTopics: `erp_pty_${id}`, topics: `pty${id}`, connector: `syncctl-pty-${id}` };
    ports = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const base = parseYaml(readFileSync(join(REPO_ROOT, 'config/config.yml'), 'utf8'));
    const [http, main, eu, outlet, admin] = ports;
    base.database.url = `postgres://postgres@127.0.0.1:5432/${names.db}`;
    base.kafka.topicPrefix = names.topics;
    base.http.public.port = http;
    base.http.admin.port = admin;
    base.sources.shopify.main.url = `http://127.0.0.1:${main}`;
    base.sources.shopify.eu.url = `http://127.0.0.1:${eu}`;
    base.sources.woocommerce.outlet.url = `http://127.0.0.1:${outlet}`;
    Object.assign(base.sources.erp, { databaseUrl: `postgres://postgres@127.0.0.1:5432/${names.erpDb}`, topicPrefix: names.erpTopics, slotName: names.slot, publicationName: names.slot, connectorName: names.connector });
    base.logging.file = join(REPO_ROOT, 'config/logging.yml');
    writeFileSync(file, toYaml(base));
  });

  after(async () => {
    const { config } = await loadConfig({ file });
    await fetch(`http://127.0.0.1:${config.stack.connect.port}/connectors/${names.connector}`, { method: 'DELETE' }).catch(() => undefined);
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    try {
      await admin.query(`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1 and not active`, [names.slot]);
      for (const db of [names.db, names.erpDb]) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    await removeErpTopics(config).catch(() => undefined);
    await removeStaleDemoTopics(config).catch(() => undefined); // the run ended by a second Ctrl-C leaves its topics
    rmSync(dir, { recursive: true, force: true });
  });

  /** What is running of the stack (Kafka, Connect), to compare before and after a demo. */
  const running = async () => {
    const { config } = await loadConfig({ file });
    return (await stackStatus(config, { connect: true })).filter((c) => ['kafka', 'connect'].includes(c.component)).map((c) => `${c.component}:${c.running}`).join(' ');
  };

  /** Nothing of the demo's remains: no process, no port, the stack as it was before. */
  const assertNothingLeft = async (stackBefore: string) => {
    await eventually(async () => (await processesWith(dir)).length === 0, 'no process of the demo left', 20_000);
    for (const p of ports) assert.equal(await portOpen(p), false, `port ${p} of the demo is still open`);
    assert.equal(await running(), stackBefore, 'the demo stops what it started and only that');
  };

  const startDemo = () => Pty.start(`npm run demo -- --config ${file} --products 6 --orders-per-second 2 --erp-changes-per-second 2 --settle-seconds 60; echo "DEMO-EXIT=$?"`);

  it('one Ctrl-C: stops the traffic, settles within the stated bound, prints the converged summary, exits 0 and leaves nothing behind', async () => {
    const stackBefore = await running();
    const term = startDemo();
    try {
      await term.waitFor(/\d+ events\/s/, 'the live view', 600_000);
      await term.waitFor(/unexpected: /, 'the live view\'s dead letters and conflicts by kind', 10_000);
      term.type('\x03');
      await term.waitFor(/settle \(at most 60 s/, 'the settle with its bound', 30_000);
      const [, code] = await term.waitFor(/DEMO-EXIT=(\d+)/, 'the demo\'s exit status', 240_000);
      const out = term.output;
      assert.equal(code, '0', out.slice(-3000));
      assert.match(out, /CHANNEL\s+COMPARED\s+MISMATCHED\s+MISSING/);
      assert.match(out, /\nConverged: every channel shows the erp quantity/);
      assert.match(out, /sync latency, last 30 s/);
      assert.match(out, /\nUnexpected: none\n/);
      assert.match(out, /Sync latency over the run\s+p50\s+p99/);
      assert.doesNotMatch(out, NOISE);
      await term.exited;
      await assertNothingLeft(stackBefore);
    } finally {
      await term.close();
    }
  });

  it('a second Ctrl-C exits at once without the check (130), still stopping what the demo started', async () => {
    const stackBefore = await running();
    const term = startDemo();
    try {
      await term.waitFor(/\d+ events\/s/, 'the live view', 240_000);
      term.type('\x03');
      await term.waitFor(/Ctrl-C: stopping the traffic/, 'the first Ctrl-C acknowledged', 30_000);
      // A second signal within a second is taken as the same keypress (npm forwards the terminal's SIGINT): a person's second press comes later.
      await new Promise((r) => setTimeout(r, 1500));
      term.type('\x03');
      const [, code] = await term.waitFor(/DEMO-EXIT=(\d+)/, 'the demo\'s exit status', 60_000);
      const out = term.output;
      assert.equal(code, '130', out.slice(-3000));
      assert.match(out, /Ctrl-C again: exiting now, without the check\./);
      assert.doesNotMatch(out, /Converged/);
      assert.doesNotMatch(out, NOISE);
      await term.exited;
      await assertNothingLeft(stackBefore);
    } finally {
      await term.close();
    }
  });
});

/**
 * A component dying in the middle of the demo: the demo names it in one line and ends at once
 * with a failure summary, instead of minutes of connection retries on the screen. The demo runs
 * without the ERP on a Kafka of its own (own stack directory and ports), which it starts and
 * which the test then kills.
 */
describe('syncctl demo in a real terminal when Kafka dies during the run', function () {
  this.timeout(300_000);
  let dir: string;
  let file: string;
  let ports: number[];
  let db: string;

  before(async () => {
    await assertScriptAvailable();
    dir = mkdtempSync(join(tmpdir(), 'syncctl-pty-dies-'));
    await linkSharedKafkaJars(join(dir, 'stack'));
    db = `syncctl_pty_dies_${randomSuffix()}`;
    ports = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const [http, main, eu, outlet, kafka, controller, admin] = ports;
    const base = parseYaml(readFileSync(join(REPO_ROOT, 'config/config.yml'), 'utf8'));
    delete base.sources.erp;
    base.sync.authority = 'shopify:main';
    base.sync.fieldPolicies.price = 'priority:shopify:main';
    base.database.url = `postgres://postgres@127.0.0.1:5432/${db}`;
    base.kafka.brokers = [`127.0.0.1:${kafka}`];
    base.http.public.port = http;
    base.http.admin.port = admin;
    base.sources.shopify.main.url = `http://127.0.0.1:${main}`;
    base.sources.shopify.eu.url = `http://127.0.0.1:${eu}`;
    base.sources.woocommerce.outlet.url = `http://127.0.0.1:${outlet}`;
    base.logging.file = join(REPO_ROOT, 'config/logging.yml');
    base.stack = { ...base.stack, dir: join(dir, 'stack'), kafka: { port: kafka, controllerPort: controller, heapMb: 256 }, connect: { port: await freePort(), heapMb: 256 } };
    file = join(dir, 'config.yml');
    writeFileSync(file, toYaml(base));
  });

  after(async () => {
    const kafkaPid = join(dir, 'stack', 'run', 'kafka.pid');
    if (existsSync(kafkaPid)) process.kill(Number(readFileSync(kafkaPid, 'utf8')), 'SIGKILL');
    const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the dead component in one line, skips the settle and the check, exits 3 and leaves nothing behind', async () => {
    const term = Pty.start(`node bin/syncctl.js demo --config ${file} --products 4 --orders-per-second 2; echo "DEMO-EXIT=$?"`);
    try {
      await term.waitFor(/\d+ events\/s/, 'the live view', 240_000);
      const pid = Number(readFileSync(join(dir, 'stack', 'run', 'kafka.pid'), 'utf8'));
      process.kill(pid, 'SIGKILL');
      const [, code] = await term.waitFor(/DEMO-EXIT=(\d+)/, 'the demo\'s exit status', 120_000);
      const out = term.output;
      assert.equal(code, '3', out.slice(-3000));
      assert.match(out, /✗ Kafka stopped answering at 127\.0\.0\.1:\d+\. Skipping the settle and the convergence check\./);
      assert.match(out, /\nFAILED: Kafka stopped answering/);
      assert.match(out, /Stopped what the demo started: kafka\./);
      assert.doesNotMatch(out, /Converged|settling/);
      assert.doesNotMatch(out, NOISE);
      await term.exited;
      await eventually(async () => (await processesWith(dir)).length === 0, 'no process of the demo left', 20_000);
      for (const p of ports) assert.equal(await portOpen(p), false, `port ${p} of the demo is still open`);
      assert.equal(existsSync(join(dir, 'stack', 'run', 'kafka.pid')), false, 'the pid file of the Kafka the demo started is removed');
    } finally {
      await term.close();
    }
  });
});
