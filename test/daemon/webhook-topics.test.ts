import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildConnectorSet } from '../../src/daemon/registry.js';
import { SHOPIFY_WEBHOOK_TOPICS } from '../../src/connectors/shopify/webhooks.js';
import { WOO_WEBHOOK_TOPICS } from '../../src/connectors/woocommerce/webhooks.js';
import { eventually } from '../support/wait.js';
import { simControl, skuOf, startRig, type Rig } from './support/rig.js';

const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('base64');

/** The resource each topic names: a body is accepted under a topic exactly when it is that resource. */
const SHOPIFY_RESOURCE: Record<string, string> = {
  'products/create': 'product', 'products/update': 'product', 'products/delete': 'deletion', 'inventory_levels/update': 'level',
  'orders/create': 'order', 'orders/updated': 'order', 'orders/cancelled': 'order',
};
const WOO_RESOURCE: Record<string, string> = {
  'product.created': 'product', 'product.updated': 'product', 'product.restored': 'product', 'product.deleted': 'deletion',
  'order.created': 'order', 'order.updated': 'order', 'order.deleted': 'deletion',
};

/**
 * Every topic the connectors use, posted to the running daemon over HTTP with the body of every
 * topic of the same platform, correctly signed. Bodies are the simulators' own deliveries of
 * that topic (what the platform sends); the topics a simulator does not emit take the body of a
 * topic of the same resource (Shopify and WooCommerce build create/update/restored payloads the
 * same way) or, for deletions, `{id}` as both platforms document it.
 */
describe('Webhook intake: a signed delivery must be the resource its topic names (daemon over HTTP)', function () {
  this.timeout(180_000);
  let rig: Rig;
  let daemon: Daemon;
  const bodies = { shopify: new Map<string, string>(), woocommerce: new Map<string, string>() };

  before(async () => {
    // Dozens of refusals from one source: the per-source limit (tested in listeners.test.ts) is off here.
    rig = await startRig('wh_topics', { skus: 2, woo: { a: { buffer: 0 } }, initial: 20, overrides: { http: { public: { rateLimit: { enabled: false } } } } });
    daemon = new Daemon(rig.config, buildConnectorSet);
    await daemon.start();
    const shopCtl = rig.shop.info.controlUrl;
    const wooCtl = rig.woo.get('a')!.info.controlUrl;
    // The leader subscribes to every topic after the start: act once all subscriptions exist.
    await eventually(async () => {
      const shopSubs = (await simControl(shopCtl, 'GET', '/webhooks/subscriptions')) as Array<{ topic: string }>;
      const wooSubs = ((await simControl(wooCtl, 'GET', '/webhooks')) as { webhooks: Array<{ topic: string; status: string }> }).webhooks;
      return shopSubs.length >= SHOPIFY_WEBHOOK_TOPICS.length && WOO_WEBHOOK_TOPICS.every((t) => wooSubs.some((w) => w.topic === t && w.status === 'active'));
    }, 'the daemon subscribed to every topic', 60_000);
    // Genuine deliveries of each topic the simulators emit.
    await simControl(shopCtl, 'PATCH', `/variants/${encodeURIComponent(skuOf(1))}`, { price: '12.50' });
    await simControl(shopCtl, 'POST', '/inventory/set', { sku: skuOf(2), quantity: 17 });
    const order = await simControl(shopCtl, 'POST', '/orders', { lines: [{ sku: skuOf(1), quantity: 1 }] });
    await simControl(shopCtl, 'POST', `/orders/${encodeURIComponent(String(order.id))}/cancel`, { restock: true });
    await simControl(wooCtl, 'PUT', '/products', { sku: skuOf(1), regular_price: '9.90' });
    const wooOrder = await simControl(wooCtl, 'POST', '/orders', { status: 'processing', lines: [{ sku: skuOf(2), quantity: 1 }] });
    await simControl(wooCtl, 'POST', `/orders/${wooOrder.id}/status`, { status: 'completed' });
    const want = { shopify: ['products/update', 'inventory_levels/update', 'orders/create', 'orders/cancelled'], woocommerce: ['product.updated', 'order.created', 'order.updated'] };
    await eventually(async () => {
      for (const d of (await simControl(shopCtl, 'GET', '/webhooks/deliveries?includeBody=true')) as Array<{ topic: string; body: string }>) bodies.shopify.set(d.topic, d.body);
      await simControl(wooCtl, 'POST', '/deliveries/flush');
      for (const d of ((await simControl(wooCtl, 'GET', '/deliveries')) as { deliveries: Array<{ kind: string; topic: string; body: string }> }).deliveries) {
        if (d.kind === 'delivery') bodies.woocommerce.set(d.topic, d.body);
      }
      return want.shopify.every((t) => bodies.shopify.has(t)) && want.woocommerce.every((t) => bodies.woocommerce.has(t));
    }, 'a genuine delivery of every topic the simulators emit', 60_000).catch((err) => {
      throw new Error(`${(err as Error).message}; seen: ${[...bodies.shopify.keys(), ...bodies.woocommerce.keys()].join(', ')}`);
    });
    // Topics the simulators do not emit: same resource, same payload; deletions are `{id}`.
    const shopProduct = JSON.parse(bodies.shopify.get('products/update')!) as { id: number };
    bodies.shopify.set('products/create', bodies.shopify.get('products/update')!);
    bodies.shopify.set('orders/updated', bodies.shopify.get('orders/create')!);
    bodies.shopify.set('products/delete', JSON.stringify({ id: shopProduct.id }));
    const wooProduct = JSON.parse(bodies.woocommerce.get('product.updated')!) as { id: number };
    bodies.woocommerce.set('product.created', bodies.woocommerce.get('product.updated')!);
    bodies.woocommerce.set('product.restored', bodies.woocommerce.get('product.updated')!);
    bodies.woocommerce.set('product.deleted', JSON.stringify({ id: wooProduct.id }));
    bodies.woocommerce.set('order.deleted', JSON.stringify({ id: (JSON.parse(bodies.woocommerce.get('order.created')!) as { id: number }).id }));
  });
  after(async () => {
    await daemon?.stop();
    await rig?.close();
  });

  let n = 0;
  const post = async (platform: 'shopify' | 'woocommerce', topic: string, body: string) => {
    const id = `wrong-${++n}`;
    const headers: Record<string, string> = platform === 'shopify'
      ? { 'x-shopify-topic': topic, 'x-shopify-event-id': id, 'x-shopify-webhook-id': id, 'x-shopify-shop-domain': rig.shop.info.shop, 'x-shopify-hmac-sha256': sign(rig.shop.info.clientSecret, body) }
      : { 'x-wc-webhook-topic': topic, 'x-wc-webhook-delivery-id': id, 'x-wc-webhook-signature': sign('whsec-a', body) };
    const path = platform === 'shopify' ? '/webhooks/shopify/main' : '/webhooks/woocommerce/a';
    const r = await fetch(`${daemon.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { id, status: r.status, body: (await r.json()) as { ok: boolean; error?: string; message?: string } };
  };

  for (const [platform, topics, resource] of [['shopify', SHOPIFY_WEBHOOK_TOPICS, SHOPIFY_RESOURCE], ['woocommerce', WOO_WEBHOOK_TOPICS, WOO_RESOURCE]] as const) {
    it(`${platform}: refuses each topic's delivery carrying another resource's body (400, nothing stored, counted) and accepts its own`, async () => {
      assert.deepEqual(Object.keys(resource).sort(), [...topics].sort(), 'the table covers every topic the connector uses');
      const refused = new Map<string, number>();
      const refusedIds: string[] = [];
      for (const topic of topics) {
        for (const [of, body] of bodies[platform]) {
          if (resource[of] === resource[topic]) continue;
          const r = await post(platform, topic, body);
          assert.equal(r.status, 400, `${topic} with the body of ${of}: ${r.status} ${JSON.stringify(r.body)}`);
          assert.equal(r.body.error, 'WEBHOOK_WRONG_RESOURCE', `${topic} with the body of ${of}`);
          assert.match(r.body.message ?? '', new RegExp(`^${topic.replace('/', '\\/')} body is not`), 'the answer gives the reason');
          refused.set(topic, (refused.get(topic) ?? 0) + 1);
          refusedIds.push(r.id);
        }
      }
      assert.ok(refusedIds.length >= topics.length, 'every topic was tried with other bodies');
      const stored = await rig.query(`select count(*)::int as n from source_events where split_part(dedupe_key, ':', 1) = any($1::text[])`, [refusedIds]);
      assert.equal(stored[0].n, 0, 'a refused delivery stores nothing');
      const metrics = await (await fetch(`${daemon.adminUrl}/metrics`)).text();
      for (const [topic, count] of refused) {
        const line = metrics.split('\n').find((l) => l.startsWith('syncctl_webhook_wrong_resource_total{') && l.includes(`platform="${platform}"`) && l.includes(`topic="${topic}"`));
        assert.ok(line, `no syncctl_webhook_wrong_resource_total for ${platform} ${topic}`);
        assert.equal(Number(line.split(' ').pop()), count, `refusals counted for ${topic}`);
      }
      // Genuine deliveries are never refused: each topic with a body of its own resource.
      for (const topic of topics) {
        for (const [of, body] of bodies[platform]) {
          if (resource[of] !== resource[topic]) continue;
          const r = await post(platform, topic, body);
          assert.equal(r.status, 200, `${topic} with the body of ${of}: ${r.status} ${JSON.stringify(r.body)}`);
        }
      }
    });
  }
});
