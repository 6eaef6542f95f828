// The stock authority's versions have second precision (Shopify and WooCommerce updated_at): two
// changes in one second share a version, and their webhooks may arrive in any order. The engine
// must not let the older of two such states overwrite the newer: it reads the authority instead.
import { strict as assert } from 'node:assert';
import { decide } from '../../src/sync/engine/decide.js';
import { emptyBundle, type SkuBundle } from '../../src/sync/state.js';
import type { DecideContext, EngineRules } from '../../src/sync/engine/types.js';
import type { InventoryObserved, WriteConfirmed } from '../../src/core/model.js';

const SKU = 'SKU-000001-1';
const AUTH = 'shopify:main';
const RULES: EngineRules = {
  authority: AUTH,
  channels: [AUTH, 'woocommerce:outlet'],
  buffers: { [AUTH]: 0, 'woocommerce:outlet': 0 },
  fieldPolicies: {},
  conflictWindowMs: 300_000,
  settleMs: 0,
};
let seq = 0;
const ctx: DecideContext = { rules: RULES, ledgerLine: () => undefined, newId: () => `id-${++seq}`, now: () => Date.UTC(2026, 10, 25, 12) };
const T = '2026-11-25T12:00:05Z';

function observed(source: string, available: number, version: string, n: number): InventoryObserved {
  return { type: 'InventoryObserved', eventId: `raw-${n}:InventoryObserved:${SKU}`, sku: SKU, source, sourceVersion: version, occurredAt: version, rawEventId: `raw-${n}`, origin: 'webhook', available, refs: { id: `${source}-v1`, inventoryItemId: `${source}-i1` } };
}
function recheckResult(writeId: string, available: number, version: string): WriteConfirmed {
  return { type: 'WriteConfirmed', eventId: `${writeId}:confirmed`, sku: SKU, source: AUTH, target: AUTH, writeId, kind: 'recheck', sourceVersion: version, occurredAt: version, rawEventId: writeId, origin: 'writer', available };
}

/** The authority's answer to our adjust of a sale on another channel (`pendingDelta` settles it). */
function adjustResult(writeId: string, available: number, version: string, delta: number): WriteConfirmed {
  return { type: 'WriteConfirmed', eventId: `${writeId}:confirmed`, sku: SKU, source: AUTH, target: AUTH, writeId, kind: 'adjust', sourceVersion: version, occurredAt: version, rawEventId: writeId, origin: 'writer', available, pendingDelta: delta };
}

describe('engine: changes of the stock authority within one second (equal versions)', () => {
  let b: SkuBundle;
  beforeEach(() => {
    b = emptyBundle(SKU);
    decide(b, observed(AUTH, 10, T, 1), ctx);
    decide(b, observed('woocommerce:outlet', 10, T, 2), ctx);
    assert.equal(b.entity.authority.available, 10);
  });

  it('does not adopt another quantity with the same version, and plans one read of the authority instead', () => {
    const fx = decide(b, observed(AUTH, 8, T, 3), ctx);
    assert.equal(b.entity.authority.available, 10, 'the ambiguous state is not taken as the truth');
    const rechecks = fx.writes.filter((w) => w.kind === 'recheck');
    assert.equal(rechecks.length, 1);
    assert.equal(rechecks[0]!.target, AUTH);
    assert.equal(rechecks[0]!.idempotencyKey, `recheck:raw-3:InventoryObserved:${SKU}`, 'a redelivered event plans the same read');
    assert.equal(fx.writes.filter((w) => w.target === 'woocommerce:outlet').length, 0, 'nothing is pushed to the channels on a guess');
  });

  it('takes the reading as the truth and brings the channels to it', () => {
    decide(b, observed(AUTH, 8, T, 3), ctx);
    const fx = decide(b, recheckResult('w-1', 8, T), ctx);
    assert.equal(b.entity.authority.available, 8);
    const toOutlet = fx.writes.filter((w) => w.target === 'woocommerce:outlet' && w.kind === 'inventory');
    assert.equal(toOutlet.length, 1);
    assert.equal(toOutlet[0]!.payload.available, 8);
  });

  it('reads again when the older state of the same second arrives after the reading, and keeps the newer one', () => {
    decide(b, observed(AUTH, 8, T, 3), ctx);
    decide(b, recheckResult('w-1', 8, T), ctx);
    const fx = decide(b, observed(AUTH, 10, T, 1), ctx); // the first webhook, delivered again late
    assert.equal(b.entity.authority.available, 8);
    assert.equal(fx.writes.filter((w) => w.kind === 'recheck').length, 1);
  });

  it('adopts a newer version at once (no read needed)', () => {
    const fx = decide(b, observed(AUTH, 7, '2026-11-25T12:00:06Z', 4), ctx);
    assert.equal(b.entity.authority.available, 7);
    assert.equal(fx.writes.filter((w) => w.kind === 'recheck').length, 0);
  });

  describe('the result of our own write to the authority', () => {
    it('does not adopt a result of the same version with another quantity (a replay after a crash returns the first result), and reads the authority instead', () => {
      b.entity.pending = -2; // our adjust of a sale on the outlet is in flight
      decide(b, observed(AUTH, 6, T, 3), ctx); // a later change of the same second: ambiguous, read planned
      decide(b, recheckResult('w-1', 6, T), ctx); // the reading: 6
      const fx = decide(b, adjustResult('w-2', 8, T, -2), ctx); // our adjust's result, 8 right after it
      assert.equal(b.entity.authority.available, 6, 'the older quantity of the same second is not taken');
      assert.equal(b.entity.pending, 0, 'the adjust is settled all the same');
      const rechecks = fx.writes.filter((w) => w.kind === 'recheck');
      assert.equal(rechecks.length, 1);
      assert.equal(rechecks[0]!.idempotencyKey, 'recheck:w-2:confirmed');
      assert.equal(fx.writes.filter((w) => w.target === 'woocommerce:outlet').length, 0, 'nothing is pushed to the channels on a guess');
    });

    it('adopts a result of the same version and quantity, and one of a newer version, without a read', () => {
      b.entity.pending = -2;
      let fx = decide(b, adjustResult('w-3', 10, T, -2), ctx);
      assert.equal(fx.writes.filter((w) => w.kind === 'recheck').length, 0);
      b.entity.pending = -1;
      fx = decide(b, adjustResult('w-4', 9, '2026-11-25T12:00:06Z', -1), ctx);
      assert.equal(b.entity.authority.available, 9);
      assert.equal(fx.writes.filter((w) => w.kind === 'recheck').length, 0);
      assert.deepEqual(fx.writes.filter((w) => w.target === 'woocommerce:outlet').map((w) => w.payload.available), [9]);
    });
  });
});
