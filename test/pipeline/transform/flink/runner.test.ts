// The Flink transform runner against the real cluster: the job is found again on a second start
// (daemon restart, no duplicate), a malformed record becomes a dead_letters row while the job keeps
// running, the windowed figures reach sync_metrics, and a changed mapping is rolled out by
// stop-with-savepoint and restore.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { DeadLetterSink } from '../../../../src/pipeline/dead-letter-sink.js';
import { KafkaBus } from '../../../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../../../src/pipeline/kafka/client.js';
import { MAPPING, type MappingRule } from '../../../../src/pipeline/transform/mapping.js';
import { FlinkTransformRunner, flinkNames } from '../../../../src/pipeline/transform/flink/runner.js';
import { ACTIVE_STATES, nameMatches } from '../../../../src/pipeline/transform/flink/jobs.js';
import { randomSuffix } from '../../../support/config.js';
import { isolate, type Isolation } from '../../../support/isolation.js';
import { collect, ensureFlink, jobManager, sendRaw, until } from './support.js';

const inventory = (sku: string, available: number) =>
  JSON.stringify({
    eventId: randomUUID(), platform: 'shopify', instance: 'main', eventType: 'inventory_levels/update', entityRef: `ii-${sku}`, origin: 'webhook',
    dedupeKey: randomUUID(), occurredAt: new Date().toISOString(), receivedAt: new Date().toISOString(), checksum: 'x',
    payload: { kind: 'inventory', sku, available, updatedAt: new Date().toISOString(), refs: { id: `v-${sku}` } },
  });

describe('Flink runner: FlinkTransformRunner', function () {
  this.timeout(240_000);
  let iso: Isolation;
  let bus: KafkaBus;
  let producer: KafkaBus;
  const runners: FlinkTransformRunner[] = [];
  const jm = jobManager();
  const settings = { checkpointIntervalMs: 1000, metricsWindowSeconds: 5, gatewayUrl: jm.gateway.url, restUrl: jm.rest.url };

  const runner = (mapping: MappingRule[] = MAPPING) => {
    const r = new FlinkTransformRunner({ config: iso.config, kafka: bus, pool: iso.pool, deadLetters: new DeadLetterSink(iso.pool, bus, `${iso.config.kafka.topicPrefix}.dlq`), mapping, settings });
    runners.push(r);
    return r;
  };
  const activeJobs = async (name: string) => (await jm.listJobs()).filter((j) => nameMatches(j.name, name) && (ACTIVE_STATES as readonly string[]).includes(j.state));

  before(async () => {
    await ensureFlink();
    iso = await isolate('flink_runner', { daemon: { groupPrefix: `test.${randomSuffix()}` }, kafka: { partitions: 1 } });
    bus = new KafkaBus(createKafka(iso.config.kafka));
    producer = new KafkaBus(createKafka(iso.config.kafka));
  });

  after(async () => {
    await runners[0]?.cancelJobs().catch(() => undefined);
    for (const r of runners) await r.stop().catch(() => undefined);
    await bus?.close();
    await producer?.close();
    await iso?.cleanup();
  });

  it('starts the jobs, dead-letters a malformed record as a dead_letters row, and keeps running', async () => {
    const r = runner();
    await r.start();
    assert.equal(r.transformJob?.action, 'started');
    assert.equal(r.metricsJob?.action, 'started');
    const canonical = await collect(iso.config, r.topics.canonical);
    try {
      await sendRaw(producer, r.topics.raw.shopify, [
        { key: 'bad', value: '{"eventId": oops' },
        { key: 'good', value: inventory('run-1', 4) },
      ]);
      await until(() => canonical.messages.some((m) => m.key === 'RUN-1'), 60_000, 'the canonical event');
      await until(async () => (await iso.pool.query(`select 1 from dead_letters where error_code = 'MALFORMED_JSON'`)).rowCount === 1, 60_000, 'the dead_letters row');
      const dl = (await iso.pool.query(`select stage, error_class, payload, context from dead_letters`)).rows[0];
      assert.equal(dl.stage, 'transform');
      assert.equal(dl.error_class, 'PERMANENT');
      assert.deepEqual(dl.payload, { raw: '{"eventId": oops' });
      assert.equal(dl.context.runner, 'flink');
      assert.equal(dl.context.topic, r.topics.raw.shopify);
      // The job keeps running: a later record still comes through, without a restart.
      await sendRaw(producer, r.topics.raw.shopify, [{ key: 'good2', value: inventory('run-2', 5) }]);
      await until(() => canonical.messages.some((m) => m.key === 'RUN-2'), 60_000, 'the canonical event after the bad record');
      const h = await r.health();
      assert.equal(h.transform.health?.job.state, 'RUNNING');
      assert.equal(h.transform.health?.restarts, 0);
    } finally {
      await canonical.bus.close();
    }
  });

  it('writes the windowed figures of the metrics job into sync_metrics', async () => {
    await until(
      async () => (await iso.pool.query(`select 1 from sync_metrics where metric_name = 'flink_events_per_minute' and labels->>'source' = 'shopify:main'`)).rowCount! > 0,
      60_000,
      'flink_events_per_minute in sync_metrics',
    );
    const rows = (await iso.pool.query(`select metric_name, metric_value, labels from sync_metrics where labels->>'source' in ('shopify:main', 'unknown')`)).rows;
    const names = new Set(rows.map((x) => x.metric_name));
    for (const n of ['flink_events_per_minute', 'flink_window_events', 'flink_raw_latency_ms:p99', 'flink_raw_latency_ms:max']) assert.ok(names.has(n), `missing ${n}`);
    const total = rows.filter((x) => x.metric_name === 'flink_window_events').reduce((a, x) => a + Number(x.metric_value), 0);
    assert.ok(total >= 3, `window events ${total}`);
  });

  it('finds the running jobs on a second start (daemon restart): no duplicate', async () => {
    const first = runners[0]!;
    await first.stop();
    const second = runner();
    await second.start();
    assert.equal(second.transformJob?.action, 'kept');
    assert.equal(second.transformJob?.jobId, first.transformJob?.jobId);
    assert.equal(second.metricsJob?.action, 'kept');
    const n = flinkNames(iso.config);
    assert.equal((await activeJobs(n.transformJob)).length, 1);
    assert.equal((await activeJobs(n.metricsJob)).length, 1);
  });

  it('rolls out a changed mapping by stop-with-savepoint and restore', async () => {
    const before = runners[runners.length - 1]!;
    await before.stop();
    const changed: MappingRule[] = MAPPING.map((r) => (r.id === 'inventory_level' ? { ...r, fields: { ...r.fields, 'refs.kind': { const: 'inventory' } } } : r));
    const next = runner(changed);
    const canonical = await collect(iso.config, next.topics.canonical);
    try {
      await next.start();
      assert.equal(next.transformJob?.action, 'upgraded');
      assert.notEqual(next.transformJob?.jobId, before.transformJob?.jobId);
      assert.ok(next.transformJob?.restoredFrom, 'restored from a savepoint');
      assert.equal(next.metricsJob?.action, 'kept');
      assert.equal((await activeJobs(flinkNames(iso.config).transformJob)).length, 1);
      await sendRaw(producer, next.topics.raw.shopify, [{ key: 'after', value: inventory('run-3', 6) }]);
      await until(() => canonical.messages.some((m) => m.key === 'RUN-3'), 60_000, 'output of the upgraded job');
      const ev = canonical.messages.find((m) => m.key === 'RUN-3')!.value as { refs: Record<string, string> };
      assert.equal(ev.refs.kind, 'inventory');
    } finally {
      await canonical.bus.close();
    }
  });
});
