import assert from 'node:assert/strict';
import { EventStore } from '../../../src/pipeline/intake/event-store.js';
import { checkDeletions, type DeletionChecker } from '../../../src/pipeline/intake/deletion-check.js';
import type { PlatformRefs } from '../../../src/core/model.js';
import { isolate, type Isolation } from '../../support/isolation.js';

const KEY = 'woocommerce:outlet';

/** A platform stand-in holding the ids that still exist; records what it was asked. */
class Site implements DeletionChecker {
  readonly asked: string[][] = [];
  constructor(public present: Set<string>) {}
  async gone(known: Array<{ id: string; refs: PlatformRefs }>): Promise<Set<string>> {
    this.asked.push(known.map((k) => k.id));
    return new Set(known.map((k) => k.id).filter((id) => !this.present.has(id)));
  }
}

describe('deletion check: known ids reconciled against the platform', () => {
  let iso: Isolation;
  let store: EventStore;
  before(async () => {
    iso = await isolate('deletion_check');
    store = new EventStore(iso.pool);
  });
  after(async () => iso?.cleanup());

  const known = async (sku: string, id: string, status = 'IN_SYNC', version = 1) => {
    await iso.pool.query(`insert into entity_map (sku, source_key, platform_id, refs) values ($1, $2, $3, $4)`, [sku, KEY, id, JSON.stringify({ id, productId: id })]);
    await iso.pool.query(`insert into sync_state (entity_id, source_type, last_sync_at, version, data, status, updated_at) values ($1, $2, now(), $3, '{}', $4, now())`, [sku, KEY, version, status]);
  };
  const deletions = async () => (await iso.pool.query<{ source_id: string; data: { skus: string[] } }>(`select source_id, data from source_events where event_type = 'product.deleted' order by source_id`)).rows;

  it('stores one product_deleted per id gone (with its SKU), once, skipping SKUs already deleted there, and again after a restore', async () => {
    await known('A', '11');
    await known('B', '12');
    await known('C', '13', 'DELETED');
    const site = new Site(new Set(['12']));
    let clock = Date.parse('2026-12-06T06:00:00Z');
    const opts = { now: () => clock };
    assert.equal(await checkDeletions(iso.pool, store, KEY, site, opts), 1);
    assert.deepEqual(site.asked, [['11', '12']], 'a SKU already deleted there is not asked about');
    assert.deepEqual((await deletions()).map((r) => [r.source_id, r.data.skus]), [['11', ['A']]]);
    clock += 60_000;
    assert.equal(await checkDeletions(iso.pool, store, KEY, site, opts), 0, 'found again before the engine applied it: stored once');
    // Restored (the engine saw it again: its row moved on), then deleted again: found again.
    await iso.pool.query(`update sync_state set version = 3 where entity_id = 'A'`);
    clock += 60_000;
    assert.equal(await checkDeletions(iso.pool, store, KEY, site, opts), 1);
    assert.equal((await deletions()).length, 2);
  });
});
