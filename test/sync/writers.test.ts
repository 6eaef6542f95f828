import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { isolate, type Isolation } from '../support/isolation.js';
import { eventually } from '../support/wait.js';
import { WriterPool } from '../../src/sync/writers.js';
import { persistEffects } from '../../src/sync/effects-store.js';
import { KafkaBus } from '../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../src/pipeline/kafka/client.js';
import { DeadLetterSink } from '../../src/pipeline/dead-letter-sink.js';
import { SyncEventBus } from '../../src/core/events.js';

const TARGET = 'shopify:main';

describe('WriterPool: writes abandoned INFLIGHT by a crash (real PostgreSQL)', () => {
  let iso: Isolation;
  let writers: WriterPool;
  let n = 0;

  before(async () => {
    iso = await isolate('writers');
    const kafka = new KafkaBus(createKafka(iso.config.kafka)); // never connected: recovery only touches PostgreSQL
    const bus = new SyncEventBus();
    writers = new WriterPool(iso.pool, iso.config.database.url, kafka, 'unused', new Map(), new DeadLetterSink(iso.pool, kafka, 'unused', bus), { retry: iso.config.retry, leaseSeconds: 5, idlePollMs: 500 }, bus);
  });
  after(async () => {
    await iso?.cleanup();
  });

  const sku = () => `SKU-REC-${++n}`;
  /** A write as a crashed writer leaves it: INFLIGHT, last touched `agoSeconds` ago. */
  async function abandoned(s: string, kind: string, payload: Record<string, unknown>, agoSeconds: number): Promise<string> {
    const id = randomUUID();
    await iso.pool.query(
      `insert into planned_writes (write_id, target_key, sku, kind, payload, idempotency_key, status, attempts, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, 'INFLIGHT', 1, now() - make_interval(secs => $7), now() - make_interval(secs => $7))`,
      [id, TARGET, s, kind, JSON.stringify(payload), `key-${id}`, agoSeconds],
    );
    return id;
  }
  const rows = async (s: string) =>
    (await iso.pool.query<{ write_id: string; status: string; idempotency_key: string; payload: Record<string, unknown> }>(
      'select write_id, status, idempotency_key, payload from planned_writes where sku = $1 order by created_at',
      [s],
    )).rows;

  it('puts a write INFLIGHT past its lease back to PENDING with the same idempotency key, and leaves one within its lease alone', async () => {
    const s = sku();
    const old = await abandoned(s, 'adjust', { delta: -1 }, 60);
    const fresh = await abandoned(s, 'adjust', { delta: -2 }, 0);
    assert.equal(await writers.recoverAbandoned(), 1);
    const r = new Map((await rows(s)).map((x) => [x.write_id, x]));
    assert.equal(r.get(old)!.status, 'PENDING');
    assert.equal(r.get(old)!.idempotency_key, `key-${old}`);
    assert.equal(r.get(fresh)!.status, 'INFLIGHT');
  });

  it('keeps one pending absolute write per target, SKU and kind: the newest abandoned one, older ones folded into it', async () => {
    const s = sku();
    const older = await abandoned(s, 'inventory', { available: 5 }, 120);
    const newer = await abandoned(s, 'inventory', { available: 7 }, 60);
    assert.equal(await writers.recoverAbandoned(), 2);
    assert.deepEqual(
      (await rows(s)).map((x) => [x.write_id, x.status, x.payload.available]),
      [
        [older, 'SUPERSEDED', 5],
        [newer, 'PENDING', 7],
      ],
    );
  });

  it('folds into a pending write a sync worker commits while the recovery runs, instead of failing (the daemon must still start)', async () => {
    const s = sku();
    const lost = await abandoned(s, 'inventory', { available: 3 }, 60);
    // A sync worker plans a newer write for the same target and SKU; its transaction is still open.
    const worker = await iso.pool.connect();
    try {
      await worker.query('BEGIN');
      await persistEffects(worker, {
        writes: [{ target: TARGET, sku: s, kind: 'inventory', payload: { available: 9 }, sourceKey: 'erp', sourceEventAt: new Date().toISOString() }],
        cancels: [],
        conflicts: [],
        resolved: [],
        ledger: [],
        entityMap: [],
      });
      const recovery = writers.recoverAbandoned();
      // The recovery saw no pending write, made the abandoned one pending, and now waits on the
      // worker's uncommitted entry in the one-pending-write index.
      await eventually(async () => (await iso.pool.query("select 1 from pg_locks where not granted and locktype = 'transactionid'")).rowCount! > 0, 'the recovery waits on the worker', 10_000, 20);
      await worker.query('COMMIT');
      assert.equal(await recovery, 1);
    } finally {
      worker.release();
    }
    const r = await rows(s);
    assert.deepEqual(r.map((x) => [x.status, x.payload.available]), [
      ['SUPERSEDED', 3],
      ['PENDING', 9],
    ]);
    assert.equal(r[0]!.write_id, lost);
  });
});
