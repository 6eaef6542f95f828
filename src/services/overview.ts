import type pg from 'pg';
import type { Registry } from 'prom-client';

/** Sync latency of one path (source → target, change or correction) over two windows. */
export interface PathLatency {
  source: string;
  target: string;
  /** `change` (announced by the source) or `correction` (an unannounced difference, written after the settle window). */
  path: string;
  windows: Array<{ minutes: number; writes: number; p50Ms: number | null; p99Ms: number | null }>;
}

/**
 * Exact per-path latency (source event → write applied) over the last `windows` minutes, from
 * `planned_writes` (`source_event_at`, `updated_at`, `cause`): the writes DONE in each window.
 */
export async function latencyByPath(pool: pg.Pool, windows: readonly number[] = [5, 60]): Promise<PathLatency[]> {
  const longest = Math.max(...windows);
  const cols = windows
    .map((m, i) => {
      const f = `filter (where updated_at > now() - make_interval(mins => $${i + 2}))`;
      const e = `extract(epoch from updated_at - source_event_at) * 1000`;
      return `count(*) ${f} as n${i}, percentile_cont(0.5) within group (order by ${e}) ${f} as p50_${i}, percentile_cont(0.99) within group (order by ${e}) ${f} as p99_${i}`;
    })
    .join(', ');
  const r = await pool.query(
    `select coalesce(source_key, '?') as source, target_key as target, cause as path, ${cols}
       from planned_writes
      where status = 'DONE' and source_event_at is not null and kind <> 'recheck' and updated_at > now() - make_interval(mins => $1)
      group by 1, 2, 3 order by 1, 2, 3`,
    [longest, ...windows],
  );
  const ms = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v)));
  return r.rows.map((row) => ({
    source: String(row.source),
    target: String(row.target),
    path: String(row.path),
    windows: windows.map((minutes, i) => ({ minutes, writes: Number(row[`n${i}`]), p50Ms: ms(row[`p50_${i}`]), p99Ms: ms(row[`p99_${i}`]) })),
  }));
}

/** The numbers the console refreshes without a reload. */
export interface LiveCounts {
  openConflicts: number;
  openDeadLetters: number;
  pendingWrites: number;
  failedWrites: number;
  at: string;
}

/** Cheap counts of what needs an operator (one query). */
export async function liveCounts(pool: pg.Pool): Promise<LiveCounts> {
  const r = await pool.query<{ c: number; d: number; p: number; f: number }>(
    `select (select count(*)::int from conflict_log where status = 'OPEN') as c,
            (select count(*)::int from dead_letters where status = 'OPEN') as d,
            (select count(*)::int from planned_writes where status in ('PENDING', 'INFLIGHT')) as p,
            (select count(*)::int from planned_writes where status = 'FAILED') as f`,
  );
  const x = r.rows[0]!;
  return { openConflicts: x.c, openDeadLetters: x.d, pendingWrites: x.p, failedWrites: x.f, at: new Date().toISOString() };
}

/** Estimated quantiles of one stage of the pipeline since the daemon started (from its histogram's buckets). */
export interface StageLatency {
  stage: string;
  target: string;
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

interface HistogramValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** Quantile of a cumulative bucket list by linear interpolation inside the bucket (what PromQL's histogram_quantile does). */
function bucketQuantile(q: number, buckets: Array<{ le: number; count: number }>): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (!total) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** p50/p99 per stage of `syncctl_pipeline_stage_seconds` in this daemon's registry (since it started). */
export async function stageLatency(registry: Registry): Promise<StageLatency[]> {
  const metric = registry.getSingleMetric('syncctl_pipeline_stage_seconds');
  if (!metric) return [];
  const values = ((await metric.get()).values ?? []) as HistogramValue[];
  const series = new Map<string, { stage: string; target: string; buckets: Array<{ le: number; count: number }> }>();
  for (const v of values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const stage = String(v.labels.stage ?? '');
    const target = String(v.labels.target ?? '');
    const key = `${stage}|${target}`;
    const s = series.get(key) ?? { stage, target, buckets: [] };
    s.buckets.push({ le: v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), count: v.value });
    series.set(key, s);
  }
  return [...series.values()]
    .map((s) => {
      s.buckets.sort((a, b) => a.le - b.le);
      const ms = (x: number | null) => (x === null ? null : Math.round(x * 1000));
      return { stage: s.stage, target: s.target, count: s.buckets.at(-1)?.count ?? 0, p50Ms: ms(bucketQuantile(0.5, s.buckets)), p99Ms: ms(bucketQuantile(0.99, s.buckets)) };
    })
    .filter((s) => s.count > 0)
    .sort((a, b) => a.stage.localeCompare(b.stage) || a.target.localeCompare(b.target));
}

/** A Shopify store's GraphQL cost bucket, as last reported by Shopify to this daemon. */
export interface StoreBudget {
  instance: string;
  available: number | null;
  maximum: number | null;
  restoreRate: number | null;
  throttled: number;
}

/** Budget per Shopify store from this daemon's gauges (nothing until the store answered once). */
export async function shopifyBudgets(registry: Registry, instances: readonly string[]): Promise<StoreBudget[]> {
  const read = async (name: string) => {
    const m = registry.getSingleMetric(name);
    const out = new Map<string, number>();
    for (const v of ((await m?.get())?.values ?? []) as HistogramValue[]) out.set(String(v.labels.instance), (out.get(String(v.labels.instance)) ?? 0) + v.value);
    return out;
  };
  const [available, maximum, rate, throttled] = await Promise.all([read('syncctl_shopify_bucket_available'), read('syncctl_shopify_bucket_maximum'), read('syncctl_shopify_bucket_restore_rate'), read('syncctl_shopify_throttled_total')]);
  return instances.map((instance) => ({ instance, available: available.get(instance) ?? null, maximum: maximum.get(instance) ?? null, restoreRate: rate.get(instance) ?? null, throttled: throttled.get(instance) ?? 0 }));
}
