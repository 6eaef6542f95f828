// Engine throughput and CPU per change (issues 7, 22): raw events stored with the EventStore
// (intake) → outbox relay with the embedded transform → canonical topic → sync worker (state,
// ledger, conflicts and planned writes, coalesced per SKU, committed per Kafka batch), on the real
// services. Reported in changes/s, as a ratio of raw kafkajs produce → consume on the same broker
// in the same run, and as CPU per change summed over this process, the broker, PostgreSQL and
// Redis (from /proc). The design before issue 22 (relay → raw topics → a transform consumer group
// → canonical topic) is measured in the same run as the baseline of the change (`raw-hop`).
// End-to-end latency through a running daemon lives in bench/latency.bench.ts' place: see
// docs/operations.md ("Crash safety and scale-out") for why it is measured at the platforms' rate.
import { KafkaBus } from '../src/pipeline/kafka/bus.js';
import { createKafka } from '../src/pipeline/kafka/client.js';
import { allTopicNames, ensureTopics, pipelineTopics } from '../src/pipeline/kafka/topics.js';
import { EventStore } from '../src/pipeline/intake/event-store.js';
import { OutboxRelay } from '../src/pipeline/intake/outbox-relay.js';
import { DeadLetterSink } from '../src/pipeline/dead-letter-sink.js';
import { createCacheClient } from '../src/pipeline/cache/redis.js';
import { StateStore } from '../src/sync/state-store.js';
import { SyncWorker } from '../src/sync/worker.js';
import { SyncEventBus } from '../src/core/events.js';
import { mapRawEvent } from '../src/pipeline/transform/interpret.js';
import type { RawEvent } from '../src/core/model.js';
import type { EngineRules } from '../src/sync/engine/types.js';
import { measureLoopback } from './kafka-loopback.bench.js';
import { cpuBetween, readCpu, round, type BenchFigure } from './lib.js';
import { benchEnvironment, RawTopicTransform, syntheticRawEvents, waitCaughtUp } from './engine-support.js';

/** The rules of the benchmark: a Shopify authority and a WooCommerce channel with a buffer. */
export const BENCH_RULES: EngineRules = {
  authority: 'shopify:main',
  channels: ['shopify:main', 'woocommerce:outlet'],
  buffers: { 'shopify:main': 0, 'woocommerce:outlet': 1 },
  fieldPolicies: { price: 'priority:shopify:main', title: 'last-writer-wins' },
  conflictWindowMs: 300_000,
  settleMs: 0,
};

/** The topologies: the embedded transform in the relay (the daemon's default), the same also publishing the raw topics (`transform.publishRawTopics`), or the raw-topic hop before issue 22. */
export type EngineTopology = 'relay-transform' | 'relay-transform+raw' | 'raw-hop';

/** Runs the pipeline over `n` raw events across `skus` SKUs; returns timings, counts and CPU. */
export async function measureEngine(
  n: number,
  skus: number,
  topology: EngineTopology = 'relay-transform',
): Promise<{ storeSeconds: number; pipelineSeconds: number; canonical: number; writes: number; canonicalBytes: number; cpu: ReturnType<typeof cpuBetween> }> {
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
  const output = topology === 'raw-hop' ? { raw: true } : { raw: topology === 'relay-transform+raw', transform: { skuRule: config.identity.sku, deadLetters: dls } };
  const relay = new OutboxRelay(pool, config.database.url, relayKafka, topics, { batchSize: 2000, idlePollMs: 200, output }, instrumentation);
  const redis = createCacheClient(config.redis.url);
  const worker = new SyncWorker(pool, kafka, new StateStore(pool, redis, config.redis.keyPrefix, 600, instrumentation), dls, { groupId: `${config.daemon.groupPrefix}.sync`, canonicalTopic: topics.canonical, rules: BENCH_RULES, concurrency: config.batching.partitionsConcurrently }, instrumentation);
  await worker.start();
  // The design before issue 22: a consumer group reads the raw topics and maps them.
  const rawHop = topology === 'raw-hop' ? new RawTopicTransform(kafka, topics, config, dls, instrumentation) : undefined;
  await rawHop?.start();
  const cpu0 = readCpu();
  const t1 = Date.now();
  await relay.start();
  const pipelineSeconds = await waitCaughtUp(pool, config, t1);
  const cpu = cpuBetween(cpu0, readCpu());
  const writes = (await pool.query<{ n: number }>(`select count(*)::int as n from planned_writes`)).rows[0]!.n;
  await relay.stop();
  await rawHop?.stop();
  await worker.stop();
  await kafka.close();
  await relayKafka.close();
  redis.disconnect();
  await env.drop();
  return { storeSeconds, pipelineSeconds, canonical, writes, canonicalBytes, cpu };
}

export default async function run(): Promise<BenchFigure[]> {
  const n = Number(process.env.BENCH_ENGINE_EVENTS ?? 100_000);
  const skus = Number(process.env.BENCH_ENGINE_SKUS ?? 10_000);
  if (process.env.BENCH_ENGINE_ONLY) {
    // One topology alone, for profiling (`node --cpu-prof --import tsx bench/run.ts engine`).
    const only = await measureEngine(n, skus, process.env.BENCH_ENGINE_ONLY as EngineTopology);
    const loopOnly = await measureLoopback({ messages: 100_000, messageBytes: only.canonicalBytes, batch: 500, partitions: 4 });
    const base = { name: 'kafka.loopback.throughput', value: round(loopOnly.throughput, 0), unit: 'msg/s' };
    const name = `engine.${process.env.BENCH_ENGINE_ONLY}`;
    return [
      { name: `${name}.throughput`, value: round(n / only.pipelineSeconds, 0), unit: 'changes/s', baseline: base, ratio: round(n / only.pipelineSeconds / loopOnly.throughput, 3), params: { rawEvents: n, skus } },
      { name: `${name}.cpu-per-change`, value: round((only.cpu.pipelineSeconds * 1e6) / n, 0), unit: 'µs', params: { cpuSeconds: only.cpu.perGroup } },
      base,
    ];
  }
  const before = await measureEngine(n, skus, 'raw-hop');
  const r = await measureEngine(n, skus, 'relay-transform');
  const withRaw = await measureEngine(n, skus, 'relay-transform+raw');
  const loop = await measureLoopback({ messages: 100_000, messageBytes: r.canonicalBytes, batch: 500, partitions: 4 });
  const throughput = n / r.pipelineSeconds;
  const throughputBefore = n / before.pipelineSeconds;
  const endToEnd = n / (r.storeSeconds + r.pipelineSeconds);
  const params = { rawEvents: n, skus, canonicalEvents: r.canonical, plannedWrites: r.writes, canonicalMessageBytes: r.canonicalBytes, partitions: 4 };
  const baseline = { name: 'kafka.loopback.throughput', value: round(loop.throughput, 0), unit: 'msg/s' };
  const usPerChange = (c: typeof r.cpu) => round((c.pipelineSeconds * 1e6) / n, 0);
  const cpuBaseline = { name: 'engine.raw-hop.cpu-per-change', value: usPerChange(before.cpu), unit: 'µs' };
  return [
    { name: 'engine.cpu-per-change', value: usPerChange(r.cpu), unit: 'µs', target: '≤ 250 µs per change', baseline: cpuBaseline, ratio: round(usPerChange(r.cpu) / cpuBaseline.value, 3), params: { ...params, what: 'CPU of this process + Kafka broker + PostgreSQL + Redis over the run, per change', cpuSeconds: r.cpu.perGroup } },
    { name: 'engine.throughput', value: round(throughput, 0), unit: 'changes/s', target: '≥ 10,000 changes/s; ≥ 25 % of the Kafka loopback', baseline, ratio: round(throughput / loop.throughput, 3), params: { ...params, what: 'relay (embedded transform) → sync decisions committed, from a stored backlog' } },
    { name: 'engine.raw-hop.throughput', value: round(throughputBefore, 0), unit: 'changes/s', baseline, ratio: round(throughputBefore / loop.throughput, 3), params: { ...params, what: 'the design before issue 22: relay → raw topics → transform consumer → canonical, same run', cpuSeconds: before.cpu.perGroup } },
    cpuBaseline,
    { name: 'engine.with-raw-topics.cpu-per-change', value: usPerChange(withRaw.cpu), unit: 'µs', baseline: cpuBaseline, ratio: round(usPerChange(withRaw.cpu) / cpuBaseline.value, 3), params: { ...params, what: 'transform.publishRawTopics: true (raw topics published too)', throughput: round(n / withRaw.pipelineSeconds, 0), cpuSeconds: withRaw.cpu.perGroup } },
    { name: 'engine.canonical-throughput', value: round(r.canonical / r.pipelineSeconds, 0), unit: 'events/s', baseline, ratio: round(r.canonical / r.pipelineSeconds / loop.throughput, 3), params },
    { name: 'engine.intake-store-throughput', value: round(n / r.storeSeconds, 0), unit: 'changes/s', params: { ...params, what: 'EventStore.store in batches of 1000' } },
    { name: 'engine.throughput-including-intake', value: round(endToEnd, 0), unit: 'changes/s', baseline, ratio: round(endToEnd / loop.throughput, 3), params },
    baseline,
  ];
}
