import { strict as assert } from 'node:assert';
import { KafkaBus, type DecodedMessage } from '../../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../../src/pipeline/kafka/client.js';
import { ensureTopics } from '../../../src/pipeline/kafka/topics.js';
import { isolatedConfig, randomSuffix } from '../../support/config.js';
import { dropEverything } from '../../support/isolation.js';
import type { SyncConfig } from '../../../src/config/schema.js';

/** Resolves when `pred` holds, polling every 50 ms, or rejects after `ms`. */
async function until(pred: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('KafkaBus', () => {
  let config: SyncConfig;
  let topic: string;
  const buses: KafkaBus[] = [];
  const newBus = () => {
    const b = new KafkaBus(createKafka(config.kafka));
    buses.push(b);
    return b;
  };

  before(async () => {
    config = isolatedConfig('bus');
    topic = `${config.kafka.topicPrefix}.roundtrip`;
    const bus = newBus();
    await ensureTopics(await bus.getAdmin(), [topic], 2, 1);
  });
  afterEach(async () => {
    await Promise.all(buses.map((b) => b.close()));
    buses.length = 0;
  });
  after(async () => dropEverything(config));

  it('delivers published JSON messages with key and headers to a consumer group, in order per key', async () => {
    const bus = newBus();
    const sent = Array.from({ length: 50 }, (_, i) => ({ key: `SKU-${i % 5}`, value: { n: i }, headers: { 'x-source': 'test' } }));
    await bus.publish(topic, sent);
    const got: DecodedMessage[] = [];
    await bus.consume({ groupId: `g-${randomSuffix()}`, topics: [topic] }, async (b) => {
      got.push(...b.messages);
    });
    await until(() => got.length >= 50);
    assert.equal(got.length, 50);
    assert.equal(got[0]!.headers['x-source'], 'test');
    for (let k = 0; k < 5; k++) {
      const ns = got.filter((m) => m.key === `SKU-${k}`).map((m) => (m.value as { n: number }).n);
      assert.deepEqual(ns, [...ns].sort((a, b) => a - b), `order of SKU-${k}`);
    }
  });

  it('publishes a list of several MB whose keys crowd one partition (each record batch stays under the broker limit), in order', async function () {
    this.timeout(60_000);
    const t = `${config.kafka.topicPrefix}.large`;
    const bus = newBus();
    await ensureTopics(await bus.getAdmin(), [t], 4, 1);
    // ~6 MB in one call, 90 % under one key: one partition receives far more than message.max.bytes (1 MB).
    const pad = 'x'.repeat(1000);
    const sent = Array.from({ length: 6000 }, (_, i) => ({ key: i % 10 === 0 ? `SKU-${i % 7}` : 'HOT', value: { n: i, pad } }));
    await bus.publish(t, sent);
    const got: DecodedMessage[] = [];
    await bus.consume({ groupId: `g-${randomSuffix()}`, topics: [t] }, async (b) => {
      got.push(...b.messages);
    });
    await until(() => got.length >= sent.length, 40_000);
    assert.equal(got.length, sent.length);
    const hot = got.filter((m) => m.key === 'HOT').map((m) => (m.value as { n: number }).n);
    assert.deepEqual(hot, sent.filter((m) => m.key === 'HOT').map((m) => m.value.n));
  });

  it('commits offsets only after the handler succeeds, so a failed batch is delivered again', async () => {
    const t = `${config.kafka.topicPrefix}.redeliver`;
    const bus = newBus();
    await ensureTopics(await bus.getAdmin(), [t], 1, 1);
    await bus.publish(t, [{ key: 'A', value: { n: 1 } }]);
    let attempts = 0;
    let done = false;
    await bus.consume({ groupId: `g-${randomSuffix()}`, topics: [t] }, async () => {
      attempts++;
      if (attempts === 1) throw new Error('effect failed');
      done = true;
    });
    await until(() => done);
    assert.equal(attempts, 2);
  });

  it('marks a value that is not JSON as malformed instead of crashing the consumer', async () => {
    const t = `${config.kafka.topicPrefix}.malformed`;
    const bus = newBus();
    await ensureTopics(await bus.getAdmin(), [t], 1, 1);
    const producer = await bus.connectProducer();
    await producer.send({ topic: t, messages: [{ key: 'A', value: 'not json{' }] });
    const got: DecodedMessage[] = [];
    await bus.consume({ groupId: `g-${randomSuffix()}`, topics: [t] }, async (b) => {
      got.push(...b.messages);
    });
    await until(() => got.length === 1);
    assert.equal(got[0]!.malformed, true);
    assert.equal(got[0]!.rawValue?.toString(), 'not json{');
  });
});
