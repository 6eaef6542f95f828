import type pg from 'pg';
import type { Consumer } from 'kafkajs';
import { getLogger } from '../core/logger.js';
import { events as bus, type SyncEventBus } from '../core/events.js';
import { newId } from '../core/ids.js';
import type { CanonicalEvent } from '../core/model.js';
import { PIPELINE_FETCH, type KafkaBus, type DecodedBatch } from '../pipeline/kafka/bus.js';
import type { DeadLetterSink } from '../pipeline/dead-letter-sink.js';
import { decide } from './engine/decide.js';
import type { DecideContext, EngineRules, LedgerLine } from './engine/types.js';
import { loadLedger, persistEffects, WRITES_CHANNEL, type BatchEffects } from './effects-store.js';
import { isLockConflict, wakeAfterCommit } from '../db/pool.js';
import { StaleStateError, type StateStore } from './state-store.js';

/**
 * When the change behind an event happened, for sync latency: the source's time, unless the
 * event reached us much later (an initial load or a poll finding an old change), where the
 * time we received it is what the pipeline can be held to.
 */
export function changeTime(ev: CanonicalEvent): string {
  if (!ev.receivedAt) return ev.occurredAt;
  const occurred = Date.parse(ev.occurredAt);
  const received = Date.parse(ev.receivedAt);
  return Number.isNaN(occurred) || occurred < received - 5000 ? ev.receivedAt : ev.occurredAt;
}

/** Options of a sync worker. */
export interface SyncWorkerOptions {
  groupId: string;
  canonicalTopic: string;
  rules: EngineRules;
  /** Partitions (so SKUs) processed at once, each in its own transaction (default 1). */
  concurrency?: number;
}

/**
 * A sync worker: one member of the consumer group of the canonical topic (keyed by SKU, so a
 * SKU is handled by one worker at a time). Per Kafka batch it loads the SKUs' state, decides
 * every event in order, and commits state, ledger, conflicts and planned writes in ONE
 * PostgreSQL transaction; only then is the batch's offset committed. (Progress is the group's
 * committed offsets: the raw events' rows are not touched, which would rewrite a wide row and
 * its indexes per event.)
 */
export class SyncWorker {
  private readonly log = getLogger('engine');
  private consumer?: Consumer;

  constructor(
    private readonly pool: pg.Pool,
    private readonly kafka: KafkaBus,
    private readonly state: StateStore,
    private readonly deadLetters: DeadLetterSink,
    private readonly opts: SyncWorkerOptions,
    private readonly instrumentation: SyncEventBus = bus,
  ) {}

  async start(): Promise<void> {
    this.consumer = await this.kafka.consume(
      { groupId: this.opts.groupId, topics: [this.opts.canonicalTopic], fromBeginning: true, config: PIPELINE_FETCH, partitionsConsumedConcurrently: this.opts.concurrency ?? 1 },
      (batch) => this.handle(batch),
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  /** Processes one batch (exported for tests and benchmarks). */
  async handle(batch: DecodedBatch): Promise<void> {
    const evs: CanonicalEvent[] = [];
    const bad = [];
    for (const m of batch.messages) {
      if (m.malformed || !m.value || typeof (m.value as CanonicalEvent).sku !== 'string') {
        if (m.value !== null || m.malformed) bad.push({ stage: 'sync', errorClass: 'PERMANENT' as const, errorCode: 'INVALID_CANONICAL_EVENT', errorMessage: 'canonical message is not a valid event', payload: { raw: m.rawValue?.toString('utf8') ?? null }, context: { topic: batch.topic, partition: batch.partition, offset: m.offset } });
        continue;
      }
      evs.push(m.value as CanonicalEvent);
    }
    if (bad.length) await this.deadLetters.publish(await this.deadLetters.record(bad));
    if (evs.length === 0) return;
    await this.process(evs);
  }

  /** Decides and commits a list of canonical events (in order). */
  async process(evs: CanonicalEvent[]): Promise<void> {
    const skus = [...new Set(evs.map((e) => e.sku))];
    const saleKeys = evs.flatMap((e) => (e.type === 'SaleRecorded' || e.type === 'SaleCancelled' ? [{ sourceKey: e.source, orderId: e.orderId, lineId: e.lineId }] : []));
    for (let attempt = 1; ; attempt++) {
      const bundles = await this.state.load(skus, attempt > 1);
      const ledger = await loadLedger(this.pool, saleKeys);
      const ctx: DecideContext = {
        rules: this.opts.rules,
        ledgerLine: (s, o, l) => ledger.get(`${s}|${o}|${l}`),
        newId,
        now: Date.now,
      };
      const all: BatchEffects = { writes: [], cancels: [], conflicts: [], resolved: [], ledger: [], entityMap: [] };
      const outcomes = new Map<string, number>();
      for (const ev of evs) {
        const b = bundles.get(ev.sku)!;
        const fx = decide(b, ev, ctx);
        const changedAt = changeTime(ev);
        for (const w of fx.writes) w.sourceEventAt = changedAt;
        for (const l of fx.ledger) ledger.set(`${l.sourceKey}|${l.orderId}|${l.lineId}`, l as LedgerLine);
        all.writes.push(...fx.writes);
        all.cancels.push(...fx.cancel.map((c) => ({ ...c, sku: ev.sku })));
        all.conflicts.push(...fx.conflicts);
        all.resolved.push(...fx.resolved);
        all.ledger.push(...fx.ledger);
        all.entityMap.push(...fx.entityMap);
        const k = `${ev.source}|${ev.type}|${fx.outcome}`;
        outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
      }
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await this.state.save(client, bundles.values());
        await persistEffects(client, all);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (err instanceof StaleStateError && attempt < 5) {
          this.log.debug({ attempt }, 'state changed concurrently; reloading from PostgreSQL');
          await this.state.forget(skus);
          continue;
        }
        if (isLockConflict(err) && attempt < 5) {
          // PostgreSQL broke a lock cycle with another transaction on planned writes (rolled back):
          // decide the batch again from PostgreSQL's state.
          this.log.debug({ attempt, code: (err as { code?: string }).code }, 'lock conflict; deciding the batch again');
          this.instrumentation.emit('retry', { component: 'sync-worker', code: 'DEADLOCK', attempt, delayMs: 0 });
          await this.state.forget(skus);
          continue;
        }
        throw err;
      } finally {
        client.release();
      }
      if (all.writes.length) wakeAfterCommit(this.pool, WRITES_CHANNEL);
      const decidedAt = Date.now();
      const waited = evs.flatMap((e) => (e.receivedAt ? [Math.max(0, decidedAt - Date.parse(e.receivedAt)) / 1000] : []));
      if (waited.length) this.instrumentation.emit('pipeline.stage', { stage: 'decide', seconds: waited });
      await this.state.cache([...bundles.values()]);
      for (const b of bundles.values()) b.dirty.clear();
      for (const [k, count] of outcomes) {
        const [source, type, outcome] = k.split('|') as [string, string, 'applied'];
        this.instrumentation.emit('events.processed', { source, type, outcome, count });
      }
      for (const c of all.conflicts) this.instrumentation.emit('conflict', { type: c.type, status: c.status === 'OPEN' ? 'open' : 'auto' });
      return;
    }
  }
}
