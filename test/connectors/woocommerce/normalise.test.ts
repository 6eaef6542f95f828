import { strict as assert } from 'node:assert';
import { decimalString, gmtToIso, orderPayload, productPayload } from '../../../src/connectors/woocommerce/index.js';

describe('WooCommerce normalisation', () => {
  it('writes prices as canonical decimal strings', () => {
    assert.deepEqual(['20', '19.9', '19.99', '19.990', '019.5', 7, 12.3, '', 'abc', null].map((v) => decimalString(v as never)), [
      '20.00', '19.90', '19.99', '19.99', '19.50', '7.00', '12.30', undefined, undefined, undefined,
    ]);
  });

  it('reads GMT dates without zone as UTC at whole seconds', () => {
    assert.equal(gmtToIso('2025-01-01T00:00:05'), '2025-01-01T00:00:05Z');
    assert.equal(gmtToIso('2025-01-01 10:00:05'), '2025-01-01T10:00:05Z');
    assert.equal(gmtToIso(null), null);
  });

  it('gives a simple product one variant whose id is the product id, stock only when managed', () => {
    const p = productPayload({ id: 9, name: 'Mug', type: 'simple', status: 'publish', sku: 'MUG', regular_price: '5', manage_stock: false, stock_quantity: 3, date_modified_gmt: '2025-02-01T00:00:00' });
    assert.deepEqual(p, { kind: 'product', productId: '9', title: 'Mug', status: 'active', updatedAt: '2025-02-01T00:00:00Z', variants: [{ id: '9', sku: 'MUG', price: '5.00', available: null }] });
  });

  it('marks processing/on-hold/completed orders committed and cancelled ones cancelled, nothing else', () => {
    const o = (status: string) => orderPayload({ id: 1, status, line_items: [], date_modified_gmt: '2025-01-01T00:00:00' });
    assert.deepEqual(['pending', 'processing', 'on-hold', 'completed', 'cancelled', 'refunded', 'failed'].map((s) => [o(s).committed, o(s).cancelled]), [
      [false, false], [true, false], [true, false], [true, false], [false, true], [false, false], [false, false],
    ]);
  });
});
