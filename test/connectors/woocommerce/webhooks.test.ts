import { strict as assert } from 'node:assert';
import type { NewRawEvent, RawOrder, RawProduct, WebhookRequest } from '../../../src/connectors/types.js';
import { wooSignature } from '../../../src/connectors/woocommerce/index.js';
import { WebhookRejectedError } from '../../../src/connectors/webhook-errors.js';
import { payloadChecksum } from '../../../src/core/ids.js';
import { catalogSku } from '../../../src/simulators/woocommerce/index.js';
import { control, eventually, productBySku, startRig, WEBHOOK_SECRET, type WooRig } from './support.js';

const events = async (rig: WooRig, reqs: WebhookRequest[]): Promise<NewRawEvent[]> => {
  const out: NewRawEvent[] = [];
  for (const r of reqs) {
    const o = await rig.conn.source.verifyAndParse(r);
    if (o.kind === 'events') out.push(...o.events);
  }
  return out;
};

const rejects = async (rig: WooRig, req: WebhookRequest, reason: string) =>
  assert.rejects(rig.conn.source.verifyAndParse(req), (err: unknown) => err instanceof WebhookRejectedError && err.reason === reason);

describe('WooCommerce webhooks (verifyAndParse)', () => {
  let rig: WooRig;
  before(async () => {
    rig = await startRig({ products: 4, variationsPerProduct: 2 }, { webhooks: true });
  });
  after(async () => rig.close());
  beforeEach(async () => {
    await rig.flush();
    rig.take();
    rig.sim.setFaults({ duplicateWebhooksPercent: 0, badSignatureWebhooksPercent: 0 });
  });

  const signed = (body: string, topic = 'product.updated'): WebhookRequest => ({
    headers: { 'x-wc-webhook-topic': topic, 'x-wc-webhook-signature': wooSignature(WEBHOOK_SECRET, body), 'x-wc-webhook-delivery-id': 'd1', 'content-type': 'application/json' },
    rawBody: Buffer.from(body),
  });

  it('acknowledges and ignores the unsigned creation ping', async () => {
    const ping = rig.listener.received.find((r) => r.raw.toString().startsWith('webhook_id='));
    assert.ok(ping, 'the simulator sent no ping');
    const out = await rig.conn.source.verifyAndParse({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: ping.raw });
    assert.deepEqual(out, { kind: 'ignored', reason: 'ping' });
  });

  it('rejects an unsigned delivery that is not the ping as missing_signature', async () => {
    await rejects(rig, { headers: { 'x-wc-webhook-topic': 'product.updated' }, rawBody: Buffer.from('{"id":1}') }, 'missing_signature');
  });

  it('rejects a delivery signed with another secret as bad_signature', async () => {
    rig.sim.setFaults({ badSignatureWebhooksPercent: 100 });
    await control(rig.sim, 'POST', '/stock', { sku: catalogSku(1, 1), quantity: 33 });
    await rig.flush();
    const [forged] = rig.take();
    assert.ok(forged);
    await rejects(rig, forged, 'bad_signature');
  });

  it('rejects a body altered after signing as bad_signature (raw bytes are what is signed)', async () => {
    const body = '{"id":1,"name":"a\\/b"}';
    const req = signed(body);
    await rejects(rig, { ...req, rawBody: Buffer.from(JSON.stringify(JSON.parse(body))) }, 'bad_signature');
  });

  it('rejects a correctly signed body that is not JSON as malformed', async () => {
    await rejects(rig, signed('{"id":1,'), 'malformed');
  });

  it('rejects a signed product delivery that is not a product as wrong_resource', async () => {
    await rejects(rig, signed('{"id":"abc"}'), 'wrong_resource');
  });

  it('rejects a signed product delivery whose product fields do not validate as malformed', async () => {
    await rejects(rig, signed('{"id":"abc","type":"simple"}'), 'malformed');
  });

  it('ignores signed topics it does not use', async () => {
    const out = await rig.conn.source.verifyAndParse(signed('{"id":5}', 'customer.updated'));
    assert.equal(out.kind, 'ignored');
  });

  it('gives a duplicated delivery the same dedupe key', async () => {
    rig.sim.setFaults({ duplicateWebhooksPercent: 100 });
    await control(rig.sim, 'POST', '/stock', { sku: catalogSku(2, 1), quantity: 12 });
    await rig.flush();
    const evs = await events(rig, rig.take());
    const keys = evs.map((e) => e.dedupeKey);
    assert.ok(keys.length >= 2);
    assert.ok(keys.every((k) => keys.filter((x) => x === k).length === 2), `keys ${keys.join(' ')}`);
  });

  it('turns a variation\'s product.updated into its parent\'s product payload with that variation as the variant', async () => {
    const sku = catalogSku(3, 2);
    const v = await productBySku(rig.sim, sku);
    await control(rig.sim, 'POST', '/stock', { sku, quantity: 41 });
    await rig.flush();
    const evs = await events(rig, rig.take());
    const mine = evs.find((e) => e.entityRef === String(v.id))!;
    assert.ok(mine, 'no event for the variation');
    const p = mine.payload as RawProduct;
    assert.equal(p.productId, String(v.parent_id));
    assert.deepEqual(p.variants.map((x) => [x.id, x.sku, x.available, x.parentId]), [[String(v.id), sku, 41, String(v.parent_id)]]);
    assert.match(mine.occurredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(mine.dedupeKey, new RegExp(`^[0-9a-f]{32}:${v.id}:${mine.occurredAt}$`));
    // WooCommerce follows up with the parent, which carries the title and no SKU of its own.
    const parent = evs.find((e) => e.entityRef === String(v.parent_id));
    assert.ok(parent);
    assert.deepEqual((parent.payload as RawProduct).variants, []);
  });

  it('normalises a webhook and a poll of the same state to the same payload (same checksum)', async () => {
    const sku = catalogSku(4, 1);
    await control(rig.sim, 'PUT', '/products', { sku, regular_price: '19.5' });
    await rig.flush();
    const hooked = await events(rig, rig.take());
    const polled: NewRawEvent[] = [];
    let cp = null;
    for (;;) {
      const page = await rig.conn.source.poll('products', cp);
      polled.push(...page.events);
      cp = page.checkpoint;
      if (!page.more) break;
    }
    assert.ok(hooked.length >= 2);
    for (const h of hooked) {
      const p = polled.find((e) => e.entityRef === h.entityRef);
      assert.ok(p, `poll has no ${h.entityRef}`);
      assert.equal(payloadChecksum(p.payload), payloadChecksum(h.payload), `${JSON.stringify(p.payload)} vs ${JSON.stringify(h.payload)}`);
    }
    const variant = hooked.map((e) => e.payload as RawProduct).flatMap((p) => p.variants).find((x) => x.sku === sku);
    assert.equal(variant?.price, '19.50');
  });

  it('names the SKUs of a deleted product it has seen before', async () => {
    const sku = catalogSku(1, 2);
    const v = await productBySku(rig.sim, sku);
    await rig.conn.source.poll('products', null); // learns ids → SKUs
    // Only trashing announces a deletion (product.deleted is hooked to wp_trash_post); trashing
    // the variable product trashes its variations, each announced.
    const res = await rig.conn.client.request({ method: 'DELETE', path: `/products/${v.parent_id}` });
    assert.equal(res.status, 200);
    await rig.flush();
    const isIt = (x: { payload: { kind: string } }) => x.payload.kind === 'product_deleted' && (x.payload as unknown as { productId: string }).productId === String(v.id);
    const evs = await eventually(async () => {
      const e = await events(rig, rig.take());
      return e.find(isIt) ? e : undefined;
    });
    const del = evs.find(isIt)!;
    assert.deepEqual(del.payload, { kind: 'product_deleted', productId: String(v.id), updatedAt: del.occurredAt, skus: [sku] });
  });

  it('turns order deliveries into orders with committed and cancelled flags', async () => {
    const sku = catalogSku(2, 2);
    const order = await control(rig.sim, 'POST', '/orders', { lines: [{ sku, quantity: 2 }] });
    await rig.flush();
    let orders = (await events(rig, rig.take())).filter((e) => e.payload.kind === 'order').map((e) => e.payload as RawOrder);
    assert.ok(orders.length >= 1);
    assert.deepEqual({ ...orders.at(-1)!, createdAt: '', updatedAt: '' }, {
      kind: 'order', orderId: String(order.id), name: `#${order.id}`, committed: true, cancelled: false, currency: order.currency, createdAt: '', updatedAt: '',
      lines: [{ lineId: String(order.line_items[0].id), sku, quantity: 2, price: order.line_items[0].price.toFixed(2), variantId: String(order.line_items[0].variation_id) }],
    });
    await control(rig.sim, 'POST', `/orders/${order.id}/status`, { status: 'cancelled' });
    await rig.flush();
    orders = (await events(rig, rig.take())).filter((e) => e.payload.kind === 'order').map((e) => e.payload as RawOrder);
    assert.equal(orders.at(-1)?.cancelled, true);
  });
});
