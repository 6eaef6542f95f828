import { collectDefaultMetrics, Registry } from 'prom-client';
import type { SyncEventBus } from '../core/events.js';
import { CONNECT_STATES, METRIC_PREFIX, metricsOf, WOO_WEBHOOK_STATUSES } from './metric-definitions.js';
import type { MetricProbes } from './probes.js';

export { METRIC_PREFIX, metricsOf, SYNC_LATENCY_BUCKETS, type SyncMetrics } from './metric-definitions.js';

/**
 * The metrics module: a prom-client registry that SUBSCRIBES to the instrumentation event
 * bus (src/core/events.ts). Business code emits events and never calls prom-client.
 *
 * Two ways a figure reaches a metric, both through the bus:
 * - push: the owner emits an event when something happens or when it learns a new reading
 *   (`write.applied`, `shopify.bucket`, `connect.status`, `flink.job`...);
 * - pull: figures that are read, not observed (DLQ depth, consumer lag, slot lag), come from
 *   probes that their owners register on a {@link MetricProbes}; `renderMetrics` runs the
 *   probes just before each scrape, and the probes emit the same reading events.
 */

/** Options of {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Collect the default Node.js process metrics (CPU, memory, event-loop lag, GC...). */
  defaultMetrics?: boolean;
  /** Version exported on `syncctl_build_info`. */
  version?: string;
}

/** A registry with syncctl's metrics and (by default) the process metrics, all prefixed `syncctl_`. */
export function createMetricsRegistry(opts: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const m = metricsOf(registry);
  m.buildInfo.set({ version: opts.version ?? 'unknown' }, 1);
  return registry;
}

/**
 * Subscribes `registry`'s metrics to every instrumentation event of `bus`.
 * Returns a function that unsubscribes (the metrics keep their values).
 */
export function bindMetrics(bus: SyncEventBus, registry: Registry): () => void {
  const m = metricsOf(registry);
  const offs: Array<() => void> = [];
  const now = () => Date.now() / 1000;

  offs.push(
    bus.on('webhook.received', (e) => {
      m.webhookDeliveries.inc({ platform: e.platform, instance: e.instance, outcome: e.outcome, reason: e.reason ?? 'none' });
      m.webhookSeconds.observe({ platform: e.platform, outcome: e.outcome }, e.seconds);
      if (e.reason === 'wrong_resource' && e.topic) m.webhookWrongResource.inc({ platform: e.platform, instance: e.instance, topic: e.topic });
    }),
    bus.on('events.ingested', (e) => m.eventsIngested.inc({ source: e.source, origin: e.origin, type: e.eventType }, e.count)),
    bus.on('events.published', (e) => m.eventsPublished.inc({ platform: e.platform }, e.count)),
    bus.on('events.transformed', (e) => {
      if (e.count > 0) m.eventsTransformed.inc({ runner: e.runner, type: e.type }, e.count);
      if (e.invalid > 0) m.eventsInvalid.inc({ runner: e.runner }, e.invalid);
    }),
    bus.on('events.processed', (e) => m.eventsProcessed.inc({ source: e.source, type: e.type, outcome: e.outcome }, e.count)),
    bus.on('pipeline.stage', (e) => {
      for (const s of e.seconds) m.pipelineStage.observe({ stage: e.stage, target: e.target ?? '' }, s);
    }),
    bus.on('write.applied', (e) => {
      m.writesApplied.inc({ source: e.source, target: e.target, kind: e.kind }, e.count);
      for (const s of e.latencySeconds) m.syncLatency.observe({ source: e.source, target: e.target, path: e.path }, s);
    }),
    bus.on('write.failed', (e) => m.writesFailed.inc({ target: e.target, kind: e.kind, error_class: e.errorClass, code: e.code }, e.count)),
    bus.on('retry', (e) => m.retries.inc({ component: e.component, code: e.code })),
    bus.on('error', (e) => m.errors.inc({ component: e.component, error_class: e.errorClass, code: e.code })),
    bus.on('conflict', (e) => m.conflicts.inc({ type: e.type, status: e.status })),
    bus.on('deadletter.created', (e) => m.deadLetters.inc({ stage: e.stage, source: e.source, code: e.code })),
    bus.on('deadletters.depth', (e) => {
      // A snapshot: sources absent from it have no open dead letters any more.
      m.dlqDepth.reset();
      for (const d of e.depths) m.dlqDepth.set({ source: d.source }, d.depth);
    }),
    bus.on('poll.completed', (e) => {
      const labels = { source: e.source, resource: e.resource };
      m.pollRuns.inc(labels);
      if (e.found > 0) m.pollFound.inc(labels, e.found);
      m.pollSeconds.observe(labels, e.seconds);
      m.pollerLastSuccess.set(labels, now());
    }),
    bus.on('shopify.bucket', (e) => {
      m.shopifyBucketAvailable.set({ instance: e.instance }, e.available);
      m.shopifyBucketMaximum.set({ instance: e.instance }, e.maximum);
      m.shopifyBucketRestoreRate.set({ instance: e.instance }, e.restoreRate);
    }),
    bus.on('shopify.throttled', (e) => m.shopifyThrottled.inc({ instance: e.instance })),
    bus.on('shopify.auth', (e) => m.shopifyAuthRefused.set({ instance: e.instance }, e.state === 'refused' ? 1 : 0)),
    bus.on('shopify.token', (e) => m.shopifyTokenRequests.inc({ instance: e.instance, outcome: e.outcome })),
    bus.on('shopify.subscription.recreated', (e) => m.shopifySubscriptionsRecreated.inc({ instance: e.instance, topic: e.topic })),
    bus.on('woocommerce.webhook', (e) => {
      for (const status of WOO_WEBHOOK_STATUSES) m.wooWebhookStatus.set({ instance: e.instance, topic: e.topic, status }, status === e.status ? 1 : 0);
    }),
    bus.on('cache.access', (e) => m.cacheRequests.inc({ outcome: e.outcome }, e.count)),
    bus.on('kafka.consumer.lag', (e) => m.kafkaConsumerLag.set({ group: e.group, topic: e.topic }, e.lag)),
    bus.on('debezium.slot', (e) => {
      m.debeziumSlotLagBytes.set({ slot: e.slot }, e.lagBytes);
      m.debeziumSlotActive.set({ slot: e.slot }, e.active ? 1 : 0);
    }),
    bus.on('connect.status', (e) => {
      for (const state of CONNECT_STATES) m.connectConnectorState.set({ connector: e.connector, state }, state === e.state ? 1 : 0);
      for (const t of e.tasks) {
        for (const state of CONNECT_STATES) m.connectTaskState.set({ connector: e.connector, task: String(t.id), state }, state === t.state ? 1 : 0);
      }
    }),
    bus.on('flink.job', (e) => {
      m.flinkJobUp.set({ job: e.job }, e.state === 'RUNNING' ? 1 : 0);
      if (e.lastCheckpointEpochSeconds !== undefined) m.flinkLastCheckpoint.set({ job: e.job }, e.lastCheckpointEpochSeconds);
    }),
    bus.on('drift.completed', (e) => {
      for (const [kind, skus] of Object.entries(e.kinds)) m.driftSkus.set({ pair: e.pair, kind }, skus);
      m.driftLastRun.set({ pair: e.pair }, now());
      m.driftSeconds.set({ pair: e.pair }, e.seconds);
    }),
    bus.on('alert.received', (e) => m.alertsReceived.inc({ alertname: e.alertname, severity: e.severity, status: e.status })),
  );
  return () => {
    for (const off of offs) off();
  };
}

/** The Prometheus text exposition of `registry`, after running the probes (if any) so pulled readings are fresh. */
export async function renderMetrics(registry: Registry, probes?: MetricProbes): Promise<{ contentType: string; body: string }> {
  if (probes) await probes.runAll();
  return { contentType: registry.contentType, body: await registry.metrics() };
}
