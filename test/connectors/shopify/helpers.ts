import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { shopifyInstanceSchema, type ShopifyInstanceConfig } from '../../../src/config/schema.js';
import { createShopifyConnector, type ShopifyConnector, type ShopifyConnectorOptions } from '../../../src/connectors/shopify/index.js';
import type { WebhookRequest } from '../../../src/connectors/types.js';
import { SyncEventBus } from '../../../src/core/events.js';
import { configureLogger } from '../../../src/core/logger.js';
import { startShopifySimulator, type ShopifySimOptionsInput, type ShopifySimulator } from '../../../src/simulators/shopify/index.js';

configureLogger({ level: 'silent' });

/** A simulator, a connector pointed at it and a private event bus. */
export interface Rig {
  sim: ShopifySimulator;
  cfg: ShopifyInstanceConfig;
  conn: ShopifyConnector;
  bus: SyncEventBus;
  /** `shopify.throttled` events seen on the bus. */
  throttled(): number;
  close(): Promise<void>;
}

/** Starts a simulator (5 products × 2 variants unless told otherwise) and a connector on it. */
export async function startRig(sim: ShopifySimOptionsInput = {}, cfg: Partial<ShopifyInstanceConfig> = {}, opts: ShopifyConnectorOptions = {}): Promise<Rig> {
  const s = await startShopifySimulator({ catalog: { products: 5, variantsPerProduct: 2 }, ...sim });
  const config = shopifyInstanceSchema.parse({ shop: s.info.shop, url: s.baseUrl, accessToken: s.info.accessToken, clientSecret: s.info.clientSecret, plan: sim.plan ?? 'standard', ...cfg });
  const bus = new SyncEventBus();
  let throttled = 0;
  bus.on('shopify.throttled', () => { throttled++; });
  const conn = createShopifyConnector('main', config, { events: bus, retry: { initialDelayMs: 20, maxDelayMs: 500 }, ...opts });
  return { sim: s, cfg: config, conn, bus, throttled: () => throttled, close: () => s.close() };
}

/** Calls the simulator's control API. */
export async function control(sim: ShopifySimulator, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${sim.baseUrl}/_sim${path}`, {
    method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`control ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A local webhook receiver that keeps every delivery as the intake would see it. */
export interface Receiver {
  url: string;
  deliveries: WebhookRequest[];
  /** Deliveries received since the last call. */
  take(): WebhookRequest[];
  close(): Promise<void>;
}

/** Starts a receiver answering 200 to everything. */
export async function startReceiver(): Promise<Receiver> {
  const deliveries: WebhookRequest[] = [];
  let taken = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
      deliveries.push({ headers, rawBody: Buffer.concat(chunks) });
      res.statusCode = 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/shopify/main`,
    deliveries,
    take: () => { const out = deliveries.slice(taken); taken = deliveries.length; return out; },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Polls until `fn` returns a truthy value (bounded). */
export async function eventually<T>(fn: () => T | Promise<T>, ms = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every page of every resource from `checkpoints`. */
export async function pollAll(conn: ShopifyConnector, checkpoints: Record<string, import('../../../src/connectors/types.js').PollCheckpoint | null> = {}) {
  const events: import('../../../src/connectors/types.js').NewRawEvent[] = [];
  const next = { ...checkpoints };
  for (const r of conn.source.pollResources) {
    for (let i = 0; i < 10_000; i++) {
      const page = await conn.source.poll(r, next[r] ?? null);
      events.push(...page.events);
      next[r] = page.checkpoint;
      if (!page.more) break;
    }
  }
  return { events, checkpoints: next };
}

/** The first variant of the seeded catalog: SKU and GIDs. */
export function variantOf(sim: ShopifySimulator, i = 0) {
  const v = sim.store.variants[i]!;
  return {
    sku: v.sku!, variantId: `gid://shopify/ProductVariant/${v.id}`, productId: `gid://shopify/Product/${v.product.id}`,
    inventoryItemId: `gid://shopify/InventoryItem/${v.inventoryItem.id}`, locationId: `gid://shopify/Location/${sim.store.locations[0]!.id}`,
  };
}
