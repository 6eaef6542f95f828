/**
 * Shopify simulator throughput over real HTTP on loopback: a simple query and a 250-item
 * `inventorySetQuantities` mutation. Bounded by count and time; the enterprise plan keeps
 * the cost bucket out of the way (we measure the simulator, not the throttle).
 */
import { configureLogger } from '../src/core/logger.js';
import { startShopifySimulator, type ShopifySimulator } from '../src/simulators/shopify/index.js';
import { percentile, round, type BenchFigure } from './lib.js';

const MAX_MS = 5_000;
const CONCURRENCY = 8;

async function measure(name: string, count: number, send: (i: number) => Promise<void>): Promise<BenchFigure> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count && performance.now() - started < MAX_MS) {
      const i = next++;
      const t = performance.now();
      await send(i);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    name, value: round(latencies.length / seconds, 1), unit: 'req/s', target: 'never the bottleneck of a sync (> 200 req/s simple, > 20 req/s 250-item writes)',
    params: { requests: latencies.length, concurrency: CONCURRENCY, p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) },
  };
}

async function post(sim: ShopifySimulator, query: string, variables?: unknown): Promise<void> {
  const res = await fetch(sim.graphqlUrl, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': sim.info.accessToken! }, body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { errors?: unknown };
  if (body.errors) throw new Error(`simulator answered errors: ${JSON.stringify(body.errors).slice(0, 300)}`);
}

/** Requests per second for a simple query and for a 250-item mutation. */
export default async function (): Promise<BenchFigure[]> {
  configureLogger({ level: 'silent' });
  const sim = await startShopifySimulator({ plan: 'enterprise', catalog: { products: 10_000, variantsPerProduct: 3 } });
  try {
    const simple = await measure('sim.shopify.simple_query', 2_000, () => post(sim, '{ shop { name } products(first: 10, sortKey: UPDATED_AT) { nodes { id updatedAt } } }'));
    const loc = `gid://shopify/Location/${sim.store.locations[0]!.id}`;
    const items = sim.store.variants.slice(0, 250).map((v) => `gid://shopify/InventoryItem/${v.inventoryItem.id}`);
    const mutation = `mutation($input: InventorySetQuantitiesInput!, $key: String!) { inventorySetQuantities(input: $input) @idempotent(key: $key) { userErrors { code } } }`;
    const write = await measure('sim.shopify.inventory_set_quantities_250', 300, (i) => post(sim, mutation, {
      key: `bench-${i}`,
      input: { name: 'available', reason: 'correction', quantities: items.map((id) => ({ inventoryItemId: id, locationId: loc, quantity: i % 50, changeFromQuantity: null })) },
    }));
    write.params = { ...write.params, items: 250 };
    return [simple, write];
  } finally {
    await sim.close();
  }
}
