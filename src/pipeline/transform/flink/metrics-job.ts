import type pg from 'pg';
import type { Consumer } from 'kafkajs';
import { getLogger } from '../../../core/logger.js';
import { insertSamples, type MetricSample } from '../../../monitoring/history.js';
import type { DecodedBatch, KafkaBus } from '../../kafka/bus.js';
import type { PipelineTopics } from '../../kafka/topics.js';
import type { FlinkSqlJob } from './jobs.js';
import { epochMs, jobConfig, rawSourceStatements, sqlLit } from './sql.js';

/** Milliseconds since the epoch of a TIMESTAMP (window bounds of a processing-time window; the session time zone is UTC). */
const epochMsOfTimestamp = (ts: string): string => `(CAST(TIMESTAMPDIFF(SECOND, TIMESTAMP '1970-01-01 00:00:00', ${ts}) AS BIGINT) * 1000 + EXTRACT(MILLISECOND FROM ${ts}))`;

/**
 * The windowed figures of the raw streams, as a second Flink job (separate from the transform:
 * a window in the transform's statement set would tie the two together on rollout and restore).
 * Per processing-time tumbling window (a minute by default) and per source (`erp`,
 * `<platform>:<instance>`, `unknown` for records that are not raw events): the count of raw
 * events, how many are not raw events, and the latency from the record's Kafka timestamp (set to
 * `receivedAt` by the outbox relay) to the moment Flink processes it: avg, p50, p99, max.
 * Rows go to the metrics topic (`<prefix>.metrics`, JSON, keyed by source); a
 * {@link FlinkMetricsConsumer} writes them into `sync_metrics`.
 */

/** Options of {@link flinkMetricsJobFor}. */
export interface FlinkMetricsJobOptions {
  name: string;
  topics: PipelineTopics;
  brokers: string[];
  /** Consumer group of the job's own Kafka sources (not the transform's). */
  groupId: string;
  /** Window length in seconds (60 = per minute; tests use a few seconds). */
  windowSeconds: number;
  checkpointIntervalMs: number;
  checkpointUri?: string;
  parallelism: number;
}

/** One row of the metrics topic written by the job. */
export interface FlinkWindowFigures {
  kind: 'flink.window';
  source: string;
  window_start: number;
  window_end: number;
  window_seconds: number;
  events: number;
  invalid: number;
  latency_avg_ms: number | null;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  latency_max_ms: number | null;
}

/** The Flink SQL job of the windowed figures. */
export function flinkMetricsJobFor(opts: FlinkMetricsJobOptions): FlinkSqlJob {
  const bs = opts.brokers.join(',');
  const w = Math.max(1, Math.round(opts.windowSeconds));
  const platform = "JSON_VALUE(v, '$.platform')";
  return {
    name: opts.name,
    config: jobConfig({ ...opts, stateTtlMs: 0 }),
    statements: [
      ...rawSourceStatements(opts.topics, bs, opts.groupId, 'm_raw'),
      `CREATE TABLE metrics_sink (
  kind STRING, source STRING, window_start BIGINT, window_end BIGINT, window_seconds INT,
  events BIGINT, invalid BIGINT, latency_avg_ms DOUBLE, latency_p50_ms DOUBLE, latency_p99_ms DOUBLE, latency_max_ms BIGINT
) WITH (
  'connector' = 'kafka', 'topic' = ${sqlLit(opts.topics.metrics)}, 'properties.bootstrap.servers' = ${sqlLit(bs)},
  'key.format' = 'raw', 'key.fields' = 'source', 'value.format' = 'json', 'value.fields-include' = 'ALL',
  'sink.delivery-guarantee' = 'at-least-once'
)`,
      `CREATE TEMPORARY VIEW m_events AS
SELECT proc, source, now_ms - ${epochMs('src_ts')} AS latency_ms, invalid FROM (
  SELECT proc, src_ts, ${epochMs('CURRENT_TIMESTAMP')} AS now_ms,
    CASE WHEN ${platform} = 'erp' THEN 'erp'
         WHEN ${platform} IS NOT NULL AND JSON_VALUE(v, '$.eventId') IS NOT NULL THEN CONCAT(${platform}, ':', COALESCE(JSON_VALUE(v, '$.instance'), 'undefined'))
         ELSE 'unknown' END AS source,
    CASE WHEN COALESCE(v IS JSON OBJECT, FALSE) AND JSON_VALUE(v, '$.eventId') IS NOT NULL AND JSON_QUERY(v, '$.payload') IS NOT NULL THEN 0 ELSE 1 END AS invalid
  FROM m_raw_all WHERE v IS NOT NULL)`,
    ],
    statementSet: [
      `INSERT INTO metrics_sink
SELECT 'flink.window', source, ${epochMsOfTimestamp('window_start')}, ${epochMsOfTimestamp('window_end')}, ${w},
  COUNT(*), CAST(SUM(invalid) AS BIGINT), AVG(CAST(latency_ms AS DOUBLE)),
  CAST(PERCENTILE(latency_ms, 0.5) AS DOUBLE), CAST(PERCENTILE(latency_ms, 0.99) AS DOUBLE), MAX(latency_ms)
FROM TABLE(TUMBLE(TABLE m_events, DESCRIPTOR(proc), INTERVAL '${w}' SECOND))
GROUP BY window_start, window_end, source`,
    ],
  };
}

/** The `sync_metrics` rows of one window row (labels `{source}`, timestamp = window end). */
export function samplesOf(row: FlinkWindowFigures): MetricSample[] {
  const labels = { source: row.source };
  const timestamp = new Date(row.window_end);
  const perMinute = 60 / Math.max(1, row.window_seconds);
  const out: MetricSample[] = [
    { name: 'flink_events_per_minute', value: row.events * perMinute, labels, timestamp },
    { name: 'flink_window_events', value: row.events, labels: { ...labels, windowSeconds: String(row.window_seconds) }, timestamp },
    { name: 'flink_invalid_events_per_minute', value: row.invalid * perMinute, labels, timestamp },
  ];
  const lat: Array<[string, number | null]> = [
    ['avg', row.latency_avg_ms],
    ['p50', row.latency_p50_ms],
    ['p99', row.latency_p99_ms],
    ['max', row.latency_max_ms],
  ];
  for (const [k, v] of lat) if (v !== null && Number.isFinite(v)) out.push({ name: `flink_raw_latency_ms:${k}`, value: v, labels, timestamp });
  return out;
}

/** Writes the windowed figures of the metrics topic into `sync_metrics` (offsets committed after the insert). */
export class FlinkMetricsConsumer {
  private readonly log = getLogger('transform');
  private consumer?: Consumer;

  constructor(
    private readonly kafka: KafkaBus,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly pool: pg.Pool,
  ) {}

  async start(): Promise<void> {
    if (this.consumer) return;
    this.consumer = await this.kafka.consume({ groupId: this.groupId, topics: [this.topic], fromBeginning: true }, (b) => this.handle(b));
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  /** Writes one batch (exported for tests); other records of the metrics topic are ignored. */
  async handle(batch: DecodedBatch): Promise<void> {
    const rows: MetricSample[] = [];
    for (const m of batch.messages) {
      const v = m.value as Partial<FlinkWindowFigures> | null;
      if (!v || v.kind !== 'flink.window' || typeof v.source !== 'string' || typeof v.window_end !== 'number') continue;
      rows.push(...samplesOf(v as FlinkWindowFigures));
    }
    if (rows.length === 0) return;
    await insertSamples(this.pool, rows);
    this.log.debug({ rows: rows.length }, 'Flink window figures written to sync_metrics');
  }
}
