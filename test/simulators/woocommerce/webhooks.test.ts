import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { WooCommerceSimulator } from '../../../src/simulators/woocommerce/index.js';
import { api, createWebhook, startListener, startSim, type HookListener, body } from './helpers.js';

describe('WooCommerce simulator: webhooks', () => {
  let sim: WooCommerceSimulator;
  let hooks: HookListener;
  beforeEach(async () => {
    hooks = await startListener();
  });
  afterEach(async () => {
    await sim?.close();
    await hooks.close();
  });

  const skuId = (sku: string) => sim.store.findBySku(sku)[0]!.id;

  it('sends a form-encoded, unsigned ping webhook_id=N when a webhook is created', async () => {
    sim = await startSim();
    const id = await createWebhook(sim, 'product.updated', hooks.url);
    assert.equal(hooks.received.length, 1);
    const ping = hooks.received[0]!;
    assert.equal(ping.raw.toString(), `webhook_id=${id}`);
    assert.match(ping.headers['content-type'] ?? '', /application\/x-www-form-urlencoded/);
    assert.equal(ping.headers['x-wc-webhook-signature'], undefined);
  });

  it('signs deliveries with base64 HMAC-SHA256 of the raw body and sends the X-WC-Webhook headers', async () => {
    sim = await startSim();
    const id = await createWebhook(sim, 'product.updated', hooks.url, 's3cret');
    await api(sim, 'PUT', `/products/${skuId('SKU-000001-1')}`, { stock_quantity: 3 });
    await sim.flushWebhooks();
    const [d] = hooks.deliveries();
    assert.ok(d);
    assert.equal(d.headers['x-wc-webhook-signature'], createHmac('sha256', 's3cret').update(d.raw).digest('base64'));
    assert.equal(d.headers['x-wc-webhook-topic'], 'product.updated');
    assert.equal(d.headers['x-wc-webhook-resource'], 'product');
    assert.equal(d.headers['x-wc-webhook-event'], 'updated');
    assert.equal(d.headers['x-wc-webhook-id'], String(id));
    assert.equal(d.headers['x-wc-webhook-source'], `${sim.baseUrl}/`);
    assert.match(String(d.headers['x-wc-webhook-delivery-id']), /^[0-9a-f]{32}$/);
    assert.equal(JSON.parse(d.raw.toString()).stock_quantity, 3);
  });

  it('coalesces several saves of one product into one delivery carrying the latest state', async () => {
    sim = await startSim({ coalesceWindowMs: 200 });
    await createWebhook(sim, 'product.updated', hooks.url);
    const id = skuId('SKU-000002-1');
    for (const q of [1, 2, 3]) await api(sim, 'PUT', `/products/${id}`, { stock_quantity: q });
    await sim.flushWebhooks();
    const deliveries = hooks.deliveries();
    assert.equal(deliveries.length, 1);
    assert.equal(JSON.parse(deliveries[0]!.raw.toString()).stock_quantity, 3);
  });

  it('delivers a variation change as product.updated of the variation id', async () => {
    sim = await startSim({ products: 1, variationsPerProduct: 2 });
    await createWebhook(sim, 'product.updated', hooks.url);
    const variation = sim.store.findBySku('SKU-000001-2')[0]!;
    await api(sim, 'PUT', `/products/${variation.parentId}/variations/${variation.id}`, { stock_quantity: 8 });
    await sim.flushWebhooks();
    const bodies = hooks.deliveries().map((d) => JSON.parse(d.raw.toString()));
    const v = bodies.find((b) => b.id === variation.id);
    assert.ok(v, 'a delivery for the variation id');
    assert.equal(v.type, 'variation');
    assert.equal(v.stock_quantity, 8);
  });

  it('sends product.deleted with little more than the id when a product is trashed', async () => {
    sim = await startSim();
    await createWebhook(sim, 'product.deleted', hooks.url);
    const id = skuId('SKU-000003-1');
    await api(sim, 'DELETE', `/products/${id}`);
    await sim.flushWebhooks();
    assert.deepEqual(JSON.parse(hooks.deliveries()[0]!.raw.toString()), { id });
  });

  it('does not retry a failed delivery', async () => {
    sim = await startSim();
    await createWebhook(sim, 'product.updated', hooks.url);
    hooks.status = 500;
    await api(sim, 'PUT', `/products/${skuId('SKU-000001-1')}`, { stock_quantity: 1 });
    await sim.flushWebhooks();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(hooks.deliveries().length, 1);
  });

  it('disables a webhook when a delivery fails after more than 5 consecutive failures, visible in GET /webhooks', async () => {
    sim = await startSim({ products: 7 });
    const id = await createWebhook(sim, 'product.updated', hooks.url);
    hooks.status = 503;
    const ids = [...sim.store.products.keys()];
    for (const pid of ids.slice(0, 6)) await api(sim, 'PUT', `/products/${pid}`, { stock_quantity: 1 });
    await sim.flushWebhooks();
    assert.equal((await api(sim, 'GET', `/webhooks/${id}`)).json.status, 'active');
    await api(sim, 'PUT', `/products/${ids[6]}`, { stock_quantity: 1 });
    await sim.flushWebhooks();
    const list = await api(sim, 'GET', '/webhooks');
    assert.equal(list.json[0].status, 'disabled');
    assert.equal(hooks.deliveries().length, 7);
    await api(sim, 'PUT', `/products/${ids[0]}`, { stock_quantity: 2 });
    await sim.flushWebhooks();
    assert.equal(hooks.deliveries().length, 7, 'a disabled webhook delivers nothing');
  });

  it('resets the failure count after a successful delivery', async () => {
    sim = await startSim({ products: 8 });
    const id = await createWebhook(sim, 'product.updated', hooks.url);
    const ids = [...sim.store.products.keys()];
    hooks.status = 500;
    for (const pid of ids.slice(0, 5)) await api(sim, 'PUT', `/products/${pid}`, { stock_quantity: 1 });
    await sim.flushWebhooks();
    hooks.status = 200;
    await api(sim, 'PUT', `/products/${ids[5]}`, { stock_quantity: 1 });
    await sim.flushWebhooks();
    const state = await body(await fetch(`${sim.controlUrl}/webhooks`));
    assert.deepEqual(state.webhooks.map((w: { id: number; failure_count: number; status: string }) => [w.id, w.failure_count, w.status]), [[id, 0, 'active']]);
  });

  it('drops and duplicates deliveries deterministically for a given seed', async () => {
    const run = async () => {
      const listener = await startListener();
      const s = await startSim({ products: 20, seed: 7, faults: { dropWebhooksPercent: 30, duplicateWebhooksPercent: 30 } });
      try {
        await createWebhook(s, 'product.updated', listener.url);
        for (const id of [...s.store.products.keys()]) await api(s, 'PUT', `/products/${id}`, { stock_quantity: 1 });
        await s.flushWebhooks();
        return s.deliveries.filter((d) => d.kind === 'delivery').map((d) => `${d.resourceId}:${d.outcome}:${d.duplicate}`);
      } finally {
        await s.close();
        await listener.close();
      }
    };
    const first = await run();
    assert.deepEqual(await run(), first);
    assert.ok(first.some((x) => x.endsWith(':dropped:false')), 'some dropped');
    assert.ok(first.some((x) => x.endsWith(':true')), 'some duplicated');
    sim = await startSim();
  });

  it('signs a share of deliveries with a wrong key when badSignatureWebhooksPercent is set', async () => {
    sim = await startSim({ faults: { badSignatureWebhooksPercent: 100 } });
    await createWebhook(sim, 'product.updated', hooks.url, 'k');
    await api(sim, 'PUT', `/products/${skuId('SKU-000001-1')}`, { stock_quantity: 1 });
    await sim.flushWebhooks();
    const d = hooks.deliveries()[0]!;
    assert.notEqual(d.headers['x-wc-webhook-signature'], createHmac('sha256', 'k').update(d.raw).digest('base64'));
  });
});
