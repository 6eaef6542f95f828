import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { SyncEventBus } from '../core/events.js';
import { describeError } from '../core/errors.js';
import { getLogger } from '../core/logger.js';
import type { MetricProbes } from './probes.js';

/**
 * The `sync_metrics` history: periodic snapshots of key figures of the registry, so that
 * `syncctl status` and SQL users see trends without Prometheus. Counters are stored as their
 * running totals (a trend is the difference of two rows); gauges as their value; histograms as
 * `_count`, `_sum` and the p50/p99 of the observations since the previous snapshot
 * (`<name>:p50`, `<name>:p99`). State-set gauges (status = 1 of n) keep only their current state.
 */

/** Metrics snapshotted by default. */
export const HISTORY_METRICS = [
  'syncctl_events_ingested_total',
  'syncctl_events_processed_total',
  'syncctl_writes_applied_total',
  'syncctl_writes_failed_total',
  'syncctl_errors_total',
  'syncctl_conflicts_total',
  'syncctl_dead_letters_total',
  'syncctl_dlq_depth',
  'syncctl_sync_latency_seconds',
  'syncctl_webhook_deliveries_total',
  'syncctl_kafka_consumer_lag',
  'syncctl_debezium_slot_lag_bytes',
  'syncctl_poller_last_success_timestamp_seconds',
  'syncctl_shopify_bucket_available',
  'syncctl_woocommerce_webhook_status',
  'syncctl_connect_task_state',
  'syncctl_cache_requests_total',
  'syncctl_drift_skus',
  'syncctl_flink_job_up',
  'syncctl_process_resident_memory_bytes',
  'syncctl_nodejs_eventloop_lag_p99_seconds',
];

/** Gauges that say "1 for the current state, 0 for the others": only the 1 is worth a row. */
const STATE_SETS = new Set(['syncctl_woocommerce_webhook_status', 'syncctl_connect_task_state', 'syncctl_connect_connector_state']);

/** One row of `sync_metrics`. */
export interface MetricSample {
  name: string;
  value: number;
  labels: Record<string, string>;
  timestamp: Date;
}

/** Options of {@link MetricsHistoryWriter}. */
export interface MetricsHistoryOptions {
  /** Pool on syncctl's schema. */
  pool: pg.Pool;
  registry: Registry;
  /** Seconds between snapshots (config `monitoring.metricsHistory.intervalSeconds`). */
  intervalSeconds: number;
  /** Rows older than this are deleted (config `monitoring.metricsHistory.retentionDays`). */
  retentionDays: number;
  /** Probes run before each snapshot so pulled readings are fresh. */
  probes?: MetricProbes;
  /** Metric names to snapshot; {@link HISTORY_METRICS} by default. */
  metrics?: string[];
  /** Labels added to every row (e.g. `{ daemon: hostname }` when several daemons write). */
  extraLabels?: Record<string, string>;
  /** Where failures are reported as `error` events (component `metrics-history`). */
  bus?: SyncEventBus;
}

const INSERT_CHUNK = 1000;
const DELETE_CHUNK = 5000;
const PRUNE_EVERY_MS = 3600_000;

/** Writes periodic snapshots into `sync_metrics` and deletes expired ones. */
export class MetricsHistoryWriter {
  private readonly log = getLogger('metrics-history');
  private readonly names: Set<string>;
  private readonly previousBuckets = new Map<string, Map<string, number>>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastPruneAt = 0;

  constructor(private readonly opts: MetricsHistoryOptions) {
    this.names = new Set(opts.metrics ?? HISTORY_METRICS);
  }

  /** Starts the periodic snapshots (first one after one interval); idempotent. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the snapshots and waits for one in flight; with `flush`, writes a last snapshot. */
  async stop(opts: { flush?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    if (opts.flush) await this.snapshot().catch((err) => this.fail('final snapshot', err));
  }

  private tick(): void {
    if (this.running) return; // the previous snapshot is still being written: skip, don't pile up
    this.running = (async () => {
      try {
        await this.snapshot();
        if (Date.now() - this.lastPruneAt >= PRUNE_EVERY_MS) {
          this.lastPruneAt = Date.now();
          await this.prune();
        }
      } catch (err) {
        this.fail('snapshot', err);
      } finally {
        this.running = undefined;
      }
    })();
  }

  private fail(what: string, err: unknown): void {
    const e = describeError(err);
    this.log.warn({ err: e.message, code: e.code }, `metrics history ${what} failed`);
    this.opts.bus?.emit('error', { component: 'metrics-history', errorClass: 'retriable', code: e.code ?? 'HISTORY_WRITE_FAILED' });
  }

  /** Reads the registry (after the probes) and returns the rows one snapshot would write. */
  async collect(at = new Date()): Promise<MetricSample[]> {
    if (this.opts.probes) await this.opts.probes.runAll();
    const extra = this.opts.extraLabels ?? {};
    const out: MetricSample[] = [];
    for (const metric of await this.opts.registry.getMetricsAsJSON()) {
      if (!this.names.has(metric.name)) continue;
      if (String(metric.type) === 'histogram') {
        out.push(...this.histogramSamples(metric.name, metric.values as HistogramValue[], extra, at));
        continue;
      }
      for (const v of metric.values) {
        if (STATE_SETS.has(metric.name) && v.value !== 1) continue;
        out.push({ name: metric.name, value: v.value, labels: { ...stringLabels(v.labels), ...extra }, timestamp: at });
      }
    }
    return out;
  }

  /** Writes one snapshot now; returns the number of rows written. */
  async snapshot(at = new Date()): Promise<number> {
    const rows = await this.collect(at);
    await insertSamples(this.opts.pool, rows);
    return rows.length;
  }

  /** Deletes rows older than the retention; returns how many were deleted. */
  async prune(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.opts.retentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      // In chunks, so a large backlog never holds one long transaction.
      const res = await this.opts.pool.query(
        `DELETE FROM sync_metrics WHERE metric_id IN (SELECT metric_id FROM sync_metrics WHERE timestamp < $1 LIMIT ${DELETE_CHUNK})`,
        [cutoff],
      );
      total += res.rowCount ?? 0;
      if ((res.rowCount ?? 0) < DELETE_CHUNK) return total;
    }
  }

  private histogramSamples(name: string, values: HistogramValue[], extra: Record<string, string>, at: Date): MetricSample[] {
    const series = new Map<string, { labels: Record<string, string>; buckets: Map<string, number>; sum: number; count: number }>();
    for (const v of values) {
      const { le, ...rest } = stringLabels(v.labels);
      const key = JSON.stringify(Object.entries(rest).sort());
      const s = series.get(key) ?? { labels: rest, buckets: new Map(), sum: 0, count: 0 };
      series.set(key, s);
      if (v.metricName.endsWith('_bucket') && le !== undefined) s.buckets.set(le, v.value);
      else if (v.metricName.endsWith('_sum')) s.sum = v.value;
      else if (v.metricName.endsWith('_count')) s.count = v.value;
    }
    const out: MetricSample[] = [];
    for (const [key, s] of series) {
      const labels = { ...s.labels, ...extra };
      out.push({ name: `${name}_count`, value: s.count, labels, timestamp: at });
      out.push({ name: `${name}_sum`, value: s.sum, labels, timestamp: at });
      const prev = this.previousBuckets.get(`${name}|${key}`);
      this.previousBuckets.set(`${name}|${key}`, new Map(s.buckets));
      const delta = [...s.buckets].map(([le, c]) => ({ le: le === '+Inf' ? Infinity : Number(le), count: c - (prev?.get(le) ?? 0) }));
      for (const q of [0.5, 0.99]) {
        const value = bucketQuantile(q, delta);
        if (value !== undefined) out.push({ name: `${name}:p${Math.round(q * 100)}`, value, labels, timestamp: at });
      }
    }
    return out;
  }
}

type HistogramValue = { value: number; labels: Record<string, string | number>; metricName: string };

function stringLabels(labels: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (v !== undefined) out[k] = String(v);
  return out;
}

/**
 * The q-quantile of cumulative bucket counts, interpolated linearly inside the bucket as
 * PromQL's histogram_quantile does; undefined when there are no observations.
 */
export function bucketQuantile(q: number, buckets: Array<{ le: number; count: number }>): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe; // beyond the largest finite bucket: its bound is the best estimate
      const inBucket = b.count - prevCount;
      return inBucket > 0 ? prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket : b.le;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** Inserts samples into `sync_metrics` in batches (one statement per chunk). */
export async function insertSamples(pool: pg.Pool, rows: MetricSample[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    await pool.query(
      `INSERT INTO sync_metrics (metric_id, metric_name, metric_value, labels, timestamp)
       SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::float8[], $4::jsonb[], $5::timestamptz[])`,
      [
        chunk.map(() => randomUUID()),
        chunk.map((r) => r.name),
        chunk.map((r) => (Number.isFinite(r.value) ? r.value : null)),
        chunk.map((r) => JSON.stringify(r.labels)),
        chunk.map((r) => r.timestamp),
      ],
    );
  }
}

/** One point of a metric's history. */
export interface HistoryPoint {
  value: number;
  labels: Record<string, string>;
  timestamp: Date;
}

/**
 * The last `limit` values of a metric (newest first), optionally only the series whose labels
 * include `labels` (JSONB containment), for `syncctl status` trends.
 */
export async function recentMetricValues(
  pool: pg.Pool,
  name: string,
  opts: { labels?: Record<string, string>; limit?: number; since?: Date } = {},
): Promise<HistoryPoint[]> {
  const { rows } = await pool.query<{ metric_value: number; labels: Record<string, string>; timestamp: Date }>(
    `SELECT metric_value, labels, timestamp FROM sync_metrics
      WHERE metric_name = $1 AND ($2::jsonb IS NULL OR labels @> $2::jsonb) AND ($3::timestamptz IS NULL OR timestamp >= $3)
      ORDER BY timestamp DESC LIMIT $4`,
    [name, opts.labels ? JSON.stringify(opts.labels) : null, opts.since ?? null, opts.limit ?? 60],
  );
  return rows.map((r) => ({ value: r.metric_value, labels: r.labels, timestamp: r.timestamp }));
}

/**
 * A metric summed over its series at each snapshot time (newest first): e.g. the total of
 * `syncctl_dlq_depth` across sources, for a one-line trend.
 */
export async function metricTotals(pool: pg.Pool, name: string, opts: { limit?: number } = {}): Promise<Array<{ value: number; timestamp: Date }>> {
  const { rows } = await pool.query<{ value: number; timestamp: Date }>(
    `SELECT sum(metric_value)::float8 AS value, timestamp FROM sync_metrics
      WHERE metric_name = $1 GROUP BY timestamp ORDER BY timestamp DESC LIMIT $2`,
    [name, opts.limit ?? 60],
  );
  return rows;
}
