import { strict as assert } from 'node:assert';
import type { SyncConfig } from '../../../../src/config/schema.js';
import { KafkaBus } from '../../../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../../../src/pipeline/kafka/client.js';
import { ACTIVE_STATES, jobNameOf, nameMatches, type FlinkJobManager, type FlinkSqlJob } from '../../../../src/pipeline/transform/flink/jobs.js';
import { isolatedConfig } from '../../../support/config.js';
import { dropEverything } from '../../../support/isolation.js';
import {
  collect, createTopics, ensureFlink, goodRecords, jobManager, passThroughJob, sendRaw, uniqueName, until, type Collected, type PassThroughTopics,
} from './support.js';

/** How many times each key was received. */
function countByKey(messages: Collected[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of messages) m.set(x.key ?? '', (m.get(x.key ?? '') ?? 0) + 1);
  return m;
}

describe('FlinkJobManager', function () {
  this.timeout(240_000);
  let config: SyncConfig;
  let jobs: FlinkJobManager;
  let bus: KafkaBus;
  const started = new Set<string>();
  const closers: KafkaBus[] = [];

  const topics = async (what: string): Promise<PassThroughTopics> => {
    const t = { source: `${config.kafka.topicPrefix}.${what}.raw`, sink: `${config.kafka.topicPrefix}.${what}.canonical`, dlq: `${config.kafka.topicPrefix}.${what}.dlq` };
    await createTopics(bus, [t.source, t.sink, t.dlq]);
    return t;
  };

  before(async () => {
    await ensureFlink();
    config = isolatedConfig('flink_jobs');
    jobs = jobManager();
    bus = new KafkaBus(createKafka(config.kafka));
  });
  afterEach(async () => {
    for (const id of started) await jobs.cancel(id).catch(() => undefined);
    started.clear();
    await Promise.all(closers.splice(0).map((b) => b.close()));
  });
  after(async () => {
    await bus.close();
    await dropEverything(config);
  });

  it('starts a job once: a second start (e.g. after a daemon restart) finds the running job instead of submitting a duplicate', async () => {
    const t = await topics('idem');
    const job = passThroughJob(config, uniqueName('idem'), t);
    const first = await jobs.start(job);
    started.add(first.jobId);
    assert.equal(first.action, 'started');
    assert.equal(first.jobName, jobNameOf(job));

    const second = await jobManager().start(job);
    assert.equal(second.action, 'kept');
    assert.equal(second.jobId, first.jobId);
    const same = (await jobs.listJobs()).filter((j) => nameMatches(j.name, job.name) && (ACTIVE_STATES as readonly string[]).includes(j.state));
    assert.deepEqual(same.map((j) => j.id), [first.jobId]);
    assert.equal((await jobs.findRunning(job.name))?.id, first.jobId);
  });

  it('reports state, checkpoints and restarts of a running job', async () => {
    const t = await topics('health');
    const res = await jobs.start(passThroughJob(config, uniqueName('health'), t, { checkpointInterval: '1s' }));
    started.add(res.jobId);
    await until(async () => (await jobs.checkpoints(res.jobId)).completed >= 1, 30_000, 'a completed checkpoint');
    const h = await jobs.health(res.jobId);
    assert.equal(h.job.state, 'RUNNING');
    assert.equal(h.restarts, 0);
    assert.equal(h.lastFailure, null);
    assert.ok(h.checkpoints.lastCompleted);
    assert.match(h.checkpoints.lastCompleted.externalPath ?? '', /^file:.*data\/flink\/checkpoints\//);
    assert.ok((h.checkpoints.lastCompletedAgeMs ?? Infinity) < 60_000);
  });

  it('stops with a savepoint and restores in a fresh session: records sent during the gap appear exactly once', async () => {
    const t = await topics('savepoint');
    const job = passThroughJob(config, uniqueName('sp'), t);
    const sink = await collect(config, t.sink);
    closers.push(sink.bus);
    const first = await jobs.start(job);
    started.add(first.jobId);
    await sendRaw(bus, t.source, goodRecords('sp', 20));
    await until(() => sink.messages.length >= 20, 60_000, '20 records before the stop');

    const savepoint = await jobs.stopWithSavepoint(first.jobId);
    assert.match(savepoint, /^file:.*data\/flink\/savepoints\/savepoint-/);
    assert.equal((await jobs.getJob(first.jobId))?.state, 'FINISHED');
    await sendRaw(bus, t.source, goodRecords('sp', 10, 20)); // the gap

    const second = await jobs.start(job, { restoreFrom: savepoint });
    started.add(second.jobId);
    assert.equal(second.action, 'started');
    await sendRaw(bus, t.source, goodRecords('sp', 10, 30));
    await until(() => sink.messages.some((m) => m.key === 'SP-39'), 60_000, 'the last record');
    const counts = countByKey(sink.messages);
    assert.equal(counts.size, 40);
    assert.deepEqual([...counts.values()].filter((n) => n !== 1), [], 'every record exactly once');
    const cp = await jobs.checkpoints(second.jobId);
    assert.equal(cp.lastRestored?.isSavepoint, true);
    assert.equal(cp.lastRestored?.externalPath, savepoint);
  });

  it('rolls out a changed spec by stop-with-savepoint and restore, without reprocessing', async () => {
    const t = await topics('rollout');
    const name = uniqueName('rollout');
    const v1 = passThroughJob(config, name, t);
    const v2 = passThroughJob(config, name, t, { extraColumn: true });
    const sink = await collect(config, t.sink);
    closers.push(sink.bus);
    const a = await jobs.ensure(v1);
    started.add(a.jobId);
    assert.equal(a.action, 'started');
    assert.equal((await jobs.ensure(v1)).action, 'kept');
    await sendRaw(bus, t.source, goodRecords('ro', 10));
    await until(() => sink.messages.length >= 10, 60_000, '10 records from v1');

    const b = await jobs.ensure(v2, { allowNonRestoredState: false }); // every operator's state must map
    started.add(b.jobId);
    assert.equal(b.action, 'upgraded');
    assert.equal(b.previousJobId, a.jobId);
    assert.ok(b.restoredFrom);
    await sendRaw(bus, t.source, goodRecords('ro', 10, 10));
    await until(() => sink.messages.some((m) => m.key === 'RO-19'), 60_000, 'the last record');
    const counts = countByKey(sink.messages);
    assert.equal(counts.size, 20);
    assert.deepEqual([...counts.values()].filter((n) => n !== 1), [], 'no record reprocessed');
    assert.equal((sink.messages.find((m) => m.key === 'RO-19')!.value as { v2?: boolean }).v2, true);
    const active = (await jobs.listJobs()).filter((j) => nameMatches(j.name, name) && j.state === 'RUNNING');
    assert.deepEqual(active.map((j) => j.id), [b.jobId]);
  });

  it('rolls out an added INSERT (new operator ids, unmapped state skipped): nothing lost, at most the records after the last checkpoint are read again', async () => {
    const t = await topics('rollout2');
    const counts = `${config.kafka.topicPrefix}.rollout2.counts`;
    await createTopics(bus, [counts]);
    const name = uniqueName('rollout2');
    const v1 = passThroughJob(config, name, t, { checkpointInterval: '1s' });
    const v2: FlinkSqlJob = {
      ...v1,
      statements: [
        ...v1.statements,
        `CREATE TABLE sku_counts (sku STRING, n BIGINT, PRIMARY KEY (sku) NOT ENFORCED) WITH (
           'connector' = 'upsert-kafka', 'topic' = '${counts}', 'properties.bootstrap.servers' = '${config.kafka.brokers.join(',')}',
           'key.format' = 'raw', 'value.format' = 'json')`,
      ],
      statementSet: [...v1.statementSet, 'INSERT INTO sku_counts SELECT sku, COUNT(*) FROM parsed WHERE ok GROUP BY sku'],
    };
    const sink = await collect(config, t.sink);
    closers.push(sink.bus);
    const a = await jobs.ensure(v1);
    started.add(a.jobId);
    await sendRaw(bus, t.source, goodRecords('ad', 10));
    await until(() => sink.messages.length >= 10, 60_000, '10 records from v1');
    // the Kafka source commits its offsets to the consumer group only when a checkpoint completes
    const admin = await bus.getAdmin();
    await until(
      async () => (await admin.fetchOffsets({ groupId: name, topics: [t.source] }))[0]?.partitions[0]?.offset === '10',
      30_000,
      'a checkpoint to commit the source offsets',
    );
    await sendRaw(bus, t.source, goodRecords('ad', 5, 10)); // after the last checkpoint (unless one completes meanwhile)
    await until(() => sink.messages.length >= 15, 60_000, '15 records from v1');

    const b = await jobs.ensure(v2);
    started.add(b.jobId);
    assert.equal(b.action, 'upgraded');
    await sendRaw(bus, t.source, goodRecords('ad', 10, 15));
    await until(() => sink.messages.some((m) => m.key === 'AD-24'), 60_000, 'the last record');
    const byKey = countByKey(sink.messages);
    assert.equal(byKey.size, 25, 'nothing lost');
    const again = [...byKey].filter(([, n]) => n > 1).map(([k]) => k);
    assert.ok(again.every((k) => ['AD-10', 'AD-11', 'AD-12', 'AD-13', 'AD-14'].includes(k)), `read again: ${again.join(', ')}`);
    process.stderr.write(`      [measure] structural rollout: ${again.length} of the 5 records after the last checkpoint read again\n`);
  });

  it('cancels a job, and cancelling it again is harmless', async () => {
    const t = await topics('cancel');
    const res = await jobs.start(passThroughJob(config, uniqueName('cancel'), t));
    await jobs.cancel(res.jobId);
    assert.equal((await jobs.getJob(res.jobId))?.state, 'CANCELED');
    await jobs.cancel(res.jobId);
    assert.equal(await jobs.findActive(res.jobName), null);
  });
});
