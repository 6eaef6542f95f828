import { strict as assert } from 'node:assert';
import { configSchema } from '../../src/config/schema.js';
import { createWooCommerceConnector } from '../../src/connectors/woocommerce/index.js';
import type { RawProduct } from '../../src/connectors/types.js';
import type { CatalogRow } from '../../src/services/diff/catalog.js';
import { DiffStaging } from '../../src/services/diff/staging.js';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { isolate, type Isolation } from '../support/isolation.js';
import { control, startWoo, wooCfg } from './diff-fixtures.js';

const row = (sku: string | null, title: string | null, quantity: number | null = 1): CatalogRow => ({
  sku, rawSku: sku, quantity, price: '1.00', title, meta: { refs: { id: `v-${sku}` }, productId: `p-${sku}`, productVersion: '2025-01-01T00:00:00Z', variantTitle: title ?? undefined },
});

describe('diff staging: loading both sides into PostgreSQL', function () {
  this.timeout(60_000);
  let iso: Isolation;
  before(async () => {
    iso = await isolate('diff_staging');
  });
  after(async () => iso?.cleanup());

  it('stores values holding tabs, newlines, backslashes and non-ASCII text unchanged, and nulls as nulls', async () => {
    const staging = await DiffStaging.create(iso.pool);
    try {
      const tricky = 'Mug\t"50\\50"\nline 2\r\\N café ✓';
      await staging.insert(1, [row('A-1', tricky), row(null, null, null)], { meta: true });
      const r = await iso.pool.query(`select side, sku, raw_sku, quantity, price, title, meta from "${staging.table}" order by sku nulls last`);
      assert.deepEqual(r.rows.map((x) => [x.side, x.sku, x.quantity, x.title]), [[1, 'A-1', '1', tricky], [1, null, null, null]]);
      assert.deepEqual(r.rows[0].meta, { refs: { id: 'v-A-1' }, productId: 'p-A-1', productVersion: '2025-01-01T00:00:00Z', variantTitle: tricky });
    } finally {
      await staging.drop();
    }
  });

  it('loads every row a writer was given, in batches, and classifies them', async () => {
    const staging = await DiffStaging.create(iso.pool);
    try {
      const a = staging.writer(1, { batchRows: 7 });
      const b = staging.writer(2, { batchRows: 7 });
      for (let i = 0; i < 50; i += 5) {
        await a.add(Array.from({ length: 5 }, (_, k) => row(`S-${i + k}`, 't', i + k)));
        await b.add(Array.from({ length: 5 }, (_, k) => row(`S-${i + k + 1}`, 't', i + k + 1)));
      }
      await Promise.all([a.end(), b.end()]);
      const counts = await staging.counts(['quantity', 'price'], { bufferA: 0, bufferB: 0, exactA: false, exactB: false });
      assert.deepEqual([counts.rows, counts.missingOnA, counts.missingOnB, counts.compared, counts.quantity], [{ a: 50, b: 50 }, 1, 1, 49, 0]);
    } finally {
      await staging.drop();
    }
  });

  it('leaves out what only --fix needs unless asked', async () => {
    const staging = await DiffStaging.create(iso.pool);
    try {
      await staging.insert(1, [row('A-1', 't')]);
      const r = await iso.pool.query(`select sku, title, meta from "${staging.table}"`);
      assert.deepEqual(r.rows, [{ sku: 'A-1', title: 't', meta: null }]);
    } finally {
      await staging.drop();
    }
  });

  it('reports a failed copy to the writer that started it', async () => {
    const staging = await DiffStaging.create(iso.pool);
    await staging.drop();
    const w = staging.writer(1, { batchRows: 1 });
    await w.add([row('X', 't')]);
    await assert.rejects(w.end(), /does not exist/);
  });
});

describe('diff: reading a WooCommerce side', function () {
  this.timeout(60_000);
  let woo: WooCommerceSimulator;
  after(async () => woo?.close());

  it('reads the same product states as a full backfill page, fetching only the fields a state is made of', async () => {
    woo = await startWoo(120);
    await control(woo.controlUrl, 'PUT', '/products', { sku: 'SKU-000002-1', manage_stock: false, stock_status: 'onbackorder' });
    const config = configSchema.parse({ database: { url: 'postgres://unused@127.0.0.1/unused', schema: 'unused' }, sources: { woocommerce: { outlet: wooCfg(woo) } } });
    const urls: string[] = [];
    const observed: typeof fetch = (input, init) => {
      urls.push(String(input));
      return fetch(input, init);
    };
    const conn = createWooCommerceConnector('outlet', config.sources.woocommerce.outlet!, { readBack: false, fetch: observed });
    const states: RawProduct[] = [];
    for await (const page of conn.backfill.productStates()) states.push(...page);
    assert.ok(urls.length >= 2 && urls.every((u) => new URL(u).searchParams.get('_fields')?.split(',').includes('stock_quantity')), 'pages ask for the state fields only');
    const full: RawProduct[] = [];
    for await (const b of conn.backfill.run({ resources: ['products'] })) for (const e of b.events) full.push(e.payload as RawProduct);
    assert.equal(states.length, 121);
    assert.deepEqual(states, full);
    assert.ok(states.some((p) => p.variants[0]?.sku === 'SKU-000002-1' && p.variants[0].available === null));
  });

  it('lists each variable product before its variations, as a full backfill does', async () => {
    await woo.close();
    woo = await startWooCommerceSimulator({ products: 3, variationsPerProduct: 2, seed: 2 });
    const config = configSchema.parse({ database: { url: 'postgres://unused@127.0.0.1/unused', schema: 'unused' }, sources: { woocommerce: { outlet: wooCfg(woo) } } });
    const conn = createWooCommerceConnector('outlet', config.sources.woocommerce.outlet!, { readBack: false });
    const states: RawProduct[] = [];
    for await (const page of conn.backfill.productStates()) states.push(...page);
    const full: RawProduct[] = [];
    for await (const b of conn.backfill.run({ resources: ['products'] })) for (const e of b.events) full.push(e.payload as RawProduct);
    assert.deepEqual(states, full);
    assert.deepEqual(states.map((p) => p.variants.length), [0, 1, 1, 0, 1, 1, 0, 1, 1]);
  });
});
