import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { initDb } from '../../src/services/init-db.js';
import { ensureDatabase, listMigrations } from '../../src/db/migrate.js';
import { isolatedConfig } from '../support/config.js';
import { dropEverything } from '../support/isolation.js';
import type { SyncConfig } from '../../src/config/schema.js';

/** Tables and columns of shared/spec/required-schema.sql (a copy is kept in test/fixtures). */
function requiredColumns(): Map<string, Map<string, string>> {
  const sql = readFileSync(new URL('../fixtures/required-schema.sql', import.meta.url), 'utf8');
  const out = new Map<string, Map<string, string>>();
  for (const m of sql.matchAll(/CREATE TABLE (\w+) \(([\s\S]*?)\n\);/g)) {
    const cols = new Map<string, string>();
    for (const line of m[2]!.split('\n')) {
      const c = /^\s+(\w+)\s+([A-Z]+)/.exec(line.replace(/--.*$/, ''));
      if (c && c[1] !== 'PRIMARY') cols.set(c[1]!, c[2]!);
    }
    out.set(m[1]!, cols);
  }
  return out;
}

/** Types we accept for each type of the spec (TIMESTAMP may become TIMESTAMPTZ, FLOAT is double precision). */
const COMPATIBLE: Record<string, string[]> = {
  UUID: ['uuid'],
  VARCHAR: ['character varying', 'text'],
  JSONB: ['jsonb'],
  TIMESTAMP: ['timestamp without time zone', 'timestamp with time zone'],
  INTEGER: ['integer', 'bigint'],
  FLOAT: ['double precision', 'real'],
};

describe('syncctl init-db (service)', () => {
  let config: SyncConfig;
  let client: pg.Client;

  before(async () => {
    config = isolatedConfig('initdb');
    await ensureDatabase(config.database.url);
    client = new pg.Client({ connectionString: config.database.url });
    await client.connect();
  });
  after(async () => {
    await client.end().catch(() => undefined);
    await dropEverything(config);
  });

  it('creates every required table and column with a compatible type, and the pipeline topics', async () => {
    const r = await initDb(config);
    assert.deepEqual(r.applied, listMigrations().map((m) => m.name));
    assert.ok(r.topics.created.includes(`${config.kafka.topicPrefix}.canonical`));
    const cols = await client.query<{ table_name: string; column_name: string; data_type: string }>(
      'select table_name, column_name, data_type from information_schema.columns where table_schema = $1',
      [config.database.schema],
    );
    const have = new Map(cols.rows.map((r) => [`${r.table_name}.${r.column_name}`, r.data_type]));
    for (const [table, columns] of requiredColumns()) {
      for (const [column, type] of columns) {
        const actual = have.get(`${table}.${column}`);
        assert.ok(actual, `missing ${table}.${column}`);
        assert.ok(COMPATIBLE[type]?.includes(actual!), `${table}.${column} is ${actual}, spec says ${type}`);
      }
    }
  });

  it('creates the indexes of the spec', async () => {
    const idx = await client.query<{ indexname: string }>('select indexname from pg_indexes where schemaname = $1', [config.database.schema]);
    const names = idx.rows.map((r) => r.indexname);
    for (const i of ['idx_source_events_timestamp', 'idx_source_events_status', 'idx_sync_metrics_name_timestamp']) assert.ok(names.includes(i), i);
  });

  it('creates the entity map, dead-letter and checkpoint tables the engine needs', async () => {
    const t = await client.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1', [config.database.schema]);
    const names = t.rows.map((r) => r.table_name);
    for (const n of ['entity_map', 'dead_letters', 'checkpoints', 'syncctl_migrations', 'inventory_ledger', 'planned_writes']) assert.ok(names.includes(n), n);
  });

  it('changes nothing the second time and says it is up to date', async () => {
    const before = await client.query(`select id, applied_at from "${config.database.schema}".syncctl_migrations order by id`);
    const r = await initDb(config);
    assert.equal(r.upToDate, true);
    assert.deepEqual(r.applied, []);
    assert.deepEqual(r.topics.created, []);
    const after = await client.query(`select id, applied_at from "${config.database.schema}".syncctl_migrations order by id`);
    assert.deepEqual(after.rows, before.rows);
  });

  it('lists the pending SQL on a dry run and changes nothing', async () => {
    const fresh = isolatedConfig('initdb_dry');
    const r = await initDb(fresh, { dryRun: true });
    assert.equal(r.pending[0]?.name, '001_initial');
    assert.match(r.pending[0]!.sql, /CREATE TABLE source_events/);
    const s = await client.query('select 1 from information_schema.schemata where schema_name = $1', [fresh.database.schema]);
    assert.equal(s.rowCount, 0);
  });

  it('lets two processes migrate the same schema at once without failing (advisory lock)', async () => {
    const twin = isolatedConfig('initdb_race');
    try {
      const rs = await Promise.all([initDb(twin, { skipTopics: true }), initDb(twin, { skipTopics: true })]);
      assert.deepEqual(rs.map((r) => r.applied.length).sort(), [0, listMigrations().length]);
    } finally {
      await dropEverything(twin);
    }
  });
});
