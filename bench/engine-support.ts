// Shared by engine.bench.ts, restart.bench.ts and transform-runners.bench.ts: a private schema / topic prefix / Redis prefix on
// the local stack, and a synthetic stream of raw events (products with stock, orders) over many SKUs.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { applyEnvOverrides } from '../src/config/load.js';
import { configSchema, type SyncConfig, type SyncConfigInput } from '../src/config/schema.js';
import { ensureDatabase, migrate } from '../src/db/migrate.js';
import { createPool, quoteIdent } from '../src/db/pool.js';
import { createKafka } from '../src/pipeline/kafka/client.js';
import { pipelineTopics, type PipelineTopics } from '../src/pipeline/kafka/topics.js';
import { PIPELINE_FETCH, type KafkaBus } from '../src/pipeline/kafka/bus.js';
import type { DeadLetterSink } from '../src/pipeline/dead-letter-sink.js';
import { canonicalMessages, reportTransformed, transformRaw, type TransformRunner } from '../src/pipeline/transform/embedded.js';
import type { SyncEventBus } from '../src/core/events.js';
import { stackUp } from '../src/stack/manager.js';
import type { NewRawEvent, RawOrder, RawProduct } from '../src/connectors/types.js';

/** The database benchmarks use (the test database: disposable schemas). */
export const BENCH_DATABASE_URL = process.env.SYNCCTL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/syncctl_test';

/** A migrated private schema, topic prefix and Redis prefix; `drop()` removes them. */
export async function benchEnvironment(name: string, overrides: SyncConfigInput = {}): Promise<{ config: SyncConfig; pool: pg.Pool; drop(): Promise<void> }> {
  const id = `${name}_${randomBytes(3).toString('hex')}`;
  // SYNCCTL_* variables apply as they do to the CLI (e.g. SYNCCTL_KAFKA_BROKERS and SYNCCTL_STACK__* for a stack of its own)
  const config = configSchema.parse(applyEnvOverrides({
    ...overrides,
    database: { url: BENCH_DATABASE_URL, schema: `bench_${id}`, ...overrides.database },
    kafka: { topicPrefix: `bench.${id}`, partitions: 4, ...overrides.kafka },
    redis: { keyPrefix: `bench:${id}:`, ...overrides.redis },
    daemon: { groupPrefix: `bench.${id}`, ...overrides.daemon },
    logging: { level: 'warn', ...overrides.logging },
  } as Record<string, unknown>, process.env));
  await stackUp(config);
  await ensureDatabase(config.database.url);
  const c = new pg.Client({ connectionString: config.database.url });
  await c.connect();
  await migrate(c, config.database.schema);
  await c.end();
  const pool = await createPool({ url: config.database.url, schema: config.database.schema, max: 10 });
  return {
    config,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      const a = new pg.Client({ connectionString: config.database.url });
      await a.connect();
      await a.query(`DROP SCHEMA IF EXISTS ${quoteIdent(config.database.schema)} CASCADE`);
      await a.end();
      const admin = createKafka(config.kafka).admin();
      await admin.connect();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${config.kafka.topicPrefix}.`));
      if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
      const redis = new Redis(config.redis.url);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.redis.keyPrefix}*`, 'COUNT', 5000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
}

/**
 * `n` raw events over `skus` SKUs, mixed: 60 % product updates with stock (Shopify and
 * WooCommerce), 40 % orders on a channel (one line). Deterministic.
 */
export function syntheticRawEvents(n: number, skus: number, origin: 'webhook' | 'poll' = 'webhook'): NewRawEvent[] {
  const out: NewRawEvent[] = [];
  const base = Date.UTC(2026, 10, 25, 0, 0, 0);
  for (let i = 0; i < n; i++) {
    const s = (i * 7919) % skus;
    const sku = `BENCH-${String(s).padStart(6, '0')}`;
    const at = new Date(base + i * 1000).toISOString().replace('.000Z', 'Z');
    // Both platforms see every SKU (the platform does not follow from the SKU's parity).
    const platform = ((i * 2654435761) >>> 13) % 2 === 0 ? 'shopify' : 'woocommerce';
    const instance = platform === 'shopify' ? 'main' : 'outlet';
    if (i % 5 < 3) {
      const payload: RawProduct = { kind: 'product', productId: `${platform}-p-${s}`, title: `Product ${s}`, updatedAt: at, variants: [{ id: `${platform}-v-${s}`, sku, price: `${10 + (i % 7)}.00`, available: 100 + (i % 13), inventoryItemId: `${platform}-i-${s}` }] };
      out.push({ platform, instance, eventType: 'products/update', entityRef: payload.productId, origin, dedupeKey: `p-${i}`, occurredAt: at, payload, sku });
    } else {
      const orderId = `O-${i}`;
      const payload: RawOrder = { kind: 'order', orderId, committed: true, cancelled: false, createdAt: at, updatedAt: at, lines: [{ lineId: `${orderId}-1`, sku, quantity: 1 + (i % 3) }] };
      out.push({ platform, instance, eventType: 'orders/updated', entityRef: orderId, origin, dedupeKey: `o-${i}`, occurredAt: at, payload });
    }
  }
  return out;
}

/**
 * Waits until the pipeline has taken everything stored: the outbox is empty, then the transform
 * group has committed every raw message, then the sync group every canonical one (checked in
 * that order, so each stage's input is complete when it is checked). Returns seconds since `t0`.
 */
export async function waitCaughtUp(pool: pg.Pool, config: SyncConfig, t0: number, timeoutMs = 600_000): Promise<number> {
  const topics = pipelineTopics(config.kafka.topicPrefix);
  const admin = createKafka(config.kafka).admin();
  await admin.connect();
  const lag = async (groupId: string, list: string[]): Promise<number> => {
    let total = 0;
    const committed = await admin.fetchOffsets({ groupId, topics: list });
    for (const t of committed) {
      const ends = await admin.fetchTopicOffsets(t.topic);
      for (const p of t.partitions) {
        const end = Number(ends.find((e) => e.partition === p.partition)?.high ?? 0);
        total += end - Math.max(0, Number(p.offset));
      }
    }
    return total;
  };
  const end = Date.now() + timeoutMs;
  try {
    for (;;) {
      const outbox = (await pool.query<{ n: number }>(`select count(*)::int as n from outbox`)).rows[0]!.n;
      // The raw topics are empty when the relay runs the embedded transform: no transform group to ask.
      const rawEnds = outbox === 0 ? (await Promise.all(Object.values(topics.raw).map((t) => admin.fetchTopicOffsets(t)))).flat().reduce((n, p) => n + Number(p.high), 0) : -1;
      const raw = rawEnds === 0 ? 0 : outbox === 0 ? await lag(`${config.daemon.groupPrefix}.transform`, Object.values(topics.raw)) : -1;
      const canonical = raw === 0 ? await lag(`${config.daemon.groupPrefix}.sync`, [topics.canonical]) : -1;
      if (canonical === 0) return (Date.now() - t0) / 1000;
      if (Date.now() > end) throw new Error(`not caught up after ${timeoutMs} ms: outbox ${outbox}, raw lag ${raw}, canonical lag ${canonical}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * The embedded mapping as a consumer group of the raw topics: the transform stage as it was
 * before issue 22 moved it into the outbox relay. Benchmarks keep it as the baseline of that
 * change and to compare the embedded interpreter with the Flink job on the same input.
 */
export class RawTopicTransform implements TransformRunner {
  readonly name = 'embedded' as const;
  private consumer?: Awaited<ReturnType<KafkaBus['consume']>>;
  constructor(
    private readonly kafka: KafkaBus,
    private readonly topics: PipelineTopics,
    private readonly config: SyncConfig,
    private readonly deadLetters: DeadLetterSink,
    private readonly instrumentation?: SyncEventBus,
  ) {}
  async start(): Promise<void> {
    const c = this.config;
    this.consumer = await this.kafka.consume(
      { groupId: `${c.daemon.groupPrefix}.transform`, topics: Object.values(this.topics.raw), fromBeginning: true, config: PIPELINE_FETCH, partitionsConsumedConcurrently: c.batching.partitionsConcurrently },
      async (batch) => {
        const out = transformRaw(batch.messages.map((m) => ({ value: m.malformed ? undefined : m.value, text: m.rawValue?.toString('utf8'), context: { topic: batch.topic, partition: batch.partition, offset: m.offset } })), c.identity.sku);
        if (out.events.length) await this.kafka.publish(this.topics.canonical, canonicalMessages(out.events));
        await this.deadLetters.publish(await this.deadLetters.record(out.rejects));
        if (this.instrumentation) reportTransformed(this.instrumentation, out);
      },
    );
  }
  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}
