import assert from 'node:assert/strict';
import type { Registry } from 'prom-client';
import { SyncEventBus } from '../../src/core/events.js';
import { bindMetrics, createMetricsRegistry, renderMetrics } from '../../src/monitoring/metrics.js';
import { MetricProbes } from '../../src/monitoring/probes.js';

/** The value of one series in the text exposition, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('bindMetrics', () => {
  let bus: SyncEventBus;
  let registry: Registry;
  let unbind: () => void;

  beforeEach(() => {
    bus = new SyncEventBus();
    registry = createMetricsRegistry({ version: '9.9.9' });
    unbind = bindMetrics(bus, registry);
  });
  afterEach(() => {
    unbind();
    registry.clear();
  });

  const text = async () => (await renderMetrics(registry)).body;

  it('exports the default process metrics with the syncctl_ prefix and the build info', async () => {
    const t = await text();
    assert.ok(sample(t, 'syncctl_process_cpu_seconds_total') !== undefined);
    assert.match(t, /^syncctl_nodejs_eventloop_lag_p99_seconds /m);
    assert.equal(sample(t, 'syncctl_build_info{version="9.9.9"}'), 1);
  });

  it('observes applied writes in the latency histogram and counts them by source, target and kind', async () => {
    bus.emit('write.applied', { source: 'erp', target: 'shopify:main', kind: 'inventory', path: 'change', count: 3, latencySeconds: [0.004, 0.2, 12] });
    const t = await text();
    assert.equal(sample(t, 'syncctl_writes_applied_total{source="erp",target="shopify:main",kind="inventory"}'), 3);
    assert.equal(sample(t, 'syncctl_sync_latency_seconds_bucket{le="0.025",source="erp",target="shopify:main",path="change"}'), 1);
    assert.equal(sample(t, 'syncctl_sync_latency_seconds_bucket{le="0.15",source="erp",target="shopify:main",path="change"}'), 1);
    assert.equal(sample(t, 'syncctl_sync_latency_seconds_bucket{le="0.25",source="erp",target="shopify:main",path="change"}'), 2);
    assert.equal(sample(t, 'syncctl_sync_latency_seconds_bucket{le="10",source="erp",target="shopify:main",path="change"}'), 2);
    assert.equal(sample(t, 'syncctl_sync_latency_seconds_bucket{le="30",source="erp",target="shopify:main",path="change"}'), 3);
    assert.equal(sample(t, 'syncctl_sync_latency_seconds_count{source="erp",target="shopify:main",path="change"}'), 3);
  });

  it('observes the time changes spend per pipeline stage, labelled by target for the write stages only', async () => {
    bus.emit('pipeline.stage', { stage: 'decide', seconds: [0.02, 0.3] });
    bus.emit('pipeline.stage', { stage: 'write', target: 'woocommerce:outlet', seconds: [0.12] });
    const t = await text();
    assert.equal(sample(t, 'syncctl_pipeline_stage_seconds_count{stage="decide",target=""}'), 2);
    assert.equal(sample(t, 'syncctl_pipeline_stage_seconds_bucket{le="0.025",stage="decide",target=""}'), 1);
    assert.equal(sample(t, 'syncctl_pipeline_stage_seconds_bucket{le="0.15",stage="write",target="woocommerce:outlet"}'), 1);
  });

  it('counts ingested, processed, failed writes, retries, errors, conflicts and dead letters with bounded labels', async () => {
    bus.emit('events.ingested', { source: 'shopify:main', origin: 'webhook', eventType: 'inventory_levels/update', count: 2 });
    bus.emit('events.processed', { source: 'shopify:main', type: 'InventoryObserved', outcome: 'echo', count: 4 });
    bus.emit('write.failed', { target: 'woocommerce:outlet', kind: 'inventory', errorClass: 'retriable', code: 'HTTP_503', count: 1 });
    bus.emit('retry', { component: 'writer', code: 'HTTP_503', attempt: 2, delayMs: 400 });
    bus.emit('error', { component: 'writer', errorClass: 'retriable', code: 'HTTP_503' });
    bus.emit('error', { component: 'writer', errorClass: 'retriable', code: 'HTTP_503' });
    bus.emit('conflict', { type: 'price', status: 'open' });
    bus.emit('deadletter.created', { stage: 'write:woocommerce:outlet', source: 'erp', code: 'PERMANENT' });
    const t = await text();
    assert.equal(sample(t, 'syncctl_events_ingested_total{source="shopify:main",origin="webhook",type="inventory_levels/update"}'), 2);
    assert.equal(sample(t, 'syncctl_events_processed_total{source="shopify:main",type="InventoryObserved",outcome="echo"}'), 4);
    assert.equal(sample(t, 'syncctl_writes_failed_total{target="woocommerce:outlet",kind="inventory",error_class="retriable",code="HTTP_503"}'), 1);
    assert.equal(sample(t, 'syncctl_retries_total{component="writer",code="HTTP_503"}'), 1);
    assert.equal(sample(t, 'syncctl_errors_total{component="writer",error_class="retriable",code="HTTP_503"}'), 2);
    assert.equal(sample(t, 'syncctl_conflicts_total{type="price",status="open"}'), 1);
    assert.equal(sample(t, 'syncctl_dead_letters_total{stage="write:woocommerce:outlet",source="erp",code="PERMANENT"}'), 1);
  });

  it('labels rejected webhook deliveries with their reason and accepted ones with reason "none"', async () => {
    bus.emit('webhook.received', { platform: 'shopify', instance: 'main', outcome: 'rejected', reason: 'hmac', seconds: 0.002 });
    bus.emit('webhook.received', { platform: 'shopify', instance: 'main', outcome: 'accepted', seconds: 0.004 });
    const t = await text();
    assert.equal(sample(t, 'syncctl_webhook_deliveries_total{platform="shopify",instance="main",outcome="rejected",reason="hmac"}'), 1);
    assert.equal(sample(t, 'syncctl_webhook_deliveries_total{platform="shopify",instance="main",outcome="accepted",reason="none"}'), 1);
  });

  it('records the poller last success time and the platform readings', async () => {
    const before = Date.now() / 1000;
    bus.emit('poll.completed', { source: 'woocommerce:outlet', resource: 'products', found: 3, seconds: 0.5 });
    bus.emit('shopify.bucket', { instance: 'main', available: 180, maximum: 2000, restoreRate: 100 });
    bus.emit('shopify.throttled', { instance: 'main' });
    bus.emit('woocommerce.webhook', { instance: 'outlet', topic: 'product.updated', status: 'disabled' });
    bus.emit('cache.access', { outcome: 'hit', count: 9 });
    bus.emit('cache.access', { outcome: 'miss', count: 1 });
    const t = await text();
    assert.ok(sample(t, 'syncctl_poller_last_success_timestamp_seconds{source="woocommerce:outlet",resource="products"}')! >= Math.floor(before));
    assert.equal(sample(t, 'syncctl_poll_found_total{source="woocommerce:outlet",resource="products"}'), 3);
    assert.equal(sample(t, 'syncctl_shopify_bucket_available{instance="main"}'), 180);
    assert.equal(sample(t, 'syncctl_shopify_throttled_total{instance="main"}'), 1);
    assert.equal(sample(t, 'syncctl_woocommerce_webhook_status{instance="outlet",topic="product.updated",status="disabled"}'), 1);
    assert.equal(sample(t, 'syncctl_woocommerce_webhook_status{instance="outlet",topic="product.updated",status="active"}'), 0);
    assert.equal(sample(t, 'syncctl_cache_requests_total{outcome="hit"}'), 9);
    assert.equal(sample(t, 'syncctl_cache_requests_total{outcome="miss"}'), 1);
  });

  it('sets the infrastructure gauges from reading events: lag, slot, Connect states, Flink, drift', async () => {
    bus.emit('kafka.consumer.lag', { group: 'syncctl-sync', topic: 'syncctl.canonical', lag: 42 });
    bus.emit('debezium.slot', { slot: 'syncctl_erp', lagBytes: 1024, active: true });
    bus.emit('connect.status', { connector: 'syncctl-erp', state: 'RUNNING', tasks: [{ id: 0, state: 'FAILED' }] });
    bus.emit('flink.job', { job: 'syncctl-transform', state: 'RUNNING', lastCheckpointEpochSeconds: 1_700_000_000 });
    bus.emit('drift.completed', { pair: 'erp->shopify:main', kinds: { quantity: 2, price: 0 }, seconds: 1.5 });
    const t = await text();
    assert.equal(sample(t, 'syncctl_kafka_consumer_lag{group="syncctl-sync",topic="syncctl.canonical"}'), 42);
    assert.equal(sample(t, 'syncctl_debezium_slot_lag_bytes{slot="syncctl_erp"}'), 1024);
    assert.equal(sample(t, 'syncctl_debezium_slot_active{slot="syncctl_erp"}'), 1);
    assert.equal(sample(t, 'syncctl_connect_connector_state{connector="syncctl-erp",state="RUNNING"}'), 1);
    assert.equal(sample(t, 'syncctl_connect_connector_state{connector="syncctl-erp",state="FAILED"}'), 0);
    assert.equal(sample(t, 'syncctl_connect_task_state{connector="syncctl-erp",task="0",state="FAILED"}'), 1);
    assert.equal(sample(t, 'syncctl_flink_job_up{job="syncctl-transform"}'), 1);
    assert.equal(sample(t, 'syncctl_flink_last_checkpoint_timestamp_seconds{job="syncctl-transform"}'), 1_700_000_000);
    assert.equal(sample(t, 'syncctl_drift_skus{pair="erp->shopify:main",kind="quantity"}'), 2);
    assert.equal(sample(t, 'syncctl_drift_skus{pair="erp->shopify:main",kind="price"}'), 0);
  });

  it('replaces the DLQ depth with each snapshot, dropping sources that have no open dead letters left', async () => {
    bus.emit('deadletters.depth', { depths: [{ source: 'erp', depth: 5 }, { source: 'shopify:main', depth: 2 }] });
    bus.emit('deadletters.depth', { depths: [{ source: 'erp', depth: 1 }] });
    const t = await text();
    assert.equal(sample(t, 'syncctl_dlq_depth{source="erp"}'), 1);
    assert.equal(sample(t, 'syncctl_dlq_depth{source="shopify:main"}'), undefined);
  });

  it('runs the registered probes before rendering, and counts a failing probe without failing the scrape', async () => {
    const probes = new MetricProbes({ registry, timeoutMs: 200 });
    let reads = 0;
    probes.register('lag', () => {
      reads++;
      bus.emit('kafka.consumer.lag', { group: 'g', topic: 't', lag: reads * 10 });
    });
    probes.register('broken', async () => {
      throw new Error('database down');
    });
    probes.register('slow', () => new Promise<void>(() => undefined));
    const t = (await renderMetrics(registry, probes)).body;
    assert.equal(sample(t, 'syncctl_kafka_consumer_lag{group="g",topic="t"}'), 10);
    assert.equal(sample(t, 'syncctl_metric_probe_failures_total{probe="broken"}'), 1);
    assert.equal(sample(t, 'syncctl_metric_probe_failures_total{probe="slow"}'), 1);
    assert.equal(sample((await renderMetrics(registry, probes)).body, 'syncctl_kafka_consumer_lag{group="g",topic="t"}'), 20);
  });

  it('stops updating the metrics once unbound', async () => {
    unbind();
    bus.emit('error', { component: 'writer', errorClass: 'bug', code: 'BUG' });
    assert.equal(sample(await text(), 'syncctl_errors_total{component="writer",error_class="bug",code="BUG"}'), undefined);
  });
});
