import assert from 'node:assert/strict';
import type { Admin, Producer } from 'kafkajs';
import pg from 'pg';
import { SyncEventBus, type SyncEvents } from '../../src/core/events.js';
import { createKafka } from '../../src/pipeline/kafka/client.js';
import { kafkaConsumerLagProbe, replicationSlotProbe } from '../../src/monitoring/probes.js';
import { isolatedConfig, randomSuffix } from '../support/config.js';
import { dropEverything } from '../support/isolation.js';

describe('Metric probes against real services', function () {
  this.timeout(60_000);

  describe('kafkaConsumerLagProbe', () => {
    const config = isolatedConfig('monitoring_lag');
    const topic = `${config.kafka.topicPrefix}.lag`;
    const group = `${config.kafka.topicPrefix}.group`;
    let admin: Admin;
    let producer: Producer;

    before(async () => {
      const kafka = createKafka(config.kafka);
      admin = kafka.admin();
      producer = kafka.producer();
      await admin.connect();
      await producer.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
      await producer.send({ topic, messages: [0, 1, 2, 3, 4, 5].map((i) => ({ partition: i % 2, value: String(i) })) });
    });
    after(async () => {
      await producer?.disconnect();
      await admin?.disconnect();
      await dropEverything(config);
    });

    it('reports the whole topic as lag for a group that never committed, and the remainder after a commit', async () => {
      const bus = new SyncEventBus();
      const seen: Array<SyncEvents['kafka.consumer.lag']> = [];
      bus.on('kafka.consumer.lag', (e) => seen.push(e));
      const probe = kafkaConsumerLagProbe(admin, bus, [{ group, topics: [topic] }]);
      await probe();
      assert.deepEqual(seen.at(-1), { group, topic, lag: 6 });
      await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '3' }] });
      await probe();
      assert.deepEqual(seen.at(-1), { group, topic, lag: 1 });
    });
  });

  describe('replicationSlotProbe', () => {
    const config = isolatedConfig('monitoring_slot');
    const slot = `syncctl_test_${randomSuffix()}`;
    let pool: pg.Pool;

    before(async () => {
      pool = new pg.Pool({ connectionString: config.database.url, max: 2 });
      await pool.query(`SELECT pg_create_logical_replication_slot($1, 'test_decoding')`, [slot]);
    });
    after(async () => {
      await pool?.query(`SELECT pg_drop_replication_slot($1)`, [slot]).catch(() => undefined);
      await pool?.end();
    });

    it('reports an unread slot as inactive, with the WAL written after it as lag', async () => {
      const bus = new SyncEventBus();
      const seen: Array<SyncEvents['debezium.slot']> = [];
      bus.on('debezium.slot', (e) => seen.push(e));
      const probe = replicationSlotProbe(pool, bus, [slot]);
      await probe();
      const first = seen.at(-1)!;
      assert.equal(first.slot, slot);
      assert.equal(first.active, false);
      // Write some WAL; the slot's confirmed position stays, so its lag grows.
      await pool.query(`SELECT pg_logical_emit_message(true, 'syncctl-test', repeat('x', 100000))`);
      await probe();
      assert.ok(seen.at(-1)!.lagBytes > first.lagBytes, `lag grew: ${first.lagBytes} -> ${seen.at(-1)!.lagBytes}`);
    });
  });
});
