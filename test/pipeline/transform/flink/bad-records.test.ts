import { strict as assert } from 'node:assert';
import type { SyncConfig } from '../../../../src/config/schema.js';
import { KafkaBus } from '../../../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../../../src/pipeline/kafka/client.js';
import type { FlinkJobManager, FlinkSqlJob } from '../../../../src/pipeline/transform/flink/jobs.js';
import { isolatedConfig } from '../../../support/config.js';
import { dropEverything } from '../../../support/isolation.js';
import {
  bootstrap, collect, createTopics, ensureFlink, goodRecords, jobManager, passThroughJob, sendRaw, uniqueName, until, type PassThroughTopics,
} from './support.js';

/** A job reading the source with Flink's JSON format (the approach the pattern replaces). */
function jsonFormatJob(config: SyncConfig, name: string, t: PassThroughTopics, ignoreParseErrors: boolean): FlinkSqlJob {
  const bs = bootstrap(config);
  return {
    name,
    config: { 'execution.checkpointing.interval': '2s' },
    statements: [
      `CREATE TABLE src (sku STRING, qty INT, sent_ms BIGINT) WITH (
         'connector' = 'kafka', 'topic' = '${t.source}', 'properties.bootstrap.servers' = '${bs}',
         'properties.group.id' = '${name}', 'scan.startup.mode' = 'earliest-offset',
         'format' = 'json', 'json.ignore-parse-errors' = '${ignoreParseErrors}')`,
      `CREATE TABLE snk (sku STRING, qty INT, sent_ms BIGINT) WITH (
         'connector' = 'kafka', 'topic' = '${t.sink}', 'properties.bootstrap.servers' = '${bs}', 'format' = 'json')`,
    ],
    statementSet: ['INSERT INTO snk SELECT UPPER(sku), qty, sent_ms FROM src'],
  };
}

describe('Flink SQL bad-record handling (Kafka JSON source → sink)', function () {
  this.timeout(180_000);
  let config: SyncConfig;
  let jobs: FlinkJobManager;
  let bus: KafkaBus;
  const started: string[] = [];
  const closers: KafkaBus[] = [];

  const topics = (what: string): PassThroughTopics => ({
    source: `${config.kafka.topicPrefix}.${what}.raw`,
    sink: `${config.kafka.topicPrefix}.${what}.canonical`,
    dlq: `${config.kafka.topicPrefix}.${what}.dlq`,
  });
  const bad = [
    { key: 'bad-1', value: 'not json{' },
    { key: 'bad-2', value: '[1,2,3]' },
    { key: 'bad-3', value: JSON.stringify({ sku: 'X', qty: 'many' }) },
    { key: 'bad-4', value: JSON.stringify({ qty: 4 }) },
    { key: 'bad-5', value: null },
  ];

  before(async () => {
    await ensureFlink();
    config = isolatedConfig('flink_bad');
    jobs = jobManager();
    bus = new KafkaBus(createKafka(config.kafka));
  });
  afterEach(async () => {
    for (const id of started.splice(0)) await jobs.cancel(id).catch(() => undefined);
    await Promise.all(closers.splice(0).map((b) => b.close()));
  });
  after(async () => {
    await bus.close();
    await dropEverything(config);
  });

  it('routes malformed, non-object, mistyped, incomplete and tombstone records to the dead-letter topic with a reason, and keeps the job running', async () => {
    const t = topics('pattern');
    await createTopics(bus, [t.source, t.sink, t.dlq]);
    const res = await jobs.start(passThroughJob(config, uniqueName('bad'), t));
    started.push(res.jobId);
    await sendRaw(bus, t.source, [...goodRecords('ok', 3), ...bad, ...goodRecords('ok', 3, 3)]);
    const sink = await collect(config, t.sink);
    const dlq = await collect(config, t.dlq);
    closers.push(sink.bus, dlq.bus);
    await until(() => sink.messages.length >= 6 && dlq.messages.length >= 5, 60_000, '6 canonical and 5 dead letters');
    assert.deepEqual(sink.messages.map((m) => m.key), ['OK-0', 'OK-1', 'OK-2', 'OK-3', 'OK-4', 'OK-5']);
    const reasons = dlq.messages.map((m) => (m.value as { reason: string }).reason);
    assert.deepEqual(reasons, ['not a JSON object', 'not a JSON object', 'sku or qty missing or not typed', 'sku or qty missing or not typed', 'tombstone']);
    const first = dlq.messages[0]!.value as { payload: string; src_offset: number };
    assert.equal(first.payload, 'not json{');
    assert.equal(first.src_offset, 3);
    const health = await jobs.health(res.jobId);
    assert.equal(health.job.state, 'RUNNING');
    assert.equal(health.restarts, 0);
  });

  it("(the JSON format with 'json.ignore-parse-errors'='false') fails and restarts the job on one malformed record: a poison pill", async () => {
    const t = topics('strict');
    await createTopics(bus, [t.source, t.sink]);
    const res = await jobs.start(jsonFormatJob(config, uniqueName('strict'), t, false));
    started.push(res.jobId);
    await sendRaw(bus, t.source, [{ key: 'bad-1', value: 'not json{' }]);
    await until(async () => (await jobs.restarts(res.jobId)) >= 1, 60_000, 'a restart of the job');
    const failure = await jobs.lastFailure(res.jobId);
    assert.ok(failure, 'a failure is recorded');
    assert.match(failure.message, /JSON|json|Unrecognized token/);
  });

  it("(the JSON format with 'json.ignore-parse-errors'='true') drops a malformed record without a trace", async () => {
    const t = topics('lenient');
    await createTopics(bus, [t.source, t.sink]);
    const res = await jobs.start(jsonFormatJob(config, uniqueName('lenient'), t, true));
    started.push(res.jobId);
    await sendRaw(bus, t.source, [{ key: 'a', value: JSON.stringify({ sku: 'a', qty: 1 }) }, { key: 'bad-1', value: 'not json{' }, { key: 'b', value: JSON.stringify({ sku: 'b', qty: 2 }) }]);
    const sink = await collect(config, t.sink);
    closers.push(sink.bus);
    await until(() => sink.messages.length >= 2, 60_000, 'two canonical records');
    assert.deepEqual(sink.messages.map((m) => (m.value as { sku: string }).sku), ['A', 'B']);
    assert.equal(await jobs.restarts(res.jobId), 0);
  });
});
