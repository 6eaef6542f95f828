import assert from 'node:assert/strict';
import { erpSchema } from '../../../src/config/schema.js';
import { DebeziumConnector } from '../../../src/connectors/erp/debezium.js';
import { checkErpPrerequisites, renderFixScript, type ErpPrerequisiteReport } from '../../../src/connectors/erp/prerequisites.js';
import { initErp } from '../../../src/simulators/erp/index.js';
import { ADMIN_URL, CONNECT_URL, connectUp, dbUrl, deleteTopics, dropDatabase, sql, uniqueName } from './helpers.js';

const codes = (r: ErpPrerequisiteReport) => r.findings.map((f) => f.code).sort();

describe('checkErpPrerequisites (real PostgreSQL)', function () {
  this.timeout(60_000);

  const id = uniqueName('erp_pre');
  const role = `${id}_cdc`;
  const url = dbUrl(id);
  const erpAs = (user: string, extra: Record<string, unknown> = {}) =>
    erpSchema.parse({ databaseUrl: dbUrl(id, user), topicPrefix: id, slotName: id, publicationName: id, ...extra });

  before(async function () {
    this.timeout(240_000);
    await connectUp();
    await initErp({ databaseUrl: url, products: 2, variantsPerProduct: 1 });
    await sql(ADMIN_URL, `create role ${role} login`);
  });

  after(async function () {
    this.timeout(60_000);
    await new DebeziumConnector(erpAs('postgres'), CONNECT_URL, { connectorName: id }).remove().catch(() => undefined);
    await sql(url, `drop owned by ${role}`).catch(() => undefined);
    await dropDatabase(id);
    await sql(ADMIN_URL, `drop role if exists ${role}`);
    await deleteTopics(id).catch(() => undefined);
  });

  it('finds nothing to fix for a superuser on the sample ERP', async () => {
    const r = await checkErpPrerequisites(erpAs('postgres'));
    assert.equal(r.ok, true);
    assert.deepEqual(r.findings, []);
    assert.equal(r.user, 'postgres');
  });

  it('names the missing REPLICATION attribute, SELECT grants, publication and origin grants of a plain role', async () => {
    const r = await checkErpPrerequisites(erpAs(role));
    assert.equal(r.ok, false);
    assert.deepEqual(codes(r), ['PUBLICATION_MISSING', 'REPLICATION_ORIGIN_GRANTS', 'REPLICATION_PRIVILEGE', 'TABLE_OWNERSHIP', 'TABLE_SELECT']);
    const byCode = Object.fromEntries(r.findings.map((f) => [f.code, f]));
    assert.deepEqual(byCode.REPLICATION_PRIVILEGE!.fix, [`ALTER ROLE ${role} WITH REPLICATION;`]);
    assert.ok(byCode.TABLE_SELECT!.fix.includes(`GRANT SELECT ON public.items TO ${role};`));
    assert.deepEqual(byCode.PUBLICATION_MISSING!.fix, [`CREATE PUBLICATION ${id} FOR TABLE public.items, public.stock_levels, public.sales_orders, public.sales_order_lines;`]);
    assert.ok(byCode.REPLICATION_ORIGIN_GRANTS!.fix.includes(`GRANT EXECUTE ON FUNCTION pg_replication_origin_session_setup(text) TO ${role};`));
    assert.match(renderFixScript(r), /ALTER ROLE .* WITH REPLICATION;/);
  });

  it('once a DBA runs the printed statements, the role passes and Debezium runs as it', async function () {
    this.timeout(90_000);
    const first = await checkErpPrerequisites(erpAs(role));
    for (const f of first.findings.filter((x) => x.severity === 'error' || x.code === 'REPLICATION_ORIGIN_GRANTS')) {
      for (const stmt of f.fix) await sql(url, stmt);
    }
    const again = await checkErpPrerequisites(erpAs(role));
    assert.equal(again.ok, true);
    assert.deepEqual(codes(again), ['TABLE_OWNERSHIP']); // a warning: the publication is the DBA's now
    const dbz = new DebeziumConnector(erpAs(role), CONNECT_URL, { connectorName: id });
    await dbz.register();
    const s = await dbz.waitUntilRunning({ streaming: true });
    assert.equal(s.slot?.active, true);
    // the origin grants work: the writer role can tag its session
    await sql(dbUrl(id, role), `select pg_replication_origin_create('${id}_w1')`);
    await sql(url, `select pg_replication_origin_drop('${id}_w1')`);
  });

  it('checks the ERP writer role for replication-origin grants when it is another role', async () => {
    const r = await checkErpPrerequisites(erpAs('postgres'), { writerDatabaseUrl: dbUrl(id, role) });
    assert.deepEqual(codes(r), []);
  });

  it('warns about mapped tables logged without REPLICA IDENTITY FULL, with the ALTER TABLE to fix it', async () => {
    await sql(url, 'alter table stock_levels replica identity default');
    try {
      const r = await checkErpPrerequisites(erpAs('postgres'));
      assert.equal(r.ok, true);
      assert.deepEqual(r.findings.map((f) => [f.code, f.severity, f.fix]), [['REPLICA_IDENTITY', 'warning', ['ALTER TABLE public.stock_levels REPLICA IDENTITY FULL;']]]);
    } finally {
      await sql(url, 'alter table stock_levels replica identity full');
    }
  });

  it('reports a mapped table that does not exist', async () => {
    const r = await checkErpPrerequisites(erpAs('postgres', { tables: { products: 'public.products' } }));
    assert.equal(r.ok, false);
    const f = r.findings.find((x) => x.code === 'TABLE_MISSING');
    assert.match(f!.message, /public\.products/);
  });

  it('warns about an inactive replication slot that retains WAL', async () => {
    const slot = `${id}_idle`;
    await sql(url, "select pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
    try {
      const r = await checkErpPrerequisites(erpAs('postgres', { slotName: slot }));
      assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['SLOT_INACTIVE', 'warning']]);
    } finally {
      await sql(url, 'select pg_drop_replication_slot($1)', [slot]);
    }
  });
});
