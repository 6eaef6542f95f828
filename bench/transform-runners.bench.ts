// Raw → canonical through both transform runners in the same run: latency p50/p99 at a paced
// 1,000 records/s and sustained records/s on a preloaded backlog, for the embedded runner (a real
// DeadLetterSink on an isolated schema) and the Flink runner (the job generated from the mapping,
// on the local Flink session cluster), with the raw Kafka loopback as the baseline.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { configSchema, type SyncConfig } from '../src/config/schema.js';
import { ensureDatabase, migrate } from '../src/db/migrate.js';
import { createPool, quoteIdent } from '../src/db/pool.js';
import { DeadLetterSink } from '../src/pipeline/dead-letter-sink.js';
import { KafkaBus } from '../src/pipeline/kafka/bus.js';
import { createKafka } from '../src/pipeline/kafka/client.js';
import { allTopicNames, ensureTopics, pipelineTopics, type PipelineTopics } from '../src/pipeline/kafka/topics.js';
import type { TransformRunner } from '../src/pipeline/transform/embedded.js';
import { RawTopicTransform } from './engine-support.js';
import { FlinkTransformRunner } from '../src/pipeline/transform/flink/runner.js';
import { flinkDlqTopic } from '../src/pipeline/transform/flink/sql.js';
import { ScriptComponent } from '../src/stack/script-component.js';
import { stackEnv, stackUp } from '../src/stack/manager.js';
import { measureLoopback } from './kafka-loopback.bench.js';
import { percentile, round, type BenchFigure } from './lib.js';

const RATE = 1000;
const PACED_SECONDS = 20;
const BACKLOG = 50_000;

/** A raw inventory event whose `updatedAt` (→ canonical `sourceVersion`) is the send time in ms. */
function rawEvent(i: number, sentMs: number): string {
  return JSON.stringify({
    eventId: randomUUID(), platform: 'shopify', instance: 'main', eventType: 'inventory_levels/update', entityRef: `ii-${i}`, origin: 'webhook',
    dedupeKey: `d-${i}`, occurredAt: new Date(sentMs).toISOString(), receivedAt: new Date(sentMs).toISOString(), checksum: 'x'.repeat(64),
    payload: { kind: 'inventory', sku: `bench-${i % 5000}`, available: i % 100, updatedAt: String(sentMs), refs: { id: `gid://shopify/ProductVariant/${i}`, inventoryItemId: `gid://shopify/InventoryItem/${i}` } },
  });
}

interface Env {
  config: SyncConfig;
  topics: PipelineTopics;
  bus: KafkaBus;
  pool: pg.Pool;
  cleanup(): Promise<void>;
}

async function env(name: string): Promise<Env> {
  const id = `${name}_${randomBytes(3).toString('hex')}`;
  const config = configSchema.parse({
    kafka: { topicPrefix: `bench.${id}` },
    database: { schema: `bench_${id}` },
    daemon: { groupPrefix: `bench.${id}` },
    logging: { level: 'warn' },
  });
  await ensureDatabase(config.database.url);
  const c = new pg.Client({ connectionString: config.database.url });
  await c.connect();
  await migrate(c, config.database.schema).finally(() => c.end());
  const pool = await createPool({ url: config.database.url, schema: config.database.schema, max: 5 });
  const topics = pipelineTopics(config.kafka.topicPrefix);
  const bus = new KafkaBus(createKafka(config.kafka));
  await ensureTopics(await bus.getAdmin(), [...allTopicNames(topics), flinkDlqTopic(config.kafka.topicPrefix)], config.kafka.partitions, 1);
  return {
    config, topics, bus, pool,
    async cleanup() {
      const admin = await bus.getAdmin();
      const names = (await admin.listTopics()).filter((t) => t.startsWith(`${config.kafka.topicPrefix}.`));
      await admin.deleteTopics({ topics: names }).catch(() => undefined);
      await bus.close();
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(config.database.schema)} CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}

/** Collects canonical events: per-record latency (receive − send) and the time of the last one. */
async function collector(e: Env): Promise<{ latencies: number[]; count: () => number; lastAt: () => number; bus: KafkaBus }> {
  const bus = new KafkaBus(createKafka(e.config.kafka));
  const latencies: number[] = [];
  let n = 0;
  let last = 0;
  await bus.consume({ groupId: `${e.config.kafka.topicPrefix}.collect`, topics: [e.topics.canonical], fromBeginning: true, config: { maxBytesPerPartition: 4 * 1024 * 1024 } }, async (b) => {
    const now = Date.now();
    for (const m of b.messages) {
      const v = m.value as { sourceVersion?: string } | null;
      if (v?.sourceVersion) latencies.push(now - Number(v.sourceVersion));
      n++;
    }
    last = now;
  });
  return { latencies, count: () => n, lastAt: () => last, bus };
}

async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends RATE records/s for `seconds` (batches every 10 ms); returns the count sent. */
async function paced(e: Env, seconds: number): Promise<number> {
  const producer = await e.bus.connectProducer();
  const perTick = RATE / 100;
  const t0 = Date.now();
  let sent = 0;
  for (let tick = 0; tick < seconds * 100; tick++) {
    const due = t0 + tick * 10;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const now = Date.now();
    await producer.send({ topic: e.topics.raw.shopify, acks: -1, messages: Array.from({ length: perTick }, (_, j) => ({ key: `ii-${sent + j}`, value: rawEvent(sent + j, now) })) });
    sent += perTick;
  }
  return sent;
}

async function preload(e: Env, n: number): Promise<void> {
  const producer = await e.bus.connectProducer();
  for (let i = 0; i < n; i += 1000) {
    const now = Date.now();
    await producer.send({ topic: e.topics.raw.shopify, acks: -1, messages: Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ key: `ii-${i + j}`, value: rawEvent(i + j, now) })) });
  }
}

function makeRunner(kind: 'embedded' | 'flink', e: Env): TransformRunner & { cancelJobs?: () => Promise<void> } {
  const sink = new DeadLetterSink(e.pool, e.bus, e.topics.dlq);
  if (kind === 'embedded') return new RawTopicTransform(e.bus, e.topics, e.config, sink);
  return new FlinkTransformRunner({ config: e.config, kafka: e.bus, pool: e.pool, deadLetters: sink, metrics: false });
}

/** Paced latency: the runner runs, then RATE records/s for PACED_SECONDS; the first 10 % are warm-up. */
async function latency(kind: 'embedded' | 'flink'): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const e = await env(`lat_${kind}`);
  const runner = makeRunner(kind, e);
  const col = await collector(e);
  try {
    await runner.start();
    const sent = await paced(e, PACED_SECONDS);
    await waitFor(() => col.count() >= sent, 120_000, `${kind} paced output`);
    const lat = col.latencies.slice(Math.floor(sent * 0.1));
    return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: Math.max(...lat), n: lat.length };
  } finally {
    await runner.stop();
    await runner.cancelJobs?.().catch(() => undefined);
    await col.bus.close();
    await e.cleanup();
  }
}

/** Sustained: BACKLOG records preloaded, then the runner starts; records/s from start() to the last canonical event. */
async function sustained(kind: 'embedded' | 'flink'): Promise<{ rate: number; seconds: number }> {
  const e = await env(`sus_${kind}`);
  await preload(e, BACKLOG);
  const runner = makeRunner(kind, e);
  const col = await collector(e);
  try {
    await runner.start(); // Flink: resolves once every task runs
    const t0 = Date.now();
    await waitFor(() => col.count() >= BACKLOG, 300_000, `${kind} backlog`);
    const seconds = (col.lastAt() - t0) / 1000;
    return { rate: BACKLOG / seconds, seconds };
  } finally {
    await runner.stop();
    await runner.cancelJobs?.().catch(() => undefined);
    await col.bus.close();
    await e.cleanup();
  }
}

export default async function run(): Promise<BenchFigure[]> {
  const base = configSchema.parse({ logging: { level: 'warn' } });
  await stackUp(base);
  await new ScriptComponent('flink', stackEnv(base)).up();

  const loop = await measureLoopback({ messages: 20_000, messageBytes: 450, batch: 500, partitions: 4 });
  const loopTp = { name: 'kafka.loopback.throughput', value: round(loop.throughput, 0), unit: 'msg/s' };
  const loopP99 = { name: 'kafka.loopback.latency.p99', value: loop.p99, unit: 'ms' };
  const out: BenchFigure[] = [
    { ...loopTp, params: { messages: 20_000, messageBytes: 450, batch: 500 } },
    { ...loopP99 },
  ];
  for (const kind of ['embedded', 'flink'] as const) {
    const l = await latency(kind);
    const s = await sustained(kind);
    const params = { rate: RATE, seconds: PACED_SECONDS, measured: l.n, payload: 'inventory raw event ≈ 500 B', checkpointMs: kind === 'flink' ? 5000 : undefined, guarantee: 'at-least-once' };
    out.push(
      { name: `transform.${kind}.latency.p50`, value: l.p50, unit: 'ms', params },
      { name: `transform.${kind}.latency.p99`, value: l.p99, unit: 'ms', params, baseline: loopP99, ratio: round(l.p99 / Math.max(1, loopP99.value), 2), target: kind === 'flink' ? '< 1000 ms at 1,000 rec/s' : undefined },
      { name: `transform.${kind}.latency.max`, value: l.max, unit: 'ms', params },
      {
        name: `transform.${kind}.sustained`, value: round(s.rate, 0), unit: 'rec/s', params: { backlog: BACKLOG, seconds: round(s.seconds, 1) },
        baseline: loopTp, ratio: round(s.rate / loopTp.value, 3), target: kind === 'embedded' ? '≥ 5,000 rec/s' : undefined,
      },
    );
  }
  return out;
}
