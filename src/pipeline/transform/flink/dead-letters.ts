import type { Consumer } from 'kafkajs';
import { getLogger } from '../../../core/logger.js';
import { events as bus, type SyncEventBus } from '../../../core/events.js';
import type { NewDeadLetter } from '../../../db/dead-letters.js';
import type { DeadLetterSink } from '../../dead-letter-sink.js';
import type { DecodedBatch, KafkaBus } from '../../kafka/bus.js';
import type { FlinkDeadLetterRow } from './sql.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `dead_letters` row of one Flink dead-letter record: the same stage, code, message and
 * payload the embedded runner writes for the same raw event (the raw JSON parsed, or `{raw}` for
 * malformed JSON), with the raw topic position and `runner: flink` in the context.
 */
export function deadLetterOf(row: FlinkDeadLetterRow): NewDeadLetter {
  let payload: unknown = { raw: row.payload };
  if (row.reason !== 'MALFORMED_JSON' && row.payload !== null) {
    try {
      payload = JSON.parse(row.payload) as unknown;
    } catch {
      payload = { raw: row.payload };
    }
  }
  const validId = row.event_id !== null && UUID.test(row.event_id);
  return {
    eventId: validId ? row.event_id : null,
    sourceKey: row.source_key,
    stage: 'transform',
    errorClass: 'PERMANENT',
    errorCode: row.reason,
    errorMessage: row.detail,
    payload,
    context: {
      topic: row.src_topic,
      partition: row.src_partition,
      offset: String(row.src_offset),
      runner: 'flink',
      ...(row.event_id !== null && !validId ? { rawEventId: row.event_id } : {}),
      failedAt: new Date(row.failed_at).toISOString(),
    },
  };
}

/**
 * Consumes the Flink dead-letter topic (`<prefix>.flink.dlq`) and writes each record as a
 * `dead_letters` row (and to the pipeline DLQ topic) through the {@link DeadLetterSink}, so a
 * record Flink rejects is never silent. Offsets are committed after the rows are written
 * (at-least-once: a crash between the two repeats the rows of one batch).
 */
export class FlinkDeadLetterConsumer {
  private readonly log = getLogger('transform');
  private consumer?: Consumer;

  constructor(
    private readonly kafka: KafkaBus,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly sink: DeadLetterSink,
    private readonly instrumentation: SyncEventBus = bus,
  ) {}

  async start(): Promise<void> {
    if (this.consumer) return;
    this.consumer = await this.kafka.consume({ groupId: this.groupId, topics: [this.topic], fromBeginning: true }, (b) => this.handle(b));
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  /** Writes one batch (exported for tests). */
  async handle(batch: DecodedBatch): Promise<void> {
    const list: NewDeadLetter[] = [];
    for (const m of batch.messages) {
      const row = m.value as FlinkDeadLetterRow | null;
      if (!row || typeof row !== 'object' || typeof row.reason !== 'string') {
        this.log.warn({ topic: batch.topic, offset: m.offset }, 'unreadable record on the Flink dead-letter topic');
        list.push({ stage: 'transform', errorClass: 'PERMANENT', errorCode: 'FLINK_DLQ_UNREADABLE', errorMessage: 'record on the Flink dead-letter topic is not a dead-letter row', payload: { raw: m.rawValue?.toString('utf8') ?? null }, context: { topic: batch.topic, partition: batch.partition, offset: m.offset, runner: 'flink' } });
        continue;
      }
      list.push(deadLetterOf(row));
    }
    if (list.length === 0) return;
    const stored = await this.sink.record(list);
    await this.sink.publish(stored);
    this.log.warn({ count: list.length, codes: [...new Set(list.map((d) => d.errorCode))] }, 'raw events dead-lettered by the Flink transform');
    this.instrumentation.emit('events.transformed', { runner: 'flink', type: 'rejected', count: 0, invalid: list.length });
  }
}
