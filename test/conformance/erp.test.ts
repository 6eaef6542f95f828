// The ERP connector in the shared conformance suite, and the same behaviours through the ERP's
// own channel. The ERP is a CDC source (no polling, no webhooks) and the stock authority (no
// absolute stock writes): the suite's poll-based and absolute-write cases are skipped through
// `capabilities`, and the cases below cover ingest, dedupe, resume, idempotent and partial
// writes with Debezium events and order-line writes instead.
import { strict as assert } from 'node:assert';
import { PermanentError } from '../../src/core/errors.js';
import { newId } from '../../src/core/ids.js';
import type { PlatformRefs } from '../../src/core/model.js';
import type { SinkResult, SinkWrite, SourceConnector } from '../../src/connectors/types.js';
import { erpSku } from '../../src/simulators/erp/index.js';
import { erpFixture, type ErpFixture } from '../connectors/erp/fixture.js';
import type { ConformanceHarness } from './harness.js';
import { conformance } from './suite.js';

class ErpHarness implements ConformanceHarness {
  readonly name = 'erp';
  readonly capabilities = { poll: false, absoluteStockWrites: false };
  f!: ErpFixture;

  async setup(): Promise<void> {
    this.f = await erpFixture('conf_erp', { products: 6, variants: 2 });
  }
  async teardown(): Promise<void> {
    await this.f?.cleanup();
  }
  source(): SourceConnector {
    return {
      platform: 'erp',
      instance: 'default',
      key: 'erp',
      pollResources: [],
      verifyAndParse: async () => ({ kind: 'ignored', reason: 'the ERP has no webhooks: its changes arrive through CDC' }),
      poll: async () => {
        throw new PermanentError('ERP_NOT_POLLED', 'The ERP is read through change data capture, not polled.');
      },
    };
  }
  sink() {
    return this.f.conn.sink;
  }
  sku(i: number): string {
    return erpSku(Math.floor(i / 2) + 1, (i % 2) + 1);
  }
  async refsOf(sku: string): Promise<PlatformRefs> {
    return { id: sku };
  }
  platform = {
    setPrice: async (sku: string, price: string) => {
      await this.f.erpSql('update items set price = $2, updated_at = now() where sku = $1', [sku, price]);
    },
    setStock: async (sku: string, available: number) => {
      // the whole quantity in MAIN, nothing elsewhere: available = on_hand − reserved over all warehouses
      await this.f.erpSql(
        `update stock_levels set on_hand = case when warehouse = 'MAIN' then $2 + reserved else reserved end, updated_at = now() where sku = $1`,
        [sku, available],
      );
    },
    readStock: async (sku: string) =>
      Number((await this.f.erpSql<{ a: string }>('select coalesce(sum(on_hand - reserved), 0)::text as a from stock_levels where sku = $1', [sku])).rows[0]!.a),
    placeOrder: async (lines: Array<{ sku: string; quantity: number }>) => {
      const r = await this.f.erpSql<{ id: string }>("insert into sales_orders (channel, channel_order_id) values ('erp', $1) returning id::text", [newId()]);
      const id = r.rows[0]!.id;
      for (const [i, l] of lines.entries()) {
        await this.f.erpSql('insert into sales_order_lines (order_id, line_no, sku, qty, price) values ($1, $2, $3, $4, 1)', [id, i + 1, l.sku, l.quantity]);
      }
      return id;
    },
    cancelOrder: async (orderId: string) => {
      await this.f.erpSql("update sales_orders set status = 'cancelled' where id = $1", [orderId]);
    },
    deleteProduct: async (sku: string) => {
      await this.f.erpSql('delete from items where sku = $1', [sku]);
    },
  };
  takeDeliveries() {
    return null;
  }
  badWriteRefs(): PlatformRefs {
    return { id: 'NO-SUCH-SKU' };
  }
}

conformance(new ErpHarness());

describe('erp connector conformance through CDC and order-line writes', function () {
  this.timeout(90_000);
  const h = new ErpHarness();
  before(async function () {
    this.timeout(300_000);
    await h.setup();
  });
  after(async function () {
    this.timeout(120_000);
    await h.teardown();
  });
  const line = (sku: string, orderId: string, quantity: number, key = newId()): SinkWrite => ({
    writeId: newId(), sku, kind: 'order_line' as SinkWrite['kind'], idempotencyKey: key, refs: { id: sku },
    payload: { channel: 'woocommerce:main', orderId, lineId: '1', quantity, status: 'COMMITTED', pendingDelta: -quantity, price: '1.00', order: { orderId } },
  });

  it('ingests a price change as a product event naming the SKU', async () => {
    const sku = h.sku(1);
    await h.platform.setPrice(sku, '42.50');
    await h.f.waitEvents('the price change', (e) => e.some((x) => x.sku === sku && x.origin === 'cdc' && (x.data.variants as Array<{ price?: string }> | undefined)?.[0]?.price === '42.50'));
  });

  it('ingests a stock change as the SKU\'s available quantity', async () => {
    const sku = h.sku(2);
    await h.platform.setStock(sku, 17);
    await h.f.waitEvents('available 17', (e) => e.some((x) => x.sku === sku && x.origin === 'cdc' && x.data.kind === 'inventory' && x.data.available === 17));
  });

  it('ingests a deletion naming the product', async () => {
    const sku = h.sku(10);
    await h.platform.deleteProduct(sku);
    await h.f.waitEvents('the deletion', (e) => e.some((x) => x.data.kind === 'product_deleted' && (x.data.skus as string[]).includes(sku)));
  });

  it('does not turn the ERP\'s own orders into channel sales (their stock effect comes through stock_levels)', async () => {
    const skipped = h.f.conn.source.stats.skipped;
    await h.platform.placeOrder([{ sku: h.sku(3), quantity: 2 }]);
    const deadline = Date.now() + 30_000;
    while (h.f.conn.source.stats.skipped < skipped + 2) {
      assert.ok(Date.now() < deadline, 'the order rows were not consumed');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(!(await h.f.events()).some((x) => x.data.kind === 'order'));
  });

  it('resumes from its committed offsets without gaps and without storing old changes again', async () => {
    await h.f.conn.source.stop();
    const sku = h.sku(6);
    await h.platform.setPrice(sku, '55.00');
    const storedBefore = h.f.conn.source.stats.stored;
    await h.f.conn.source.start();
    await h.f.waitEvents('the change made while stopped', (e) => e.some((x) => x.sku === sku && (x.data.variants as Array<{ price?: string }> | undefined)?.[0]?.price === '55.00'));
    assert.ok(h.f.conn.source.stats.stored - storedBefore < 5, `stored ${h.f.conn.source.stats.stored - storedBefore} events after the restart`);
  });

  it('applies a write once when it is sent again with the same idempotency key', async () => {
    const sku = h.sku(8);
    const before = await h.platform.readStock(sku);
    const w = line(sku, newId(), 1);
    const [a] = await h.sink().write([w]);
    const [b] = await h.sink().write([w]);
    assert.equal(a?.status, 'ok');
    assert.equal(b?.status, 'ok');
    assert.equal(await h.platform.readStock(sku), before - 1);
    const [read] = await h.sink().read([sku]);
    assert.equal(read?.available, before - 1);
  });

  it('reports a bad item of a batch as permanent and applies the others', async () => {
    const good = h.sku(9);
    const before = await h.platform.readStock(good);
    const ok = line(good, newId(), 1);
    const bad = line('NO-SUCH-SKU', newId(), 1);
    const res = await h.sink().write([ok, bad]);
    const byId = Object.fromEntries(res.map((r: SinkResult) => [r.writeId, r]));
    assert.equal(byId[ok.writeId]?.status, 'ok', JSON.stringify(res));
    assert.equal(byId[bad.writeId]?.status, 'permanent', JSON.stringify(res));
    assert.equal(await h.platform.readStock(good), before - 1);
  });
});
