/**
 * WooCommerce connector write throughput against the simulator over real HTTP (loopback, OAuth
 * 1.0a as on a plain-http site): 10,000 absolute stock writes through `WooCommerceSink.write`
 * in batches of 100 (maxBatch), at the default concurrency of 2 requests in flight, with and
 * without the read-back after each batch.
 */
import { percentile, round, type BenchFigure } from './lib.js';
import type { SinkWrite } from '../src/connectors/types.js';
import { createWooCommerceConnector } from '../src/connectors/woocommerce/index.js';
import { newId } from '../src/core/ids.js';
import { startWooCommerceSimulator } from '../src/simulators/woocommerce/index.js';

const WRITES = 10_000;
const CONCURRENCY = 2;

export default async function bench(): Promise<BenchFigure[]> {
  const sim = await startWooCommerceSimulator({ products: WRITES, seed: 1, requireOAuthOverHttp: true });
  try {
    const targets = [...sim.store.products.values()].map((p) => ({ id: p.id, sku: p.sku }));
    const run = async (readBack: boolean, round_: number) => {
      const conn = createWooCommerceConnector('bench', {
        url: sim.baseUrl, consumerKey: sim.info.consumerKey, consumerSecret: sim.info.consumerSecret, webhookSecret: 'bench',
        concurrency: CONCURRENCY, buffer: 0, pollIntervalSeconds: 60, deletionCheckSeconds: 600, stockPools: {}, repairWebhooks: false,
      }, { readBack });
      const batches: SinkWrite[][] = [];
      for (let i = 0; i < targets.length; i += conn.sink.maxBatch) {
        batches.push(targets.slice(i, i + conn.sink.maxBatch).map((t, j) => ({
          writeId: newId(), sku: t.sku, kind: 'inventory', idempotencyKey: newId(), refs: { id: String(t.id) }, payload: { available: (round_ * 7 + i + j) % 90 },
        })));
      }
      const latencies: number[] = [];
      let failed = 0;
      let next = 0;
      const started = performance.now();
      // The writers framework hands the sink one batch at a time per worker; the client's semaphore bounds requests in flight.
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < batches.length) {
          const b = batches[next++]!;
          const t = performance.now();
          const res = await conn.sink.write(b);
          latencies.push(performance.now() - t);
          failed += res.filter((r) => r.status !== 'ok').length;
        }
      }));
      const seconds = (performance.now() - started) / 1000;
      return { itemsPerSecond: (WRITES - failed) / seconds, failed, p99: percentile(latencies, 99), seconds };
    };
    await run(false, 0); // warm-up (JIT, connections)
    const plain = await run(false, 1);
    const withReadBack = await run(true, 2);
    const params = { writes: WRITES, batch: 100, concurrency: CONCURRENCY, transport: 'http loopback, OAuth 1.0a HMAC-SHA256' };
    return [
      { name: 'woocommerce.sink.stock_writes.throughput', value: round(plain.itemsPerSecond), unit: 'items/s', params: { ...params, readBack: false, failed: plain.failed } },
      { name: 'woocommerce.sink.stock_writes.batch_p99', value: round(plain.p99), unit: 'ms', params: { ...params, readBack: false } },
      {
        name: 'woocommerce.sink.stock_writes_readback.throughput', value: round(withReadBack.itemsPerSecond), unit: 'items/s',
        baseline: { name: 'woocommerce.sink.stock_writes.throughput', value: round(plain.itemsPerSecond), unit: 'items/s' },
        ratio: round(withReadBack.itemsPerSecond / plain.itemsPerSecond, 3),
        params: { ...params, readBack: true, failed: withReadBack.failed },
      },
      { name: 'woocommerce.sink.stock_writes_readback.batch_p99', value: round(withReadBack.p99), unit: 'ms', params: { ...params, readBack: true } },
    ];
  } finally {
    await sim.close();
  }
}
