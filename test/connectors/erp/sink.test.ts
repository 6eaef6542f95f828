import assert from 'node:assert/strict';
import type { SinkResult, SinkWrite } from '../../../src/connectors/types.js';
import { ErpSink } from '../../../src/connectors/erp/index.js';
import { newId } from '../../../src/core/ids.js';
import { erpSku } from '../../../src/simulators/erp/index.js';
import { erpFixture, type ErpFixture } from './fixture.js';

describe('ErpSink (ERP writer, real PostgreSQL + Debezium for echo suppression)', function () {
  this.timeout(90_000);
  let f: ErpFixture;
  let seq = 0;

  const stockOf = async (sku: string) =>
    (await f.erpSql<{ available: string; reserved: string }>(
      'select sum(on_hand - reserved)::text as available, sum(reserved)::text as reserved from stock_levels where sku = $1', [sku],
    )).rows.map((r) => ({ available: Number(r.available), reserved: Number(r.reserved) }))[0]!;
  const line = (sku: string, orderId: string, lineId: string, quantity: number, key = newId()): SinkWrite => ({
    writeId: newId(),
    sku,
    kind: 'order_line' as SinkWrite['kind'],
    idempotencyKey: key,
    refs: { id: sku },
    payload: {
      channel: 'shopify:main', orderId, lineId, quantity, status: quantity > 0 ? 'COMMITTED' : 'CANCELLED', pendingDelta: 0, price: '9.99',
      order: { orderId, name: `#${orderId}`, currency: 'EUR', createdAt: new Date().toISOString(), lineCount: 1 },
    },
  });
  const ok = (r: SinkResult | undefined) => {
    assert.equal(r?.status, 'ok', JSON.stringify(r));
    return (r as Extract<SinkResult, { status: 'ok' }>).applied as { available: number; version: string };
  };
  const order = () => `order-${++seq}-${newId().slice(0, 8)}`;

  before(async function () {
    this.timeout(300_000);
    f = await erpFixture('erp_sink', { products: 4, variants: 2 });
    // the snapshot is in before the writer starts, so later stock events are the writer's or ours
    await f.waitEvents('the snapshot', (e) => e.filter((x) => x.origin === 'backfill').length >= 16);
  });
  after(async function () {
    this.timeout(120_000);
    await f?.cleanup();
  });

  it('applies an order line once even when it is sent twice, and reports the SKU\'s available with a WAL version', async () => {
    const sku = erpSku(1, 1);
    const before = await stockOf(sku);
    const w = line(sku, order(), 'L1', 2);
    const first = ok((await f.conn.sink.write([w]))[0]);
    assert.equal(first.available, before.available - 2);
    assert.match(first.version, /^\d{20}$/);
    const again = ok((await f.conn.sink.write([{ ...w, writeId: newId() }]))[0]);
    assert.equal(again.available, first.available, 'a replay reports the original outcome');
    assert.deepEqual(await stockOf(sku), { available: before.available - 2, reserved: before.reserved + 2 });
    const rows = await f.erpSql<{ status: string; qty: number; channel: string }>(
      `select o.status, l.qty, o.channel from sales_orders o join sales_order_lines l on l.order_id = o.id where o.channel_order_id = $1`,
      [(w.payload as { orderId: string }).orderId],
    );
    assert.deepEqual(rows.rows, [{ status: 'open', qty: 2, channel: 'shopify:main' }]);
  });

  it('applies the difference when a line\'s quantity changes', async () => {
    const sku = erpSku(2, 1);
    const o = order();
    const before = await stockOf(sku);
    ok((await f.conn.sink.write([line(sku, o, 'L1', 2)]))[0]);
    const after = ok((await f.conn.sink.write([line(sku, o, 'L1', 5)]))[0]);
    assert.equal(after.available, before.available - 5);
    const down = ok((await f.conn.sink.write([line(sku, o, 'L1', 1)]))[0]);
    assert.equal(down.available, before.available - 1);
    assert.equal((await stockOf(sku)).reserved, before.reserved + 1);
  });

  it('restocks on cancellation: the line leaves the order, the order is cancelled, reserved returns', async () => {
    const sku = erpSku(3, 1);
    const o = order();
    const before = await stockOf(sku);
    ok((await f.conn.sink.write([line(sku, o, 'L1', 3)]))[0]);
    const cancelled = ok((await f.conn.sink.write([line(sku, o, 'L1', 0)]))[0]);
    assert.equal(cancelled.available, before.available);
    assert.deepEqual(await stockOf(sku), before);
    const r = await f.erpSql<{ status: string; lines: string }>(
      'select status, (select count(*) from sales_order_lines l where l.order_id = o.id)::text as lines from sales_orders o where channel_order_id = $1', [o],
    );
    assert.deepEqual(r.rows, [{ status: 'cancelled', lines: '0' }]);
  });

  it('reports an unknown SKU as permanent ERP_UNKNOWN_SKU and applies the other lines of the batch', async () => {
    const sku = erpSku(4, 1);
    const before = await stockOf(sku);
    const o = order();
    const good = line(sku, o, 'L1', 1);
    const bad = line('NO-SUCH-SKU', o, 'L2', 1);
    const good2 = line(erpSku(4, 2), o, 'L3', 1);
    const res = await f.conn.sink.write([good, bad, good2]);
    assert.equal(res[0]?.status, 'ok');
    assert.deepEqual(res[1] && { status: res[1].status, code: (res[1] as { code: string }).code }, { status: 'permanent', code: 'ERP_UNKNOWN_SKU' });
    assert.equal(res[2]?.status, 'ok');
    assert.equal((await stockOf(sku)).available, before.available - 1);
  });

  it('splits a large batch into transactions at once, whole orders each, applying every line once in batch order', async () => {
    const skus = [1, 2, 3, 4].flatMap((p) => [erpSku(p, 1), erpSku(p, 2)]);
    const before = new Map(await Promise.all(skus.map(async (s) => [s, await stockOf(s)] as const)));
    const orders = Array.from({ length: 8 }, () => order());
    // two lines per order on SKUs shared between orders; the last order sets its first line twice (1, then 2)
    const batch = orders.flatMap((o, i) => [line(skus[i]!, o, 'L1', 1), line(skus[(i + 3) % 8]!, o, 'L2', 1)]);
    batch.push(line(skus[7]!, orders[7]!, 'L1', 2));
    const res = await f.conn.sink.write(batch);
    assert.deepEqual(res.map((r) => r.status), batch.map(() => 'ok'));
    const moved = new Map(skus.map((s) => [s, 0]));
    orders.forEach((_, i) => {
      moved.set(skus[i]!, moved.get(skus[i]!)! + (i === 7 ? 2 : 1));
      moved.set(skus[(i + 3) % 8]!, moved.get(skus[(i + 3) % 8]!)! + 1);
    });
    for (const s of skus) assert.equal((await stockOf(s)).reserved, before.get(s)!.reserved + moved.get(s)!, s);
    const lines = await f.erpSql<{ channel_order_id: string; line_no: number; sku: string; qty: number }>(
      `select o.channel_order_id, l.line_no, l.sku, l.qty from sales_orders o join sales_order_lines l on l.order_id = o.id where o.channel_order_id = any($1) order by o.channel_order_id, l.line_no`,
      [orders],
    );
    const expected = orders.flatMap((o, i) => [
      { channel_order_id: o, line_no: 1, sku: skus[i]!, qty: i === 7 ? 2 : 1 },
      { channel_order_id: o, line_no: 2, sku: skus[(i + 3) % 8]!, qty: 1 },
    ]);
    assert.deepEqual(lines.rows, expected.sort((a, b) => a.channel_order_id.localeCompare(b.channel_order_id) || a.line_no - b.line_no));
    const txs = await f.erpSql<{ n: string }>('select count(distinct xid32)::text as n from syncctl_applied_writes where key = any($1)', [batch.map((w) => w.idempotencyKey)]);
    assert.ok(Number(txs.rows[0]!.n) > 1, 'the batch was written in one transaction');
  });

  it('refuses absolute stock writes: the ERP is the authority (permanent ERP_NOT_WRITABLE)', async () => {
    const w: SinkWrite = { writeId: newId(), sku: erpSku(1, 2), kind: 'inventory', idempotencyKey: newId(), refs: { id: erpSku(1, 2) }, payload: { available: 5 } };
    const [r] = await f.conn.sink.write([w]);
    assert.deepEqual(r && { status: r.status, code: (r as { code: string }).code }, { status: 'permanent', code: 'ERP_NOT_WRITABLE' });
  });

  it('reads available (over all warehouses), price and name per SKU, leaving unknown SKUs out', async () => {
    const sku = erpSku(1, 2);
    const [r, ...rest] = await f.conn.sink.read([sku, 'NO-SUCH-SKU']);
    assert.equal(rest.length, 0);
    assert.equal(r?.sku, sku);
    assert.equal(r?.available, (await stockOf(sku)).available);
    assert.match(String(r?.price), /^\d+\.\d\d$/);
    assert.deepEqual(r?.refs, { id: sku });
  });

  it('writes under its own replication origin, and the source drops those changes (no echo)', async () => {
    const sku = erpSku(2, 2);
    const echoesBefore = f.conn.source.stats.echoes;
    ok((await f.conn.sink.write([line(sku, order(), 'L1', 1)]))[0]);
    assert.equal(f.conn.sink.echoSuppression, 'origin');
    const origins = await f.erpSql<{ roname: string }>("select roname from pg_replication_origin where roname like 'syncctl_writer_%'");
    assert.ok(origins.rowCount! >= 1);
    // an outside change after the write: once it is in, the write's CDC events have been consumed
    const marker = erpSku(3, 2);
    await f.erpSql("update stock_levels set on_hand = on_hand + 1 where sku = $1 and warehouse = 'MAIN'", [marker]);
    await f.waitEvents('the outside change', (e) => e.some((x) => x.sku === marker && x.origin === 'cdc'));
    assert.equal((await f.events(sku)).filter((x) => x.origin === 'cdc').length, 0, 'the writer\'s change came back as an event');
    assert.ok(f.conn.source.stats.echoes >= echoesBefore + 3, `echoes: ${f.conn.source.stats.echoes - echoesBefore}`); // header, line, stock (+ updates)
  });

  it('gives each writer connection its own origin, so two writers at once both tag their changes', async () => {
    const other = new ErpSink({ erp: f.iso.config.sources.erp! });
    try {
      const [a, b] = await Promise.all([
        f.conn.sink.write([line(erpSku(1, 2), order(), 'L1', 1)]),
        other.write([line(erpSku(2, 2), order(), 'L1', 1)]),
      ]);
      ok(a[0]);
      ok(b[0]);
      assert.equal(other.echoSuppression, 'origin');
      const active = await f.erpSql<{ n: string }>("select count(distinct external_id)::text as n from pg_replication_origin_status where external_id like 'syncctl_writer_%'");
      assert.ok(Number(active.rows[0]!.n) >= 2);
    } finally {
      await other.close();
    }
  });

  it('falls back to transaction ids by itself when its role may not use replication origins', async () => {
    const role = `erp_writer_${newId().slice(0, 8)}`;
    const u = new URL(f.url);
    u.username = role;
    await f.erpSql(`create role ${role} login`);
    await f.erpSql(`grant create on schema public to ${role}; grant select, insert, update, delete on all tables in schema public to ${role}; grant usage on all sequences in schema public to ${role}`);
    const sink = new ErpSink({ erp: { ...f.iso.config.sources.erp!, databaseUrl: u.toString() }, originPrefix: `${role}_origin` });
    try {
      ok((await sink.write([line(erpSku(1, 1), order(), 'L1', 1)]))[0]);
      assert.equal(sink.echoSuppression, 'txid');
    } finally {
      await sink.close();
      await f.erpSql(`drop owned by ${role}; drop role ${role}`).catch(() => undefined);
    }
  });

  it('without replication origins, falls back to recorded transaction ids, which the source drops too', async () => {
    const sink = new ErpSink({ erp: f.iso.config.sources.erp!, echoSuppression: 'txid', originPrefix: 'syncctl_writer' });
    try {
      const sku = erpSku(4, 2);
      const echoesBefore = f.conn.source.stats.echoes;
      ok((await sink.write([line(sku, order(), 'L1', 2)]))[0]);
      assert.equal(sink.echoSuppression, 'txid');
      const marker = erpSku(3, 2);
      const n = (await f.events(marker)).filter((x) => x.origin === 'cdc').length;
      await f.erpSql("update stock_levels set on_hand = on_hand + 1 where sku = $1 and warehouse = 'MAIN'", [marker]);
      await f.waitEvents('the outside change', (e) => e.filter((x) => x.sku === marker && x.origin === 'cdc').length > n);
      assert.equal((await f.events(sku)).filter((x) => x.origin === 'cdc').length, 0, 'the writer\'s change came back as an event');
      assert.ok(f.conn.source.stats.echoes >= echoesBefore + 3, `echoes: ${f.conn.source.stats.echoes - echoesBefore}`);
    } finally {
      await sink.close();
    }
  });
});
