// Raw Kafka produce → consume through the project's own Kafka module (KafkaBus) on the local
// broker: the ceiling every pipeline benchmark is reported against, measured in the same run.
import { KafkaBus } from '../src/pipeline/kafka/bus.js';
import { createKafka } from '../src/pipeline/kafka/client.js';
import { ensureTopics } from '../src/pipeline/kafka/topics.js';
import { percentile, round, type BenchFigure } from './lib.js';
import { benchConfig } from './support.js';

/** Options of one loopback measurement (also used by other benchmarks for their baseline). */
export interface LoopbackOptions {
  messages: number;
  messageBytes: number;
  batch: number;
  partitions: number;
}

/** Produces `messages` JSON messages in batches and consumes them in the same process; returns msg/s and latency. */
export async function measureLoopback(opts: LoopbackOptions): Promise<{ throughput: number; p50: number; p99: number; seconds: number }> {
  const config = await benchConfig('loopback');
  const topic = `${config.kafka.topicPrefix}.loopback`;
  const producerBus = new KafkaBus(createKafka(config.kafka));
  const consumerBus = new KafkaBus(createKafka(config.kafka));
  const admin = await producerBus.getAdmin();
  await ensureTopics(admin, [topic], opts.partitions, 1);
  const pad = 'x'.repeat(Math.max(0, opts.messageBytes - 60));
  const latencies: number[] = [];
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await consumerBus.consume({ groupId: `${topic}.g`, topics: [topic] }, async (b) => {
    const now = Date.now();
    for (const m of b.messages) {
      latencies.push(now - (m.value as { t: number }).t);
      if (++received >= opts.messages) done();
    }
  });
  await producerBus.connectProducer();
  const t0 = Date.now();
  for (let i = 0; i < opts.messages; i += opts.batch) {
    const n = Math.min(opts.batch, opts.messages - i);
    const t = Date.now();
    await producerBus.publish(topic, Array.from({ length: n }, (_, j) => ({ key: `SKU-${(i + j) % 1000}`, value: { t, i: i + j, pad } })));
  }
  await Promise.race([finished, new Promise((_, rej) => setTimeout(() => rej(new Error('loopback timed out')), 120_000))]);
  const seconds = (Date.now() - t0) / 1000;
  await consumerBus.close();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await producerBus.close();
  return { throughput: opts.messages / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), seconds };
}

export default async function run(): Promise<BenchFigure[]> {
  const params = { messages: 100_000, messageBytes: 450, batch: 500, partitions: 4 };
  const r = await measureLoopback(params);
  const single = await measureLoopback({ messages: 2_000, messageBytes: 450, batch: 1, partitions: 4 });
  return [
    { name: 'kafka.loopback.throughput', value: round(r.throughput, 0), unit: 'msg/s', params, target: '≈50,000 msg/s batched on 2 cores (shared/platforms/stack.md)' },
    { name: 'kafka.loopback.latency.p50', value: r.p50, unit: 'ms', params },
    { name: 'kafka.loopback.latency.p99', value: r.p99, unit: 'ms', params },
    { name: 'kafka.loopback.single-send.throughput', value: round(single.throughput, 0), unit: 'msg/s', params: { messages: 2000, batch: 1 } },
    { name: 'kafka.loopback.single-send.latency.p50', value: single.p50, unit: 'ms', params: { messages: 2000, batch: 1 } },
  ];
}
