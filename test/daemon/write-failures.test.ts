import { strict as assert } from 'node:assert';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildConnectorSet } from '../../src/daemon/registry.js';
import { KafkaBus } from '../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../src/pipeline/kafka/client.js';
import { pipelineTopics } from '../../src/pipeline/kafka/topics.js';
import { inconsistencies, sell, simControl, startRig, type Rig } from './support/rig.js';
import { eventually } from '../support/wait.js';

describe('syncctl daemon: failing writes (retries with backoff, dead letters)', function () {
  this.timeout(120_000);
  let rig: Rig;
  let daemon: Daemon;
  let failed = false;
  const sold = new Map<string, number>();
  const record = (sku: string, q: number) => sold.set(sku, (sold.get(sku) ?? 0) + q);

  before(async () => {
    rig = await startRig('writefail', { skus: 4, woo: { a: { buffer: 0 }, b: { buffer: 1 } }, initial: 100 });
    daemon = new Daemon(rig.config, buildConnectorSet);
    await daemon.start();
    await eventually(async () => (await inconsistencies(rig, sold)).length === 0, 'initial sync', 60_000, 300);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });
  after(async () => {
    await daemon?.stop();
    await rig?.close(failed);
  });

  it('retries a write the target refuses with 503s, with backoff, and applies it once when the target recovers', async () => {
    const sku = rig.skus[0]!;
    await simControl(rig.shop.info.controlUrl, 'PUT', '/faults', { api: { errorRate: 0, unavailableRate: 1 } });
    await sell(rig, 'a', sku, 3);
    record(sku, 3);
    const retried = await eventually(async () => {
      const r = await rig.query<{ attempts: number; status: string; last_error: string | null; delay_ms: number }>(
        `select attempts, status, last_error, extract(epoch from (not_before - updated_at)) * 1000 as delay_ms from planned_writes where sku = $1 and kind = 'adjust'`, [sku]);
      return r[0] && r[0].attempts >= 3 && r[0].status === 'PENDING' ? r[0] : undefined;
    }, 'the adjust write retried at least twice', 60_000, 100);
    assert.match(retried.last_error ?? '', /503|UNAVAILABLE|unavailable/i);
    assert.ok(retried.delay_ms > 0, 'the next attempt is scheduled after a backoff delay');
    assert.equal((await rig.adjustWrites()).length, 0, 'nothing applied while the target refuses');
    await simControl(rig.shop.info.controlUrl, 'PUT', '/faults', { api: { errorRate: 0, unavailableRate: 0 } });
    await eventually(async () => (await inconsistencies(rig, sold)).length === 0, 'every channel consistent after recovery', 60_000, 300);
    await new Promise((r) => setTimeout(r, 1500));
    const adjusts = (await rig.adjustWrites()).filter((a) => a.sku === sku);
    assert.deepEqual(adjusts.map((a) => a.delta), [-3], 'applied exactly once');
    const row = (await rig.query(`select status, attempts from planned_writes where sku = $1 and kind = 'adjust'`, [sku]))[0];
    assert.equal(row.status, 'DONE');
    assert.ok(row.attempts >= 3, `sent ${row.attempts} times`);
    assert.deepEqual(await rig.query(`select * from dead_letters`), []);
  });

  it('dead-letters a write the target refuses permanently, with full context on the DLQ topic, while other SKUs keep flowing', async () => {
    const [gone, fine] = [rig.skus[1]!, rig.skus[2]!];
    const b = rig.woo.get('b')!;
    // The product disappears from site b without syncctl hearing of it (its webhook is lost).
    await simControl(b.info.controlUrl, 'PUT', '/faults', { dropWebhooksPercent: 100 });
    const id = (await simControl(b.info.controlUrl, 'GET', `/products?sku=${gone}`))[0].id;
    const del = await fetch(`${b.info.apiUrl}/products/${id}?force=true`, { method: 'DELETE', headers: { authorization: `Basic ${Buffer.from(`${b.info.consumerKey}:${b.info.consumerSecret}`).toString('base64')}` } });
    assert.equal(del.status, 200, await del.text());
    await simControl(b.info.controlUrl, 'PUT', '/faults', { dropWebhooksPercent: 0 });

    await sell(rig, 'main', gone, 2);
    await sell(rig, 'main', fine, 4);
    record(gone, 2);
    record(fine, 4);

    const dl = await eventually(async () => (await rig.query(`select * from dead_letters where sku = $1`, [gone]))[0], 'a dead letter', 60_000, 200);
    assert.equal(dl.stage, 'write:woocommerce:b');
    assert.equal(dl.error_class, 'PERMANENT');
    assert.equal(dl.source_key, 'woocommerce:b');
    assert.equal(dl.status, 'OPEN');
    assert.equal(dl.attempts, 1, 'a permanent failure is not retried');
    assert.ok(dl.error_code && dl.error_message, 'error code and message');
    assert.ok(dl.first_failed_at && dl.last_failed_at, 'first and last failure');
    assert.equal(dl.payload.kind, 'inventory');
    assert.equal(dl.payload.payload.available, 100 - 2 - 1, 'the write as planned (authority − buffer)');
    assert.ok(dl.payload.writeId && dl.payload.idempotencyKey, 'write id and idempotency key');
    assert.equal(dl.context.target, 'woocommerce:b');

    // The DLQ topic carries the same dead letter.
    const topics = pipelineTopics(rig.config.kafka.topicPrefix);
    const bus = new KafkaBus(createKafka(rig.config.kafka));
    try {
      let found: any;
      await bus.consume({ groupId: `${rig.config.kafka.topicPrefix}.dlq-check`, topics: [topics.dlq] }, async (batch) => {
        for (const m of batch.messages) if ((m.value as { deadLetterId?: string })?.deadLetterId === dl.dead_letter_id) found = { value: m.value, headers: m.headers, key: m.key };
      });
      const msg = await eventually(async () => found, 'the DLQ message', 30_000);
      assert.equal(msg.key, gone);
      assert.equal(msg.headers['syncctl-stage'], 'write:woocommerce:b');
      assert.equal(msg.value.errorCode, dl.error_code);
      assert.deepEqual(msg.value.payload, dl.payload);
      assert.equal(msg.value.attempts, 1);
      assert.ok(msg.value.firstFailedAt && msg.value.lastFailedAt);
    } finally {
      await bus.close();
    }

    // Everything else flows: the other SKU everywhere, the failed SKU on the other site.
    await eventually(async () => {
      const problems = await inconsistencies(rig, sold);
      return problems.length === 1 && problems[0]!.startsWith(`woocommerce:b ${gone}`) ? problems : undefined;
    }, 'every channel consistent but the deleted product', 60_000, 300);
  });
});
