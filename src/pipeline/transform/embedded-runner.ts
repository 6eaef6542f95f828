import type { Consumer } from 'kafkajs';
import type { SkuNormalisation } from '../../core/ids.js';
import { getLogger } from '../../core/logger.js';
import { events as bus, type SyncEventBus } from '../../core/events.js';
import type { CanonicalEvent } from '../../core/model.js';
import type { NewDeadLetter } from '../../db/dead-letters.js';
import { PIPELINE_FETCH, type KafkaBus, type DecodedBatch } from '../kafka/bus.js';
import type { PipelineTopics } from '../kafka/topics.js';
import type { DeadLetterSink } from '../dead-letter-sink.js';
import { mapRawEvent } from './interpret.js';

/** A transform stage: raw topics → canonical topic. */
export interface TransformRunner {
  readonly name: 'embedded' | 'flink';
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The default transform runner: a Kafka consumer group inside the daemon that interprets the
 * declarative mapping. A batch's canonical events (and its rejects, as dead letters) are
 * durable before the batch's offsets are committed.
 */
export class EmbeddedTransformRunner implements TransformRunner {
  readonly name = 'embedded' as const;
  private readonly log = getLogger('transform');
  private consumer?: Consumer;

  constructor(
    private readonly kafka: KafkaBus,
    private readonly topics: PipelineTopics,
    private readonly skuRule: SkuNormalisation,
    private readonly deadLetters: DeadLetterSink,
    private readonly groupId: string,
    private readonly instrumentation: SyncEventBus = bus,
    private readonly opts: { concurrency?: number } = {},
  ) {}

  async start(): Promise<void> {
    this.consumer = await this.kafka.consume(
      { groupId: this.groupId, topics: Object.values(this.topics.raw), fromBeginning: true, config: PIPELINE_FETCH, partitionsConsumedConcurrently: this.opts.concurrency ?? 1 },
      (batch) => this.handle(batch),
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  /** Maps one batch; exported for tests and the equivalence check. */
  async handle(batch: DecodedBatch): Promise<void> {
    const out: CanonicalEvent[] = [];
    const rejects: NewDeadLetter[] = [];
    for (const m of batch.messages) {
      if (m.malformed) {
        rejects.push({ stage: 'transform', errorClass: 'PERMANENT', errorCode: 'MALFORMED_JSON', errorMessage: 'raw message is not valid JSON', payload: { raw: m.rawValue?.toString('utf8') ?? null }, context: { topic: batch.topic, partition: batch.partition, offset: m.offset } });
        continue;
      }
      if (m.value === null) continue; // tombstone
      const r = mapRawEvent(m.value, this.skuRule);
      if (r.ok) out.push(...r.events);
      else {
        const raw = m.value as { eventId?: string; platform?: string; instance?: string };
        rejects.push({
          eventId: typeof raw.eventId === 'string' && /^[0-9a-f-]{36}$/i.test(raw.eventId) ? raw.eventId : null,
          sourceKey: raw.platform ? (raw.platform === 'erp' ? 'erp' : `${raw.platform}:${raw.instance}`) : null,
          stage: 'transform',
          errorClass: 'PERMANENT',
          errorCode: r.reason,
          errorMessage: r.detail,
          payload: m.value,
          context: { topic: batch.topic, partition: batch.partition, offset: m.offset, rawEventId: raw.eventId ?? null },
        });
      }
    }
    if (out.length) {
      await this.kafka.publish(
        this.topics.canonical,
        out.map((e) => ({ key: e.sku, value: e, headers: { 'syncctl-type': e.type, 'syncctl-source': e.source } })),
      );
    }
    if (rejects.length) {
      const stored = await this.deadLetters.record(rejects);
      await this.deadLetters.publish(stored);
      this.log.warn({ count: rejects.length, codes: [...new Set(rejects.map((r) => r.errorCode))] }, 'raw events dead-lettered by the transform');
    }
    const byType = new Map<string, number>();
    for (const e of out) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
    for (const [type, count] of byType) this.instrumentation.emit('events.transformed', { runner: 'embedded', type, count, invalid: 0 });
    if (rejects.length) this.instrumentation.emit('events.transformed', { runner: 'embedded', type: 'rejected', count: 0, invalid: rejects.length });
  }
}
