import { strict as assert } from 'node:assert';
import { PermanentError, RetriableError, SyncError } from '../../../../src/core/errors.js';
import { FLINK_ERROR, FlinkSqlGateway, rootCause } from '../../../../src/pipeline/transform/flink/gateway.js';
import { ensureFlink, flinkEnv } from './support.js';

/** Runs `fn` and returns what it threw (fails when it did not throw). */
async function thrown(fn: () => Promise<unknown>): Promise<SyncError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof SyncError, `expected a SyncError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('FlinkSqlGateway', function () {
  this.timeout(120_000);
  let gw: FlinkSqlGateway;

  before(async () => {
    await ensureFlink();
    gw = new FlinkSqlGateway({ url: `http://127.0.0.1:${flinkEnv().FLINK_GATEWAY_PORT}` });
  });

  it('reports the product and version of the gateway', async () => {
    assert.deepEqual(await gw.info(), { productName: 'Apache Flink', version: '2.3.0' });
  });

  it('opens a session with properties, runs a bounded query and pages its rows as JSON', async () => {
    const s = await gw.openSession({ 'table.local-time-zone': 'UTC', 'execution.runtime-mode': 'batch' });
    try {
      assert.equal((await gw.sessionConfig(s.handle))['table.local-time-zone'], 'UTC');
      const r = await s.execute(`SELECT sku, qty * 2 AS doubled FROM (VALUES ('a', 1), ('b', 2)) AS t(sku, qty)`);
      assert.deepEqual(r.columns.map((c) => c.name), ['sku', 'doubled']);
      assert.deepEqual(r.records, [{ sku: 'a', doubled: 2 }, { sku: 'b', doubled: 4 }]);
      await s.heartbeat();
    } finally {
      await s.close();
    }
  });

  it('surfaces the root cause of an invalid statement as a permanent FLINK_SQL_INVALID error', async () => {
    const s = await gw.openSession();
    try {
      const err = await thrown(() => s.execute('SELECT * FROM missing_table'));
      assert.ok(err instanceof PermanentError);
      assert.equal(err.code, FLINK_ERROR.sqlInvalid);
      assert.match(err.message, /Object 'missing_table' not found/);
      assert.ok(err.message.length < 300, 'the message is the root cause, not the stack trace');
    } finally {
      await s.close();
    }
  });

  it('reports an unknown connector at INSERT time (CREATE TABLE does not validate it)', async () => {
    const s = await gw.openSession();
    try {
      await s.execute(`CREATE TABLE bad_sink (id STRING) WITH ('connector' = 'kafkaa')`);
      const err = await thrown(() => s.execute(`INSERT INTO bad_sink VALUES ('x')`));
      assert.equal(err.code, FLINK_ERROR.sqlInvalid);
      assert.match(err.message, /Could not find any factory for identifier 'kafkaa'/);
    } finally {
      await s.close();
    }
  });

  it('says FLINK_SESSION_NOT_FOUND for a closed or expired session', async () => {
    const s = await gw.openSession();
    await s.close();
    const err = await thrown(() => gw.heartbeat(s.handle));
    assert.equal(err.code, FLINK_ERROR.sessionNotFound);
    assert.equal(err.retriable, false);
    await gw.closeSession(s.handle); // closing twice is harmless
  });

  it('raises a retriable FLINK_UNREACHABLE error, after retrying, when nothing listens', async () => {
    let retries = 0;
    const dead = new FlinkSqlGateway({ url: 'http://127.0.0.1:1', retry: { retries: 3, initialDelayMs: 10, maxDelayMs: 20, onRetry: () => void retries++ } });
    const err = await thrown(() => dead.info());
    assert.ok(err instanceof RetriableError);
    assert.equal(err.code, FLINK_ERROR.unreachable);
    assert.equal(retries, 2);
  });
});

describe('rootCause', () => {
  it('takes the last `Caused by:` line of a Java stack trace and splits off the exception class', () => {
    const trace = [
      'org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.',
      '\tat org.apache.flink.table.gateway.rest.handler.statement.FetchResultsHandler.handleRequest(FetchResultsHandler.java:91)',
      'Caused by: org.apache.flink.table.api.ValidationException: SQL validation failed. Object t not found',
      '\tat org.apache.flink.table.planner.calcite.FlinkPlannerImpl.validate(FlinkPlannerImpl.scala:200)',
      "Caused by: org.apache.calcite.sql.validate.SqlValidatorException: Object 't' not found",
      '\t... 40 more',
    ].join('\n');
    const rc = rootCause(trace);
    assert.equal(rc.exception, 'org.apache.calcite.sql.validate.SqlValidatorException');
    assert.equal(rc.message, "Object 't' not found");
    assert.equal(rc.causes.length, 2);
  });
});
