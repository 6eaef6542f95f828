// Issue 8: (1) restart after SIGKILL with 100k changes queued → caught up (the real CLI
// `syncctl start`); (2) the cost of durable bookkeeping: the sync worker deciding the same
// canonical events with its real persistence (state rows with versions, ledger, planned writes
// with idempotency keys, all in one PostgreSQL transaction per batch) vs an in-memory one.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { EventStore } from '../src/pipeline/intake/event-store.js';
import { KafkaBus } from '../src/pipeline/kafka/bus.js';
import { createKafka } from '../src/pipeline/kafka/client.js';
import { pipelineTopics } from '../src/pipeline/kafka/topics.js';
import { DeadLetterSink } from '../src/pipeline/dead-letter-sink.js';
import { mapRawEvent } from '../src/pipeline/transform/interpret.js';
import { StateStore } from '../src/sync/state-store.js';
import { SyncWorker } from '../src/sync/worker.js';
import { SyncEventBus } from '../src/core/events.js';
import type { CanonicalEvent, RawEvent } from '../src/core/model.js';
import type { SkuBundle } from '../src/sync/state.js';
import { emptyBundle } from '../src/sync/state.js';
import { startDaemonProcess } from '../test/daemon/support/process.js';
import { round, type BenchFigure } from './lib.js';
import { BENCH_RULES } from './engine.bench.js';
import { benchEnvironment, syntheticRawEvents, waitCaughtUp } from './engine-support.js';

async function measureRestart(n: number, skus: number): Promise<{ listenSeconds: number; caughtUpSeconds: number }> {
  const env = await benchEnvironment('restart', { sync: { authority: 'peer' }, monitoring: { metricsHistory: { enabled: false } } });
  const dir = mkdtempSync(join(tmpdir(), 'syncctl-restart-'));
  const configPath = join(dir, 'syncctl.json');
  const c = env.config;
  writeFileSync(configPath, JSON.stringify({
    database: { url: c.database.url, schema: c.database.schema },
    kafka: { brokers: c.kafka.brokers, topicPrefix: c.kafka.topicPrefix, partitions: c.kafka.partitions },
    redis: { url: c.redis.url, keyPrefix: c.redis.keyPrefix },
    daemon: { groupPrefix: c.daemon.groupPrefix },
    sync: { authority: 'peer' },
    http: { public: { port: 0 }, admin: { port: 0 } },
    logging: { level: 'warn' },
    monitoring: { metricsHistory: { enabled: false } },
  }));
  // A first run creates the topics and joins the groups; then it dies without leaving them.
  const first = await startDaemonProcess(configPath, { timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 3000));
  first.kill('SIGKILL');
  await first.exited;
  const store = new EventStore(env.pool, new SyncEventBus());
  const events = syntheticRawEvents(n, skus);
  for (let i = 0; i < events.length; i += 2000) await store.store(events.slice(i, i + 2000));
  const t0 = Date.now();
  const second = await startDaemonProcess(configPath, { timeoutMs: 60_000 });
  const listenSeconds = (Date.now() - t0) / 1000;
  const caughtUpSeconds = await waitCaughtUp(env.pool, env.config, t0, 180_000).catch((err: Error) => {
    second.kill('SIGKILL');
    throw new Error(`${err.message}\n${second.stderr().slice(-3000)}`);
  });
  second.kill('SIGTERM');
  await second.exited;
  await env.drop();
  return { listenSeconds, caughtUpSeconds };
}

/** State kept in memory: what the worker does without durable bookkeeping. */
class MemoryStateStore extends StateStore {
  private readonly mem = new Map<string, SkuBundle>();
  constructor() {
    super(null as unknown as pg.Pool, null, '', 1);
  }
  override async load(skus: string[]): Promise<Map<string, SkuBundle>> {
    return new Map(skus.map((s) => [s, this.mem.get(s) ?? emptyBundle(s)]));
  }
  override async save(_c: pg.PoolClient, bundles: Iterable<SkuBundle>): Promise<void> {
    for (const b of bundles) this.mem.set(b.sku, b);
  }
  override async cache(): Promise<void> {}
  override async forget(): Promise<void> {}
}

async function measureBookkeeping(n: number, skus: number): Promise<{ durable: number; memory: number }> {
  const env = await benchEnvironment('bookkeeping');
  const canonical: CanonicalEvent[] = [];
  const raw = syntheticRawEvents(n, skus);
  raw.forEach((e, i) => {
    const r = mapRawEvent({ ...e, eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, receivedAt: e.occurredAt, checksum: 'x' } as RawEvent, env.config.identity.sku);
    if (r.ok) canonical.push(...r.events);
  });
  // Batches as the consumer hands them: per partition (SKU hash), in order.
  const batches: CanonicalEvent[][] = [];
  for (let i = 0; i < canonical.length; i += 500) batches.push(canonical.slice(i, i + 500));
  const kafka = new KafkaBus(createKafka(env.config.kafka));
  const dls = new DeadLetterSink(env.pool, kafka, pipelineTopics(env.config.kafka.topicPrefix).dlq, new SyncEventBus());
  const opts = { groupId: 'unused', canonicalTopic: 'unused', rules: BENCH_RULES };
  const noop = { query: async (_sql: string, params?: unknown[]) => ({ rows: [], rowCount: Array.isArray(params?.[0]) ? (params![0] as unknown[]).length : 0 }), release: () => undefined };
  const memPool = { connect: async () => noop, query: noop.query } as unknown as pg.Pool;
  const run = async (worker: SyncWorker) => {
    const t0 = Date.now();
    for (const b of batches) await worker.process(b);
    return canonical.length / ((Date.now() - t0) / 1000);
  };
  const memory = await run(new SyncWorker(memPool, kafka, new MemoryStateStore(), dls, opts, new SyncEventBus()));
  const durable = await run(new SyncWorker(env.pool, kafka, new StateStore(env.pool, null, env.config.redis.keyPrefix, 600, new SyncEventBus()), dls, opts, new SyncEventBus()));
  await kafka.close();
  await env.drop();
  return { durable, memory };
}

export default async function run(): Promise<BenchFigure[]> {
  const n = Number(process.env.BENCH_RESTART_EVENTS ?? 100_000);
  const skus = Number(process.env.BENCH_RESTART_SKUS ?? 10_000);
  const r = await measureRestart(n, skus);
  const k = await measureBookkeeping(Math.min(n, 50_000), skus);
  const memory = { name: 'engine.decide.in-memory-persistence', value: round(k.memory, 0), unit: 'events/s' };
  return [
    { name: 'restart.after-sigkill.caught-up', value: round(r.caughtUpSeconds, 2), unit: 's', target: '< 10 s with 100k changes queued', params: { queuedRawEvents: n, skus, listenSeconds: round(r.listenSeconds, 2), from: 'restart spawned → every queued event processed' } },
    { name: 'restart.after-sigkill.listening', value: round(r.listenSeconds, 2), unit: 's', params: { queuedRawEvents: n } },
    { name: 'engine.decide.durable-persistence', value: round(k.durable, 0), unit: 'events/s', baseline: memory, ratio: round(k.durable / k.memory, 3), params: { batch: 500, what: 'SyncWorker.process: one PG transaction per batch (state versions, ledger, planned writes with idempotency keys) vs the same decisions with state in memory' } },
    memory,
  ];
}
