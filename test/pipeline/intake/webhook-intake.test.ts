import assert from 'node:assert/strict';
import pg from 'pg';
import { createHmac } from 'node:crypto';
import { createWooCommerceConnector } from '../../../src/connectors/woocommerce/index.js';
import { wooInstanceSchema } from '../../../src/config/schema.js';
import { EventStore } from '../../../src/pipeline/intake/event-store.js';
import { WebhookIntake } from '../../../src/pipeline/intake/webhook-intake.js';
import { SyncEventBus } from '../../../src/core/events.js';

const SECRET = 'intake-test-secret';
const body = JSON.stringify({ id: 7, name: 'Shirt', type: 'simple', status: 'publish', sku: 'SKU-7', regular_price: '10.00', price: '10.00', manage_stock: true, stock_quantity: 3, date_modified_gmt: '2026-12-01T10:00:00', variations: [] });
const delivery = { headers: { 'x-wc-webhook-topic': 'product.updated', 'x-wc-webhook-delivery-id': 'd1', 'x-wc-webhook-signature': createHmac('sha256', SECRET).update(body).digest('base64') }, rawBody: Buffer.from(body) };

describe('WebhookIntake when the database is unavailable', () => {
  it('answers a verified delivery it cannot store 503 (the platform delivers again), never a 4xx naming the error', async () => {
    // Nothing listens on port 1: every query fails to connect.
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 2000 });
    const woo = createWooCommerceConnector('a', wooInstanceSchema.parse({ url: 'http://127.0.0.1:1', consumerKey: 'ck', consumerSecret: 'cs', webhookSecret: SECRET }), { deliveryUrl: 'http://127.0.0.1:1/webhooks/woocommerce/a' });
    const bus = new SyncEventBus();
    const seen: Array<{ outcome: string; reason?: string }> = [];
    bus.on('webhook.received', (e) => void seen.push(e));
    const intake = new WebhookIntake(pool, new EventStore(pool, bus), new Map([['woocommerce/a', woo.source]]), bus);
    try {
      const r = await intake.handle('woocommerce', 'a', delivery);
      assert.equal(r.status, 503);
      assert.equal(r.body.error, 'TEMPORARILY_UNAVAILABLE');
      assert.deepEqual(seen.map((e) => [e.outcome, e.reason]), [['rejected', 'unavailable']]);
    } finally {
      await pool.end();
    }
  });
});
