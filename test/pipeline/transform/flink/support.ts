// Shared helpers of the Flink tests: one Flink cluster per test run (started by the first file
// that needs it, left running for the others; the global teardown stops it), unique topics and
// job names per test, and small Kafka produce/collect helpers.
import { execa } from 'execa';
import { join } from 'node:path';
import { configSchema, type SyncConfig } from '../../../../src/config/schema.js';
import { stackEnv } from '../../../../src/stack/manager.js';
import { scriptsDir } from '../../../../src/stack/paths.js';
import { KafkaBus, type DecodedMessage } from '../../../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../../../src/pipeline/kafka/client.js';
import { ensureTopics } from '../../../../src/pipeline/kafka/topics.js';
import { FlinkJobManager, type FlinkSqlJob } from '../../../../src/pipeline/transform/flink/jobs.js';
import { randomSuffix, testBaseConfig } from '../../../support/config.js';

/** The environment flink.sh gets in tests: the test run's stack dir and ports. */
export function flinkEnv(): Record<string, string> {
  return { ...stackEnv(configSchema.parse(testBaseConfig())), PATH: process.env.PATH ?? '' };
}

/** Runs `flink.sh <action>` and returns its status line (parsed) and stderr. */
export async function flinkScript(action: 'up' | 'down' | 'status'): Promise<{ status: FlinkStatus; stderr: string; ms: number }> {
  const t0 = Date.now();
  const res = await execa('bash', [join(scriptsDir(), 'flink.sh'), action], { env: flinkEnv(), reject: false, stdin: 'ignore', timeout: 240_000 });
  if (res.exitCode !== 0) throw new Error(`flink.sh ${action} failed (exit ${res.exitCode}): ${res.stderr.split('\n').slice(-5).join('\n')}`);
  return { status: JSON.parse(res.stdout.trim().split('\n').pop()!) as FlinkStatus, stderr: res.stderr, ms: Date.now() - t0 };
}

/** The status line of flink.sh. */
export interface FlinkStatus {
  component: 'flink';
  running: boolean;
  ready: boolean;
  pid: number | null;
  port: number;
  managed: boolean;
  detail: string;
  items: Array<Record<string, any>>;
}

let upOnce: Promise<FlinkStatus> | undefined;
/** Starts Flink once per test run (shared by every Flink test file). */
export function ensureFlink(): Promise<FlinkStatus> {
  upOnce ??= flinkScript('up').then((r) => {
    if (!/already running/.test(r.stderr)) process.stderr.write(`[test] started Flink in ${r.ms} ms\n`);
    return r.status;
  });
  return upOnce;
}

/** A job manager on the test run's Flink. */
export function jobManager(): FlinkJobManager {
  const env = flinkEnv();
  return new FlinkJobManager({ gatewayUrl: `http://127.0.0.1:${env.FLINK_GATEWAY_PORT}`, restUrl: `http://127.0.0.1:${env.FLINK_REST_PORT}` });
}

/** The bootstrap servers Flink should use (the test run's broker). */
export function bootstrap(config: SyncConfig): string {
  return config.kafka.brokers.join(',');
}

/** A unique name for a job or consumer group. */
export const uniqueName = (what: string): string => `test-${what}-${randomSuffix()}`;

/** Creates topics (1 partition each). */
export async function createTopics(bus: KafkaBus, names: string[], partitions = 1): Promise<void> {
  await ensureTopics(await bus.getAdmin(), names, partitions, 1);
}

/** Sends raw string values (a value of null is a tombstone). */
export async function sendRaw(bus: KafkaBus, topic: string, messages: Array<{ key: string; value: string | null }>): Promise<void> {
  const producer = await bus.connectProducer();
  await producer.send({ topic, acks: -1, messages });
}

/** A message collected from a topic, with the time it was received. */
export interface Collected extends DecodedMessage {
  receivedAt: number;
}

/** Collects every message of `topic` from the beginning (read_committed) into an array. */
export async function collect(config: SyncConfig, topic: string): Promise<{ messages: Collected[]; bus: KafkaBus }> {
  const bus = new KafkaBus(createKafka(config.kafka));
  const messages: Collected[] = [];
  await bus.consume({ groupId: uniqueName('collect'), topics: [topic], fromBeginning: true }, async (b) => {
    const now = Date.now();
    for (const m of b.messages) messages.push({ ...m, receivedAt: now });
  });
  return { messages, bus };
}

/** Resolves when `pred` holds, polling every 100 ms, or rejects after `ms` with `what`. */
export async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** p-th percentile (0-100) of numbers. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Topics of one pass-through test job. */
export interface PassThroughTopics {
  source: string;
  sink: string;
  dlq: string;
}

/**
 * A pass-through job with explicit bad-record handling (the pattern docs/flink.md recommends):
 * the source reads key and value as RAW strings, a view checks `IS JSON OBJECT` and extracts
 * typed fields with JSON_VALUE/TRY_CAST, good records go to the sink (a trivial projection:
 * upper-cased SKU) and everything else goes to the dead-letter topic with a reason, the source
 * offset and the original payload. Both INSERTs are one statement set, so one job, one read.
 */
export function passThroughJob(
  config: SyncConfig,
  name: string,
  t: PassThroughTopics,
  opts: { groupId?: string; exactlyOnce?: boolean; checkpointInterval?: string; extraColumn?: boolean } = {},
): FlinkSqlJob {
  const bs = bootstrap(config);
  const sinkGuarantee = opts.exactlyOnce
    ? `'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = '${name}',
       'properties.transaction.timeout.ms' = '600000'`
    : `'sink.delivery-guarantee' = 'at-least-once'`;
  return {
    name,
    config: {
      'execution.checkpointing.interval': opts.checkpointInterval ?? '2s',
      'parallelism.default': '1',
      'table.exec.source.idle-timeout': '0',
    },
    statements: [
      `CREATE TABLE raw_src (
         k STRING,
         payload STRING,
         src_partition INT METADATA FROM 'partition' VIRTUAL,
         src_offset BIGINT METADATA FROM 'offset' VIRTUAL
       ) WITH (
         'connector' = 'kafka', 'topic' = '${t.source}', 'properties.bootstrap.servers' = '${bs}',
         'properties.group.id' = '${opts.groupId ?? name}', 'scan.startup.mode' = 'group-offsets',
         'properties.auto.offset.reset' = 'earliest',
         'key.format' = 'raw', 'key.fields' = 'k', 'value.format' = 'raw', 'value.fields-include' = 'EXCEPT_KEY'
       )`,
      `CREATE TABLE canonical_sink (sku STRING, qty INT, sent_ms BIGINT${opts.extraColumn ? ', v2 BOOLEAN' : ''}) WITH (
         'connector' = 'kafka', 'topic' = '${t.sink}', 'properties.bootstrap.servers' = '${bs}',
         'key.format' = 'raw', 'key.fields' = 'sku', 'value.format' = 'json', 'value.fields-include' = 'ALL',
         ${sinkGuarantee}
       )`,
      `CREATE TABLE dead_letters (src_partition INT, src_offset BIGINT, reason STRING, payload STRING) WITH (
         'connector' = 'kafka', 'topic' = '${t.dlq}', 'properties.bootstrap.servers' = '${bs}',
         'format' = 'json', 'sink.delivery-guarantee' = 'at-least-once'
       )`,
      `CREATE TEMPORARY VIEW parsed AS
       SELECT *, (ok_json AND sku IS NOT NULL AND qty IS NOT NULL) AS ok FROM (
         SELECT src_partition, src_offset, payload,
                COALESCE(payload IS JSON OBJECT, FALSE) AS ok_json,
                JSON_VALUE(payload, '$.sku') AS sku,
                TRY_CAST(JSON_VALUE(payload, '$.qty') AS INT) AS qty,
                TRY_CAST(JSON_VALUE(payload, '$.sent_ms') AS BIGINT) AS sent_ms
         FROM raw_src)`,
    ],
    statementSet: [
      `INSERT INTO canonical_sink SELECT UPPER(sku), qty, sent_ms${opts.extraColumn ? ', TRUE' : ''} FROM parsed WHERE ok`,
      `INSERT INTO dead_letters
       SELECT src_partition, src_offset,
              CASE WHEN payload IS NULL THEN 'tombstone' WHEN NOT ok_json THEN 'not a JSON object' ELSE 'sku or qty missing or not typed' END,
              payload
       FROM parsed WHERE NOT ok`,
    ],
  };
}

/** Good records `{sku, qty, sent_ms}` for keys `prefix-0..n-1`. */
export function goodRecords(prefix: string, n: number, from = 0): Array<{ key: string; value: string }> {
  return Array.from({ length: n }, (_, i) => ({ key: `${prefix}-${from + i}`, value: JSON.stringify({ sku: `${prefix}-${from + i}`, qty: from + i, sent_ms: Date.now() }) }));
}
