import type pg from 'pg';
import { events as bus, type SyncEventBus } from '../core/events.js';
import { insertDeadLetters, type DeadLetter, type NewDeadLetter } from '../db/dead-letters.js';
import type { KafkaBus } from './kafka/bus.js';

/**
 * Where failures go: a `dead_letters` row (the durable record operators inspect and replay)
 * and a message on the DLQ topic (for other consumers), in that order.
 */
export class DeadLetterSink {
  constructor(
    private readonly pool: pg.Pool,
    private readonly kafka: KafkaBus,
    private readonly dlqTopic: string,
    private readonly instrumentation: SyncEventBus = bus,
  ) {}

  /** Records dead letters; the row is written within `client`'s transaction when one is given. */
  async record(list: NewDeadLetter[], client?: pg.PoolClient): Promise<DeadLetter[]> {
    if (list.length === 0) return [];
    const stored = await insertDeadLetters(client ?? this.pool, list);
    for (const d of stored) this.instrumentation.emit('deadletter.created', { stage: d.stage, source: d.sourceKey ?? 'unknown', code: d.errorCode });
    return stored;
  }

  /** Publishes stored dead letters to the DLQ topic (after their rows are committed). */
  async publish(list: DeadLetter[]): Promise<void> {
    if (list.length === 0) return;
    await this.kafka.publish(
      this.dlqTopic,
      list.map((d) => ({ key: d.sku ?? d.eventId ?? d.deadLetterId, value: d, headers: { 'syncctl-stage': d.stage, 'syncctl-error': d.errorCode } })),
    );
  }
}
