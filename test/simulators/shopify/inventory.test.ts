import assert from 'node:assert/strict';
import type { ShopifySimulator } from '../../../src/simulators/shopify/index.js';
import { ADJUST_QUANTITIES, control, firstItem, gql, readAvailable, SET_QUANTITIES, startSim } from './helpers.js';

const setInput = (rows: Record<string, unknown>[]) => ({ name: 'available', reason: 'correction', referenceDocumentUri: 'logistics://sync/1', quantities: rows });

describe('Shopify simulator: inventorySetQuantities and inventoryAdjustQuantities (2026-04)', () => {
  let sim: ShopifySimulator;
  beforeEach(async () => { sim = await startSim(); });
  afterEach(async () => { await sim.close(); });

  it('sets available when changeFromQuantity matches, and on_hand follows', async () => {
    const f = firstItem(sim);
    const r = await gql(sim, SET_QUANTITIES, { key: 'set-1', input: setInput([{ inventoryItemId: f.itemId, locationId: f.locationId, quantity: f.available + 5, changeFromQuantity: f.available }]) });
    const p = r.body.data.inventorySetQuantities;
    assert.deepEqual(p.userErrors, []);
    assert.deepEqual(p.inventoryAdjustmentGroup.changes.map((c: { name: string; delta: number }) => [c.name, c.delta]), [['available', 5], ['on_hand', 5]]);
    assert.equal(await readAvailable(sim, f.itemId, f.locationId), f.available + 5);
  });

  it('answers CHANGE_FROM_QUANTITY_STALE and changes nothing when changeFromQuantity is stale', async () => {
    const f = firstItem(sim);
    const r = await gql(sim, SET_QUANTITIES, { key: 'set-stale', input: setInput([{ inventoryItemId: f.itemId, locationId: f.locationId, quantity: 1, changeFromQuantity: f.available + 1 }]) });
    const p = r.body.data.inventorySetQuantities;
    assert.equal(p.inventoryAdjustmentGroup, null);
    assert.equal(p.userErrors[0].code, 'CHANGE_FROM_QUANTITY_STALE');
    assert.deepEqual(p.userErrors[0].field, ['input', 'quantities', '0', 'changeFromQuantity']);
    assert.equal(await readAvailable(sim, f.itemId, f.locationId), f.available);
    assert.equal((await control(sim, 'GET', '/writes')).body.length, 0);
  });

  it('is atomic: one stale row among several leaves every row unchanged', async () => {
    const f = firstItem(sim);
    const v2 = sim.store.variants[1]!;
    const item2 = `gid://shopify/InventoryItem/${v2.inventoryItem.id}`;
    const before2 = await readAvailable(sim, item2, f.locationId);
    const r = await gql(sim, SET_QUANTITIES, { key: 'set-atomic', input: setInput([
      { inventoryItemId: item2, locationId: f.locationId, quantity: 77, changeFromQuantity: before2 },
      { inventoryItemId: f.itemId, locationId: f.locationId, quantity: 1, changeFromQuantity: f.available + 3 },
    ]) });
    assert.equal(r.body.data.inventorySetQuantities.userErrors.length, 1);
    assert.equal(await readAvailable(sim, item2, f.locationId), before2);
  });

  it('skips the compare when changeFromQuantity is null', async () => {
    const f = firstItem(sim);
    const r = await gql(sim, SET_QUANTITIES, { key: 'set-null', input: setInput([{ inventoryItemId: f.itemId, locationId: f.locationId, quantity: 3, changeFromQuantity: null }]) });
    assert.deepEqual(r.body.data.inventorySetQuantities.userErrors, []);
    assert.equal(await readAvailable(sim, f.itemId, f.locationId), 3);
  });

  it('refuses a quantity row that omits changeFromQuantity altogether', async () => {
    const f = firstItem(sim);
    const r = await gql(sim, SET_QUANTITIES, { key: 'set-omit', input: setInput([{ inventoryItemId: f.itemId, locationId: f.locationId, quantity: 3 }]) });
    assert.equal(r.body.errors![0].message, 'InventoryQuantityInput must include the following argument: changeFromQuantity.');
    assert.equal(r.body.data.inventorySetQuantities, null);
  });

  it('refuses the mutation without the @idempotent directive', async () => {
    const f = firstItem(sim);
    const r = await gql(sim, SET_QUANTITIES.replace(' @idempotent(key: $key)', '').replace(', $key: String!', ''), { input: setInput([{ inventoryItemId: f.itemId, locationId: f.locationId, quantity: 3, changeFromQuantity: null }]) });
    assert.equal(r.body.errors![0].message, 'The @idempotent directive is required for this mutation but was not provided.');
    assert.equal(r.body.errors![0].extensions.code, 'BAD_REQUEST');
    assert.equal(await readAvailable(sim, f.itemId, f.locationId), f.available);
  });

  it('refuses a blank idempotency key', async () => {
    const f = firstItem(sim);
    const r = await gql(sim, SET_QUANTITIES, { key: '   ', input: setInput([{ inventoryItemId: f.itemId, locationId: f.locationId, quantity: 3, changeFromQuantity: null }]) });
    assert.equal(r.body.errors![0].extensions.code, 'BAD_REQUEST');
    assert.equal(r.body.data.inventorySetQuantities, null);
    assert.equal(await readAvailable(sim, f.itemId, f.locationId), f.available);
  });

  it('replays the first result for the same key and parameters, changing stock once', async () => {
    const f = firstItem(sim);
    const vars = { key: 'adj-replay', input: { name: 'available', reason: 'correction', changes: [{ inventoryItemId: f.itemId, locationId: f.locationId, delta: -2, changeFromQuantity: f.available }] } };
    const first = await gql(sim, ADJUST_QUANTITIES, vars);
    const second = await gql(sim, ADJUST_QUANTITIES, vars);
    assert.deepEqual(second.body.data, first.body.data);
    assert.equal(await readAvailable(sim, f.itemId, f.locationId), f.available - 2);
    const writes = (await control(sim, 'GET', '/writes?mutation=inventoryAdjustQuantities')).body;
    assert.equal(writes.length, 1);
    assert.equal(writes[0].idempotencyKey, 'adj-replay');
  });

  it('answers IDEMPOTENCY_KEY_PARAMETER_MISMATCH for the same key with other parameters', async () => {
    const f = firstItem(sim);
    const input = (delta: number) => ({ name: 'available', reason: 'correction', changes: [{ inventoryItemId: f.itemId, locationId: f.locationId, delta, changeFromQuantity: null }] });
    await gql(sim, ADJUST_QUANTITIES, { key: 'adj-mm', input: input(1) });
    const r = await gql(sim, ADJUST_QUANTITIES, { key: 'adj-mm', input: input(2) });
    assert.equal(r.body.data.inventoryAdjustQuantities.userErrors[0].code, 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH');
    assert.equal(await readAvailable(sim, f.itemId, f.locationId), f.available + 1);
  });

  it('adjusts available by a delta and reports quantityAfterChange', async () => {
    const f = firstItem(sim);
    const r = await gql(sim, ADJUST_QUANTITIES, { key: 'adj-1', input: { name: 'available', reason: 'received', changes: [{ inventoryItemId: f.itemId, locationId: f.locationId, delta: 4, changeFromQuantity: f.available }] } });
    const changes = r.body.data.inventoryAdjustQuantities.inventoryAdjustmentGroup.changes;
    assert.deepEqual(changes[0], { name: 'available', delta: 4, quantityAfterChange: f.available + 4 });
  });

  it('answers CHANGE_FROM_QUANTITY_STALE for a stale adjustment', async () => {
    const f = firstItem(sim);
    const r = await gql(sim, ADJUST_QUANTITIES, { key: 'adj-stale', input: { name: 'available', reason: 'received', changes: [{ inventoryItemId: f.itemId, locationId: f.locationId, delta: 4, changeFromQuantity: f.available - 1 }] } });
    assert.equal(r.body.data.inventoryAdjustQuantities.userErrors[0].code, 'CHANGE_FROM_QUANTITY_STALE');
    assert.equal(await readAvailable(sim, f.itemId, f.locationId), f.available);
  });

  it('reports unknown items, invalid names and invalid reasons as userErrors', async () => {
    const f = firstItem(sim);
    const r = await gql(sim, SET_QUANTITIES, { key: 'set-bad', input: { name: 'committed', reason: 'because', quantities: [{ inventoryItemId: 'gid://shopify/InventoryItem/1', locationId: f.locationId, quantity: 1, changeFromQuantity: null }] } });
    const codes = r.body.data.inventorySetQuantities.userErrors.map((e: { code: string }) => e.code).sort();
    assert.deepEqual(codes, ['INVALID_INVENTORY_ITEM', 'INVALID_NAME', 'INVALID_REASON']);
  });
});

describe('Shopify simulator: API version differences in inventory (2026-10)', () => {
  let sim: ShopifySimulator;
  before(async () => { sim = await startSim({ catalog: { products: 2, variantsPerProduct: 1, locations: 2 } }); });
  after(async () => { await sim.close(); });

  it('answers ITEM_NOT_STOCKED_AT_LOCATION up to 2026-07 and stocks the item at the location from 2026-10', async () => {
    const item = sim.store.variants[0]!.inventoryItem;
    const second = sim.store.locations[1]!;
    item.levels.delete(second.id);
    const input = (key: string) => ({ key, input: { name: 'available', reason: 'correction', referenceDocumentUri: 'logistics://sync/v', changes: [{ inventoryItemId: `gid://shopify/InventoryItem/${item.id}`, locationId: `gid://shopify/Location/${second.id}`, delta: 3, changeFromQuantity: null }] } });
    for (const version of ['2026-04', '2026-07']) {
      const p = (await gql(sim, ADJUST_QUANTITIES, input(`v-${version}`), { version })).body.data.inventoryAdjustQuantities;
      assert.equal(p.userErrors[0]?.code, 'ITEM_NOT_STOCKED_AT_LOCATION', version);
    }
    const p = (await gql(sim, ADJUST_QUANTITIES, input('v-2026-10'), { version: '2026-10' })).body.data.inventoryAdjustQuantities;
    assert.deepEqual(p.userErrors, []);
    assert.equal(item.levels.get(second.id)?.quantities.available, 3);
  });
});
