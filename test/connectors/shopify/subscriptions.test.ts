import { strict as assert } from 'node:assert';
import { SHOPIFY_SUBSCRIPTION_TOPICS } from '../../../src/connectors/shopify/index.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { control, startRig, type Rig } from './helpers.js';

/** A webhook receiver answering 500 to one topic and 200 to the others. */
async function startFailingReceiver(topic: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.statusCode = req.headers['x-shopify-topic'] === topic ? 500 : 200; res.end(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/shopify/main`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('Shopify webhook subscriptions', () => {
  let rig: Rig;
  before(async () => { rig = await startRig(); });
  after(() => rig.close());

  it('creates the needed subscriptions once and keeps them on the next run', async () => {
    const url = 'https://syncctl.example.com/webhooks/shopify/main';
    const first = await rig.conn.subscriptions.ensureWebhooks(url);
    assert.equal(first.created.length, SHOPIFY_SUBSCRIPTION_TOPICS.length);
    const second = await rig.conn.subscriptions.ensureWebhooks(url);
    assert.equal(second.created.length, 0);
    assert.equal(second.kept.length, SHOPIFY_SUBSCRIPTION_TOPICS.length);
    assert.equal((await rig.conn.subscriptions.list()).length, SHOPIFY_SUBSCRIPTION_TOPICS.length);
  });

  it('notices a subscription Shopify deleted after 8 failed retries and registers it again', async () => {
    const s = await startRig({ webhookRetryScale: 0.0001 });
    const receiver = await startFailingReceiver('orders/create');
    try {
      const recreated: string[] = [];
      const first = await s.conn.subscriptions.check(receiver.url, null, { onRecreated: (t) => recreated.push(t) });
      assert.deepEqual(new Set(first.topics.map((t) => t.state)), new Set(['registered']));
      await control(s.sim, 'POST', '/orders', { lines: [{ sku: s.sim.store.variants[0]!.sku, quantity: 1 }] });
      await s.sim.webhooksIdle();
      assert.deepEqual((await control(s.sim, 'GET', '/webhooks/subscriptions/removed')).map((r: { topic: string }) => r.topic), ['ORDERS_CREATE']);
      const second = await s.conn.subscriptions.check(receiver.url, first, { onRecreated: (t) => recreated.push(t) });
      assert.deepEqual(recreated, ['ORDERS_CREATE']);
      assert.deepEqual(second.topics.filter((t) => t.state !== 'registered').map((t) => [t.topic, t.state]), [['ORDERS_CREATE', 're-registered']]);
      assert.equal((await s.conn.subscriptions.list()).length, SHOPIFY_SUBSCRIPTION_TOPICS.length);
      // The next check keeps showing it as re-registered (for a day), without counting it again.
      const third = await s.conn.subscriptions.check(receiver.url, second, { onRecreated: (t) => recreated.push(t) });
      assert.equal(third.topics.find((t) => t.topic === 'ORDERS_CREATE')!.state, 're-registered');
      assert.deepEqual(recreated, ['ORDERS_CREATE']);
      const later = await s.conn.subscriptions.check(receiver.url, third, { now: () => new Date(Date.now() + 86_400_001) });
      assert.equal(later.topics.find((t) => t.topic === 'ORDERS_CREATE')!.state, 'registered');
    } finally {
      await receiver.close();
      await s.close();
    }
  });

  it('removes its subscriptions', async () => {
    const removed = await rig.conn.subscriptions.removeWebhooks();
    assert.equal(removed, SHOPIFY_SUBSCRIPTION_TOPICS.length);
    assert.deepEqual(await rig.conn.subscriptions.list(), []);
  });
});
