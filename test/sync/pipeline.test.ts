import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { events } from '../../src/core/events.js';
import { Redis } from 'ioredis';
import { isolate, type Isolation } from '../support/isolation.js';
import { eventually } from '../support/wait.js';
import { KafkaBus, type OutMessage } from '../../src/pipeline/kafka/bus.js';
import { createPool } from '../../src/db/pool.js';
import { createKafka } from '../../src/pipeline/kafka/client.js';
import { allTopicNames, ensureTopics, pipelineTopics, type PipelineTopics } from '../../src/pipeline/kafka/topics.js';
import { EventStore } from '../../src/pipeline/intake/event-store.js';
import { OutboxRelay } from '../../src/pipeline/intake/outbox-relay.js';
import { DeadLetterSink } from '../../src/pipeline/dead-letter-sink.js';
import { StateStore } from '../../src/sync/state-store.js';
import { SyncWorker } from '../../src/sync/worker.js';
import { createCacheClient } from '../../src/pipeline/cache/redis.js';
import type { NewRawEvent, RawOrder, RawProduct } from '../../src/connectors/types.js';
import type { EngineRules } from '../../src/sync/engine/types.js';

const RULES: EngineRules = {
  authority: 'shopify:main',
  channels: ['shopify:main', 'woocommerce:outlet'],
  buffers: { 'shopify:main': 0, 'woocommerce:outlet': 1 },
  fieldPolicies: { price: 'priority:shopify:main', title: 'last-writer-wins' },
  conflictWindowMs: 300_000,
  settleMs: 0,
};

let n = 0;
const at = () => new Date(Date.UTC(2026, 10, 25, 10, 0, ++n)).toISOString().replace('.000Z', 'Z');
function product(platform: 'shopify' | 'woocommerce', instance: string, sku: string, price: string, available: number): NewRawEvent {
  const updatedAt = at();
  const payload: RawProduct = { kind: 'product', productId: `${platform}-p-${sku}`, title: `Product ${sku}`, updatedAt, variants: [{ id: `${platform}-v-${sku}`, sku, price, available, inventoryItemId: `${platform}-i-${sku}` }] };
  return { platform, instance, eventType: 'products/update', entityRef: payload.productId, origin: 'webhook', dedupeKey: `d-${platform}-${sku}-${updatedAt}`, occurredAt: updatedAt, payload, sku };
}
function order(platform: 'shopify' | 'woocommerce', instance: string, orderId: string, sku: string, quantity: number, cancelled = false): NewRawEvent {
  const updatedAt = at();
  const payload: RawOrder = { kind: 'order', orderId, committed: true, cancelled, createdAt: updatedAt, updatedAt, lines: [{ lineId: `${orderId}-1`, sku, quantity }] };
  return { platform, instance, eventType: 'orders/updated', entityRef: orderId, origin: 'webhook', dedupeKey: `o-${orderId}-${updatedAt}`, occurredAt: updatedAt, payload };
}

describe('Pipeline: intake → outbox relay with the embedded transform → canonical topic → sync worker (real Kafka, PostgreSQL, Redis)', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let kafka: KafkaBus;
  let topics: PipelineTopics;
  let store: EventStore;
  let relay: OutboxRelay;
  let worker: SyncWorker;
  let redis: Redis;

  /** True once the sync workers' group has committed every message of the canonical topic. */
  const workerCaughtUp = async () => {
    const admin = await kafka.getAdmin();
    const [committed, ends] = await Promise.all([admin.fetchOffsets({ groupId: `${iso.config.kafka.topicPrefix}.sync`, topics: [topics.canonical] }), admin.fetchTopicOffsets(topics.canonical)]);
    const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    return ends.every((e) => Number(e.high) === 0 || at.get(e.partition) === Number(e.high));
  };
  const writes = async (sku: string) =>
    (await iso.pool.query<{ target_key: string; kind: string; payload: Record<string, unknown>; status: string }>(`select target_key, kind, payload, status from planned_writes where sku = $1 order by created_at`, [sku])).rows;

  before(async () => {
    iso = await isolate('pipeline');
    const cfg = iso.config;
    kafka = new KafkaBus(createKafka(cfg.kafka));
    topics = pipelineTopics(cfg.kafka.topicPrefix);
    await ensureTopics(await kafka.getAdmin(), allTopicNames(topics), 2, 1);
    store = new EventStore(iso.pool);
    const dls = new DeadLetterSink(iso.pool, kafka, topics.dlq);
    relay = new OutboxRelay(iso.pool, cfg.database.url, kafka, topics, { batchSize: 500, idlePollMs: 200, output: { raw: false, transform: { skuRule: cfg.identity.sku, deadLetters: dls } } });
    await relay.start();
    redis = createCacheClient(cfg.redis.url);
    worker = new SyncWorker(iso.pool, kafka, new StateStore(iso.pool, redis, cfg.redis.keyPrefix, 600), dls, { groupId: `${cfg.kafka.topicPrefix}.sync`, canonicalTopic: topics.canonical, rules: RULES });
    await worker.start();
  });
  after(async () => {
    await relay?.stop();
    await worker?.stop();
    await kafka?.close();
    redis?.disconnect();
    await iso?.cleanup();
  });

  it('plans a stock write to a channel that differs from the authority (authority − buffer)', async () => {
    await store.store([product('shopify', 'main', 'SKU-A', '10.00', 20), product('woocommerce', 'outlet', 'SKU-A', '10.00', 15)]);
    const w = await eventually(async () => (await writes('SKU-A')).find((x) => x.target_key === 'woocommerce:outlet' && x.kind === 'inventory'), 'a planned write');
    assert.equal(w.payload.available, 19);
    assert.equal((await writes('SKU-A')).filter((x) => x.target_key === 'shopify:main' && x.kind === 'inventory').length, 0, 'the authority is never overwritten');
  });

  it('applies a sale on a channel to the authority once, however often the order is delivered', async () => {
    const o = order('woocommerce', 'outlet', 'W-1001', 'SKU-A', 2);
    await store.store([o]);
    await store.store([o]); // the same delivery again
    await store.store([{ ...o, dedupeKey: `${o.dedupeKey}-poll`, origin: 'poll' }]); // and found again by polling
    const adj = await eventually(async () => {
      const a = (await writes('SKU-A')).filter((x) => x.target_key === 'shopify:main' && x.kind === 'adjust');
      return a.length ? a : undefined;
    }, 'an adjust write');
    await new Promise((r) => setTimeout(r, 500));
    const all = (await writes('SKU-A')).filter((x) => x.kind === 'adjust');
    assert.equal(all.length, 1);
    assert.equal(adj[0]!.payload.delta, -2);
    const ledger = await iso.pool.query('select quantity, status from inventory_ledger where order_id = $1', ['W-1001']);
    assert.deepEqual(ledger.rows, [{ quantity: 2, status: 'COMMITTED' }]);
  });

  it('records concurrent different price edits as a conflict resolved by the field policy', async () => {
    await store.store([product('woocommerce', 'outlet', 'SKU-A', '12.00', 15)]);
    const c = await eventually(async () => (await iso.pool.query(`select conflict_type, resolution, details from conflict_log where entity_id = 'SKU-A' and conflict_type = 'FIELD_CONFLICT'`)).rows[0], 'a conflict row');
    assert.equal(c.details.field, 'price');
    assert.equal(c.resolution, 'APPLIED_POLICY:shopify:main');
    const back = await eventually(async () => (await writes('SKU-A')).find((x) => x.target_key === 'woocommerce:outlet' && x.kind === 'fields'), 'a revert write');
    assert.deepEqual((back.payload.fields as Record<string, string>).price, '10.00');
  });

  it('stays correct when Redis is flushed mid-run (state comes back from PostgreSQL)', async () => {
    const keys = await redis.keys(`${iso.config.redis.keyPrefix}*`);
    assert.ok(keys.length > 0, 'state was cached');
    await redis.del(...keys);
    await store.store([order('woocommerce', 'outlet', 'W-1002', 'SKU-A', 1)]);
    await eventually(async () => (await writes('SKU-A')).filter((x) => x.kind === 'adjust').length === 2, 'a second adjust');
    const adj = (await writes('SKU-A')).filter((x) => x.kind === 'adjust');
    assert.deepEqual(adj.map((x) => x.payload.delta), [-2, -1]);
  });

  it('marks a write that corrects an unannounced difference as a correction, and one that follows an announced change as a change', async () => {
    // No writer runs here: the pending write of a target and SKU is one row that later decisions fold into.
    const pending = async () => (await iso.pool.query<{ cause: string; payload: { available: number; expected: number } }>(`select cause, payload from planned_writes where sku = 'SKU-C' and target_key = 'woocommerce:outlet' and kind = 'inventory' and status = 'PENDING'`)).rows[0];
    await store.store([product('shopify', 'main', 'SKU-C', '3.00', 30), product('woocommerce', 'outlet', 'SKU-C', '3.00', 29)]);
    await eventually(async () => (await iso.pool.query(`select 1 from sync_state where entity_id = 'SKU-C' and source_type = 'woocommerce:outlet'`)).rowCount, 'SKU-C known on both');
    await store.store([product('woocommerce', 'outlet', 'SKU-C', '3.00', 12)]); // nobody announced this
    const drift = await eventually(async () => ((await pending())?.payload.expected === 12 ? pending() : undefined), 'the correction of 12');
    assert.deepEqual([drift!.cause, drift!.payload.available], ['correction', 29]);
    await store.store([product('shopify', 'main', 'SKU-C', '3.00', 40)]); // the authority changed
    const change = await eventually(async () => ((await pending())?.payload.available === 39 ? pending() : undefined), 'the write of the change');
    assert.equal(change!.cause, 'change');
  });

  it('decides a batch again when PostgreSQL breaks a lock cycle on pending writes, and counts the retry', async () => {
    // Another transaction (a writer's recovery, say) holds the pending inventory write of SKU-E and
    // then wants its pending fields write, while the worker's batch plans both (fields, then
    // inventory, in the lock order): a cycle. The other side waits 10 s before checking for
    // deadlocks, so PostgreSQL aborts the worker's transaction, which must decide the batch again.
    const retries: string[] = [];
    const unsubscribe = events.on('retry', (e) => void retries.push(`${e.component}:${e.code}`));
    const other = new pg.Client({ connectionString: iso.config.database.url, options: `-c search_path=${iso.config.database.schema}` });
    await other.connect();
    try {
      await store.store([product('shopify', 'main', 'SKU-E', '5.00', 10)]);
      await eventually(async () => (await iso.pool.query(`select 1 from sync_state where entity_id = 'SKU-E' and source_type = 'shopify:main'`)).rowCount, 'SKU-E on the authority');
      await store.store([product('woocommerce', 'outlet', 'SKU-E', '5.00', 9)]);
      await eventually(async () => (await iso.pool.query(`select 1 from sync_state where entity_id = 'SKU-E' and source_type = 'woocommerce:outlet'`)).rowCount, 'SKU-E known on both');
      // No writer runs here: settle what the first observations planned, as a writer would.
      await iso.pool.query(`update planned_writes set status = 'DONE' where sku = 'SKU-E' and status = 'PENDING'`);
      const pendingRow = (kind: string) =>
        other.query(`insert into planned_writes (write_id, target_key, sku, kind, payload, idempotency_key, status) values ($1::uuid, 'woocommerce:outlet', 'SKU-E', $2, '{}', $1::text, 'PENDING')`, [randomUUID(), kind]);
      await other.query(`set deadlock_timeout = '10s'`);
      await other.query('begin');
      await pendingRow('inventory');
      const otherPid = (await other.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      await store.store([product('shopify', 'main', 'SKU-E', '6.00', 20)]); // plans fields (price) and inventory writes
      await eventually(async () => (await iso.pool.query(`select 1 from pg_stat_activity where $1 = any(pg_blocking_pids(pid))`, [otherPid])).rowCount, 'the worker waiting on the other transaction');
      const closing = pendingRow('fields'); // waits on the worker: the cycle; PostgreSQL aborts the worker
      await eventually(async () => retries.includes('sync-worker:DEADLOCK'), 'the worker retrying its batch');
      await closing;
      await other.query('commit');
      const rows = await eventually(async () => {
        const r = (await iso.pool.query<{ kind: string; payload: { available?: number; fields?: { price?: string } } }>(`select kind, payload from planned_writes where sku = 'SKU-E' and status = 'PENDING' order by kind`)).rows;
        return r.length === 2 && r[1]!.payload.available === 19 ? r : undefined;
      }, 'the batch decided again, folded into the other transaction\'s pending writes');
      assert.deepEqual(rows.map((r) => r.kind), ['fields', 'inventory']);
      assert.equal(rows[0]!.payload.fields?.price, '6.00');
    } finally {
      unsubscribe();
      await other.query('rollback').catch(() => undefined);
      await other.end();
    }
  });

  it('dead-letters a raw event that names no SKU and keeps going', async () => {
    const bad = product('woocommerce', 'outlet', '   ', '1.00', 1);
    await store.store([bad, product('shopify', 'main', 'SKU-B', '5.00', 7)]);
    const dl = await eventually(async () => (await iso.pool.query(`select stage, error_code from dead_letters where error_code = 'NO_SKU'`)).rows[0], 'a dead letter');
    assert.equal(dl.stage, 'transform');
    await eventually(async () => (await iso.pool.query(`select 1 from sync_state where entity_id = 'SKU-B'`)).rowCount, 'SKU-B processed');
  });

  it('after losing its transaction between publishing and deleting the outbox entries, relays the round again and the worker applies the sale once', async () => {
    // The relay's transaction is killed by PostgreSQL right after its canonical events reached
    // Kafka (what a crash of the daemon at that point leaves): the entries stay, the round is
    // published a second time, and the sync worker's ledger absorbs the duplicate.
    const cfg = iso.config;
    const crashPool = await createPool({ url: cfg.database.url, schema: cfg.database.schema, max: 2, applicationName: `relay-crash-${process.pid}` });
    const published: string[] = [];
    let armed = true;
    class KilledAfterPublish extends KafkaBus {
      override async publish(topic: string, messages: OutMessage[]): Promise<void> {
        await super.publish(topic, messages);
        if (topic !== topics.canonical) return;
        for (const m of messages) published.push((m.value as { eventId: string }).eventId);
        if (!armed) return;
        armed = false;
        const killed = await iso.pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and state = 'idle in transaction'`, [`relay-crash-${process.pid}`]);
        assert.equal(killed.rowCount, 1, 'the relay held one open transaction after publishing');
      }
    }
    const crashBus = new KilledAfterPublish(createKafka(cfg.kafka));
    const dls = new DeadLetterSink(crashPool, crashBus, topics.dlq);
    const crashing = new OutboxRelay(crashPool, cfg.database.url, crashBus, topics, { batchSize: 500, idlePollMs: 200, output: { raw: false, transform: { skuRule: cfg.identity.sku, deadLetters: dls } } });
    await relay.stop(); // only the crashing relay takes this round
    try {
      const adjustsBefore = (await writes('SKU-A')).filter((x) => x.kind === 'adjust').length;
      await store.store([order('woocommerce', 'outlet', 'W-3001', 'SKU-A', 3)]);
      await crashing.start();
      await eventually(async () => (await iso.pool.query('select 1 from outbox')).rowCount === 0 && published.length >= 2, 'the round relayed twice and the outbox empty');
      const saleEvents = published.filter((id) => id.includes(':SaleRecorded:'));
      assert.equal(saleEvents.length, 2, `the sale's canonical event was published twice: ${published.join(', ')}`);
      assert.equal(saleEvents[0], saleEvents[1], 'with the same canonical event id');
      await eventually(workerCaughtUp, 'the sync worker past both copies');
      const adjusts = (await writes('SKU-A')).filter((x) => x.kind === 'adjust');
      assert.deepEqual(adjusts.slice(adjustsBefore).map((x) => x.payload.delta), [-3], 'one adjust of the authority for the sale');
      const ledger = await iso.pool.query(`select quantity, status from inventory_ledger where order_id = 'W-3001'`);
      assert.deepEqual(ledger.rows, [{ quantity: 3, status: 'COMMITTED' }]);
    } finally {
      await crashing.stop();
      await crashBus.close();
      await crashPool.end();
      await relay.start();
    }
  });
});

