/**
 * WooCommerce simulator throughput over real HTTP on loopback: a simple page read
 * (GET /products?per_page=100) and a 100-item batch update (POST /products/batch), each with
 * 4 requests in flight, bounded by count and time.
 */
import { percentile, round, type BenchFigure } from './lib.js';
import { startWooCommerceSimulator } from '../src/simulators/woocommerce/index.js';

const CONCURRENCY = 4;

async function measure(maxRequests: number, maxMs: number, fn: () => Promise<void>): Promise<{ count: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const started = performance.now();
  let issued = 0;
  const worker = async () => {
    while (issued < maxRequests && performance.now() - started < maxMs) {
      issued++;
      const t = performance.now();
      await fn();
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { count: latencies.length, seconds: (performance.now() - started) / 1000, latencies };
}

export default async function bench(): Promise<BenchFigure[]> {
  const products = 10_000;
  const sim = await startWooCommerceSimulator({ products, seed: 1 });
  const auth = { authorization: `Basic ${Buffer.from(`${sim.info.consumerKey}:${sim.info.consumerSecret}`).toString('base64')}` };
  try {
    const check = async (res: Response) => {
      if (!res.ok) throw new Error(`simulator answered ${res.status}`);
      await res.arrayBuffer();
    };
    let page = 0;
    const get = await measure(3000, 5000, async () => {
      page = (page % 100) + 1;
      await check(await fetch(`${sim.apiUrl}/products?per_page=100&page=${page}`, { headers: auth }));
    });
    const ids = [...sim.store.products.keys()];
    let round_ = 0;
    const batch = await measure(500, 5000, async () => {
      const start = (round_++ * 100) % (ids.length - 100);
      const update = ids.slice(start, start + 100).map((id, i) => ({ id, stock_quantity: (round_ + i) % 50 }));
      await check(await fetch(`${sim.apiUrl}/products/batch`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ update }) }));
    });
    const params = { products, concurrency: CONCURRENCY, transport: 'http loopback, Basic auth' };
    return [
      { name: 'sim.woocommerce.get_products_page.throughput', value: round(get.count / get.seconds), unit: 'req/s', params: { ...params, perPage: 100, requests: get.count } },
      { name: 'sim.woocommerce.get_products_page.p99', value: round(percentile(get.latencies, 99)), unit: 'ms', params },
      { name: 'sim.woocommerce.batch_update_100.throughput', value: round(batch.count / batch.seconds), unit: 'req/s', params: { ...params, itemsPerRequest: 100, requests: batch.count } },
      { name: 'sim.woocommerce.batch_update_100.items', value: round((batch.count * 100) / batch.seconds), unit: 'items/s', params },
      { name: 'sim.woocommerce.batch_update_100.p99', value: round(percentile(batch.latencies, 99)), unit: 'ms', params },
    ];
  } finally {
    await sim.close();
  }
}
