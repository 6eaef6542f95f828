import { strict as assert } from 'node:assert';
import type { RawProduct } from '../../../src/connectors/types.js';
import type { WooBackfillCursor } from '../../../src/connectors/woocommerce/index.js';
import { catalogSku } from '../../../src/simulators/woocommerce/index.js';
import { control, startRig, type WooRig } from './support.js';

describe('WooCommerce backfill', function () {
  this.timeout(60_000);
  let rig: WooRig;
  before(async () => {
    rig = await startRig({ products: 230, variationsPerProduct: 2 });
    for (let i = 1; i <= 3; i++) await control(rig.sim, 'POST', '/orders', { lines: [{ sku: catalogSku(i, 1), quantity: 1 }] });
  });
  after(async () => rig.close());

  const skusOf = (events: Array<{ payload: unknown }>) =>
    events.flatMap((e) => ((e.payload as RawProduct).kind === 'product' ? (e.payload as RawProduct).variants.map((v) => v.sku) : []));

  it('reads every product, variation and order by pages of 100, as backfill events', async () => {
    const batches = [];
    for await (const b of rig.conn.backfill.run()) batches.push(b);
    const events = batches.flatMap((b) => b.events);
    assert.ok(events.every((e) => e.origin === 'backfill'));
    assert.equal(new Set(skusOf(events)).size, 460);
    assert.equal(events.filter((e) => e.payload.kind === 'order').length, 3);
    assert.deepEqual(batches.map((b) => [b.resource, b.cursor?.resource, b.cursor?.page]), [
      ['products', 'products', 2], ['products', 'products', 3], ['products', 'orders', 1], ['orders', undefined, undefined],
    ]);
  });

  it('resumes from a stored cursor without reading earlier pages again', async () => {
    let cursor: WooBackfillCursor | null = null;
    for await (const b of rig.conn.backfill.run()) {
      cursor = b.cursor;
      break; // the process stops after the first page was stored
    }
    assert.deepEqual(cursor, { resource: 'products', page: 2 });
    const rest = [];
    for await (const b of rig.conn.backfill.run({ from: JSON.parse(JSON.stringify(cursor)) })) rest.push(...b.events);
    const skus = new Set(skusOf(rest));
    assert.equal(skus.size, 260);
    assert.ok(!skus.has(catalogSku(1, 1)));
    assert.ok(skus.has(catalogSku(230, 2)));
  });
});
