import { strict as assert } from 'node:assert';
import { WOO_WEBHOOK_TOPICS } from '../../../src/connectors/woocommerce/index.js';
import { catalogSku } from '../../../src/simulators/woocommerce/index.js';
import { control, startRig, type WooRig } from './support.js';

describe('WooCommerce webhook health', function () {
  this.timeout(60_000);
  let rig: WooRig;
  const seen: Array<{ topic: string; status: string }> = [];
  before(async () => {
    rig = await startRig({ products: 3 });
    rig.bus.on('woocommerce.webhook', (e) => seen.push(e));
  });
  after(async () => rig.close());

  it('creates the needed subscriptions once, with our secret, however often it is asked', async () => {
    const first = await rig.conn.health.ensureWebhooks(rig.listener.url);
    assert.deepEqual(first.map((h) => h.repaired), WOO_WEBHOOK_TOPICS.map(() => 'created'));
    const again = await rig.conn.health.ensureWebhooks(rig.listener.url);
    assert.ok(again.every((h) => h.status === 'active' && h.repaired === undefined));
    const hooks = (await control(rig.sim, 'GET', '/webhooks')).webhooks;
    assert.equal(hooks.length, WOO_WEBHOOK_TOPICS.length);
    // Deliveries verify with the configured secret.
    await control(rig.sim, 'POST', '/stock', { sku: catalogSku(1, 1), quantity: 9 });
    await rig.flush();
    const reqs = rig.take();
    assert.ok(reqs.length > 0);
    for (const r of reqs) assert.equal((await rig.conn.source.verifyAndParse(r)).kind, 'events');
  });

  it('detects a webhook WooCommerce disabled after failed deliveries, reports it and re-enables it', async () => {
    rig.listener.status = 500;
    for (let i = 0; i < 8; i++) {
      await control(rig.sim, 'POST', '/stock', { sku: catalogSku(2, 1), quantity: i });
      await rig.flush();
    }
    rig.listener.status = 200;
    const before = (await control(rig.sim, 'GET', '/webhooks')).webhooks.find((w: any) => w.topic === 'product.updated');
    assert.equal(before.status, 'disabled');
    seen.length = 0;
    const report = await rig.conn.health.checkWebhooks();
    const h = report.find((x) => x.topic === 'product.updated')!;
    assert.deepEqual([h.status, h.repaired], ['disabled', 'reactivated']);
    assert.ok(seen.some((e) => e.topic === 'product.updated' && e.status === 'disabled'), 'no woocommerce.webhook event');
    const after = (await control(rig.sim, 'GET', '/webhooks')).webhooks.find((w: any) => w.topic === 'product.updated');
    assert.equal(after.status, 'active');
  });

  it('re-creates a deleted subscription', async () => {
    const hooks = (await control(rig.sim, 'GET', '/webhooks')).webhooks;
    const target = hooks.find((w: any) => w.topic === 'order.created');
    await rig.conn.client.request({ method: 'DELETE', path: `/webhooks/${target.id}`, query: { force: true } });
    const report = await rig.conn.health.checkWebhooks();
    const h = report.find((x) => x.topic === 'order.created')!;
    assert.deepEqual([h.status, h.repaired], ['missing', 'created']);
    const now = (await control(rig.sim, 'GET', '/webhooks')).webhooks.filter((w: any) => w.topic === 'order.created');
    assert.deepEqual(now.map((w: any) => w.status), ['active']);
    const clean = await rig.conn.health.checkWebhooks();
    assert.ok(clean.every((x) => x.status === 'active' && x.repaired === undefined));
  });

  it('only reports when repairs are not allowed', async () => {
    const { createWooCommerceConnector } = await import('../../../src/connectors/woocommerce/index.js');
    const readOnly = createWooCommerceConnector('test', { ...rig.cfg, repairWebhooks: false }, { deliveryUrl: rig.listener.url });
    const hooks = (await control(rig.sim, 'GET', '/webhooks')).webhooks;
    const target = hooks.find((w: any) => w.topic === 'order.updated');
    await readOnly.client.request({ method: 'PUT', path: `/webhooks/${target.id}`, body: { status: 'disabled' } });
    const report = await readOnly.health.checkWebhooks();
    const h = report.find((x) => x.topic === 'order.updated')!;
    assert.deepEqual([h.status, h.repaired], ['disabled', undefined]);
    assert.equal((await control(rig.sim, 'GET', '/webhooks')).webhooks.find((w: any) => w.id === target.id).status, 'disabled');
  });
});
