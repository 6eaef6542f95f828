import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ShopifySimulator } from '../../../src/simulators/shopify/index.js';
import { control, firstItem, gql, startReceiver, startSim, subscribe } from './helpers.js';

const verify = (secret: string, raw: Buffer, header: unknown) =>
  typeof header === 'string' && timingSafeEqual(createHmac('sha256', secret).update(raw).digest(), Buffer.from(header, 'base64'));

describe('Shopify simulator: webhooks', () => {
  let sim: ShopifySimulator | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  afterEach(async () => { await sim?.close(); await receiver?.close(); sim = undefined; receiver = undefined; });

  it('signs the raw body with the client secret and sends Shopify\'s headers', async () => {
    sim = await startSim();
    receiver = await startReceiver();
    await subscribe(sim, 'INVENTORY_LEVELS_UPDATE', receiver.url);
    const f = firstItem(sim);
    await control(sim, 'POST', '/inventory/adjust', { sku: f.sku, delta: 1 });
    await sim.webhooksIdle();
    const [r] = receiver.received;
    assert.ok(r);
    assert.ok(verify(sim.info.clientSecret, r.raw, r.headers['x-shopify-hmac-sha256']));
    assert.equal(r.headers['x-shopify-topic'], 'inventory_levels/update');
    assert.equal(r.headers['x-shopify-shop-domain'], 'sim-shop.myshopify.com');
    assert.equal(r.headers['x-shopify-api-version'], '2026-04');
    for (const h of ['x-shopify-webhook-id', 'x-shopify-event-id', 'x-shopify-triggered-at']) assert.ok(r.headers[h], h);
    assert.equal(r.json.available, f.available + 1);
    assert.equal(r.json.inventory_item_id, sim.store.variants[0]!.inventoryItem.id);
    assert.match(r.json.admin_graphql_api_id, /^gid:\/\/shopify\/InventoryLevel\/\d+\?inventory_item_id=\d+$/);
    assert.match(r.json.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$/);
  });

  it('sends products/update with variants carrying sku, price and inventory_item_id', async () => {
    sim = await startSim();
    receiver = await startReceiver();
    await subscribe(sim, 'PRODUCTS_UPDATE', receiver.url);
    await control(sim, 'PATCH', `/variants/${sim.store.variants[0]!.sku}`, { price: '9.99' });
    await sim.webhooksIdle();
    const v = receiver.received[0]!.json.variants[0];
    assert.equal(v.price, '9.99');
    assert.equal(v.sku, sim.store.variants[0]!.sku);
    assert.equal(v.inventory_item_id, sim.store.variants[0]!.inventoryItem.id);
    assert.equal(typeof v.inventory_quantity, 'number');
    assert.equal(receiver.received[0]!.json.admin_graphql_api_id, `gid://shopify/Product/${sim.store.products[0]!.id}`);
  });

  it('retries after a 500 with the same event id and webhook id', async () => {
    sim = await startSim({ webhookRetryScale: 0.001 });
    receiver = await startReceiver((n) => (n === 1 ? 500 : 200));
    await subscribe(sim, 'ORDERS_CREATE', receiver.url);
    await control(sim, 'POST', '/orders', { lines: [{ sku: firstItem(sim).sku, quantity: 1 }] });
    await sim.webhooksIdle();
    assert.equal(receiver.received.length, 2);
    const [a, b] = receiver.received;
    assert.equal(a!.headers['x-shopify-event-id'], b!.headers['x-shopify-event-id']);
    assert.equal(a!.headers['x-shopify-webhook-id'], b!.headers['x-shopify-webhook-id']);
    assert.equal(b!.json.line_items[0].sku, firstItem(sim).sku);
    const deliveries = (await control(sim, 'GET', '/webhooks/deliveries')).body;
    assert.deepEqual(deliveries[0].attempts.map((x: { status: number }) => x.status), [500, 200]);
  });

  it('deletes a subscription once a delivery failed its 8 retries, and keeps the others', async () => {
    sim = await startSim({ webhookRetryScale: 0.0001 });
    receiver = await startReceiver((_n, req) => (req.headers['x-shopify-topic'] === 'orders/create' ? 500 : 200));
    await subscribe(sim, 'ORDERS_CREATE', receiver.url);
    await subscribe(sim, 'INVENTORY_LEVELS_UPDATE', receiver.url);
    await control(sim, 'POST', '/orders', { lines: [{ sku: firstItem(sim).sku, quantity: 1 }] });
    await sim.webhooksIdle();
    const orders = receiver.received.filter((r) => r.headers['x-shopify-topic'] === 'orders/create');
    assert.equal(orders.length, 9, 'the first attempt and 8 retries');
    const subs = (await control(sim, 'GET', '/webhooks/subscriptions')).body as Array<{ topic: string }>;
    assert.deepEqual(subs.map((x) => x.topic), ['INVENTORY_LEVELS_UPDATE']);
    const removed = (await control(sim, 'GET', '/webhooks/subscriptions/removed')).body as Array<{ topic: string; uri: string }>;
    assert.deepEqual(removed.map((x) => [x.topic, x.uri]), [['ORDERS_CREATE', receiver.url]]);
    const listed = (await gql(sim, '{ webhookSubscriptions(first: 10) { nodes { topic } } }')).body.data.webhookSubscriptions.nodes;
    assert.deepEqual(listed, [{ topic: 'INVENTORY_LEVELS_UPDATE' }]);
  });

  it('drops and duplicates deliveries deterministically for a seed', async () => {
    const run = async () => {
      const s = await startSim({ seed: 42, faults: { webhooks: { dropRate: 0.3, duplicateRate: 0.3 } } });
      const r = await startReceiver();
      try {
        await subscribe(s, 'INVENTORY_LEVELS_UPDATE', r.url);
        for (let i = 0; i < 20; i++) await control(s, 'POST', '/inventory/adjust', { sku: firstItem(s).sku, delta: 1 });
        await s.webhooksIdle();
        const d = (await control(s, 'GET', '/webhooks/deliveries')).body as { state: string; duplicate: boolean }[];
        return { received: r.received.length, pattern: d.map((x) => `${x.state}${x.duplicate ? '+dup' : ''}`).join(',') };
      } finally {
        await s.close();
        await r.close();
      }
    };
    const a = await run();
    const b = await run();
    assert.deepEqual(a, b);
    assert.ok(a.pattern.includes('dropped'));
    assert.ok(a.pattern.includes('+dup'));
    assert.notEqual(a.received, 20);
  });

  it('signs with a wrong key when the bad-signature fault is on', async () => {
    sim = await startSim({ faults: { webhooks: { badSignatureRate: 1 } } });
    receiver = await startReceiver();
    await subscribe(sim, 'INVENTORY_LEVELS_UPDATE', receiver.url);
    await control(sim, 'POST', '/inventory/adjust', { sku: firstItem(sim).sku, delta: 1 });
    await sim.webhooksIdle();
    assert.equal(verify(sim.info.clientSecret, receiver.received[0]!.raw, receiver.received[0]!.headers['x-shopify-hmac-sha256']), false);
  });

  it('lists and deletes subscriptions through GraphQL', async () => {
    sim = await startSim();
    const id = await subscribe(sim, 'ORDERS_CANCELLED', 'https://example.test/hooks');
    const dup = await gql(sim, `mutation { webhookSubscriptionCreate(topic: ORDERS_CANCELLED, webhookSubscription: { uri: "https://example.test/hooks" }) { userErrors { message } } }`);
    assert.equal(dup.body.data.webhookSubscriptionCreate.userErrors[0].message, 'Address for this topic has already been taken');
    const list = await gql(sim, '{ webhookSubscriptions(first: 10) { nodes { id topic uri } } }');
    assert.deepEqual(list.body.data.webhookSubscriptions.nodes, [{ id, topic: 'ORDERS_CANCELLED', uri: 'https://example.test/hooks' }]);
    const del = await gql(sim, 'mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { message } } }', { id });
    assert.equal(del.body.data.webhookSubscriptionDelete.deletedWebhookSubscriptionId, id);
  });

  it('delivers a burst through a bounded number of connections per receiver, and every delivery arrives', async () => {
    sim = await startSim({ webhookConnections: 4 });
    let open = 0;
    let most = 0;
    let done = 0;
    const server = createServer((req, res) => {
      open++;
      most = Math.max(most, open);
      req.resume();
      req.on('end', () => setTimeout(() => { open--; done++; res.end('ok'); }, 20));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await subscribe(sim, 'INVENTORY_LEVELS_UPDATE', `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`);
      const skus = sim.store.variants.slice(0, 40).map((v) => v.sku!);
      for (const sku of skus) await control(sim, 'POST', '/inventory/adjust', { sku, delta: 1 });
      await sim.webhooksIdle();
      assert.equal(done, skus.length);
      assert.ok(most <= 4, `${most} deliveries were in flight at once`);
      assert.ok(most > 1, 'deliveries ran concurrently');
    } finally {
      await sim.close();
      sim = undefined;
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
