import { strict as assert } from 'node:assert';
import { LatencyPaths, pathOf } from '../../src/services/demo/latency.js';

describe('demo live view: sync latency by path over a sliding window', () => {
  it('names the path of a write by where its change came from and where it was written', () => {
    assert.equal(pathOf('erp', 'shopify:main'), 'erp→channels');
    assert.equal(pathOf('shopify:eu', 'erp'), 'sale→erp');
    assert.equal(pathOf('shopify:eu', 'woocommerce:outlet'), 'channel→channels');
    assert.equal(pathOf('woocommerce:outlet', 'woocommerce:outlet'), 'channel→channels', 'the channel of sale rewritten after its own sale');
    assert.equal(pathOf('woocommerce:outlet', 'woocommerce:outlet', 'correction'), 'corrections');
    assert.equal(pathOf('erp', 'shopify:main', 'correction'), 'corrections', 'a correction is its own path, whatever the source');
  });

  it('reports the window\'s samples only, per path, and the whole run separately', () => {
    let now = 0;
    const l = new LatencyPaths(30_000, () => now);
    l.add('erp', 'shopify:main', [20, 20, 20]); // a slow start...
    now = 31_000;
    l.add('erp', 'shopify:main', [0.1, 0.2, 0.3]); // ...long gone from the window
    l.add('shopify:eu', 'erp', [1]);
    const w = Object.fromEntries(l.window().map((p) => [p.path, p]));
    assert.deepEqual([w['erp→channels']!.samples, w['erp→channels']!.p50Ms, w['erp→channels']!.p99Ms], [3, 200, 300]);
    assert.deepEqual([w['sale→erp']!.samples, w['sale→erp']!.p50Ms], [1, 1000]);
    assert.deepEqual([w['channel→channels']!.samples, w['channel→channels']!.p50Ms], [0, null]);
    const all = Object.fromEntries(l.byPath().map((p) => [p.path, p]));
    assert.deepEqual([all['erp→channels']!.samples, all['erp→channels']!.p99Ms], [6, 20_000]);
    assert.equal(l.total().samples, 7);
    l.reset();
    assert.equal(l.total().samples, 0);
  });
});
