import { strict as assert } from 'node:assert';
import { configSchema, type SyncConfig } from '../../src/config/schema.js';
import { createShopifyConnector } from '../../src/connectors/shopify/index.js';
import { createWooCommerceConnector } from '../../src/connectors/woocommerce/index.js';
import type { ListingProduct, SinkWrite } from '../../src/connectors/types.js';
import { applyCatalog, catalogWrites, planCatalog } from '../../src/services/catalog/index.js';
import { initErp } from '../../src/simulators/erp/index.js';
import { startShopifySimulator, type ShopifySimulator } from '../../src/simulators/shopify/index.js';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../src/simulators/woocommerce/index.js';
import { dbUrl, dropDatabase, sql, uniqueName } from '../connectors/erp/helpers.js';
import { isolate, type Isolation } from '../support/isolation.js';
import { shopifyCfg, wooCfg } from './diff-fixtures.js';

/*
 * Catalog sync against the sample ERP (the product master: 3 products of 3 variants each) and an
 * empty WooCommerce site (simulator, real HTTP): the plan, the planned writes, and the sink's
 * creation as WooCommerce models it (a variable product, its attribute, 3 variations managing
 * their own stock), idempotent across a crash, refusing bad data without leaving half a product.
 */
describe('catalog sync: ERP master → WooCommerce listings', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let woo: WooCommerceSimulator;
  let config: SyncConfig;
  const erpDb = uniqueName('catalog_erp');
  let n = 0;

  before(async () => {
    iso = await isolate('catalog_svc');
    await initErp({ databaseUrl: dbUrl(erpDb), products: 3, variantsPerProduct: 3, seed: 4, orders: 0 });
    await sql(dbUrl(erpDb), `update items set barcode = '400638133393' || right(sku, 1) where product_code = 'P-000001'`);
    woo = await startWooCommerceSimulator({ products: 0, seed: 5, coalesceWindowMs: 0 });
    config = configSchema.parse({ ...iso.config, sources: { woocommerce: { outlet: wooCfg(woo) }, erp: { databaseUrl: dbUrl(erpDb) } }, sync: { authority: 'erp' } });
  });
  after(async () => {
    await woo?.close();
    await iso?.cleanup();
    await dropDatabase(erpDb);
  });

  const sink = () => createWooCommerceConnector('outlet', config.sources.woocommerce.outlet!, { readBack: false }).sink;
  const products = () => [...woo.store.products.values()].filter((p) => p.status !== 'trash');
  /** A POST to the site's REST API (what a merchant or another tool does). */
  const api = (path: string, body: unknown) => fetch(`${woo.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${woo.info.consumerKey}:${woo.info.consumerSecret}`).toString('base64')}` },
    body: JSON.stringify(body),
  });
  const write = (product: ListingProduct): SinkWrite => ({ writeId: `w-${++n}`, sku: product.variants[0]!.sku, kind: 'create_product', idempotencyKey: `k-${n}`, refs: { id: '' }, payload: { product } });

  it('plans one creation per ERP product, with the product attributes grouped by product code', async () => {
    const { plan, products: master } = await planCatalog(config);
    assert.equal(plan.products, 3);
    const cp = plan.channels[0]!;
    assert.equal(cp.channel, 'woocommerce:outlet');
    assert.deepEqual(cp.create.map((c) => [c.key, c.skus]), [
      ['P-000001', ['SKU-000001-1', 'SKU-000001-2', 'SKU-000001-3']],
      ['P-000002', ['SKU-000002-1', 'SKU-000002-2', 'SKU-000002-3']],
      ['P-000003', ['SKU-000003-1', 'SKU-000003-2', 'SKU-000003-3']],
    ]);
    const p1 = master[0]!.listing;
    assert.deepEqual([p1.title, p1.vendor, p1.options, p1.variants.map((v) => v.optionValues[0])], ['Classic Tee 1', 'Sample Co', ['Size'], ['S', 'M', 'L']]);
    const writes = catalogWrites(config, plan, master);
    assert.deepEqual(writes.map((w) => [w.kind, w.target, w.sku, (w.payload.product as ListingProduct).status]), [
      ['create_product', 'woocommerce:outlet', 'SKU-000001-1', 'draft'],
      ['create_product', 'woocommerce:outlet', 'SKU-000002-1', 'draft'],
      ['create_product', 'woocommerce:outlet', 'SKU-000003-1', 'draft'],
    ]);
  });

  it('lists per channel what its rule takes: an explicit list of codes or SKUs, or product types', async () => {
    const only = (listing: unknown) => configSchema.parse({ ...config, catalog: { channels: { 'woocommerce:outlet': { listing } } } });
    const keys = async (listing: unknown) => (await planCatalog(only(listing))).plan.channels[0]!.create.map((c) => c.key);
    assert.deepEqual(await keys(['P-000002', 'SKU-000003-3']), ['P-000002', 'P-000003']);
    // The sample ERP's product type is the second word of the title: its first 10 products are Tees.
    const { products: master } = await planCatalog(config);
    const type = master[1]!.listing.productType!;
    assert.equal(type, 'Tee');
    assert.deepEqual(await keys({ productTypes: ['TEE'] }), ['P-000001', 'P-000002', 'P-000003']);
    assert.deepEqual(await keys({ productTypes: ['Mug', 'Hoodie'] }), []);
  });

  it('apply stores the creations as planned writes once: the same plan applied again plans nothing', async () => {
    const first = await applyCatalog(config, iso.pool, { waitSeconds: 0 });
    assert.equal(first.planned, 3);
    assert.deepEqual(first.writes, { done: 0, failed: 0, pending: 3 });
    const again = await applyCatalog(config, iso.pool, { waitSeconds: 0 });
    assert.equal(again.planned, 0);
    // Changed on the master while its creation waits: not planned a second time.
    await sql(dbUrl(erpDb), `update items set price = price + 1 where product_code = 'P-000001'`);
    assert.equal((await applyCatalog(config, iso.pool, { waitSeconds: 0 })).planned, 0);
    await sql(dbUrl(erpDb), `update items set price = price - 1 where product_code = 'P-000001'`);
    const rows = await iso.pool.query(`select kind, target_key, status from planned_writes where kind = 'create_product'`);
    assert.equal(rows.rowCount, 3);
  });

  it('creates a variable product with its attribute and 3 variations managing their own stock, as a draft', async () => {
    const { plan, products: master } = await planCatalog(config);
    const w = write(catalogWrites(config, plan, master)[0]!.payload.product as ListingProduct);
    const [r] = await sink().write([w]);
    assert.equal(r!.status, 'ok', JSON.stringify(r));
    const applied = (r as unknown as { applied: { productId: string; adopted: boolean; variants: Array<{ sku: string }> } }).applied;
    assert.equal(applied.adopted, false);
    const parent = woo.store.get(Number(applied.productId))!;
    assert.deepEqual([parent.type, parent.name, parent.status, parent.sku], ['variable', 'Classic Tee 1', 'draft', 'P-000001']);
    assert.deepEqual(parent.attributes.map((a) => [a.name, a.options]), [['Size', ['S', 'M', 'L']]]);
    const variations = parent.children.map((id) => woo.store.get(id)!);
    assert.deepEqual(variations.map((v) => [v.sku, v.manageStock, v.attributes[0]?.options[0], v.globalUniqueId]), [['SKU-000001-1', true, 'S', '4006381333931'], ['SKU-000001-2', true, 'M', '4006381333932'], ['SKU-000001-3', true, 'L', '4006381333933']]);
    // The same write again (a crash after WooCommerce answered, before our commit) adopts it.
    const count = products().length;
    const [again] = await sink().write([{ ...w, writeId: 'w-retry' }]);
    assert.equal(again!.status, 'ok');
    assert.equal((again as unknown as { applied: { adopted: boolean; productId: string } }).applied.adopted, true);
    assert.equal((again as unknown as { applied: { productId: string } }).applied.productId, applied.productId);
    assert.equal(products().length, count, 'no duplicate product');
  });

  it('a crash between the parent and its variations: the retry adopts the parent and creates only the variations', async () => {
    const { plan, products: master } = await planCatalog(config);
    const product = catalogWrites(config, plan, master).find((w) => (w.payload.product as ListingProduct).key === 'P-000002')!.payload.product as ListingProduct;
    const created = await api('/products', { name: product.title, type: 'variable', sku: product.key, status: 'draft' });
    assert.equal(created.status, 201);
    const parentId = ((await created.json()) as { id: number }).id;
    const count = products().length;
    const [r] = await sink().write([write(product)]);
    assert.equal(r!.status, 'ok', JSON.stringify(r));
    assert.equal((r as unknown as { applied: { productId: string } }).applied.productId, String(parentId));
    assert.equal(products().length, count + 3, 'three variations, no second parent');
  });

  it('a variant SKU used by another product there: WooCommerce\'s refusal, and no product left behind', async () => {
    assert.equal((await api('/products', { name: 'Someone else', sku: 'SKU-000003-2', regular_price: '5.00' })).status, 201);
    // The plan no longer creates it (one of its SKUs is there); a creation planned before is still sent.
    const { products: master } = await planCatalog(config);
    const product: ListingProduct = { ...master.find((p) => p.listing.key === 'P-000003')!.listing, status: 'draft' };
    const count = products().length;
    const [r] = await sink().write([write(product)]);
    assert.equal(r!.status, 'permanent');
    assert.equal((r as { code: string }).code, 'product_invalid_sku');
    assert.match((r as { message: string }).message, /Invalid or duplicated SKU/);
    assert.equal(products().length, count);
  });

  it('a variation WooCommerce refuses (its SKU taken in the same round): its product is deleted again, the other one created', async () => {
    const mk = (key: string, skus: string[]): ListingProduct => ({ key, handle: key.toLowerCase(), title: `Race ${key}`, status: 'draft', options: ['Size'], variants: skus.map((sku, i) => ({ sku, optionValues: [String(i)], price: '3.00' })) });
    const count = products().length;
    const [a, b] = await sink().write([write(mk('RACE-A', ['RACE-1', 'RACE-2'])), write(mk('RACE-B', ['RACE-3', 'RACE-2']))]);
    assert.equal(a!.status, 'ok', JSON.stringify(a));
    assert.equal(b!.status, 'permanent', JSON.stringify(b));
    assert.equal((b as { code: string }).code, 'product_invalid_sku');
    assert.match((b as { message: string }).message, /Invalid or duplicated SKU\. \(variation RACE-2; the product was not created\)/);
    assert.equal(products().length, count + 3, 'RACE-A and its two variations only');
    assert.equal(woo.store.findBySku('RACE-B').length, 0);
  });

  it('a barcode another product has there: WooCommerce\'s product_invalid_global_unique_id, and nothing left behind', async () => {
    const p: ListingProduct = { key: 'GTIN-A', handle: 'gtin-a', title: 'Gtin clash', status: 'draft', options: ['Size'], variants: [{ sku: 'GTIN-1', optionValues: ['S'], price: '2.00' }, { sku: 'GTIN-2', optionValues: ['M'], price: '2.00', barcode: '4006381333931' }] };
    const count = products().length;
    const [r] = await sink().write([write(p)]);
    assert.deepEqual([r!.status, (r as { code: string }).code], ['permanent', 'product_invalid_global_unique_id']);
    assert.match((r as { message: string }).message, /Invalid or duplicated GTIN, UPC, EAN or ISBN\./);
    assert.equal(products().length, count);
  });

  it('bad data is refused before anything is sent (missing title, invalid price)', async () => {
    const base: ListingProduct = { key: 'BAD-1', handle: 'bad-1', title: '', status: 'draft', options: [], variants: [{ sku: 'BAD-SKU-1', optionValues: [], price: '1.00' }] };
    const count = products().length;
    const [a, b] = await sink().write([write(base), write({ ...base, title: 'Bad', variants: [{ sku: 'BAD-SKU-1', optionValues: [], price: 'abc' }] })]);
    assert.deepEqual([a!.status, (a as { code: string }).code, b!.status, (b as { code: string }).code], ['permanent', 'CATALOG_INVALID_PRODUCT', 'permanent', 'CATALOG_INVALID_PRODUCT']);
    assert.match((a as { message: string }).message, /no title/);
    assert.match((b as { message: string }).message, /invalid price/);
    assert.equal(products().length, count);
  });

  it('after creation the plan has nothing to create there; an archived ERP product is planned for archival (never deletion)', async () => {
    await sql(dbUrl(erpDb), `update items set active = false where product_code = 'P-000001'`);
    const { plan, products: master } = await planCatalog(config);
    const cp = plan.channels[0]!;
    assert.deepEqual(cp.create, []);
    // P-000003's SKU-000003-2 is another product's there: shown, not created around it.
    assert.deepEqual(cp.incomplete, [{ key: 'P-000003', missing: ['SKU-000003-1', 'SKU-000003-3'] }]);
    assert.deepEqual(cp.archive.map((a) => a.sku), ['SKU-000001-1', 'SKU-000001-2', 'SKU-000001-3']);
    const archivals = catalogWrites(config, plan, master).filter((w) => w.kind === 'fields');
    assert.deepEqual(archivals.map((w) => [w.sku, w.payload.fields]), cp.archive.map((a) => [a.sku, { status: 'archived' }]));
  });
});

/*
 * The same ERP master against an empty Shopify store (simulator, real HTTP, the 2026-04 schema
 * subset): one productSet per product, all or nothing, with Shopify's own userErrors.
 */
describe('catalog sync: ERP master → Shopify listings (productSet)', function () {
  this.timeout(120_000);
  let iso: Isolation;
  let shop: ShopifySimulator;
  let config: SyncConfig;
  const erpDb = uniqueName('catalog_erp_shop');
  let n = 0;

  before(async () => {
    iso = await isolate('catalog_shop');
    await initErp({ databaseUrl: dbUrl(erpDb), products: 2, variantsPerProduct: 3, seed: 4, orders: 0 });
    await sql(dbUrl(erpDb), `update items set weight_grams = 250, barcode = '400' || right(sku, 1), compare_at_price = price + 5 where product_code = 'P-000001'`);
    shop = await startShopifySimulator({ seed: 6, bulkOperationLatencyMs: 5, catalog: { products: 0 } });
    config = configSchema.parse({ ...iso.config, sources: { shopify: { main: shopifyCfg(shop) }, erp: { databaseUrl: dbUrl(erpDb) } }, sync: { authority: 'erp' }, catalog: { newListingStatus: 'draft' } });
    // A subscription, so the products/create deliveries a real store would send are recorded.
    const r = await fetch(shop.graphqlUrl, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': shop.info.accessToken! },
      body: JSON.stringify({ query: 'mutation { webhookSubscriptionCreate(topic: PRODUCTS_CREATE, webhookSubscription: { uri: "http://127.0.0.1:9/hooks" }) { userErrors { message } } }' }),
    });
    assert.deepEqual(((await r.json()) as { data: { webhookSubscriptionCreate: { userErrors: unknown[] } } }).data.webhookSubscriptionCreate.userErrors, []);
  });
  after(async () => {
    await shop?.close();
    await iso?.cleanup();
    await dropDatabase(erpDb);
  });

  const sink = () => createShopifyConnector('main', config.sources.shopify.main!, { skuRule: config.identity.sku }).sink;
  const write = (product: ListingProduct): SinkWrite => ({ writeId: `s-${++n}`, sku: product.variants[0]!.sku, kind: 'create_product', idempotencyKey: `sk-${n}`, refs: { id: '' }, payload: { product } });

  it('creates one product with three variants per ERP product, as a draft, and announces it (products/create)', async () => {
    const { plan, products: master } = await planCatalog(config);
    assert.deepEqual(plan.channels[0]!.create.map((c) => c.key), ['P-000001', 'P-000002']);
    const writes = catalogWrites(config, plan, master);
    const results = await sink().write(writes.map((w) => write(w.payload.product as ListingProduct)));
    assert.deepEqual(results.map((r) => r.status), ['ok', 'ok'], JSON.stringify(results));
    assert.equal(shop.store.products.length, 2);
    const p = shop.store.products[0]!;
    assert.deepEqual([p.title, p.handle, p.status, p.vendor], ['Classic Tee 1', 'p-000001', 'DRAFT', 'Sample Co']);
    assert.deepEqual(p.variants.map((v) => [v.sku, v.title, v.inventoryItem.tracked]), [['SKU-000001-1', 'S', true], ['SKU-000001-2', 'M', true], ['SKU-000001-3', 'L', true]]);
    assert.deepEqual(p.variants.map((v) => [v.barcode, v.inventoryItem.weight, Number(v.compareAtPrice) - Number(v.price)]), [1, 2, 3].map((i) => [`400${i}`, { value: 250, unit: 'GRAMS' }, 5]));
    assert.deepEqual(shop.state.dispatcher.deliveries.filter((d) => d.topic === 'products/create').length, 2);
    // Again (a crash after Shopify answered, before our commit): adopted, not created twice.
    const again = await sink().write([write(writes[0]!.payload.product as ListingProduct)]);
    assert.equal(again[0]!.status, 'ok');
    assert.equal((again[0] as unknown as { applied: { adopted: boolean } }).applied.adopted, true);
    assert.equal(shop.store.products.length, 2);
    const after = await planCatalog(config);
    assert.deepEqual(after.plan.channels[0]!.create, []);
  });

  it('refuses what Shopify refuses, with its message, and creates nothing', async () => {
    const base: ListingProduct = { key: 'X-1', handle: 'p-000001', title: 'Taken handle', status: 'draft', options: ['Size'], variants: [{ sku: 'X-SKU-1', optionValues: ['S'], price: '1.00' }] };
    const tooMany: ListingProduct = { ...base, key: 'X-2', handle: 'x-2', options: ['A', 'B', 'C', 'D'], variants: [{ sku: 'X-SKU-2', optionValues: ['1', '2', '3', '4'], price: '1.00' }] };
    const skuTaken: ListingProduct = { ...base, key: 'X-3', handle: 'x-3', variants: [{ sku: 'SKU-000002-2', optionValues: ['S'], price: '1.00' }] };
    const [a, b, c] = await sink().write([write(base), write(tooMany), write(skuTaken)]);
    assert.deepEqual([a!.status, (a as { code: string }).code], ['permanent', 'SHOPIFY_HANDLE_NOT_UNIQUE']);
    assert.match((a as { message: string }).message, /Handle 'p-000001' already in use/);
    assert.deepEqual([b!.status, (b as { code: string }).code], ['permanent', 'CATALOG_INVALID_PRODUCT']);
    assert.match((b as { message: string }).message, /4 options; Shopify allows 3/);
    assert.deepEqual([c!.status, (c as { code: string }).code], ['permanent', 'CATALOG_SKU_IN_USE']);
    assert.equal(shop.store.products.length, 2);
  });

  it('the simulator checks productSet as Shopify does (options over the limit, variants without their option values)', async () => {
    const call = async (input: unknown) => {
      const r = await fetch(shop.graphqlUrl, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': shop.info.accessToken! },
        body: JSON.stringify({ query: 'mutation S($input: ProductSetInput!) { productSet(input: $input) { product { id } userErrors { code field message } } }', variables: { input } }),
      });
      return ((await r.json()) as { data: { productSet: { product: unknown; userErrors: Array<{ code: string }> } } }).data.productSet;
    };
    const four = await call({ title: 'Four', productOptions: ['A', 'B', 'C', 'D'].map((name) => ({ name, values: [{ name: 'x' }] })), variants: [{ optionValues: ['A', 'B', 'C', 'D'].map((optionName) => ({ optionName, name: 'x' })) }] });
    assert.deepEqual([four.product, four.userErrors.map((e) => e.code)], [null, ['OPTIONS_OVER_LIMIT']]);
    const missing = await call({ title: 'Missing', productOptions: [{ name: 'Size', values: [{ name: 'S' }] }], variants: [{ optionValues: [] }] });
    assert.deepEqual([missing.product, missing.userErrors.map((e) => e.code)], [null, ['INVALID_VARIANT']]);
    const blank = await call({ title: ' ' });
    assert.deepEqual(blank.userErrors.map((e) => e.code), ['INVALID_PRODUCT']);
    assert.equal(shop.store.products.length, 2);
  });
});
