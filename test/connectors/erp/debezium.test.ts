import assert from 'node:assert/strict';
import { erpSchema, type ErpConfig } from '../../../src/config/schema.js';
import { PermanentError, ServiceUnavailableError } from '../../../src/core/errors.js';
import { DebeziumConnector, buildDebeziumConfig, debeziumAuxTopics, debeziumTopic } from '../../../src/connectors/erp/debezium.js';
import { basePrice, erpSku, initErp } from '../../../src/simulators/erp/index.js';
import { CONNECT_URL, TopicReader, connectUp, dbUrl, deleteTopics, dropDatabase, sql, uniqueName, type DebeziumRecord } from './helpers.js';

describe('DebeziumConnector (real Kafka Connect + Debezium + PostgreSQL)', function () {
  this.timeout(60_000);

  const id = uniqueName('erp_dbz');
  const url = dbUrl(id);
  let erp: ErpConfig;
  let dbz: DebeziumConnector;
  let reader: TopicReader;
  const items = () => debeziumTopic(erp, 'public.items');
  const ofSku = (sku: string) => (r: DebeziumRecord[]) => r.filter((x) => x.topic === items() && x.key?.sku === sku);

  before(async function () {
    this.timeout(240_000);
    await connectUp();
    await initErp({ databaseUrl: url, products: 3, variantsPerProduct: 2, seed: 3 });
    erp = erpSchema.parse({ databaseUrl: url, topicPrefix: id, slotName: id, publicationName: id });
    // errors.max.retries=0: a lost replication connection fails the task at once instead of
    // being retried, which is how the restart test forces a FAILED task.
    dbz = new DebeziumConnector(erp, CONNECT_URL, { connectorName: id, heartbeatIntervalMs: 1000, extra: { 'errors.max.retries': '0' } });
    assert.equal((await dbz.register()).action, 'created');
    await dbz.waitUntilRunning({ streaming: true });
    reader = await new TopicReader([items(), debeziumTopic(erp, 'public.stock_levels')]).start();
  });

  after(async function () {
    this.timeout(60_000);
    await reader?.stop();
    await dbz?.remove().catch(() => undefined);
    await dropDatabase(id);
    await deleteTopics(id).catch(() => undefined);
  });

  it('snapshots the rows that existed before registration as op "r" events', async () => {
    const skus = [1, 2, 3].flatMap((p) => [1, 2].map((v) => erpSku(p, v)));
    const snap = await reader.waitFor('6 snapshot reads of items', (r) => {
      const reads = r.filter((x) => x.topic === items() && x.value?.op === 'r');
      return reads.length >= skus.length && reads;
    });
    assert.deepEqual(snap.map((x) => x.key?.sku).sort(), skus);
    for (const x of snap) {
      assert.equal(x.value!.before, null);
      assert.equal(x.value!.after!.price, basePrice(String(x.key!.sku)));
    }
  });

  it('streams an insert, an update and a delete with the right before/after images, then a tombstone', async () => {
    const sku = 'SKU-CDC-1';
    await sql(url, "insert into items (sku, name, price) values ($1, 'CDC probe', 10.50)", [sku]);
    await sql(url, 'update items set price = 12.00, updated_at = now() where sku = $1', [sku]);
    await sql(url, 'delete from items where sku = $1', [sku]);
    const rs = await reader.waitFor('c, u, d and a tombstone for the probe SKU', (r) => ofSku(sku)(r).length >= 4 && ofSku(sku)(r));
    const [c, u, d, tomb] = rs;
    assert.equal(c!.value!.op, 'c');
    assert.equal(c!.value!.before, null);
    assert.equal(c!.value!.after!.price, '10.50');
    assert.equal(c!.value!.source.snapshot, null);
    assert.equal(u!.value!.op, 'u');
    assert.equal(u!.value!.before!.price, '10.50'); // REPLICA IDENTITY FULL: the whole old row
    assert.equal(u!.value!.after!.price, '12.00');
    assert.equal(d!.value!.op, 'd');
    assert.equal(d!.value!.before!.name, 'CDC probe');
    assert.equal(d!.value!.after, null);
    assert.equal(tomb!.value, null);
    assert.ok(Number(c!.value!.source.lsn) < Number(u!.value!.source.lsn) && Number(u!.value!.source.lsn) < Number(d!.value!.source.lsn));
  });

  it('keeps NULL columns NULL instead of their defaults (replace.null.with.default=false)', async () => {
    const sku = 'SKU-CDC-NULL';
    await sql(url, "alter table items add column if not exists note text default 'none'");
    await sql(url, "insert into items (sku, name, price, note) values ($1, 'null probe', 1, null)", [sku]);
    const [c] = await reader.waitFor('the insert', (r) => ofSku(sku)(r).length >= 1 && ofSku(sku)(r));
    assert.ok('note' in c!.value!.after!);
    assert.equal(c!.value!.after!.note, null);
  });

  it('registering the same config again changes nothing', async () => {
    const before = await dbz.connect.getConfig(id);
    assert.equal((await dbz.register()).action, 'unchanged');
    assert.deepEqual(await dbz.connect.getConfig(id), before);
  });

  it('registering a changed config updates the connector, which keeps streaming', async () => {
    const changed = new DebeziumConnector({ ...erp, pollIntervalMs: 50 }, CONNECT_URL, { connectorName: id, heartbeatIntervalMs: 1000, extra: { 'errors.max.retries': '0' } });
    assert.equal((await changed.register()).action, 'updated');
    assert.equal((await dbz.connect.getConfig(id))!['poll.interval.ms'], '50');
    assert.equal((await dbz.register()).action, 'updated'); // back to the original
    await dbz.waitUntilRunning({ streaming: true });
    await sql(url, "update stock_levels set on_hand = on_hand + 1 where sku = $1 and warehouse = 'MAIN'", [erpSku(1, 1)]);
    await reader.waitFor('the stock update', (r) => r.some((x) => x.topic.endsWith('stock_levels') && x.value?.op === 'u'));
  });

  it('reports connector and task states with the slot lag and activity', async () => {
    const s = await dbz.waitUntilRunning({ streaming: true });
    assert.equal(s.state, 'RUNNING');
    assert.deepEqual(s.tasks.map((t) => t.state), ['RUNNING']);
    assert.equal(s.slot?.name, id);
    assert.equal(s.slot?.active, true);
    assert.equal(typeof s.slot?.lagBytes, 'number');
    assert.equal(s.publicationExists, true);
  });

  it('restartFailed brings a FAILED task back to RUNNING, and changes made meanwhile still arrive', async () => {
    const { slot } = await dbz.waitUntilRunning({ streaming: true });
    await sql(url, 'select pg_terminate_backend($1)', [slot!.activePid]);
    const deadline = Date.now() + 30_000;
    let s = await dbz.status();
    while (!s.tasks.some((t) => t.state === 'FAILED')) {
      assert.ok(Date.now() < deadline, 'the task did not fail after its walsender was terminated');
      await new Promise((r) => setTimeout(r, 200));
      s = await dbz.status();
    }
    assert.ok(s.warnings.some((w) => w.includes('FAILED')));
    await sql(url, "insert into items (sku, name, price) values ('SKU-CDC-GAP', 'written while failed', 3)");
    assert.deepEqual(await dbz.restartFailed(), { hadFailed: true });
    await dbz.waitUntilRunning({ streaming: true });
    await reader.waitFor('the row written while the task was FAILED', (r) => ofSku('SKU-CDC-GAP')(r).length >= 1);
  });

  it('restartFailed leaves a healthy connector alone', async () => {
    assert.deepEqual(await dbz.restartFailed(), { hadFailed: false });
  });

  it('heartbeats move the slot while captured tables are idle and the database is busy', async function () {
    this.timeout(90_000);
    await sql(url, 'create table if not exists noise (id serial primary key, payload text)');
    await dbz.waitUntilRunning({ streaming: true });
    const lsnBytes = (lsn: string) => {
      const [hi, lo] = lsn.split('/').map((h) => parseInt(h, 16)) as [number, number];
      return hi * 2 ** 32 + lo;
    };
    // Only non-captured writes happen past `target`: the slot can get there only through heartbeats.
    await sql(url, "insert into noise (payload) select repeat('x', 200) from generate_series(1, 200)");
    const target = (await sql<{ lsn: string }>(url, 'select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn;
    const deadline = Date.now() + 45_000;
    let moved = false;
    while (!moved && Date.now() < deadline) {
      await sql(url, "insert into noise (payload) select repeat('x', 200) from generate_series(1, 200)");
      await new Promise((r) => setTimeout(r, 250));
      moved = lsnBytes((await dbz.status()).slot!.confirmedFlushLsn!) >= lsnBytes(target);
    }
    assert.ok(moved, `confirmed_flush_lsn never reached ${target} although the server kept writing WAL`);
  });

  it('a config Connect rejects raises a PermanentError carrying the reasons Connect gives', async () => {
    const bad = new DebeziumConnector({ ...erp, databaseUrl: dbUrl(`${id}_missing`) }, CONNECT_URL, { connectorName: `${id}_bad` });
    await assert.rejects(bad.register(), (err: unknown) => {
      assert.ok(err instanceof PermanentError);
      assert.equal(err.code, 'CONNECT_CONFIG_INVALID');
      assert.match(err.message, /database|dbname|connect/i);
      return true;
    });
    assert.equal(await dbz.connect.status(`${id}_bad`), null);
  });

  it('an unreachable Connect raises ServiceUnavailableError("connect") with a hint', async () => {
    const nowhere = new DebeziumConnector(erp, 'http://127.0.0.1:1', { connectorName: id });
    await assert.rejects(nowhere.register(), (err: unknown) => {
      assert.ok(err instanceof ServiceUnavailableError);
      assert.equal(err.service, 'connect');
      assert.match(String(err.hint), /stack up/);
      return true;
    });
  });

  it('the config captures the mapped tables through the connector-owned slot and publication', () => {
    const cfg = buildDebeziumConfig(erp, { heartbeatIntervalMs: 1000 });
    assert.equal(cfg['table.include.list'], 'public.items,public.stock_levels,public.sales_orders,public.sales_order_lines');
    assert.equal(cfg['slot.name'], id);
    assert.equal(cfg['publication.name'], id);
    assert.equal(cfg['publication.autocreate.mode'], 'filtered');
    assert.match(cfg['heartbeat.action.query']!, /pg_logical_emit_message/);
  });

  it('the config tunes bulk throughput (batch, queue, producer batch) without adding latency', () => {
    const cfg = buildDebeziumConfig(erp);
    assert.equal(cfg['max.batch.size'], String(erp.maxBatchSize));
    assert.equal(cfg['max.queue.size'], String(erp.maxQueueSize));
    assert.equal(cfg['producer.override.batch.size'], String(erp.producerBatchBytes));
    assert.equal(cfg['poll.interval.ms'], String(erp.pollIntervalMs));
    assert.equal(buildDebeziumConfig({ ...erp, producerBatchBytes: 0 })['producer.override.batch.size'], undefined);
    assert.throws(() => erpSchema.parse({ databaseUrl: url, maxBatchSize: 4096, maxQueueSize: 4096 }), /maxQueueSize/);
  });

  it('names the heartbeat topics Debezium writes (created beforehand by the source)', () => {
    assert.deepEqual(debeziumAuxTopics(erp), [`__debezium-heartbeat.${id}`, `${id}.message`]);
    assert.deepEqual(debeziumAuxTopics(erp, { heartbeatAction: 'table' }), [`__debezium-heartbeat.${id}`, `${id}.public.syncctl_heartbeat`]);
    assert.deepEqual(debeziumAuxTopics(erp, { heartbeatIntervalMs: 0 }), []);
  });

  it('remove deletes the connector, then drops its replication slot and publication', async () => {
    assert.deepEqual(await dbz.remove(), { connectorDeleted: true, slotDropped: true, publicationDropped: true });
    assert.equal(await dbz.connect.status(id), null);
    assert.equal((await sql(url, 'select 1 from pg_replication_slots where slot_name = $1', [id])).rowCount, 0);
    assert.equal((await sql(url, 'select 1 from pg_publication where pubname = $1', [id])).rowCount, 0);
    assert.deepEqual(await dbz.remove(), { connectorDeleted: false, slotDropped: false, publicationDropped: false });
  });
});
