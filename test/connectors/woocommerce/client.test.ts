import { strict as assert } from 'node:assert';
import { WooClient } from '../../../src/connectors/woocommerce/index.js';
import { PermanentError, RetriableError } from '../../../src/core/errors.js';
import { SyncEventBus } from '../../../src/core/events.js';
import type { WooCommerceSimulator } from '../../../src/simulators/woocommerce/index.js';
import { startSim } from '../../simulators/woocommerce/helpers.js';

const clientFor = (sim: WooCommerceSimulator, over: Partial<ConstructorParameters<typeof WooClient>[0]> = {}) =>
  new WooClient({ instance: 't', url: sim.baseUrl, consumerKey: sim.info.consumerKey, consumerSecret: sim.info.consumerSecret, concurrency: 2, retry: { initialDelayMs: 10, maxDelayMs: 50 }, ...over });

describe('WooClient', () => {
  let sim: WooCommerceSimulator;
  before(async () => {
    sim = await startSim({ products: 250, requireOAuthOverHttp: true });
  });
  after(async () => sim.close());
  afterEach(() => sim.setFaults({ throttlePercent: 0, latencyMs: 0 }));

  it('signs requests over plain http with one-legged OAuth 1.0a that WooCommerce accepts (Basic is ignored there)', async () => {
    const client = clientFor(sim);
    assert.equal(client.auth, 'oauth');
    const page = await client.list('/products', { per_page: 5, page: 1, orderby: 'id', order: 'asc', modified_after: '2024-12-31T00:00:00', dates_are_gmt: true });
    assert.equal(page.items.length, 5);
  });

  it('signs POST bodies and comma lists correctly too', async () => {
    const client = clientFor(sim);
    const [a, b] = await client.list<any>('/products', { per_page: 2, orderby: 'id', order: 'asc' }).then((p) => p.items);
    const bySku = await client.list<any>('/products', { sku: `${a.sku},${b.sku}`, per_page: 100 });
    assert.deepEqual(bySku.items.map((p: any) => p.id).sort(), [a.id, b.id].sort());
    const res = await client.request<any>({ method: 'POST', path: '/products/batch', body: { update: [{ id: a.id, stock_quantity: 3 }] } });
    assert.equal(res.body.update[0].stock_quantity, 3);
  });

  it('uses HTTP Basic over https and never puts credentials in the URL', async () => {
    const seen: Array<{ url: string; auth?: string }> = [];
    const fakeFetch = (async (url: string | URL, init?: RequestInit) => {
      seen.push({ url: String(url), auth: (init?.headers as Record<string, string>).authorization });
      return new Response('[]', { status: 200, headers: { 'content-type': 'application/json', 'x-wp-total': '0', 'x-wp-totalpages': '0' } });
    }) as typeof fetch;
    const client = new WooClient({ instance: 't', url: 'https://shop.example.com/', consumerKey: 'ck_x', consumerSecret: 'cs_y', concurrency: 2, fetch: fakeFetch });
    assert.equal(client.auth, 'basic');
    await client.list('/products', { per_page: 100, page: 1 });
    assert.equal(seen[0]!.url, 'https://shop.example.com/wp-json/wc/v3/products?per_page=100&page=1');
    assert.equal(seen[0]!.auth, `Basic ${Buffer.from('ck_x:cs_y').toString('base64')}`);
    assert.doesNotMatch(seen[0]!.url, /oauth_|consumer_/);
  });

  it('reports a wrong secret as a permanent credentials error with WooCommerce\'s code and a hint', async () => {
    const client = clientFor(sim, { consumerSecret: 'cs_wrong' });
    await assert.rejects(client.list('/products', {}), (err: unknown) => {
      assert.ok(err instanceof PermanentError);
      assert.equal(err.code, 'woocommerce_rest_authentication_error');
      assert.match(err.hint ?? '', /consumerKey\/consumerSecret/);
      return true;
    });
  });

  it('reports a URL without the WooCommerce API as rest_no_route with a hint about the url', async () => {
    const client = clientFor(sim);
    await assert.rejects(client.request({ path: '/no-such-thing' }), (err: unknown) => {
      assert.ok(err instanceof PermanentError);
      assert.equal(err.code, 'rest_no_route');
      assert.match(err.hint ?? '', /instance url/);
      return true;
    });
  });

  it('backs off and retries host throttling (429 with Retry-After) until the request goes through', async () => {
    const bus = new SyncEventBus();
    const retries: string[] = [];
    bus.on('retry', (e) => retries.push(e.code));
    const client = clientFor(sim, { bus, retry: { retries: 30, initialDelayMs: 1, maxDelayMs: 5 } });
    sim.setFaults({ throttlePercent: 60, throttleStatus: 429 });
    // Retry-After: 1 from the host is honoured; keep the sample small.
    const page = await client.list('/products', { per_page: 1 });
    assert.equal(page.items.length, 1);
    sim.setFaults({ throttlePercent: 100, throttleStatus: 503 });
    const failing = clientFor(sim, { retry: { retries: 2, initialDelayMs: 1, maxDelayMs: 2 } });
    await assert.rejects(failing.list('/products', {}), (err: unknown) => err instanceof RetriableError && err.code === 'WOO_HTTP_503' && err.retryAfterMs === 1000);
  });

  it('reads the pagination headers and walks every page', async () => {
    const client = clientFor(sim);
    const first = await client.list('/products', { per_page: 100, page: 1 });
    assert.equal(first.total, 250);
    assert.equal(first.totalPages, 3);
    const all = await client.all<any>('/products', { per_page: 100 });
    assert.equal(new Set(all.map((p) => p.id)).size, 250);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const counting = (async (url: string | URL, init?: RequestInit) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        const res = await fetch(url, init);
        const body = await res.text();
        return new Response(body, { status: res.status, headers: res.headers });
      } finally {
        inFlight--;
      }
    }) as typeof fetch;
    const client = clientFor(sim, { fetch: counting, concurrency: 2 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => client.list('/products', { per_page: 10, page: i + 1 })));
    assert.ok(peak <= 2, `peak ${peak}`);
    assert.equal(peak, 2);
  });
});
