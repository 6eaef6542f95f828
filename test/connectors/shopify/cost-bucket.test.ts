import assert from 'node:assert/strict';
import { BACKGROUND_MAX_DEFER_MS, ShopifyCostBucket, type Reservation } from '../../../src/connectors/shopify/cost-bucket.js';

/** Whether a promise has settled by the next turn of the event loop. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('ShopifyCostBucket (local model of the cost bucket)', () => {
  let t = 0;
  const bucket = () => new ShopifyCostBucket({ instance: 't', plan: 'standard', now: () => t }); // 2,000 points, 100/s

  beforeEach(() => (t = 1_000_000));

  it('grants an urgent request (a write) before a background one (a poll page) still waiting for its points', async () => {
    const b = bucket();
    await b.acquire(2000); // empty now
    const stop = new AbortController();
    const page = b.acquire(1000, stop.signal); // needs 10 s of refill
    t += 200; // 20 points back
    const write: Promise<Reservation> = b.acquire(10, undefined, 'urgent');
    assert.equal(await settled(write), true, 'the write waited behind the poll page');
    assert.equal(await settled(page), false);
    stop.abort();
    await assert.rejects(page);
  });

  it('keeps FIFO order among background requests, and lets a background request deferred too long go first', async () => {
    const b = bucket();
    await b.acquire(2000);
    const page = b.acquire(1000);
    const second = b.acquire(5);
    t += 100; // 10 points: enough for `second`, but it queues behind `page`
    const stop = new AbortController();
    assert.equal(await settled(b.acquire(1, stop.signal, 'background')), false, 'a background request overtook an earlier one');
    assert.equal(await settled(second), false);
    // the page has waited its maximum: it goes before a new urgent request
    t += BACKGROUND_MAX_DEFER_MS;
    const write = b.acquire(1005, stop.signal, 'urgent');
    assert.equal(await settled(page), true);
    assert.equal(await settled(write), false, 'the urgent request took the points of an overdue background one');
    stop.abort();
    await assert.rejects(write);
    t += 100_000;
    await b.acquire(1); // pumps again: the rest is granted
    assert.equal(await settled(second), true);
  });
});
