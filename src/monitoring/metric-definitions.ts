import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Every syncctl metric, declared once. Names follow Prometheus conventions: the `syncctl_`
 * prefix, base units (`_seconds`, `_bytes`), `_total` for counters. Labels are bounded sets
 * (platform, source key, target key, event type, outcome, error class/code, component):
 * never a SKU, an order id or a free-form message. docs/metrics.md documents each one.
 */

/** Prefix of every metric syncctl exports, including the default process metrics. */
export const METRIC_PREFIX = 'syncctl_';

/** Buckets of the end-to-end sync latency: 5 ms to 30 s (webhook → write applied). */
export const SYNC_LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.15, 0.25, 0.4, 0.6, 0.8, 1, 1.5, 2.5, 5, 10, 30];
/** Buckets of short operations (webhook handling, one poll run). */
export const OPERATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60];

/** Connect/Woo states that are exported as one series each (state-set gauges). */
export const CONNECT_STATES = ['RUNNING', 'PAUSED', 'FAILED', 'UNASSIGNED', 'RESTARTING', 'STOPPED'] as const;
export const WOO_WEBHOOK_STATUSES = ['active', 'paused', 'disabled', 'missing'] as const;

/** Typed handles on every syncctl metric of one registry. */
export function defineSyncMetrics(registry: Registry) {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name: METRIC_PREFIX + name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name: METRIC_PREFIX + name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
    new Histogram<L>({ name: METRIC_PREFIX + name, help, labelNames, buckets, registers });

  return {
    buildInfo: gauge('build_info', 'Always 1; the version of the running syncctl is a label.', ['version']),

    // intake
    webhookDeliveries: counter('webhook_deliveries_total', 'Webhook deliveries by platform, instance, outcome (accepted|duplicate|rejected) and rejection reason (bad_signature|missing_signature|malformed|wrong_resource|unknown_instance|too_large|rate_limited|unavailable).', ['platform', 'instance', 'outcome', 'reason']),
    webhookWrongResource: counter('webhook_wrong_resource_total', 'Signed webhook deliveries refused (400) because the body is not the resource their topic names, by platform, instance and topic.', ['platform', 'instance', 'topic']),
    webhookSeconds: histogram('webhook_handling_seconds', 'Time to verify and store one webhook delivery.', ['platform', 'outcome'], OPERATION_BUCKETS),
    eventsIngested: counter('events_ingested_total', 'Raw events stored by intake, by source key, origin (webhook|poll|backfill|cdc) and event type.', ['source', 'origin', 'type']),
    eventsPublished: counter('events_published_total', 'Source events relayed from the outbox to Kafka (raw topics and/or canonical events of the embedded transform), by platform.', ['platform']),
    eventsTransformed: counter('events_transformed_total', 'Canonical events produced by the transform stage, by runner and canonical type.', ['runner', 'type']),
    eventsInvalid: counter('events_invalid_total', 'Raw events the transform stage could not map, by runner.', ['runner']),

    // sync and writes
    eventsProcessed: counter('events_processed_total', 'Canonical events handled by a sync worker, by source key, type and outcome (applied|stale|echo|duplicate|conflict|ignored).', ['source', 'type', 'outcome']),
    syncLatency: histogram('sync_latency_seconds', 'End-to-end latency from a change at the source to the write applied at the target, by path: change (announced by the source) or correction (an unannounced difference, written after the settle window).', ['source', 'target', 'path'], SYNC_LATENCY_BUCKETS),
    pipelineStage: histogram('pipeline_stage_seconds', 'Time a change spent in one stage: relay (stored → relayed to Kafka), decide (stored → decided by a sync worker), write_queue (planned and due → claimed by a writer), write (claimed → the platform answered), by stage and target (write stages only; "" otherwise).', ['stage', 'target'], SYNC_LATENCY_BUCKETS),
    writesApplied: counter('writes_applied_total', 'Writes applied at a target, by source key, target key and kind (inventory|product|order...).', ['source', 'target', 'kind']),
    writesFailed: counter('writes_failed_total', 'Writes that failed, by target key, kind, error class (retriable|permanent) and error code.', ['target', 'kind', 'error_class', 'code']),
    retries: counter('retries_total', 'Operations retried, by component and error code.', ['component', 'code']),
    errors: counter('errors_total', 'Errors recorded, by component, error class (retriable|permanent|bug) and code.', ['component', 'error_class', 'code']),
    conflicts: counter('conflicts_total', 'Conflicts recorded or resolved, by type and status (open|resolved|auto).', ['type', 'status']),
    deadLetters: counter('dead_letters_total', 'Dead letters written, by stage, source key and error code.', ['stage', 'source', 'code']),
    dlqDepth: gauge('dlq_depth', 'Open dead letters waiting for replay or discard, by source key.', ['source']),

    // pollers and platforms
    pollRuns: counter('poll_runs_total', 'Completed poller runs, by source key and resource.', ['source', 'resource']),
    pollFound: counter('poll_found_total', 'Changes found by pollers (missed by webhooks or first seen), by source key and resource.', ['source', 'resource']),
    pollSeconds: histogram('poll_duration_seconds', 'Duration of one poller run.', ['source', 'resource'], OPERATION_BUCKETS),
    pollerLastSuccess: gauge('poller_last_success_timestamp_seconds', 'Unix time of the last completed poller run, by source key and resource.', ['source', 'resource']),
    shopifyBucketAvailable: gauge('shopify_bucket_available', 'Shopify GraphQL cost bucket: points currently available, by instance.', ['instance']),
    shopifyBucketMaximum: gauge('shopify_bucket_maximum', 'Shopify GraphQL cost bucket: capacity in points, by instance.', ['instance']),
    shopifyBucketRestoreRate: gauge('shopify_bucket_restore_rate', 'Shopify GraphQL cost bucket: points restored per second, by instance.', ['instance']),
    shopifyThrottled: counter('shopify_throttled_total', 'Shopify requests answered THROTTLED, by instance.', ['instance']),
    shopifyAuthRefused: gauge('shopify_auth_refused', '1 while Shopify refuses a store\'s credentials (client credentials grant or access token; its writes are held), 0 once accepted, by instance.', ['instance']),
    shopifyTokenRequests: counter('shopify_token_requests_total', 'Client credentials grant requests, by instance and outcome (granted|refused|unreachable).', ['instance', 'outcome']),
    shopifySubscriptionsRecreated: counter('shopify_subscriptions_recreated_total', 'Shopify webhook subscriptions found missing (Shopify deletes one after 8 failed retries) and created again, by instance and topic.', ['instance', 'topic']),
    wooWebhookStatus: gauge('woocommerce_webhook_status', 'WooCommerce webhook subscription status: 1 for the current status (active|paused|disabled|missing), 0 for the others.', ['instance', 'topic', 'status']),

    // state cache (Redis)
    cacheRequests: counter('cache_requests_total', 'State cache lookups, by outcome (hit|miss|error).', ['outcome']),

    // pipeline infrastructure
    kafkaConsumerLag: gauge('kafka_consumer_lag', 'Kafka consumer lag in messages (sum over partitions), by consumer group and topic.', ['group', 'topic']),
    debeziumSlotLagBytes: gauge('debezium_slot_lag_bytes', 'WAL retained behind a logical replication slot (current LSN − confirmed flush LSN), in bytes.', ['slot']),
    debeziumSlotActive: gauge('debezium_slot_active', '1 when a consumer (Debezium) is attached to the replication slot, 0 otherwise.', ['slot']),
    connectConnectorState: gauge('connect_connector_state', 'Kafka Connect connector state: 1 for the current state, 0 for the others.', ['connector', 'state']),
    connectTaskState: gauge('connect_task_state', 'Kafka Connect task state: 1 for the current state, 0 for the others.', ['connector', 'task', 'state']),
    flinkJobUp: gauge('flink_job_up', '1 when the Flink transform job is RUNNING, 0 otherwise.', ['job']),
    flinkLastCheckpoint: gauge('flink_last_checkpoint_timestamp_seconds', 'Unix time of the last completed checkpoint of the Flink job.', ['job']),

    // reconciliation
    driftSkus: gauge('drift_skus', 'SKUs found different by the last drift check, by pair (e.g. erp->shopify:main) and kind of difference.', ['pair', 'kind']),
    driftLastRun: gauge('drift_last_run_timestamp_seconds', 'Unix time of the last completed drift check, by pair.', ['pair']),
    driftSeconds: gauge('drift_last_run_duration_seconds', 'Duration of the last drift check, by pair.', ['pair']),

    // the monitoring itself
    alertsReceived: counter('alert_notifications_total', 'Alertmanager notifications received on /alerts, by alert name, severity and status.', ['alertname', 'severity', 'status']),
    probeFailures: counter('metric_probe_failures_total', 'Metric probes (periodic readings) that failed or timed out, by probe.', ['probe']),
  };
}

/** The typed metric handles returned by {@link defineSyncMetrics}. */
export type SyncMetrics = ReturnType<typeof defineSyncMetrics>;

const byRegistry = new WeakMap<Registry, SyncMetrics>();

/** The typed handles on syncctl's metrics in `registry` (declared on first use, once per registry). */
export function metricsOf(registry: Registry): SyncMetrics {
  let m = byRegistry.get(registry);
  if (!m) {
    m = defineSyncMetrics(registry);
    byRegistry.set(registry, m);
  }
  return m;
}
