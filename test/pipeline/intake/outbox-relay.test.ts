import assert from 'node:assert/strict';
import { EventStore } from '../../../src/pipeline/intake/event-store.js';
import { OutboxRelay } from '../../../src/pipeline/intake/outbox-relay.js';
import type { KafkaBus, OutMessage } from '../../../src/pipeline/kafka/bus.js';
import { pipelineTopics } from '../../../src/pipeline/kafka/topics.js';
import type { NewRawEvent } from '../../../src/connectors/types.js';
import { isolate, type Isolation } from '../../support/isolation.js';

/** A KafkaBus stand-in that records what is published and fails the publications it is told to. */
class RecordingBus {
  readonly published: OutMessage[] = [];
  /** Fails the publish call whose (0-based) number is in this set. */
  readonly failCalls = new Set<number>();
  calls = 0;
  /** Delay of each publish (ms): lets the relay claim its next round meanwhile. */
  delayMs = 20;
  async publish(_topic: string, messages: OutMessage[]): Promise<void> {
    const n = this.calls++;
    await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failCalls.has(n)) throw new Error(`publish ${n} refused`);
    this.published.push(...messages);
  }
}

const ev = (i: number): NewRawEvent => ({
  platform: 'erp',
  instance: 'default',
  eventType: 'erp.items',
  entityRef: `SKU-${i}`,
  origin: 'cdc',
  dedupeKey: `lsn:${1000 + i}:public.items:SKU-${i}`,
  occurredAt: new Date().toISOString(),
  sku: `SKU-${i}`,
  payload: { kind: 'product', productId: `SKU-${i}`, updatedAt: String(1000 + i), variants: [{ id: `SKU-${i}`, sku: `SKU-${i}`, price: String(i) }] },
});
const skuOf = (m: OutMessage) => (JSON.parse(m.json!) as { sku: string }).sku;
const until = async (what: string, fn: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`${what} not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('OutboxRelay (real PostgreSQL, recording bus)', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let store: EventStore;
  const outboxSize = async () => Number((await iso.pool.query<{ n: string }>('select count(*)::text as n from outbox')).rows[0]!.n);

  before(async () => {
    iso = await isolate('relay');
    store = new EventStore(iso.pool);
  });
  after(async () => {
    await iso?.cleanup();
  });
  const relayTo = (bus: RecordingBus, idlePollMs = 100) => new OutboxRelay(iso.pool, iso.config.database.url, bus as unknown as KafkaBus, pipelineTopics(iso.config.kafka.topicPrefix), { batchSize: 100, idlePollMs });
  /** Stores `n` events, runs a relay until all are published and the outbox is empty; returns the SKUs in publication order. */
  const relayBacklog = async (bus: RecordingBus, n: number, ms?: number) => {
    const relay = relayTo(bus);
    await store.store(Array.from({ length: n }, (_, i) => ev(i)));
    await relay.start();
    try {
      await until(`all ${n} published`, () => bus.published.length >= n, ms);
      await until('the outbox empty', async () => (await outboxSize()) === 0);
    } finally {
      await relay.stop();
    }
    return bus.published.map(skuOf);
  };
  beforeEach(async () => {
    await iso.pool.query('delete from outbox');
    await iso.pool.query('delete from source_events');
  });

  it('relays a backlog of many rounds in outbox order, each event once, and empties the outbox', async () => {
    assert.deepEqual(await relayBacklog(new RecordingBus(), 1050), Array.from({ length: 1050 }, (_, i) => `SKU-${i}`));
  });

  it('when a round fails to publish, the round claimed behind it is given back too: order kept, nothing lost', async () => {
    const bus = new RecordingBus();
    bus.failCalls.add(1); // the second round fails (the third is already claimed by then)
    assert.deepEqual(await relayBacklog(bus, 450, 20_000), Array.from({ length: 450 }, (_, i) => `SKU-${i}`));
  });

  it('the store wakes the relay right after its commit (no poll wait)', async () => {
    const bus = new RecordingBus();
    bus.delayMs = 0;
    const relay = relayTo(bus, 60_000);
    await relay.start();
    try {
      await new Promise((r) => setTimeout(r, 200)); // the first (empty) round is over: the relay now waits
      const t0 = Date.now();
      await store.store([ev(1)]);
      await until('the event published', () => bus.published.length === 1, 5000);
      assert.ok(Date.now() - t0 < 1000, `published ${Date.now() - t0} ms after the store`);
    } finally {
      await relay.stop();
    }
  });
});
