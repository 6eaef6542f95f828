// Engine throughput (issue 7): raw events stored with the EventStore (intake) → outbox relay → raw
// topics → embedded transform → canonical topic → sync worker (state, ledger, conflicts and planned
// writes, coalesced per SKU, committed per Kafka batch), on the real services. Reported in
// changes/s and as a ratio of raw kafkajs produce → consume on the same broker in the same run.
// End-to-end latency through a running daemon lives in bench/latency.bench.ts' place: see
// docs/operations.md ("Crash safety and scale-out") for why it is measured at the platforms' rate.
import { KafkaBus } from '../src/pipeline/kafka/bus.js';
import { createKafka } from '../src/pipeline/kafka/client.js';
import { allTopicNames, ensureTopics, pipelineTopics } from '../src/pipeline/kafka/topics.js';
import { EventStore } from '../src/pipeline/intake/event-store.js';
import { OutboxRelay } from '../src/pipeline/intake/outbox-relay.js';
import { DeadLetterSink } from '../src/pipeline/dead-letter-sink.js';
import { EmbeddedTransformRunner } from '../src/pipeline/transform/embedded-runner.js';
import { createCacheClient } from '../src/pipeline/cache/redis.js';
import { StateStore } from '../src/sync/state-store.js';
import { SyncWorker } from '../src/sync/worker.js';
import { SyncEventBus } from '../src/core/events.js';
import { mapRawEvent } from '../src/pipeline/transform/interpret.js';
import type { RawEvent } from '../src/core/model.js';
import type { EngineRules } from '../src/sync/engine/types.js';
import { measureLoopback } from './kafka-loopback.bench.js';
import { round, type BenchFigure } from './lib.js';
import { benchEnvironment, syntheticRawEvents, waitCaughtUp } from './engine-support.js';

/** The rules of the benchmark: a Shopify authority and a WooCommerce channel with a buffer. */
export const BENCH_RULES: EngineRules = {
  authority: 'shopify:main',
  channels: ['shopify:main', 'woocommerce:outlet'],
  buffers: { 'shopify:main': 0, 'woocommerce:outlet': 1 },
  fieldPolicies: { price: 'priority:shopify:main', title: 'last-writer-wins' },
  conflictWindowMs: 300_000,
  settleMs: 0,
};

/** Runs the pipeline over `n` raw events across `skus` SKUs; returns timings and counts. */
export async function measureEngine(n: number, skus: number): Promise<{ storeSeconds: number; pipelineSeconds: number; canonical: number; writes: number; canonicalBytes: number }> {
  const env = await benchEnvironment('engine');
  const { config, pool } = env;
  const instrumentation = new SyncEventBus();
  let canonical = 0;
  instrumentation.on('events.transformed', (e) => void (canonical += e.count));
  const kafka = new KafkaBus(createKafka(config.kafka));
  const topics = pipelineTopics(config.kafka.topicPrefix);
  await ensureTopics(await kafka.getAdmin(), allTopicNames(topics), config.kafka.partitions, 1);
  const store = new EventStore(pool, instrumentation);
  const events = syntheticRawEvents(n, skus);
  // The average canonical message size, for the same-size Kafka baseline.
  const sample = events.slice(0, 500).flatMap((e) => {
    const r = mapRawEvent({ ...e, eventId: '00000000-0000-4000-8000-000000000000', receivedAt: e.occurredAt, checksum: 'x' } as RawEvent, config.identity.sku);
    return r.ok ? r.events : [];
  });
  const canonicalBytes = Math.round(sample.reduce((s, e) => s + JSON.stringify(e).length, 0) / sample.length);

  const t0 = Date.now();
  for (let i = 0; i < events.length; i += 1000) await store.store(events.slice(i, i + 1000));
  const storeSeconds = (Date.now() - t0) / 1000;

  const dls = new DeadLetterSink(pool, kafka, topics.dlq, instrumentation);
  // The relay has its own producer (as in the daemon): its sends do not queue behind the transform's.
  const relayKafka = new KafkaBus(createKafka(config.kafka));
  const relay = new OutboxRelay(pool, config.database.url, relayKafka, topics, { batchSize: 2000, idlePollMs: 200 }, instrumentation);
  const transform = new EmbeddedTransformRunner(kafka, topics, config.identity.sku, dls, `${config.daemon.groupPrefix}.transform`, instrumentation, { concurrency: config.batching.partitionsConcurrently });
  const redis = createCacheClient(config.redis.url);
  const worker = new SyncWorker(pool, kafka, new StateStore(pool, redis, config.redis.keyPrefix, 600, instrumentation), dls, { groupId: `${config.daemon.groupPrefix}.sync`, canonicalTopic: topics.canonical, rules: BENCH_RULES, concurrency: config.batching.partitionsConcurrently }, instrumentation);
  await worker.start();
  await transform.start();
  const t1 = Date.now();
  await relay.start();
  const pipelineSeconds = await waitCaughtUp(pool, config, t1);
  const writes = (await pool.query<{ n: number }>(`select count(*)::int as n from planned_writes`)).rows[0]!.n;
  await relay.stop();
  await transform.stop();
  await worker.stop();
  await kafka.close();
  await relayKafka.close();
  redis.disconnect();
  await env.drop();
  return { storeSeconds, pipelineSeconds, canonical, writes, canonicalBytes };
}

export default async function run(): Promise<BenchFigure[]> {
  const n = Number(process.env.BENCH_ENGINE_EVENTS ?? 100_000);
  const skus = Number(process.env.BENCH_ENGINE_SKUS ?? 10_000);
  const r = await measureEngine(n, skus);
  const loop = await measureLoopback({ messages: 100_000, messageBytes: r.canonicalBytes, batch: 500, partitions: 4 });
  const throughput = n / r.pipelineSeconds;
  const endToEnd = n / (r.storeSeconds + r.pipelineSeconds);
  const params = { rawEvents: n, skus, canonicalEvents: r.canonical, plannedWrites: r.writes, canonicalMessageBytes: r.canonicalBytes, partitions: 4 };
  const baseline = { name: 'kafka.loopback.throughput', value: round(loop.throughput, 0), unit: 'msg/s' };
  return [
    { name: 'engine.throughput', value: round(throughput, 0), unit: 'changes/s', target: '≥ 10,000 changes/s; ≥ 25 % of the Kafka loopback', baseline, ratio: round(throughput / loop.throughput, 3), params: { ...params, what: 'relay → transform → sync decisions committed, from a stored backlog' } },
    { name: 'engine.canonical-throughput', value: round(r.canonical / r.pipelineSeconds, 0), unit: 'events/s', baseline, ratio: round(r.canonical / r.pipelineSeconds / loop.throughput, 3), params },
    { name: 'engine.intake-store-throughput', value: round(n / r.storeSeconds, 0), unit: 'changes/s', params: { ...params, what: 'EventStore.store in batches of 1000' } },
    { name: 'engine.throughput-including-intake', value: round(endToEnd, 0), unit: 'changes/s', baseline, ratio: round(endToEnd / loop.throughput, 3), params },
    baseline,
  ];
}
