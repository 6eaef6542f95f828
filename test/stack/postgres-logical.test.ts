import assert from 'node:assert/strict';
import { LogicalPostgresService, ensureLogicalWal, readReplicationSettings } from '../../src/stack/postgres-logical.js';
import { ADMIN_URL } from '../connectors/erp/helpers.js';

// The restart path (wal_level replica → logical) restarts the shared server, so it is exercised
// by `stack up --connect` on a fresh machine, not here; these specs cover the steady state.
describe('LogicalPostgresService (local PostgreSQL for CDC)', function () {
  this.timeout(60_000);

  before(async () => {
    await ensureLogicalWal(ADMIN_URL, { manage: true });
  });

  it('up leaves a server that already runs wal_level=logical alone', async () => {
    assert.deepEqual(await ensureLogicalWal(ADMIN_URL, { manage: true }), { walLevel: 'logical', changed: false, restarted: false });
  });

  it('status reports wal_level and the replication limits, with no problem when logical', async () => {
    const s = await new LogicalPostgresService(ADMIN_URL, true).up();
    assert.equal(s.ready, true);
    assert.match(String(s.detail), /wal_level=logical/);
    assert.doesNotMatch(String(s.detail), /CDC needs/);
    const item = s.items?.[0] as { walLevel: string; maxReplicationSlots: number; logicalReady: boolean };
    assert.equal(item.walLevel, 'logical');
    assert.equal(item.logicalReady, true);
    assert.ok(item.maxReplicationSlots >= 1);
  });

  it('reads the replication settings Debezium depends on', async () => {
    const r = await readReplicationSettings(ADMIN_URL);
    assert.equal(r.walLevel, 'logical');
    assert.ok(r.maxWalSenders >= 1);
  });
});
