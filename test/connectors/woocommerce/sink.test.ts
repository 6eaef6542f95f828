import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SinkWrite } from '../../../src/connectors/types.js';
import { createWooCommerceConnector } from '../../../src/connectors/woocommerce/index.js';
import { newId } from '../../../src/core/ids.js';
import { catalogSku } from '../../../src/simulators/woocommerce/index.js';
import { control, productBySku, startRig, type WooRig } from './support.js';

const stockOf = async (rig: WooRig, sku: string): Promise<number> => (await productBySku(rig.sim, sku)).stock_quantity;

async function refsOf(rig: WooRig, sku: string) {
  const p = await productBySku(rig.sim, sku);
  return p.parent_id ? { id: String(p.id), productId: String(p.parent_id), parentId: String(p.parent_id) } : { id: String(p.id), productId: String(p.id) };
}

const inv = (sku: string, refs: SinkWrite['refs'], available: number): SinkWrite => ({ writeId: newId(), sku, kind: 'inventory', idempotencyKey: newId(), refs, payload: { available } });

/** A fetch that counts POSTs per path. */
function countingFetch(calls: string[]): typeof fetch {
  return (async (url: string | URL, init?: RequestInit) => {
    if (init?.method === 'POST') calls.push(new URL(String(url)).pathname);
    return fetch(url, init);
  }) as typeof fetch;
}

describe('WooCommerceSink', function () {
  this.timeout(60_000);

  describe('on simple products', () => {
    let rig: WooRig;
    before(async () => {
      rig = await startRig({ products: 150 });
    });
    after(async () => rig.close());
    afterEach(() => rig.sim.setFaults({ throttlePercent: 0, loseWriteAnswersPercent: 0 }));

    it('applies the good items of a batch and reports a bad one as permanent', async () => {
      const a = catalogSku(1, 1);
      const b = catalogSku(2, 1);
      const good = [inv(a, await refsOf(rig, a), 7), inv(b, await refsOf(rig, b), 8)];
      const bad = inv('NOPE', { id: '999999' }, 1);
      const res = await rig.conn.sink.write([good[0]!, bad, good[1]!]);
      assert.deepEqual(res.map((r) => r.status), ['ok', 'permanent', 'ok']);
      assert.equal(res[1]!.status === 'permanent' && res[1]!.code, 'woocommerce_rest_product_invalid_id');
      assert.equal(await stockOf(rig, a), 7);
      assert.equal(await stockOf(rig, b), 8);
      const ok = res[0]!;
      assert.ok(ok.status === 'ok');
      assert.equal(ok.applied.available, 7);
      assert.match(String(ok.applied.version), /Z$/);
    });

    it('splits 101 items into two batch calls of at most 100', async () => {
      const calls: string[] = [];
      const conn = createWooCommerceConnector('test', rig.cfg, { fetch: countingFetch(calls), readBack: false });
      const writes: SinkWrite[] = [];
      for (let p = 1; p <= 101; p++) writes.push(inv(catalogSku(p, 1), await refsOf(rig, catalogSku(p, 1)), 50 + (p % 7)));
      const res = await conn.sink.write(writes);
      assert.ok(res.every((r) => r.status === 'ok'));
      assert.deepEqual(calls, ['/wp-json/wc/v3/products/batch', '/wp-json/wc/v3/products/batch']);
      assert.equal(await stockOf(rig, catalogSku(101, 1)), 50 + (101 % 7));
    });

    it('reports every item of a call the host keeps throttling as retriable, with Retry-After', async () => {
      const conn = createWooCommerceConnector('test', rig.cfg, { retry: { retries: 2, initialDelayMs: 1, maxDelayMs: 2 } });
      rig.sim.setFaults({ throttlePercent: 100, throttleStatus: 503 });
      const a = catalogSku(3, 1);
      const res = await conn.sink.write([inv(a, await refsOf(rig, a), 1), inv(catalogSku(4, 1), await refsOf(rig, catalogSku(4, 1)), 1)]);
      for (const r of res) {
        assert.equal(r.status, 'retriable');
        assert.ok(r.status === 'retriable' && r.retryAfterMs === 1000);
      }
    });

    it('applies a relative change by read-modify-write', async () => {
      const sku = catalogSku(5, 1);
      const before = await stockOf(rig, sku);
      const w: SinkWrite = { writeId: newId(), sku, kind: 'inventory', idempotencyKey: newId(), refs: await refsOf(rig, sku), payload: { delta: -3 } };
      const [r] = await rig.conn.sink.write([w]);
      assert.ok(r?.status === 'ok');
      assert.equal(r.applied.available, before - 3);
      assert.equal(await stockOf(rig, sku), before - 3);
    });

    it('applies an adjustment resent after its answer was lost only once: the marker saved with the quantity is read back', async () => {
      const sku = catalogSku(6, 1);
      const before = await stockOf(rig, sku);
      const w: SinkWrite = { writeId: newId(), sku, kind: 'adjust', idempotencyKey: newId(), refs: await refsOf(rig, sku), payload: { delta: -4 } };
      rig.sim.setFaults({ loseWriteAnswersPercent: 100 });
      const [lost] = await rig.conn.sink.write([w]);
      rig.sim.setFaults({ loseWriteAnswersPercent: 0 });
      assert.equal(lost?.status, 'retriable', 'no answer: the outcome is unknown');
      assert.equal(await stockOf(rig, sku), before - 4, 'WooCommerce applied it');
      const [again] = await rig.conn.sink.write([w]); // the writers resend with the same key
      assert.ok(again?.status === 'ok');
      assert.equal(again.applied.available, before - 4);
      assert.equal(again.applied.alreadyApplied, true);
      assert.equal(await stockOf(rig, sku), before - 4, 'not applied twice');
      const marker = (await productBySku(rig.sim, sku)).meta_data.find((m: { key: string }) => m.key === '_syncctl_adjustments');
      assert.match(marker.value, new RegExp(w.idempotencyKey));
    });

    it('builds several adjustments of one product in one batch on each other', async () => {
      const sku = catalogSku(7, 1);
      const before = await stockOf(rig, sku);
      const refs = await refsOf(rig, sku);
      const ws: SinkWrite[] = [-1, -2, 5].map((delta) => ({ writeId: newId(), sku, kind: 'adjust', idempotencyKey: newId(), refs, payload: { delta } }));
      const rs = await rig.conn.sink.write(ws);
      assert.deepEqual(rs.map((r) => r.status), ['ok', 'ok', 'ok']);
      assert.equal(await stockOf(rig, sku), before + 2);
      const again = await rig.conn.sink.write(ws); // all three resent: none applies again
      assert.deepEqual(again.map((r) => r.status === 'ok' && r.applied.alreadyApplied), [true, true, true]);
      assert.equal(await stockOf(rig, sku), before + 2);
    });

    it('writes price and title as WooCommerce fields', async () => {
      const sku = catalogSku(6, 1);
      const w: SinkWrite = { writeId: newId(), sku, kind: 'fields', idempotencyKey: newId(), refs: await refsOf(rig, sku), payload: { price: 12.3, title: 'Renamed' } };
      const [r] = await rig.conn.sink.write([w]);
      assert.ok(r?.status === 'ok', JSON.stringify(r));
      const p = await productBySku(rig.sim, sku);
      assert.equal(p.regular_price, '12.30');
      assert.equal(p.name, 'Renamed');
      assert.deepEqual({ ...r.applied, version: undefined }, { price: '12.30', title: 'Renamed', version: undefined });
    });

    it('finds the product by SKU when the write carries no ids', async () => {
      const sku = catalogSku(7, 1);
      const [r] = await rig.conn.sink.write([inv(sku, { id: '' }, 21)]);
      assert.equal(r?.status, 'ok');
      assert.equal(await stockOf(rig, sku), 21);
      const [missing] = await rig.conn.sink.write([inv('NO-SUCH-SKU', { id: '' }, 1)]);
      assert.ok(missing?.status === 'permanent' && missing.code === 'WOO_SKU_NOT_FOUND');
    });

    it('refuses order writes permanently', async () => {
      const [r] = await rig.conn.sink.write([{ writeId: newId(), sku: 'X', kind: 'order_line', idempotencyKey: newId(), refs: { id: '1' }, payload: {} }]);
      assert.equal(r?.status, 'permanent');
    });
  });

  describe('on variable products', () => {
    let rig: WooRig;
    before(async () => {
      rig = await startRig({ products: 3, variationsPerProduct: 2 });
    });
    after(async () => rig.close());

    it('writes variations through their parent\'s batch endpoint, one call per parent', async () => {
      const calls: string[] = [];
      const conn = createWooCommerceConnector('test', rig.cfg, { fetch: countingFetch(calls) });
      const skus = [catalogSku(1, 1), catalogSku(1, 2), catalogSku(2, 1), catalogSku(2, 2)];
      const res = await conn.sink.write(await Promise.all(skus.map(async (s, i) => inv(s, await refsOf(rig, s), 30 + i))));
      assert.ok(res.every((r) => r.status === 'ok'), JSON.stringify(res));
      assert.deepEqual(calls.sort(), [`/wp-json/wc/v3/products/${(await productBySku(rig.sim, skus[0]!)).parent_id}/variations/batch`, `/wp-json/wc/v3/products/${(await productBySku(rig.sim, skus[2]!)).parent_id}/variations/batch`].sort());
      for (const [i, s] of skus.entries()) assert.equal(await stockOf(rig, s), 30 + i);
    });

    it('reads stock, price, refs and version (date_modified_gmt) of variation SKUs', async () => {
      const sku = catalogSku(3, 2);
      const v = await productBySku(rig.sim, sku);
      const [r] = await rig.conn.sink.read([sku, 'NO-SUCH']);
      assert.deepEqual(r, { sku, available: v.stock_quantity, price: v.regular_price.includes('.') ? v.regular_price : `${v.regular_price}.00`, title: v.name, refs: { id: String(v.id), productId: String(v.parent_id), parentId: String(v.parent_id) }, version: `${v.date_modified_gmt}Z` });
    });
  });

  describe('read-back', () => {
    let rig: WooRig;
    let proxy: Server;
    let saleSku = '';
    let simUrl = '';
    const direct = (path: string, body: unknown) =>
      fetch(`${simUrl}/_sim${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
    before(async () => {
      // The simulator's own port, picked first: the proxy forwards to it, home_url names the proxy.
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const simPort = (probe.address() as AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      simUrl = `http://127.0.0.1:${simPort}`;
      // A proxy in front of the simulator places a sale right after our batch write lands and
      // before the answer reaches the sink: the read-back must see it.
      proxy = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', async () => {
          const target = `${simUrl}${req.url}`;
          const up = await fetch(target, { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) }, body: chunks.length ? Buffer.concat(chunks) : undefined });
          const body = Buffer.from(await up.arrayBuffer());
          if (req.method === 'POST' && req.url?.includes('/products/batch') && saleSku) await direct('/orders', { lines: [{ sku: saleSku, quantity: 2 }] });
          res.writeHead(up.status, Object.fromEntries([...up.headers].filter(([k]) => !['content-length', 'content-encoding', 'transfer-encoding'].includes(k))));
          res.end(body);
        });
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      rig = await startRig({ products: 5, port: simPort, siteUrl: proxyUrl, requireOAuthOverHttp: true });
    });
    after(async () => {
      await rig.close();
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    });

    it('reports the stock actually there when a sale lands between our write and the read-back', async () => {
      saleSku = catalogSku(2, 1);
      const [r] = await rig.conn.sink.write([inv(saleSku, await refsOf(rig, saleSku), 20)]);
      saleSku = '';
      assert.ok(r?.status === 'ok', JSON.stringify(r));
      assert.equal(r.applied.written, 20);
      assert.equal(r.applied.available, 18);
      const [now] = await rig.conn.sink.read([catalogSku(2, 1)]);
      assert.equal(now?.available, 18);
    });
  });
});
