import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import type { RawInventory, RawOrder, RawProduct, WebhookRequest } from '../../../src/connectors/types.js';
import { WebhookRejectedError } from '../../../src/connectors/webhook-errors.js';
import { payloadChecksum } from '../../../src/core/ids.js';
import { createShopifyConnector } from '../../../src/connectors/shopify/index.js';
import { control, eventually, pollAll, startReceiver, startRig, variantOf, type Receiver, type Rig } from './helpers.js';

const sign = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('base64');

describe('Shopify webhooks (verifyAndParse)', function () {
  let rig: Rig;
  let rx: Receiver;
  let apiCalls = 0;

  before(async () => {
    rig = await startRig({ catalog: { products: 5, variantsPerProduct: 2, locations: 2 } });
    rx = await startReceiver();
    await rig.conn.subscriptions.ensureWebhooks(rx.url);
    rig.bus.on('shopify.bucket', () => { apiCalls++; });
  });
  after(async () => {
    await rig.close();
    await rx.close();
  });

  const delivery = (headers: Record<string, string | undefined>, body: string | Buffer): WebhookRequest => ({ headers, rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body) });
  const rejects = async (req: WebhookRequest, reason: string) => {
    const calls = apiCalls;
    await assert.rejects(rig.conn.source.verifyAndParse(req), (err: unknown) => err instanceof WebhookRejectedError && err.reason === reason);
    assert.equal(apiCalls, calls, 'a rejected delivery must not reach the API');
  };
  /** Waits for the deliveries of `topic` caused by `act`. */
  const deliveriesOf = async (topic: string, act: () => Promise<unknown>) => {
    rx.take();
    await act();
    await rig.sim.webhooksIdle();
    return eventually(() => { const d = rx.take().filter((x) => x.headers['x-shopify-topic'] === topic); return d.length ? d : null; });
  };

  it('rejects a delivery without a signature before parsing it', async () => {
    await rejects(delivery({ 'x-shopify-topic': 'products/update' }, '{"id":1}'), 'missing_signature');
  });

  it('rejects a forged signature even when the body is not JSON (the signature is checked first)', async () => {
    await rejects(delivery({ 'x-shopify-topic': 'products/update', 'x-shopify-hmac-sha256': sign('not-the-secret', Buffer.from('{not json')) }, '{not json'), 'bad_signature');
    await rejects(delivery({ 'x-shopify-topic': 'products/update', 'x-shopify-hmac-sha256': 'AAAA' }, '{"id":1}'), 'bad_signature');
  });

  it('rejects a correctly signed body that is not JSON as malformed', async () => {
    const body = Buffer.from('{"id": 1,');
    await rejects(delivery({ 'x-shopify-topic': 'products/update', 'x-shopify-event-id': 'e1', 'x-shopify-hmac-sha256': sign(rig.cfg.clientSecret, body) }, body), 'malformed');
  });

  it('rejects a signed body that is not the resource of its topic as wrong_resource', async () => {
    const body = Buffer.from('{"id": 1}');
    await rejects(delivery({ 'x-shopify-topic': 'orders/create', 'x-shopify-event-id': 'e2', 'x-shopify-hmac-sha256': sign(rig.cfg.clientSecret, body) }, body), 'wrong_resource');
  });

  it('rejects a signed order whose fields do not validate as malformed', async () => {
    const body = Buffer.from('{"id": 1, "line_items": [], "created_at": "yesterday", "updated_at": "2026-01-01T00:00:00Z"}');
    await rejects(delivery({ 'x-shopify-topic': 'orders/create', 'x-shopify-event-id': 'e2b', 'x-shopify-hmac-sha256': sign(rig.cfg.clientSecret, body) }, body), 'malformed');
  });

  it('acknowledges and ignores a topic it does not use', async () => {
    const body = Buffer.from('{"id": 1}');
    const out = await rig.conn.source.verifyAndParse(delivery({ 'x-shopify-topic': 'customers/create', 'x-shopify-event-id': 'e3', 'x-shopify-hmac-sha256': sign(rig.cfg.clientSecret, body) }, body));
    assert.equal(out.kind, 'ignored');
  });

  it('turns products/update into a product event keyed by the event id, equal to what a poll finds', async () => {
    const v = variantOf(rig.sim, 0);
    const [d] = await deliveriesOf('products/update', () => control(rig.sim, 'PATCH', `/variants/${encodeURIComponent(v.sku)}`, { price: '12.5' }));
    const out = await rig.conn.source.verifyAndParse(d!);
    assert.equal(out.kind, 'events');
    const [e] = out.kind === 'events' ? out.events : [];
    assert.equal(e!.dedupeKey, d!.headers['x-shopify-event-id']);
    assert.equal(e!.origin, 'webhook');
    assert.equal(e!.entityRef, v.productId);
    const p = e!.payload as RawProduct;
    assert.equal(p.variants.find((x) => x.sku === v.sku)?.price, '12.50');
    assert.match(p.updatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const polled = (await pollAll(rig.conn)).events.find((x) => x.payload.kind === 'product' && x.entityRef === v.productId)!;
    assert.deepEqual(polled.payload, p);
    assert.equal(payloadChecksum(polled.payload), payloadChecksum(p));
  });

  it('gives a delivery sent twice the same dedupe key', async () => {
    await control(rig.sim, 'PUT', '/faults', { webhooks: { duplicateRate: 1 } });
    try {
      const ds = await deliveriesOf('products/update', () => control(rig.sim, 'PATCH', `/variants/${encodeURIComponent(variantOf(rig.sim, 1).sku)}`, { price: '3.00' }));
      await eventually(() => rx.deliveries.filter((x) => x.headers['x-shopify-event-id'] === ds[0]!.headers['x-shopify-event-id']).length >= 2);
      const twins = rx.deliveries.filter((x) => x.headers['x-shopify-event-id'] === ds[0]!.headers['x-shopify-event-id']);
      const keys = await Promise.all(twins.map(async (x) => { const o = await rig.conn.source.verifyAndParse(x); return o.kind === 'events' ? o.events[0]!.dedupeKey : null; }));
      assert.equal(new Set(keys).size, 1);
    } finally {
      await control(rig.sim, 'PUT', '/faults', { webhooks: { duplicateRate: 0 } });
    }
  });

  it('resolves the SKU of inventory_levels/update through the API and matches the polled level', async () => {
    const v = variantOf(rig.sim, 2);
    const ds = await deliveriesOf('inventory_levels/update', () => control(rig.sim, 'POST', '/inventory/set', { sku: v.sku, locationId: v.locationId, quantity: 41 }));
    const out = await rig.conn.source.verifyAndParse(ds.at(-1)!);
    assert.equal(out.kind, 'events');
    const e = out.kind === 'events' ? out.events[0]! : null;
    const inv = e!.payload as RawInventory;
    assert.equal(inv.sku, v.sku);
    assert.equal(inv.available, 41);
    assert.deepEqual(inv.refs, { id: v.variantId, productId: v.productId, inventoryItemId: v.inventoryItemId, locationId: v.locationId });
    const polled = (await pollAll(rig.conn)).events.find((x) => x.entityRef === e!.entityRef)!;
    assert.equal(payloadChecksum(polled.payload), payloadChecksum(inv));
  });

  it('needs no API lookup for the level of an item a poll has seen', async () => {
    const fresh = createShopifyConnector('main', rig.cfg, { events: rig.bus });
    await pollAll(fresh);
    const v = variantOf(rig.sim, 7);
    const ds = await deliveriesOf('inventory_levels/update', () => control(rig.sim, 'POST', '/inventory/set', { sku: v.sku, locationId: v.locationId, quantity: 12 }));
    const before = apiCalls;
    const out = await fresh.source.verifyAndParse(ds.at(-1)!);
    assert.equal(apiCalls - before, 0, 'the owner came from the poll');
    assert.equal(out.kind === 'events' ? (out.events[0]!.payload as RawInventory).sku : null, v.sku);
  });

  it('ignores a level of a location it does not manage', async () => {
    const v = variantOf(rig.sim, 3);
    const other = `gid://shopify/Location/${rig.sim.store.locations[1]!.id}`;
    const ds = await deliveriesOf('inventory_levels/update', () => control(rig.sim, 'POST', '/inventory/set', { sku: v.sku, locationId: other, quantity: 7 }));
    const out = await rig.conn.source.verifyAndParse(ds.at(-1)!);
    assert.equal(out.kind, 'ignored');
  });

  it('turns orders/create into a committed order and orders/cancelled into a cancelled one, as a poll sees them', async () => {
    const v = variantOf(rig.sim, 4);
    let orderId = '';
    const created = await deliveriesOf('orders/create', async () => { orderId = (await control(rig.sim, 'POST', '/orders', { lines: [{ sku: v.sku, quantity: 2 }] })).id; });
    const o1 = await rig.conn.source.verifyAndParse(created[0]!);
    const p1 = (o1.kind === 'events' ? o1.events[0]!.payload : null) as RawOrder;
    assert.equal(p1.committed, true);
    assert.equal(p1.cancelled, false);
    assert.deepEqual(p1.lines.map((l) => [l.sku, l.quantity]), [[v.sku, 2]]);
    const cancelled = await deliveriesOf('orders/cancelled', () => control(rig.sim, 'POST', `/orders/${encodeURIComponent(String(orderId))}/cancel`, { restock: true }));
    const o2 = await rig.conn.source.verifyAndParse(cancelled[0]!);
    const p2 = (o2.kind === 'events' ? o2.events[0]!.payload : null) as RawOrder;
    assert.equal(p2.cancelled, true);
    const polled = (await pollAll(rig.conn)).events.find((x) => x.payload.kind === 'order' && x.payload.orderId === p2.orderId)!;
    assert.equal(payloadChecksum(polled.payload), payloadChecksum(p2));
  });
});
