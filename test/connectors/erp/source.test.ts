import assert from 'node:assert/strict';
import { lsnVersion } from '../../../src/core/versions.js';
import { basePrice, erpSku } from '../../../src/simulators/erp/index.js';
import { erpFixture, type ErpFixture } from './fixture.js';

describe('ErpCdcSource (real Kafka Connect + Debezium + PostgreSQL)', function () {
  this.timeout(90_000);
  let f: ErpFixture;
  /** The seeded total available of a SKU (sum over warehouses). */
  const totalOf = async (sku: string) =>
    Number((await f.erpSql<{ a: string }>('select coalesce(sum(on_hand - reserved), 0)::text as a from stock_levels where sku = $1', [sku])).rows[0]!.a);
  const lsnOf = (dedupeKey: string) => dedupeKey.split(':')[1]!;

  before(async function () {
    this.timeout(300_000);
    f = await erpFixture('erp_src');
  });
  after(async function () {
    this.timeout(120_000);
    await f?.cleanup();
  });

  it('stores the initial snapshot of existing items and stock as backfill events', async () => {
    const skus = [1, 2, 3].flatMap((p) => [1, 2].map((v) => erpSku(p, v)));
    const evs = await f.waitEvents('6 product and 6 inventory snapshot events', (e) => {
      const snap = e.filter((x) => x.origin === 'backfill');
      const products = snap.filter((x) => x.data.kind === 'product');
      const stock = new Set(snap.filter((x) => x.data.kind === 'inventory').map((x) => x.sku));
      return products.length >= 6 && stock.size >= 6 && snap;
    });
    for (const sku of skus) {
      const p = evs.find((x) => x.data.kind === 'product' && x.sku === sku)!;
      assert.equal(p.event_type, 'erp.items');
      assert.deepEqual((p.data.variants as Array<{ sku: string; price: string }>).map((v) => [v.sku, v.price]), [[sku, basePrice(sku)]]);
      assert.equal(p.data.updatedAt, lsnVersion(lsnOf(p.dedupe_key)));
      const inv = evs.filter((x) => x.data.kind === 'inventory' && x.sku === sku);
      assert.ok(inv.every((x) => x.data.available === undefined || typeof x.data.available === 'number'));
      assert.equal(inv.at(-1)!.data.available, await totalOf(sku));
    }
  });

  it('turns an item insert and a price update into product events versioned by their WAL position', async () => {
    const sku = 'SKU-SRC-NEW';
    await f.erpSql("insert into items (sku, name, price) values ($1, 'Source probe', 10.50)", [sku]);
    await f.erpSql("update items set price = 12.00, name = 'Source probe 2', updated_at = now() where sku = $1", [sku]);
    const evs = await f.waitEvents('insert and update of the probe', (e) => {
      const mine = e.filter((x) => x.sku === sku && x.data.kind === 'product');
      return mine.length >= 2 && mine;
    });
    const [ins, upd] = evs;
    assert.equal(ins!.origin, 'cdc');
    assert.deepEqual(ins!.data.variants, [{ id: sku, sku, price: '10.50', title: 'Source probe' }]);
    assert.equal((upd!.data.variants as Array<{ price: string }>)[0]!.price, '12.00');
    assert.equal(upd!.data.title, 'Source probe 2');
    assert.equal(upd!.data.status, 'active');
    assert.ok(BigInt(String(ins!.data.updatedAt)) < BigInt(String(upd!.data.updatedAt)));
    assert.equal(upd!.data.updatedAt, lsnVersion(lsnOf(upd!.dedupe_key)));
    assert.match(upd!.dedupe_key, /^lsn:\d+:public\.items:SKU-SRC-NEW$/);
  });

  it('turns a stock change in one warehouse into the SKU\'s total available over all warehouses', async () => {
    const sku = erpSku(2, 1);
    await f.erpSql("update stock_levels set on_hand = on_hand + 7, updated_at = now() where sku = $1 and warehouse = 'OUTLET'", [sku]);
    const expected = await totalOf(sku);
    const ev = await f.waitEvents('the stock event', (e) => e.filter((x) => x.sku === sku && x.origin === 'cdc' && x.data.kind === 'inventory').at(-1));
    assert.equal(ev.event_type, 'erp.stock_levels');
    assert.equal(ev.data.available, expected);
    assert.deepEqual(ev.data.refs, { id: sku });
    assert.match(ev.dedupe_key, new RegExp(`^lsn:\\d+:public\\.stock_levels:${sku}/OUTLET$`));
    // the value is read after the change, so its version is at or past the change's WAL position
    assert.ok(BigInt(String(ev.data.updatedAt)) >= BigInt(lsnOf(ev.dedupe_key)));
  });

  it('reports a SKU whose stock drops to zero as available 0 (not as a missing SKU)', async () => {
    const sku = erpSku(3, 1);
    await f.erpSql('update stock_levels set on_hand = reserved, updated_at = now() where sku = $1', [sku]);
    await f.waitEvents('available 0', (e) => e.some((x) => x.sku === sku && x.origin === 'cdc' && x.data.kind === 'inventory' && x.data.available === 0));
  });

  it('turns an item delete into product_deleted with the SKU and skips the tombstone', async () => {
    const sku = 'SKU-SRC-DEL';
    await f.erpSql("insert into items (sku, name, price) values ($1, 'to delete', 1)", [sku]);
    await f.erpSql('delete from items where sku = $1', [sku]);
    const del = await f.waitEvents('the deletion', (e) => e.find((x) => x.sku === sku && x.data.kind === 'product_deleted'));
    assert.deepEqual(del.data.skus, [sku]);
    assert.equal(del.data.productId, sku);
    assert.equal(del.origin, 'cdc');
    const before = f.conn.source.stats.skipped;
    await f.erpSql("update items set price = price where sku = $1", [erpSku(1, 1)]); // a later change proves the stream went on
    await f.waitEvents('a later change', (e) => e.filter((x) => x.sku === erpSku(1, 1) && x.origin === 'cdc').length >= 1);
    assert.ok(f.conn.source.stats.skipped >= Math.min(before, 1), 'tombstones are skipped, not stored');
    assert.equal((await f.events(sku)).length, 2, 'insert + delete, nothing for the tombstone');
  });

  it('dead-letters a row without a SKU with the row, and keeps consuming', async () => {
    await f.erpSql("insert into items (sku, name, price) values ('   ', 'no sku here', 3)");
    await f.erpSql("update items set price = 21.00 where sku = $1", [erpSku(3, 2)]);
    await f.waitEvents('the change after the bad row', (e) => e.some((x) => x.sku === erpSku(3, 2) && (x.data.variants as Array<{ price: string }> | undefined)?.[0]?.price === '21.00'));
    const dl = await f.iso.pool.query<{ error_code: string; stage: string; source_key: string; payload: { after: { name: string } } }>(
      "select error_code, stage, source_key, payload from dead_letters where source_key = 'erp'",
    );
    assert.equal(dl.rowCount, 1);
    assert.equal(dl.rows[0]!.error_code, 'NO_SKU');
    assert.equal(dl.rows[0]!.stage, 'intake');
    assert.equal(dl.rows[0]!.payload.after.name, 'no sku here');
  });

  it('stores a replayed batch of the same changes only once (dedupe by WAL position)', async () => {
    const sku = erpSku(1, 2);
    await f.erpSql('update items set price = 33.30 where sku = $1', [sku]);
    const ev = await f.waitEvents('the price change', (e) => e.find((x) => x.sku === sku && (x.data.variants as Array<{ price: string }> | undefined)?.[0]?.price === '33.30'));
    const lsn = Number(lsnOf(ev.dedupe_key));
    const envelope = {
      before: null,
      after: { sku, name: 'x', price: '33.30', active: true },
      op: 'u',
      source: { ts_ms: Date.now(), schema: 'public', table: 'items', lsn, txId: 1, origin: null },
    };
    const r = await f.conn.source.handle([{ topic: 't', offset: '0', value: envelope }]);
    assert.equal(r.stored, 0);
    assert.equal((await f.events(sku)).filter((x) => x.dedupe_key === ev.dedupe_key).length, 1);
  });

  it('stores a batch larger than storeChunkSize in chunks, in the batch\'s order, and a replay of it stores nothing', async () => {
    const n = 2 * f.iso.config.sources.erp!.storeChunkSize + 500; // three chunks, the last one partial
    const records = Array.from({ length: n }, (_, i) => ({
      topic: 't',
      offset: String(i),
      value: {
        before: null,
        after: { sku: `SKU-CHUNK-${i}`, name: 'chunked', price: '1.00', active: true },
        op: 'c',
        source: { ts_ms: Date.now(), schema: 'public', table: 'items', lsn: 9_000_000_000 + i, txId: 2, origin: null },
      },
    }));
    const first = await f.conn.source.handle(records);
    assert.equal(first.stored, n);
    assert.equal(first.events.length, n);
    // the relay publishes by outbox sequence: the chunks were written one after the other, in order
    const queued = await f.iso.pool.query<{ sku: string }>("select s.sku from outbox o join source_events s using (event_id) where s.sku like 'SKU-CHUNK-%' order by o.seq");
    assert.deepEqual(queued.rows.map((x) => x.sku), records.map((r) => r.value.after.sku));
    const replay = await f.conn.source.handle(records);
    assert.equal(replay.stored, 0);
    const count = await f.iso.pool.query<{ n: string }>("select count(*)::text as n from source_events where sku like 'SKU-CHUNK-%'");
    assert.equal(Number(count.rows[0]!.n), n);
  });
});
