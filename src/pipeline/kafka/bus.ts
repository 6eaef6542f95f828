import type { Admin, Consumer, ConsumerConfig, EachBatchPayload, Kafka, Message, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { ServiceUnavailableError } from '../../core/errors.js';

/**
 * Largest payload per partition in one produce request (bytes, approximate): the broker refuses
 * a record batch above message.max.bytes (1 MB by default) for good, and a request carries one
 * record batch per partition.
 */
const PARTITION_CHUNK_BYTES = 768 * 1024;
/** Largest payload of one produce request (bytes, approximate). */
const REQUEST_CHUNK_BYTES = 4 * 1024 * 1024;
/** kafkajs's default partitioner, to tell which partition a keyed message goes to. */
const partitionOf = Partitioners.DefaultPartitioner();

/**
 * Fetch sizes of the pipeline's consumers (transform, sync worker): catching up, fewer and larger
 * batches (one transaction or produce round each) measured ~15 % faster than 2–4 MB per
 * partition; live traffic comes in small batches anyway. 16 MB per fetch bounds the memory.
 */
export const PIPELINE_FETCH: Partial<ConsumerConfig> = { maxBytesPerPartition: 8 * 1024 * 1024, maxBytes: 16 * 1024 * 1024 };

/** A message to publish: key (entity/SKU), JSON value and string headers. */
export interface OutMessage {
  key: string;
  value: unknown;
  /** The value already serialised as JSON (then `value` is ignored). */
  json?: string;
  headers?: Record<string, string>;
  /** Event time in ms (kafka timestamp); defaults to now. */
  timestamp?: number;
}

/**
 * The project's Kafka module: an idempotent producer that publishes JSON by key, and
 * consumers that hand whole batches to a handler and commit only after it returns
 * (offsets after effects).
 */
export class KafkaBus {
  private producer?: Producer;
  private admin?: Admin;
  private readonly consumers: Consumer[] = [];
  private readonly partitionCounts = new Map<string, number>();

  constructor(readonly kafka: Kafka) {}

  /** Connects the producer (idempotent, acks=all). */
  async connectProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    const p = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    try {
      await p.connect();
    } catch (err) {
      throw new ServiceUnavailableError('kafka', `Cannot connect to Kafka: ${(err as Error).message}`, {
        cause: err,
        hint: 'Is Kafka running? `syncctl stack up`, or fix kafka.brokers (SYNCCTL_KAFKA_BROKERS).',
      });
    }
    this.producer = p;
    return p;
  }

  /** An admin client, connected on first use. */
  async getAdmin(): Promise<Admin> {
    if (this.admin) return this.admin;
    const a = this.kafka.admin();
    try {
      await a.connect();
    } catch (err) {
      throw new ServiceUnavailableError('kafka', `Cannot connect to Kafka: ${(err as Error).message}`, { cause: err });
    }
    this.admin = a;
    return a;
  }

  /** Publishes messages to one topic in one request; resolves once acknowledged by the broker. */
  async publish(topic: string, messages: OutMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.connectProducer();
    // A consumer catching up hands over batches of several MB: they go out in requests of at
    // most ~768 KB per partition (the broker refuses a record batch above message.max.bytes,
    // 1 MB by default, for good) and ~4 MB in all, in order. The partition of a key is computed
    // the way the producer does, from the topic's partition count; kafkajs still routes each message.
    const partitions = await this.partitionCount(topic);
    const metadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0 }));
    const perPartition = new Array<number>(partitions).fill(0);
    let chunk: Message[] = [];
    let bytes = 0;
    for (const out of messages) {
      const m = encode(out);
      const size = (m.value as string).length + (m.key as string).length + 64;
      const p = partitions === 1 ? 0 : partitionOf({ topic, partitionMetadata: metadata as never, message: m });
      if (chunk.length && (perPartition[p]! + size > PARTITION_CHUNK_BYTES || bytes + size > REQUEST_CHUNK_BYTES)) {
        await producer.send({ topic, acks: -1, messages: chunk });
        chunk = [];
        bytes = 0;
        perPartition.fill(0);
      }
      chunk.push(m);
      bytes += size;
      perPartition[p]! += size;
    }
    if (chunk.length) await producer.send({ topic, acks: -1, messages: chunk });
  }

  /** The topic's partition count (cached; 1 when it cannot be read: then a request holds at most one partition's worth). */
  private async partitionCount(topic: string): Promise<number> {
    const known = this.partitionCounts.get(topic);
    if (known !== undefined) return known;
    let n = 1;
    try {
      const md = await (await this.getAdmin()).fetchTopicMetadata({ topics: [topic] });
      n = Math.max(1, md.topics[0]?.partitions.length ?? 1);
      this.partitionCounts.set(topic, n);
    } catch {
      // not cached: asked again next time
    }
    return n;
  }

  /**
   * Runs a consumer group over `topics`, giving `handler` each batch; the batch's offsets are
   * committed only after the handler resolves, so a crash replays rather than loses.
   */
  async consume(
    opts: { groupId: string; topics: string[]; fromBeginning?: boolean; config?: Partial<ConsumerConfig>; partitionsConsumedConcurrently?: number },
    handler: (batch: DecodedBatch) => Promise<void>,
  ): Promise<Consumer> {
    // A member that died without leaving (kill -9) holds its partitions, and blocks the group's
    // next join, until its session times out: 6 s (the broker's minimum) instead of kafkajs's
    // 30 s, so a restarted or surviving daemon resumes within seconds.
    const consumer = this.kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100, sessionTimeout: 6000, heartbeatInterval: 1000, ...opts.config });
    await consumer.connect();
    for (const topic of opts.topics) await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning ?? true });
    this.consumers.push(consumer);
    await consumer.run({
      // Batches of different partitions (different keys, so different entities) may be handled
      // at once; one partition's batches are always handled in order.
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload: EachBatchPayload) => {
        const { batch } = payload;
        if (batch.messages.length === 0) return;
        await handler({
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages.map((m) => ({
            key: m.key?.toString() ?? null,
            ...decodeValue(m.value),
            rawValue: m.value,
            headers: decodeHeaders(m.headers),
            offset: m.offset,
            timestamp: Number(m.timestamp),
          })),
          heartbeat: payload.heartbeat,
        });
        const last = batch.messages[batch.messages.length - 1]!;
        payload.resolveOffset(last.offset);
        await payload.commitOffsetsIfNecessary({
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }] }],
        });
      },
    });
    return consumer;
  }

  /** Disconnects everything this bus opened. */
  async close(): Promise<void> {
    await Promise.allSettled(this.consumers.map((c) => c.disconnect()));
    this.consumers.length = 0;
    await Promise.allSettled([this.producer?.disconnect(), this.admin?.disconnect()]);
    this.producer = undefined;
    this.admin = undefined;
  }
}

/** One consumed message, decoded. */
export interface DecodedMessage {
  key: string | null;
  /** Parsed JSON value (null for a tombstone or a value that is not JSON). */
  value: unknown;
  /** The value was not valid JSON (kept in rawValue for the dead letter). */
  malformed: boolean;
  rawValue: Buffer | null;
  headers: Record<string, string>;
  offset: string;
  timestamp: number;
}

/** One consumed batch of one partition. */
export interface DecodedBatch {
  topic: string;
  partition: number;
  messages: DecodedMessage[];
  heartbeat: () => Promise<void>;
}

function encode(m: OutMessage): Message {
  return {
    key: m.key,
    value: m.json ?? JSON.stringify(m.value),
    headers: m.headers,
    timestamp: String(m.timestamp ?? Date.now()),
  };
}

function decodeValue(v: Buffer | null): { value: unknown; malformed: boolean } {
  if (!v) return { value: null, malformed: false };
  try {
    return { value: JSON.parse(v.toString()) as unknown, malformed: false };
  } catch {
    return { value: null, malformed: true };
  }
}

function decodeHeaders(h: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
  return out;
}
