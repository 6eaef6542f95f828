import { EventEmitter } from 'node:events';

/**
 * Instrumentation events (graphile-worker / kafkajs style): business code emits them, the
 * metrics module and the logs subscribe, so no business code calls prom-client directly.
 * Labels are bounded: never put a SKU or an order id in a field used as a metric label.
 */
export interface SyncEvents {
  /** A webhook delivery was accepted (stored) or rejected. */
  'webhook.received': { platform: string; instance: string; outcome: 'accepted' | 'duplicate' | 'rejected'; reason?: string; seconds: number; topic?: string };
  /** Raw events were stored by intake (webhook, poll, backfill, cdc). */
  'events.ingested': { source: string; origin: string; eventType: string; count: number };
  /** Raw events were published to Kafka by the outbox relay. */
  'events.published': { platform: string; count: number };
  /** Canonical events were produced by the transform stage. */
  'events.transformed': { runner: string; type: string; count: number; invalid: number };
  /** Canonical events were processed by a sync worker. */
  'events.processed': { source: string; type: string; outcome: 'applied' | 'stale' | 'echo' | 'duplicate' | 'conflict' | 'ignored'; count: number };
  /** A planned write reached its target; seconds = source change → applied. */
  'write.applied': { source: string; target: string; kind: string; path: 'change' | 'correction'; count: number; latencySeconds: number[] };
  /**
   * Time one change spent in a stage of the pipeline (seconds, one value per change or write):
   * `relay` stored by intake → relayed to Kafka; `decide` stored by intake → decided and committed
   * by a sync worker; `write_queue` planned (due) → claimed by a writer; `write` claimed → the
   * platform answered. Where a change waits shows here; `sync_latency_seconds` is the sum.
   */
  'pipeline.stage': { stage: 'relay' | 'decide' | 'write_queue' | 'write'; target?: string; seconds: number[] };
  /** A write failed. */
  'write.failed': { target: string; kind: string; errorClass: 'retriable' | 'permanent'; code: string; count: number };
  /** An operation was retried. */
  'retry': { component: string; code: string; attempt: number; delayMs: number };
  /** An error was recorded (by class and component). */
  'error': { component: string; errorClass: 'retriable' | 'permanent' | 'bug'; code: string };
  /** A conflict was recorded or resolved. */
  'conflict': { type: string; status: 'open' | 'resolved' | 'auto' };
  /** A dead letter was written. */
  'deadletter.created': { stage: string; source: string; code: string };
  /** A poller completed one run. */
  'poll.completed': { source: string; resource: string; found: number; seconds: number };
  /** Shopify cost bucket reading. */
  'shopify.bucket': { instance: string; available: number; maximum: number; restoreRate: number };
  /** A Shopify request was throttled (THROTTLED). */
  'shopify.throttled': { instance: string };
  /** A Shopify store's credentials were refused (grant or token), or accepted again. */
  'shopify.auth': { instance: string; state: 'ok' | 'refused'; code?: string };
  /** One client credentials grant request and its outcome. */
  'shopify.token': { instance: string; outcome: 'granted' | 'refused' | 'unreachable' };
  /** A Shopify webhook subscription found missing was created again (Shopify deletes one after 8 failed retries). */
  'shopify.subscription.recreated': { instance: string; topic: string };
  /** WooCommerce webhook subscription health. */
  'woocommerce.webhook': { instance: string; topic: string; status: 'active' | 'paused' | 'disabled' | 'missing' };
  /** State cache access. */
  'cache.access': { outcome: 'hit' | 'miss' | 'error'; count: number };
  // Readings of periodically observed figures (monitoring). Each replaces the previous reading.
  /** Open dead letters per source (a full snapshot: sources not listed have none). */
  'deadletters.depth': { depths: Array<{ source: string; depth: number }> };
  /** Kafka consumer lag of one group on one topic (sum over partitions), in messages. */
  'kafka.consumer.lag': { group: string; topic: string; lag: number };
  /** A logical replication slot reading (Debezium): WAL retained behind the slot, in bytes. */
  'debezium.slot': { slot: string; lagBytes: number; active: boolean };
  /** Kafka Connect status of one connector and its tasks. */
  'connect.status': { connector: string; state: ConnectState; tasks: Array<{ id: number; state: ConnectState }> };
  /** Flink job reading: its state and the completion time of its last checkpoint (epoch seconds). */
  'flink.job': { job: string; state: string; lastCheckpointEpochSeconds?: number };
  /** A drift check finished: SKUs that differ between the two sides of a pair, by kind of difference. */
  'drift.completed': { pair: string; kinds: Record<string, number>; seconds: number };
  /** An Alertmanager notification reached the daemon's /alerts receiver. */
  'alert.received': { alertname: string; severity: string; status: 'firing' | 'resolved' };
}

/** States of Kafka Connect connectors and tasks (Connect REST API `/connectors/<name>/status`). */
export type ConnectState = 'RUNNING' | 'PAUSED' | 'FAILED' | 'UNASSIGNED' | 'RESTARTING' | 'STOPPED';

/** A typed event emitter over {@link SyncEvents}. */
export class SyncEventBus {
  private readonly ee = new EventEmitter({ captureRejections: false });
  constructor() {
    this.ee.setMaxListeners(100);
  }
  emit<K extends keyof SyncEvents>(name: K, payload: SyncEvents[K]): void {
    // A failing listener (metrics, logs) must never break the business code that emitted.
    try {
      this.ee.emit(name, payload);
    } catch {
      /* ignored on purpose */
    }
  }
  on<K extends keyof SyncEvents>(name: K, fn: (payload: SyncEvents[K]) => void): () => void {
    this.ee.on(name, fn as (p: unknown) => void);
    return () => this.ee.off(name, fn as (p: unknown) => void);
  }
}

/** The process-wide bus (tests may create their own). */
export const events = new SyncEventBus();
