/**
 * Shopify writer under a long backlog, against the simulator on the standard plan (bucket 2,000
 * points, restored at 100/s): 20,000 inventory writes handed to the sink in batches of 50 by four
 * concurrent callers (a writers framework draining a backlog). At 10 points per mutation that is
 * 4,000 points, twice the bucket, so the run is bound by the restore rate and shows the pacing.
 *
 * Budget utilisation = points spent (Shopify's actualQueryCost) / points restorable over the run
 * (what the bucket held at the start + restore rate × duration). A second run with full batches of
 * 250 shows the write rate when the budget is not the limit.
 */
import { shopifyInstanceSchema } from '../src/config/schema.js';
import { createShopifyConnector } from '../src/connectors/shopify/index.js';
import type { SinkWrite } from '../src/connectors/types.js';
import { SyncEventBus } from '../src/core/events.js';
import { configureLogger } from '../src/core/logger.js';
import { startShopifySimulator } from '../src/simulators/shopify/index.js';
import { round, type BenchFigure } from './lib.js';

const WRITES = 20_000;
const CALLERS = 4;

async function run(batchSize: number): Promise<{ seconds: number; spent: number; restorable: number; throttled: number; failed: number; mutations: number }> {
  const sim = await startShopifySimulator({ plan: 'standard', catalog: { products: 5_000, variantsPerProduct: 4 } });
  try {
    const cfg = shopifyInstanceSchema.parse({ shop: sim.info.shop, url: sim.baseUrl, accessToken: sim.info.accessToken, clientSecret: sim.info.clientSecret, plan: 'standard' });
    const bus = new SyncEventBus();
    let throttled = 0;
    bus.on('shopify.throttled', () => { throttled++; });
    const conn = createShopifyConnector('bench', cfg, { events: bus });
    const loc = await conn.locationId();
    const writes: SinkWrite[] = sim.store.variants.slice(0, WRITES).map((v, i) => ({
      writeId: `w${i}`, sku: v.sku!, kind: 'inventory', idempotencyKey: `bench-${batchSize}-${i}`,
      refs: { id: `gid://shopify/ProductVariant/${v.id}`, inventoryItemId: `gid://shopify/InventoryItem/${v.inventoryItem.id}`, locationId: loc },
      payload: { available: (i % 90) + 5 }, expected: null,
    }));
    const start = sim.state.bucket.status();
    const spentBefore = conn.client.bucket.stats.spent;
    let failed = 0;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CALLERS }, async () => {
      while (next < writes.length) {
        const batch = writes.slice(next, next + batchSize);
        next += batchSize;
        for (const r of await conn.sink.write(batch)) if (r.status !== 'ok') failed++;
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    const spent = conn.client.bucket.stats.spent - spentBefore;
    return { seconds, spent, restorable: start.currentlyAvailable + start.restoreRate * seconds, throttled, failed, mutations: Math.ceil(WRITES / batchSize) };
  } finally {
    await sim.close();
  }
}

/** Budget utilisation, THROTTLED answers and write rate of a long backlog. */
export default async function (): Promise<BenchFigure[]> {
  configureLogger({ level: 'silent' });
  const paced = await run(50);
  const params = { writes: WRITES, batchSize: 50, callers: CALLERS, plan: 'standard', seconds: round(paced.seconds), pointsSpent: paced.spent, pointsRestorable: round(paced.restorable), mutations: paced.mutations, failedWrites: paced.failed };
  const full = await run(250);
  return [
    { name: 'shopify.writes.budget_utilisation', value: round((paced.spent / paced.restorable) * 100, 1), unit: '%', target: '>= 95 %', params },
    { name: 'shopify.writes.throttled', value: paced.throttled, unit: 'responses', target: '0', params },
    { name: 'shopify.writes.rate_budget_bound', value: round(WRITES / paced.seconds, 1), unit: 'writes/s', params },
    {
      name: 'shopify.writes.rate_batches_of_250', value: round(WRITES / full.seconds, 1), unit: 'writes/s',
      params: { writes: WRITES, batchSize: 250, callers: CALLERS, seconds: round(full.seconds), throttled: full.throttled, failedWrites: full.failed, pointsSpent: full.spent },
    },
  ];
}
