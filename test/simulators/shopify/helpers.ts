import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configureLogger } from '../../../src/core/logger.js';
import { startShopifySimulator, type ShopifySimDeps, type ShopifySimOptionsInput, type ShopifySimulator } from '../../../src/simulators/shopify/index.js';

configureLogger({ level: 'silent' });

/** Starts a small simulator (5 products × 2 variants) unless told otherwise. */
export function startSim(opts: ShopifySimOptionsInput = {}, deps: ShopifySimDeps = {}): Promise<ShopifySimulator> {
  return startShopifySimulator({ catalog: { products: 5, variantsPerProduct: 2 }, ...opts }, deps);
}

/** A GraphQL response as the tests read it. */
export interface GqlResponse {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: any[]; extensions?: any };
}

/** Posts a GraphQL document to the simulator. */
export async function gql(sim: ShopifySimulator, query: string, variables?: Record<string, unknown>, o: { token?: string | null; version?: string } = {}): Promise<GqlResponse> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const token = o.token === undefined ? sim.info.accessToken : o.token;
  if (token !== null) headers['X-Shopify-Access-Token'] = token;
  const url = o.version ? `${sim.baseUrl}/admin/api/${o.version}/graphql.json` : sim.graphqlUrl;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
}

/** Calls the control API. */
export async function control(sim: ShopifySimulator, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.baseUrl}/_sim${path}`, {
    method, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** One request the webhook receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  json: any;
}

/** A local HTTP receiver for webhooks; `respond` picks the status per request. */
export async function startReceiver(respond: (n: number, r: Received) => number = () => 200): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const r = { headers: req.headers, raw, json: JSON.parse(raw.toString('utf8')) };
      received.push(r);
      res.statusCode = respond(received.length, r);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks`, received, close: () => new Promise((r) => server.close(() => r())) };
}

/** Subscribes `uri` to `topic` through GraphQL. */
export async function subscribe(sim: ShopifySimulator, topic: string, uri: string): Promise<string> {
  const r = await gql(sim, `mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
    webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) { webhookSubscription { id topic uri } userErrors { field message } }
  }`, { topic, sub: { uri, format: 'JSON' } });
  const p = r.body.data.webhookSubscriptionCreate;
  if (p.userErrors.length > 0) throw new Error(JSON.stringify(p.userErrors));
  return p.webhookSubscription.id as string;
}

/** GIDs of the first inventory item of the catalog and of the main location. */
export function firstItem(sim: ShopifySimulator): { itemId: string; locationId: string; sku: string; available: number } {
  const v = sim.store.variants[0]!;
  const loc = sim.store.locations[0]!;
  return {
    itemId: `gid://shopify/InventoryItem/${v.inventoryItem.id}`, locationId: `gid://shopify/Location/${loc.id}`, sku: v.sku!,
    available: v.inventoryItem.levels.get(loc.id)!.quantities.available,
  };
}

export const SET_QUANTITIES = `mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}`;

export const ADJUST_QUANTITIES = `mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}`;

/** Reads `available` of an item at a location through GraphQL. */
export async function readAvailable(sim: ShopifySimulator, itemId: string, locationId: string): Promise<number> {
  const r = await gql(sim, `query($id: ID!, $loc: ID!) { inventoryItem(id: $id) { inventoryLevel(locationId: $loc) { quantities(names: ["available"]) { name quantity } } } }`, { id: itemId, loc: locationId });
  return r.body.data.inventoryItem.inventoryLevel.quantities[0].quantity as number;
}
