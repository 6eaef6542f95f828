import { strict as assert } from 'node:assert';
import type { Redis } from 'ioredis';
import { isolate, type Isolation } from '../support/isolation.js';
import { createCacheClient } from '../../src/pipeline/cache/redis.js';
import { StateStore, StaleStateError } from '../../src/sync/state-store.js';
import { SyncEventBus } from '../../src/core/events.js';
import { channel, ENTITY_ROW, type SkuBundle } from '../../src/sync/state.js';

describe('StateStore: sync_state in PostgreSQL behind a Redis cache (real PostgreSQL and Redis)', () => {
  let iso: Isolation;
  let redis: Redis;
  let state: StateStore;
  const outcomes: string[] = [];

  before(async () => {
    iso = await isolate('state_store');
    redis = createCacheClient(iso.config.redis.url)!;
    const bus = new SyncEventBus();
    bus.on('cache.access', (e) => outcomes.push(`${e.outcome}:${e.count}`));
    state = new StateStore(iso.pool, redis, iso.config.redis.keyPrefix, 600, bus);
  });
  after(async () => {
    redis?.disconnect();
    await iso?.cleanup();
  });

  /** Loads, changes and saves (as the sync worker does: bundles handed over as Map.values()). */
  async function change(skus: string[], fromDatabase = false): Promise<Map<string, SkuBundle>> {
    const bundles = await state.load(skus, fromDatabase);
    for (const b of bundles.values()) {
      channel(b, 'shopify:main').expected = (channel(b, 'shopify:main').expected ?? 0) + 1;
      b.dirty.add('shopify:main');
      b.dirty.add(ENTITY_ROW);
    }
    const client = await iso.pool.connect();
    try {
      await client.query('BEGIN');
      await state.save(client, bundles.values());
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
    await state.cache([...bundles.values()]);
    return bundles;
  }

  it('advances the row versions it saved, so the next batch saves from the cache without a conflict', async () => {
    const skus = ['SS-1', 'SS-2'];
    await change(skus);
    await change(skus); // from the cache: would throw StaleStateError with versions left behind
    const third = await change(skus);
    assert.deepEqual(third.get('SS-1')!.rowVersions, { 'shopify:main': 3, [ENTITY_ROW]: 3 });
    const rows = (await iso.pool.query<{ entity_id: string; source_type: string; version: number }>(`select entity_id, source_type, version from sync_state order by 1, 2`)).rows;
    assert.deepEqual(rows.map((r) => r.version), [3, 3, 3, 3]);
    assert.ok(outcomes.includes('hit:2'), `the later loads came from Redis: ${outcomes.join(' ')}`);
  });

  it('refuses a save from a stale cached version (another worker moved the row on) and succeeds after reloading', async () => {
    const sku = 'SS-3';
    await change([sku]);
    // Another writer advances the row behind the cache's back.
    await iso.pool.query(`update sync_state set version = version + 1 where entity_id = $1`, [sku]);
    await assert.rejects(change([sku]), StaleStateError);
    const b = await change([sku], true);
    assert.equal(b.get(sku)!.rowVersions['shopify:main'], 3);
  });
});
