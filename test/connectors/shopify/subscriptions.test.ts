import { strict as assert } from 'node:assert';
import { SHOPIFY_SUBSCRIPTION_TOPICS } from '../../../src/connectors/shopify/index.js';
import { startRig, type Rig } from './helpers.js';

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

  it('removes its subscriptions', async () => {
    const removed = await rig.conn.subscriptions.removeWebhooks();
    assert.equal(removed, SHOPIFY_SUBSCRIPTION_TOPICS.length);
    assert.deepEqual(await rig.conn.subscriptions.list(), []);
  });
});
