import type { SourceKey } from '../core/model.js';
import type { SinkConnector, SourceConnector } from '../connectors/types.js';

/** A periodic task that only the elected leader runs (webhook health, subscriptions, supervisors). */
export interface LeaderTask {
  name: string;
  intervalMs: number;
  /**
   * Run at once (not waiting for the interval) when the daemon recovers from an outage of
   * PostgreSQL or Kafka: its webhook intake answered errors meanwhile (Shopify deletes a
   * subscription whose deliveries keep failing).
   */
  afterOutage?: boolean;
  run(signal: AbortSignal): Promise<void>;
}

/** The connectors the daemon runs, built from config (`src/connectors/registry.ts`). */
export interface ConnectorSet {
  /** Sources with webhooks, keyed `<platform>/<instance>` for the intake routes. */
  webhookSources: Map<string, SourceConnector>;
  /** Sources polled by the leader, with their intervals. */
  polled: Array<{ connector: SourceConnector; intervalMs: number }>;
  /** Targets by source key (`shopify:main`, `woocommerce:outlet`, `erp`). */
  sinks: Map<SourceKey, SinkConnector>;
  /** Leader-only periodic tasks. */
  leaderTasks: LeaderTask[];
  /**
   * Per-source checks shown by `/readyz` (e.g. `credentials:shopify:main`): reported, not failing
   * readiness, since the daemon keeps serving its other sources and the webhooks of this one.
   */
  checks?: Array<{ name: string; check(): { ok: boolean; detail?: string } }>;
  /** Long-running consumers of their own (the ERP connector reading Debezium topics). */
  services: Array<{ name: string; start(): Promise<void>; stop(): Promise<void> }>;
  close(): Promise<void>;
}
