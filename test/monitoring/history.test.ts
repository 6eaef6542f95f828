import assert from 'node:assert/strict';
import type { Registry } from 'prom-client';
import { SyncEventBus } from '../../src/core/events.js';
import { bucketQuantile, metricTotals, MetricsHistoryWriter, recentMetricValues } from '../../src/monitoring/history.js';
import { bindMetrics, createMetricsRegistry } from '../../src/monitoring/metrics.js';
import { deadLetterDepthProbe, MetricProbes } from '../../src/monitoring/probes.js';
import { isolate, type Isolation } from '../support/isolation.js';
import { waitFor } from './support/monitoring-files.js';

describe('MetricsHistoryWriter (sync_metrics)', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let bus: SyncEventBus;
  let registry: Registry;
  let unbind: () => void;
  let failed = false;

  before(async () => {
    iso = await isolate('monitoring_history');
  });
  after(async () => {
    await iso?.cleanup(failed);
  });
  beforeEach(async () => {
    await iso.pool.query('TRUNCATE sync_metrics');
    bus = new SyncEventBus();
    registry = createMetricsRegistry({ defaultMetrics: false });
    unbind = bindMetrics(bus, registry);
  });
  afterEach(function () {
    unbind();
    registry.clear();
    if (this.currentTest?.state === 'failed') failed = true;
  });

  const writer = (extra: Partial<ConstructorParameters<typeof MetricsHistoryWriter>[0]> = {}) =>
    new MetricsHistoryWriter({ pool: iso.pool, registry, intervalSeconds: 60, retentionDays: 7, ...extra });

  it('writes one row per series of the key metrics, with labels as JSONB, a UUID and one timestamp', async () => {
    bus.emit('events.ingested', { source: 'shopify:main', origin: 'webhook', eventType: 'products/update', count: 5 });
    bus.emit('events.ingested', { source: 'erp', origin: 'cdc', eventType: 'stock_levels', count: 7 });
    bus.emit('woocommerce.webhook', { instance: 'outlet', topic: 'product.updated', status: 'active' });
    const at = new Date('2030-01-01T00:00:00Z');
    const n = await writer().snapshot(at);
    const { rows } = await iso.pool.query(`SELECT metric_id, metric_name, metric_value, labels, timestamp FROM sync_metrics ORDER BY metric_name, metric_value`);
    assert.equal(n, rows.length);
    const ingested = rows.filter((r) => r.metric_name === 'syncctl_events_ingested_total');
    assert.deepEqual(ingested.map((r) => [r.labels.source, r.metric_value]), [['shopify:main', 5], ['erp', 7]]);
    assert.ok(rows.every((r) => /^[0-9a-f-]{36}$/.test(r.metric_id) && r.timestamp.getTime() === at.getTime()));
    // State sets keep only the current state.
    const woo = rows.filter((r) => r.metric_name === 'syncctl_woocommerce_webhook_status');
    assert.deepEqual(woo.map((r) => r.labels.status), ['active']);
  });

  it('stores the latency histogram as count, sum and the p50/p99 of the observations since the previous snapshot', async () => {
    const w = writer();
    bus.emit('write.applied', { source: 'erp', target: 'shopify:main', kind: 'inventory', path: 'change', count: 100, latencySeconds: Array(100).fill(0.02) });
    await w.snapshot(new Date('2030-01-01T00:00:00Z'));
    bus.emit('write.applied', { source: 'erp', target: 'shopify:main', kind: 'inventory', path: 'change', count: 100, latencySeconds: Array(100).fill(8) });
    await w.snapshot(new Date('2030-01-01T00:01:00Z'));
    const p99 = await recentMetricValues(iso.pool, 'syncctl_sync_latency_seconds:p99', { labels: { source: 'erp', target: 'shopify:main' } });
    assert.equal(p99.length, 2);
    assert.ok(p99[0]!.value > 5 && p99[0]!.value <= 10, `second interval p99 ${p99[0]!.value} is in the (5, 10] bucket`);
    assert.ok(p99[1]!.value > 0.01 && p99[1]!.value <= 0.025, `first interval p99 ${p99[1]!.value} is in the (0.01, 0.025] bucket`);
    const count = await recentMetricValues(iso.pool, 'syncctl_sync_latency_seconds_count');
    assert.deepEqual(count.map((c) => c.value), [200, 100]);
  });

  it('writes large snapshots in batches', async () => {
    for (let i = 0; i < 2500; i++) bus.emit('kafka.consumer.lag', { group: 'g', topic: `t${i}`, lag: i });
    const n = await writer().snapshot();
    const { rows } = await iso.pool.query(`SELECT count(*)::int AS n FROM sync_metrics WHERE metric_name = 'syncctl_kafka_consumer_lag'`);
    assert.equal(rows[0].n, 2500);
    assert.ok(n >= 2500);
  });

  it('deletes the rows older than the retention and keeps the others', async () => {
    bus.emit('deadletters.depth', { depths: [{ source: 'erp', depth: 3 }] });
    const w = writer({ retentionDays: 7 });
    const now = new Date('2030-02-01T00:00:00Z');
    await w.snapshot(new Date(now.getTime() - 8 * 86_400_000));
    await w.snapshot(new Date(now.getTime() - 6 * 86_400_000));
    await w.snapshot(now);
    const deleted = await w.prune(now);
    assert.equal(deleted, 1);
    const left = await recentMetricValues(iso.pool, 'syncctl_dlq_depth');
    assert.deepEqual(left.map((r) => r.timestamp.toISOString()), [now.toISOString(), new Date(now.getTime() - 6 * 86_400_000).toISOString()]);
  });

  it('runs the probes before a snapshot, so the DLQ depth comes from the dead_letters table', async () => {
    await iso.pool.query(
      `INSERT INTO dead_letters (dead_letter_id, source_key, stage, error_class, payload, status)
       VALUES (gen_random_uuid(), 'erp', 'sync', 'PERMANENT', '{}', 'OPEN'), (gen_random_uuid(), 'erp', 'sync', 'PERMANENT', '{}', 'OPEN'),
              (gen_random_uuid(), 'shopify:main', 'write:erp', 'PERMANENT', '{}', 'REPLAYED')`,
    );
    const probes = new MetricProbes({ registry });
    probes.register('dlq-depth', deadLetterDepthProbe(iso.pool, bus));
    await writer({ probes }).snapshot();
    const depth = await recentMetricValues(iso.pool, 'syncctl_dlq_depth');
    assert.deepEqual(depth.map((d) => [d.labels.source, d.value]), [['erp', 2]]);
  });

  it('snapshots periodically between start and stop, and a final snapshot on stop with flush', async () => {
    bus.emit('events.processed', { source: 'erp', type: 'InventoryObserved', outcome: 'applied', count: 1 });
    const w = writer({ intervalSeconds: 1, extraLabels: { daemon: 'test' } });
    w.start();
    const firstTwo = await waitFor('two periodic snapshots', async () => {
      const totals = await metricTotals(iso.pool, 'syncctl_events_processed_total');
      return totals.length >= 2 ? totals : undefined;
    }, 15_000);
    assert.ok(firstTwo.every((t) => t.value === 1));
    await w.stop({ flush: true });
    const after = await recentMetricValues(iso.pool, 'syncctl_events_processed_total', { labels: { daemon: 'test' }, limit: 100 });
    assert.ok(after.length >= 3);
    const count = after.length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await recentMetricValues(iso.pool, 'syncctl_events_processed_total', { limit: 100 })).length, count, 'no snapshot after stop');
  });
});

describe('bucketQuantile', () => {
  it('interpolates inside the bucket like histogram_quantile and is undefined without observations', () => {
    const buckets = [{ le: 0.1, count: 0 }, { le: 1, count: 100 }, { le: Infinity, count: 100 }];
    assert.ok(Math.abs(bucketQuantile(0.5, buckets)! - 0.55) < 1e-9);
    assert.equal(bucketQuantile(0.5, [{ le: 1, count: 0 }, { le: Infinity, count: 0 }]), undefined);
    assert.equal(bucketQuantile(0.99, [{ le: 1, count: 0 }, { le: Infinity, count: 10 }]), 1);
  });
});
