// A WooCommerce variation whose parent manages stock (`manage_stock: "parent"`) shows the parent's
// pool, shared by its sibling variations. Writing one SKU's quantity there would split the pool
// (oversell): the engine records SHARED_STOCK and never plans a stock write to such a channel.
import { strict as assert } from 'node:assert';
import { decide } from '../../src/sync/engine/decide.js';
import { emptyBundle, type SkuBundle } from '../../src/sync/state.js';
import type { DecideContext, EngineRules } from '../../src/sync/engine/types.js';
import type { InventoryObserved, ProductChanged, ProductDeleted, SaleRecorded } from '../../src/core/model.js';

const SKU = 'POOL-M';
const WOO = 'woocommerce:outlet';
const SHOP = 'shopify:main';
const RULES: EngineRules = { authority: 'erp', channels: [SHOP, WOO], buffers: {}, fieldPolicies: {}, conflictWindowMs: 300_000, settleMs: 0 };
let seq = 0;
const ctx: DecideContext = { rules: RULES, ledgerLine: () => undefined, newId: () => `id-${++seq}`, now: () => Date.UTC(2026, 11, 6, 6) };
let n = 0;
const base = (source: string, at: string) => ({ eventId: `e-${++n}`, sku: SKU, source, sourceVersion: at, occurredAt: at, rawEventId: `r-${n}`, origin: 'webhook' as const });
const changed = (source: string, at: string, refs: ProductChanged['refs']): ProductChanged => ({ ...base(source, at), type: 'ProductChanged', fields: { price: '10.00' }, refs });
const observed = (source: string, available: number, at: string): InventoryObserved => ({ ...base(source, at), type: 'InventoryObserved', available, refs: { id: `${source}-1` } });
const stockWrites = (fx: { writes: Array<{ target: string; kind: string }> }, target: string) => fx.writes.filter((w) => w.target === target && w.kind === 'inventory');

describe('engine: a stock pool shared by several SKUs (SHARED_STOCK)', () => {
  let b: SkuBundle;
  beforeEach(() => {
    b = emptyBundle(SKU);
    decide(b, changed('erp', '2026-12-06T06:00:00Z', { id: SKU }), ctx);
    decide(b, observed('erp', 7, '2026-12-06T06:00:00Z'), ctx);
    decide(b, changed(SHOP, '2026-12-06T06:00:00Z', { id: 'gid://shopify/ProductVariant/1', inventoryItemId: 'gid://shopify/InventoryItem/1' }), ctx);
  });

  it('records SHARED_STOCK naming the pool and never writes stock to that channel', () => {
    const fx = decide(b, changed(WOO, '2026-12-06T06:00:01Z', { id: '21', productId: '20', parentId: '20', stockPool: '20' }), ctx);
    const c = fx.conflicts.find((x) => x.type === 'SHARED_STOCK');
    assert.ok(c, 'a SHARED_STOCK conflict');
    assert.deepEqual(c.details.pool, { productId: '20' });
    assert.equal(c.details.variantId, '21');
    assert.equal(stockWrites(fx, WOO).length, 0);
    const more = decide(b, observed('erp', 3, '2026-12-06T06:00:02Z'), ctx);
    assert.equal(stockWrites(more, WOO).length, 0, 'an authority change is not pushed to the pool');
    assert.equal(stockWrites(more, SHOP).length, 1);
    const again = decide(b, changed(WOO, '2026-12-06T06:00:03Z', { id: '21', productId: '20', parentId: '20', stockPool: '20' }), ctx);
    assert.equal(again.conflicts.length, 0, 'one conflict per SKU and source');
  });

  it('counts a sale of a pooled variation once against the authority and does not rewrite the pool', () => {
    decide(b, changed(WOO, '2026-12-06T06:00:01Z', { id: '21', productId: '20', parentId: '20', stockPool: '20' }), ctx);
    const sale: SaleRecorded = { ...base(WOO, '2026-12-06T06:00:04Z'), type: 'SaleRecorded', orderId: '90', lineId: '1', quantity: 2, order: { orderId: '90', createdAt: '2026-12-06T06:00:04Z', lineCount: 1 } };
    const fx = decide(b, sale, ctx);
    assert.equal(fx.writes.filter((w) => w.target === 'erp' && w.kind === 'order_line').length, 1);
    assert.equal(stockWrites(fx, WOO).length, 0);
  });

  it('resolves the conflict and writes the channel once the variation has stock of its own again', () => {
    decide(b, changed(WOO, '2026-12-06T06:00:01Z', { id: '21', productId: '20', parentId: '20', stockPool: '20' }), ctx);
    const fx = decide(b, changed(WOO, '2026-12-06T06:00:05Z', { id: '21', productId: '20', parentId: '20' }), ctx);
    assert.equal(fx.resolved.length, 1);
    assert.equal(fx.resolved[0]!.resolution, 'STOCK_NOT_SHARED');
    assert.equal(b.channels[WOO]!.refs!.stockPool, undefined);
    assert.equal(stockWrites(fx, WOO).length, 1);
  });

  it('stops writing to a SKU deleted on a site', () => {
    decide(b, changed(WOO, '2026-12-06T06:00:01Z', { id: '21', productId: '20', parentId: '20' }), ctx);
    const del: ProductDeleted = { ...base(WOO, '2026-12-06T06:00:06Z'), type: 'ProductDeleted', refs: { id: '21' } };
    decide(b, del, ctx);
    const fx = decide(b, observed('erp', 1, '2026-12-06T06:00:07Z'), ctx);
    assert.equal(stockWrites(fx, WOO).length, 0);
    assert.equal(stockWrites(fx, SHOP).length, 1);
  });
});
