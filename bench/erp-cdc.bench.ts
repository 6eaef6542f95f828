// ERP commit → event in OUR raw topic, through Debezium on Kafka Connect, the ERP source, the
// EventStore (source_events) and the outbox relay; the Debezium topic's own latency is measured
// in the same run (same commits, a second consumer) as the baseline. Also a 50,000-row
// transaction end to end, and the RSS of Connect and the broker.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { configSchema, type SyncConfig } from '../src/config/schema.js';
import { applyEnvOverrides } from '../src/config/load.js';
import { createErpConnector, debeziumTopic } from '../src/connectors/erp/index.js';
import { ensureDatabase, migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { EventStore } from '../src/pipeline/intake/event-store.js';
import { OutboxRelay } from '../src/pipeline/intake/outbox-relay.js';
import { KafkaBus } from '../src/pipeline/kafka/bus.js';
import { createKafka } from '../src/pipeline/kafka/client.js';
import { ensureTopics, pipelineTopics } from '../src/pipeline/kafka/topics.js';
import { initErp } from '../src/simulators/erp/index.js';
import { ensureLogicalWal } from '../src/stack/postgres-logical.js';
import { stackUp } from '../src/stack/manager.js';
import { stackDir } from '../src/stack/paths.js';
import { percentile, round, type BenchFigure } from './lib.js';

const RATE = 200;
const COMMITS = 2000;
const BULK = 50_000;

/** Resident set size (MB) of the process in `<stack dir>/run/<name>.pid`, or null. */
function stackRssMb(config: SyncConfig, name: string): number | null {
  try {
    const pid = readFileSync(path.join(stackDir(config.stack.dir), 'run', `${name}.pid`), 'utf8').trim();
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

/** Waits until `fn()` is true (bounded). */
async function until(what: string, fn: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`${what} not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export default async function run(): Promise<BenchFigure[]> {
  const id = `bench_erp_${randomBytes(3).toString('hex')}`;
  const adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
  const erpUrl = `postgres://postgres@127.0.0.1:5432/${id}`;
  // SYNCCTL_* variables apply as they do to the CLI (e.g. SYNCCTL_STACK__* and SYNCCTL_KAFKA_BROKERS
  // for a stack of its own, to measure other Connect/Debezium versions beside a stack in use)
  const config = configSchema.parse(applyEnvOverrides({
    database: { schema: id },
    kafka: { topicPrefix: `bench.${id}` },
    logging: { level: 'warn' },
    sources: { erp: { databaseUrl: erpUrl, topicPrefix: id, slotName: id, publicationName: id, connectorName: id, snapshotMode: 'no_data' } },
  }, process.env));
  await stackUp(config, { connect: true });
  await ensureLogicalWal(adminUrl, { manage: true });
  await ensureDatabase(config.database.url);
  const mc = new pg.Client({ connectionString: config.database.url });
  await mc.connect();
  await migrate(mc, id);
  await mc.end();
  await initErp({ databaseUrl: erpUrl, products: 50, variantsPerProduct: 2, seed: 1 });

  const pool = await createPool({ url: config.database.url, schema: id, max: 6 });
  const bus = new KafkaBus(createKafka(config.kafka));
  const topics = pipelineTopics(config.kafka.topicPrefix);
  await ensureTopics(await bus.getAdmin(), [topics.raw.erp], 1, 1);
  const conn = createErpConnector(config, { pool, kafka: bus, store: new EventStore(pool), groupPrefix: `bench.${id}` });
  const relay = new OutboxRelay(pool, config.database.url, bus, topics, { batchSize: 1000, idlePollMs: 200 });
  const erp = new pg.Client({ connectionString: erpUrl });
  const dbzKafka = new Kafka({ clientId: 'bench-dbz', brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  const dbzConsumer = dbzKafka.consumer({ groupId: `bench.${id}.dbz`, maxWaitTimeInMs: 100 });
  try {
    await conn.debezium.register();
    await conn.debezium.waitUntilRunning({ streaming: true, timeoutMs: 120_000 });
    await conn.source.start();
    await relay.start();
    await erp.connect();

    // commit time of each tagged change, by tag (the price of an items row encodes it)
    const committedAt = new Map<number, number>();
    const ours = new Map<number, number>();
    const dbz = new Map<number, number>();
    // when Connect produced each record (its Kafka timestamp): Debezium's own share, without our consumers
    const dbzProduced = new Map<number, number>();
    let bulkOurs = 0;
    let bulkDbz = 0;
    let lastBulkOurs = 0;
    let lastBulkDbz = 0;
    let lastBulkDbzProduced = 0;
    await bus.consume({ groupId: `bench.${id}.raw`, topics: [topics.raw.erp] }, async (b) => {
      const now = Date.now();
      for (const m of b.messages) {
        const ev = m.value as { sku: string; payload: { kind: string; variants?: Array<{ price?: string }> } };
        if (ev.sku?.startsWith('BULK-')) {
          bulkOurs++;
          lastBulkOurs = now;
        } else if (ev.payload.kind === 'product') {
          const tag = Math.round(Number(ev.payload.variants?.[0]?.price)) - 100_000;
          if (tag >= 0 && !ours.has(tag)) ours.set(tag, now);
        }
      }
    });
    const itemsTopic = debeziumTopic(config.sources.erp!, 'public.items');
    await dbzConsumer.connect();
    await dbzConsumer.subscribe({ topic: itemsTopic, fromBeginning: true });
    await dbzConsumer.run({
      eachMessage: async ({ message }) => {
        const now = Date.now();
        const v = message.value ? (JSON.parse(message.value.toString()) as { after?: { sku: string; price: string } }) : null;
        if (!v?.after) return;
        if (v.after.sku.startsWith('BULK-')) {
          bulkDbz++;
          lastBulkDbz = now;
          lastBulkDbzProduced = Math.max(lastBulkDbzProduced, Number(message.timestamp));
          return;
        }
        const tag = Math.round(Number(v.after.price)) - 100_000;
        if (tag >= 0 && !dbz.has(tag)) {
          dbz.set(tag, now);
          dbzProduced.set(tag, Number(message.timestamp));
        }
      },
    });
    await new Promise((r) => setTimeout(r, 3000)); // consumers joined

    // 1. single-row commits at RATE/s: price = 100000 + i identifies commit i downstream
    const skus = (await erp.query<{ sku: string }>('select sku from items order by sku')).rows.map((r) => r.sku);
    const t0 = Date.now();
    for (let i = 0; i < COMMITS; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - Date.now(); // read once: due - Date.now() can be -1 a moment after due > Date.now() (Node 24 warns)
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await erp.query('update items set price = $2, updated_at = now() where sku = $1', [skus[i % skus.length], 100_000 + i]);
      committedAt.set(i, Date.now());
    }
    await until('every commit in the raw topic', () => ours.size >= COMMITS && dbz.size >= COMMITS, 120_000);
    const lat = (m: Map<number, number>) => [...committedAt].map(([i, t]) => m.get(i)! - t);
    const oursLat = lat(ours);
    const dbzLat = lat(dbz);
    const producedLat = lat(dbzProduced);
    const achievedRate = COMMITS / ((Math.max(...committedAt.values()) - t0) / 1000);

    // 2. one 50,000-row transaction
    const b0 = Date.now();
    await erp.query("insert into items (sku, name, price) select 'BULK-' || g, 'bulk row', 1 from generate_series(1, $1) g", [BULK]);
    const committed = Date.now();
    let storedAt = 0;
    const watchStore = (async () => {
      while (!storedAt && Date.now() - committed < 180_000) {
        const n = Number((await pool.query<{ n: string }>("select count(*)::text as n from source_events where sku like 'BULK-%'")).rows[0]!.n);
        if (n >= BULK) storedAt = Date.now();
        else await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await until('the 50,000 rows in the raw topic', () => bulkOurs >= BULK && bulkDbz >= BULK, 180_000);
    await watchStore;
    const bulkOursS = (lastBulkOurs - committed) / 1000;
    const bulkDbzS = (lastBulkDbz - committed) / 1000;
    const insertS = (committed - b0) / 1000;

    const connectRss = stackRssMb(config, 'connect');
    const kafkaRss = stackRssMb(config, 'kafka');
    const params = { commits: COMMITS, ratePerSecond: RATE, achievedRate: round(achievedRate, 1), pollIntervalMs: config.sources.erp!.pollIntervalMs };
    const p50 = percentile(oursLat, 50);
    const p99 = percentile(oursLat, 99);
    const d50 = percentile(dbzLat, 50);
    const d99 = percentile(dbzLat, 99);
    return [
      { name: 'erp.cdc.raw-topic.latency.p50', value: p50, unit: 'ms', target: '< 50 ms', params, baseline: { name: 'erp.cdc.debezium-topic.latency.p50', value: d50, unit: 'ms' }, ratio: round(p50 / d50, 2) },
      { name: 'erp.cdc.raw-topic.latency.p99', value: p99, unit: 'ms', target: '< 100 ms', params, baseline: { name: 'erp.cdc.debezium-topic.latency.p99', value: d99, unit: 'ms' }, ratio: round(p99 / d99, 2) },
      { name: 'erp.cdc.raw-topic.latency.max', value: Math.max(...oursLat), unit: 'ms', params },
      { name: 'erp.cdc.debezium-topic.latency.p50', value: d50, unit: 'ms', params },
      { name: 'erp.cdc.debezium-topic.latency.p99', value: d99, unit: 'ms', params },
      { name: 'erp.cdc.debezium-produced.latency.p50', value: percentile(producedLat, 50), unit: 'ms', params: { ...params, note: 'commit → Kafka timestamp of the Debezium record (set by Connect\'s producer): Debezium alone, no consumer' } },
      { name: 'erp.cdc.debezium-produced.latency.p99', value: percentile(producedLat, 99), unit: 'ms', params },
      { name: 'erp.cdc.bulk-50k.raw-topic.seconds', value: round(bulkOursS, 2), unit: 's', target: '< 3 s after commit', params: { rows: BULK, insertSeconds: round(insertS, 2) }, baseline: { name: 'erp.cdc.bulk-50k.debezium-topic.seconds', value: round(bulkDbzS, 2), unit: 's' }, ratio: round(bulkOursS / bulkDbzS, 2) },
      { name: 'erp.cdc.bulk-50k.source-events.seconds', value: round((storedAt - committed) / 1000, 2), unit: 's', params: { rows: BULK, note: 'commit → all rows in source_events (ERP source + EventStore), before the outbox relay' } },
      { name: 'erp.cdc.bulk-50k.debezium-topic.seconds', value: round(bulkDbzS, 2), unit: 's', params: { rows: BULK } },
      { name: 'erp.cdc.bulk-50k.debezium-produced.seconds', value: round((lastBulkDbzProduced - committed) / 1000, 2), unit: 's', params: { rows: BULK, note: 'commit → Kafka timestamp of the last row\'s Debezium record: Debezium alone, without the baseline consumer\'s lag' } },
      { name: 'erp.cdc.connect.rss', value: connectRss ?? NaN, unit: 'MB', params: { heapMb: config.stack.connect.heapMb } },
      { name: 'erp.cdc.broker.rss', value: kafkaRss ?? NaN, unit: 'MB' },
      { name: 'erp.cdc.connect+broker.rss', value: (connectRss ?? NaN) + (kafkaRss ?? NaN), unit: 'MB', target: 'plan ≈1 GB Connect + 0.5 GB broker' },
    ];
  } finally {
    await dbzConsumer.disconnect().catch(() => undefined);
    await relay.stop().catch(() => undefined);
    await conn.close().catch(() => undefined);
    await bus.close().catch(() => undefined);
    await erp.end().catch(() => undefined);
    await conn.debezium.remove().catch(() => undefined);
    const admin = dbzKafka.admin();
    await admin.connect();
    const names = (await admin.listTopics()).filter((t) => t.startsWith(`${id}.`) || t.startsWith(`bench.${id}.`) || t === `__debezium-heartbeat.${id}`);
    if (names.length) await admin.deleteTopics({ topics: names }).catch(() => undefined);
    await admin.disconnect();
    await pool.end().catch(() => undefined);
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    await a.query(`drop database if exists ${pg.escapeIdentifier(id)} with (force)`).catch(() => undefined);
    await a.end();
    const s = new pg.Client({ connectionString: config.database.url });
    await s.connect();
    await s.query(`drop schema if exists ${pg.escapeIdentifier(id)} cascade`).catch(() => undefined);
    await s.end();
  }
}
