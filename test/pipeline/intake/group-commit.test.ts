import assert from 'node:assert/strict';
import { EventStore } from '../../../src/pipeline/intake/event-store.js';
import { GroupCommit } from '../../../src/pipeline/intake/group-commit.js';
import type { NewRawEvent } from '../../../src/connectors/types.js';
import { isolate, type Isolation } from '../../support/isolation.js';

const delivery = (i: number, key = `webhook-${i}`): NewRawEvent => ({
  platform: 'shopify', instance: 'main', eventType: 'inventory_levels/update', entityRef: `level-${i}`, origin: 'webhook', dedupeKey: key,
  occurredAt: new Date().toISOString(), sku: `SKU-${i}`,
  payload: { kind: 'inventory', sku: `SKU-${i}`, available: i, updatedAt: new Date().toISOString(), refs: { id: `v-${i}` } },
});

describe('GroupCommit: the intake stores concurrent deliveries together (real PostgreSQL)', function () {
  this.timeout(60_000);
  let iso: Isolation;
  let store: EventStore;
  let statements: number[];
  let group: GroupCommit;
  before(async () => {
    iso = await isolate('group_commit');
  });
  beforeEach(async () => {
    await iso.pool.query('truncate source_events, outbox');
    store = new EventStore(iso.pool);
    statements = [];
    group = new GroupCommit({ store: (batch) => { statements.push(batch.length); return store.store(batch); } }, 50);
  });
  after(async () => iso?.cleanup());

  it('stores a lone delivery at once, in a statement of its own', async () => {
    const r = await group.add([delivery(1)]);
    assert.equal(r.stored.length, 1);
    assert.deepEqual(statements, [1]);
  });

  it('stores deliveries that arrive while a statement runs in the next one, and answers each with its own events', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => group.add([delivery(i)])));
    assert.equal(statements[0], 1, 'the first is not held back');
    assert.ok(statements.length < 10, `${statements.length} statements for 40 deliveries`);
    results.forEach((r, i) => assert.deepEqual(r.stored.map((e) => e.entityRef), [`level-${i}`]));
    assert.equal((await iso.pool.query('select count(*)::int as n from source_events')).rows[0].n, 40);
    assert.equal((await iso.pool.query('select count(*)::int as n from outbox')).rows[0].n, 40);
  });

  it('keeps statements within the size limit', async () => {
    await Promise.all(Array.from({ length: 130 }, (_, i) => group.add([delivery(i)])));
    assert.ok(Math.max(...statements) <= 50, JSON.stringify(statements));
    assert.equal(statements.reduce((a, b) => a + b, 0), 130);
  });

  it('stores a delivery sent twice at once one time, and tells the second caller it was a duplicate', async () => {
    const inFlight = group.add([delivery(0)]); // a statement runs, so both copies wait and go together
    const [a, b] = await Promise.all([group.add([delivery(7, 'same')]), group.add([delivery(7, 'same')]), inFlight]);
    assert.deepEqual(statements, [1, 2]);
    assert.deepEqual([a.stored.length, a.duplicates, b.stored.length, b.duplicates], [1, 0, 0, 1]);
    assert.equal((await iso.pool.query(`select count(*)::int as n from source_events where dedupe_key = 'same'`)).rows[0].n, 1);
  });

  it('fails every caller of a statement that failed, and goes on with the next ones', async () => {
    let fail = true;
    const flaky = new GroupCommit({ store: async (batch) => { if (fail) { fail = false; throw new Error('database down'); } return store.store(batch); } });
    const first = flaky.add([delivery(1)]);
    await assert.rejects(first, /database down/);
    const r = await flaky.add([delivery(2)]);
    assert.equal(r.stored.length, 1);
  });
});
