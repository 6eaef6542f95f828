import { strict as assert } from 'node:assert';
import { apiVersionWarning, shopifyVersionWarnings } from '../../../src/connectors/shopify/api-versions.js';

describe('Shopify API versions: end-of-support warnings (injected clock)', () => {
  const at = (iso: string) => new Date(iso);

  it('stays quiet until less than 90 days are left (2026-04 ends on 1 April 2027)', () => {
    assert.equal(apiVersionWarning('shopify:main', '2026-04', at('2026-12-06T00:00:00Z')), null);
    assert.equal(apiVersionWarning('shopify:main', '2026-04', at('2027-01-01T00:00:00Z')), null, 'exactly 90 days left');
    const w = apiVersionWarning('shopify:main', '2026-04', at('2027-01-01T00:00:01Z'));
    assert.match(w!, /^shopify:main: Admin API 2026-04 reaches its end of support on 2027-04-01 \(in 90 days\)\. Move `apiVersion` to a newer version \(2026-07, 2026-10\)/);
    assert.match(apiVersionWarning('shopify:main', '2026-04', at('2027-03-31T12:00:00Z'))!, /\(in 1 day\)/);
  });

  it('says when a version is past its end of support, and warns for 2026-01 today', () => {
    assert.match(apiVersionWarning('shopify:eu', '2026-04', at('2027-04-01T00:00:00Z'))!, /reached its end of support on 2027-04-01; Shopify now serves the oldest supported version/);
    assert.deepEqual(
      shopifyVersionWarnings({ main: { apiVersion: '2026-04' }, old: { apiVersion: '2026-01' }, next: { apiVersion: '2026-10' } }, at('2026-12-06T10:00:00Z')),
      ['shopify:old: Admin API 2026-01 reaches its end of support on 2027-01-01 (in 26 days). Move `apiVersion` to a newer version (2026-04, 2026-07, 2026-10) after checking docs/connectors/shopify.md.'],
    );
    assert.equal(apiVersionWarning('shopify:main', '2026-10', at('2027-06-01T00:00:00Z')), null);
  });
});
