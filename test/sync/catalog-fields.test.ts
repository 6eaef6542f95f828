import { strict as assert } from 'node:assert';
import { configSchema } from '../../src/config/schema.js';
import type { ProductChanged } from '../../src/core/model.js';
import { decide } from '../../src/sync/engine/decide.js';
import type { DecideContext } from '../../src/sync/engine/types.js';
import { engineRules } from '../../src/sync/rules.js';
import { emptyBundle } from '../../src/sync/state.js';

/*
 * With a product master (catalog.master), titles follow it: a listing created from the ERP keeps
 * the ERP's title and price, and an ERP change reaches every channel. Without one, titles are
 * not synced (the default `ignore`).
 */
describe('engine: catalog fields with a product master', () => {
  const sources = { erp: { databaseUrl: 'postgres://x@127.0.0.1/erp' }, shopify: { main: { shop: 'a', url: 'http://127.0.0.1:1', accessToken: 't', clientSecret: 's' } }, woocommerce: { outlet: { url: 'http://127.0.0.1:2', consumerKey: 'ck_x', consumerSecret: 'cs_x', webhookSecret: 'w' } } };
  const rulesOf = (catalog: Record<string, unknown>) => engineRules(configSchema.parse({ sources, catalog }));
  let n = 0;
  const ctx = (catalog: Record<string, unknown>): DecideContext => ({ rules: rulesOf(catalog), ledgerLine: () => undefined, newId: () => `id-${++n}`, now: () => Date.parse('2026-12-06T06:00:00Z') });
  const changed = (source: string, at: string, fields: ProductChanged['fields'], id: string): ProductChanged => ({
    type: 'ProductChanged', eventId: `e-${++n}`, sku: 'SKU-000001-1', source, sourceVersion: at, occurredAt: at, rawEventId: `r-${n}`, origin: 'webhook', fields, refs: { id, productId: `p-${id}` },
  });

  it('turns title sync on (priority of the master) only when catalog.master is set', () => {
    assert.equal(rulesOf({}).fieldPolicies.title, 'ignore');
    assert.equal(rulesOf({ master: 'erp' }).fieldPolicies.title, 'priority:erp');
    assert.equal(engineRules(configSchema.parse({ sources, catalog: { master: 'erp' }, sync: { fieldPolicies: { price: 'last-writer-wins', title: 'manual' } } })).fieldPolicies.title, 'manual');
  });

  it('a title and price change on the ERP is written to both channels; a channel edit of the title is put back', () => {
    const c = ctx({ master: 'erp' });
    const b = emptyBundle('SKU-000001-1');
    decide(b, changed('erp', '2026-12-06T05:00:00Z', { title: 'Classic Tee 1', price: '10.00' }, 'SKU-000001-1'), c);
    decide(b, changed('shopify:main', '2026-12-06T05:01:00Z', { title: 'Classic Tee 1', price: '10.00' }, 'v1'), c);
    decide(b, changed('woocommerce:outlet', '2026-12-06T05:02:00Z', { title: 'Classic Tee 1', price: '10.00' }, '11'), c);
    const fx = decide(b, changed('erp', '2026-12-06T05:30:00Z', { title: 'Classic Tee One', price: '12.00' }, 'SKU-000001-1'), c);
    assert.deepEqual(fx.writes.filter((w) => w.kind === 'fields').map((w) => [w.target, w.payload.fields]).sort(), [
      ['shopify:main', { title: 'Classic Tee One', price: '12.00' }],
      ['woocommerce:outlet', { title: 'Classic Tee One', price: '12.00' }],
    ]);
    const back = decide(b, changed('shopify:main', '2026-12-06T05:40:00Z', { title: 'Renamed on Shopify' }, 'v1'), c);
    assert.deepEqual(back.writes.filter((w) => w.kind === 'fields').map((w) => [w.target, w.payload.fields]), [['shopify:main', { title: 'Classic Tee One' }]]);
  });

  it('without a master, a title change is not written anywhere', () => {
    const c = ctx({});
    const b = emptyBundle('SKU-000001-1');
    decide(b, changed('erp', '2026-12-06T05:00:00Z', { title: 'A', price: '1.00' }, 'SKU-000001-1'), c);
    decide(b, changed('shopify:main', '2026-12-06T05:01:00Z', { title: 'A', price: '1.00' }, 'v1'), c);
    const fx = decide(b, changed('erp', '2026-12-06T05:30:00Z', { title: 'B' }, 'SKU-000001-1'), c);
    assert.deepEqual(fx.writes.filter((w) => w.kind === 'fields'), []);
  });
});
