// Webhook intake acknowledgement latency: signed Shopify deliveries POSTed to the daemon's HTTP
// intake at a steady rate (verify HMAC → parse → store in source_events → 200), as Shopify
// would send them. Target: p99 < 50 ms at 500 deliveries/s (Shopify allows 5 s).
import { benchShopifyIntake } from './support.js';
import { createHmac, randomUUID } from 'node:crypto';
import { request, Agent } from 'node:http';
import { startPublicServer } from '../src/daemon/http-server.js';
import { percentile, round, type BenchFigure } from './lib.js';

const SECRET = 'bench_client_secret';

export default async function run(): Promise<BenchFigure[]> {
  const { intake, drop } = await benchShopifyIntake('intake', SECRET);
  const server = await startPublicServer({ host: '127.0.0.1', port: 0, bodyLimitBytes: 1_048_576, intake, live: () => true });
  const url = new URL(`${server.url}/webhooks/shopify/main`);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  const post = (n: number): Promise<{ ms: number; status: number }> => {
    const body = JSON.stringify({ id: 8100000000000 + n, admin_graphql_api_id: `gid://shopify/Product/${8100000000000 + n}`, title: `Product ${n}`, status: 'active', updated_at: new Date().toISOString(), variants: [{ id: 45000000000000 + n, sku: `SKU-${String(n).padStart(6, '0')}-1`, price: '19.90', inventory_item_id: 47000000000000 + n, updated_at: new Date().toISOString() }] });
    const hmac = createHmac('sha256', SECRET).update(body).digest('base64');
    const t0 = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'x-shopify-topic': 'products/update', 'x-shopify-shop-domain': 'bench.myshopify.com', 'x-shopify-api-version': '2026-04', 'x-shopify-webhook-id': randomUUID(), 'x-shopify-event-id': randomUUID(), 'x-shopify-triggered-at': new Date().toISOString(), 'x-shopify-hmac-sha256': hmac } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode ?? 0 }));
      });
      req.on('error', reject);
      req.end(body);
    });
  };

  const rate = 500;
  const seconds = 20;
  const lat: number[] = [];
  let failed = 0;
  const inflight: Promise<void>[] = [];
  const start = Date.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(post(i).then((r) => (r.status === 200 ? void lat.push(r.ms) : void failed++)));
  }
  await Promise.all(inflight);
  const achieved = (rate * seconds) / ((Date.now() - start) / 1000);
  await server.app.close();
  agent.destroy();
  await drop();
  const params = { targetRate: rate, seconds, deliveries: rate * seconds, failed };
  return [
    { name: 'intake.ack.latency.p50', value: round(percentile(lat, 50)), unit: 'ms', params },
    { name: 'intake.ack.latency.p99', value: round(percentile(lat, 99)), unit: 'ms', params, target: '< 50 ms at 500 deliveries/s' },
    { name: 'intake.ack.latency.max', value: round(Math.max(...lat)), unit: 'ms', params },
    { name: 'intake.deliveries.rate', value: round(achieved, 0), unit: 'deliveries/s', params },
  ];
}
