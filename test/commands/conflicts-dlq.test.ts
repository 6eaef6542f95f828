import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { execSync } from 'node:child_process';
import { isolate, type Isolation } from '../support/isolation.js';
import { cliEnv, runCli, REPO_ROOT } from '../support/cli.js';
import { KafkaBus, type DecodedMessage } from '../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../src/pipeline/kafka/client.js';
import { allTopicNames, ensureTopics, pipelineTopics } from '../../src/pipeline/kafka/topics.js';
import { eventually } from '../support/wait.js';
import { randomSuffix } from '../support/config.js';

describe('syncctl conflicts and dlq (the CLI against a real database and Kafka)', function () {
  this.timeout(90_000);
  let iso: Isolation;
  let env: Record<string, string>;
  let kafka: KafkaBus;

  before(async () => {
    execSync('npm run build --silent', { cwd: REPO_ROOT, stdio: 'ignore' });
    iso = await isolate('cli_conflicts');
    env = cliEnv(iso.config);
    kafka = new KafkaBus(createKafka(iso.config.kafka));
    await ensureTopics(await kafka.getAdmin(), allTopicNames(pipelineTopics(iso.config.kafka.topicPrefix)), 1, 1);
  });
  after(async () => {
    await kafka?.close();
    await iso?.cleanup();
  });

  const conflict = async (sku: string, type = 'FIELD_CONFLICT') => {
    const id = randomUUID();
    await iso.pool.query(
      `insert into conflict_log (conflict_id, entity_id, source_type, conflict_type, resolution, details, created_at, status) values ($1, $2, 'woocommerce:outlet', $3, null, $4, now(), 'OPEN')`,
      [id, sku, type, JSON.stringify({ field: 'price', policy: 'manual', values: [{ source: 'shopify:main', value: '10.00' }, { source: 'woocommerce:outlet', value: '12.00' }] })],
    );
    return id;
  };

  it('lists open conflicts as JSON with a stable envelope', async () => {
    const id = await conflict('SKU-C1');
    const r = await runCli(['conflicts', 'list', '--open', '--json'], { env });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.ok(r.json.result.conflicts.some((c: { conflictId: string }) => c.conflictId === id));
  });

  it('resolves a field conflict with --use: recorded in conflict_log and handed to the engine', async () => {
    const id = await conflict('SKU-C2');
    const seen: DecodedMessage[] = [];
    await kafka.consume({ groupId: `t-${randomSuffix()}`, topics: [pipelineTopics(iso.config.kafka.topicPrefix).canonical] }, async (b) => {
      seen.push(...b.messages);
    });
    const r = await runCli(['conflicts', 'resolve', id, '--use', 'shopify:main', '--note', 'list price', '--json'], { env });
    assert.equal(r.exitCode, 0, String(r.stderr));
    const row = (await iso.pool.query('select status, resolution, note from conflict_log where conflict_id = $1', [id])).rows[0];
    assert.deepEqual(row, { status: 'RESOLVED', resolution: 'USE_SOURCE:shopify:main', note: 'list price' });
    const ev = await eventually(async () => seen.find((m) => (m.value as { conflictId?: string }).conflictId === id), 'the ConflictResolved event');
    assert.equal(ev.key, 'SKU-C2');
    assert.deepEqual({ type: (ev.value as { type: string }).type, value: (ev.value as { value: string }).value }, { type: 'ConflictResolved', value: '10.00' });
  });

  it('refuses --use with a source the conflict does not have (exit 2)', async () => {
    const id = await conflict('SKU-C3');
    const r = await runCli(['conflicts', 'resolve', id, '--use', 'shopify:eu', '--json'], { env });
    assert.equal(r.exitCode, 2);
    assert.equal(r.json.error.code, 'CONFLICT_SOURCE_UNKNOWN');
  });

  it('resolves many conflicts at once by filter', async () => {
    await conflict('SKU-C4');
    await conflict('SKU-C4');
    const r = await runCli(['conflicts', 'resolve', '--entity', 'SKU-C4', '--value', '"11.00"', '--json'], { env });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(r.json.result.resolved.length, 2);
    const open = await iso.pool.query(`select 1 from conflict_log where entity_id = 'SKU-C4' and status = 'OPEN'`);
    assert.equal(open.rowCount, 0);
  });

  const failedWrite = async (sku: string, kind = 'inventory', createdAgo = '1 minute') => {
    const writeId = randomUUID();
    await iso.pool.query(
      `insert into planned_writes (write_id, target_key, sku, kind, payload, idempotency_key, status, attempts, created_at) values ($1::uuid, 'woocommerce:outlet', $2, $3, '{"available": 5}', $1::text, 'FAILED', 8, now() - $4::interval)`,
      [writeId, sku, kind, createdAgo],
    );
    const dl = randomUUID();
    await iso.pool.query(
      `insert into dead_letters (dead_letter_id, source_key, sku, stage, error_class, error_code, error_message, attempts, payload, first_failed_at)
       values ($1, 'woocommerce:outlet', $2, 'write:woocommerce:outlet', 'RETRIABLE_EXHAUSTED', 'WOO_HTTP_503', 'Service Unavailable', 8, $3, now() - $4::interval)`,
      [dl, sku, JSON.stringify({ writeId, kind, payload: { available: 5 }, idempotencyKey: writeId }), createdAgo],
    );
    return { writeId, dl };
  };

  it('replays a failed write back to its writer with the same idempotency key', async () => {
    const { writeId, dl } = await failedWrite('SKU-D1');
    const r = await runCli(['dlq', 'replay', dl, '--json'], { env });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(r.json.result.outcomes[0].outcome, 'replayed');
    const w = (await iso.pool.query('select status, attempts, idempotency_key from planned_writes where write_id = $1', [writeId])).rows[0];
    assert.deepEqual(w, { status: 'PENDING', attempts: 0, idempotency_key: writeId });
    assert.equal((await iso.pool.query('select status from dead_letters where dead_letter_id = $1', [dl])).rows[0].status, 'REPLAYED');
  });

  it('skips a failed write that a newer write has superseded', async () => {
    const { dl } = await failedWrite('SKU-D2', 'inventory', '10 minutes');
    await iso.pool.query(`insert into planned_writes (write_id, target_key, sku, kind, payload, idempotency_key, status) values ($1::uuid, 'woocommerce:outlet', 'SKU-D2', 'inventory', '{"available": 3}', $1::text, 'DONE')`, [randomUUID()]);
    const r = await runCli(['dlq', 'replay', dl, '--json'], { env });
    assert.equal(r.json.result.outcomes[0].outcome, 'superseded');
  });

  it('changes nothing on --dry-run', async () => {
    const { writeId, dl } = await failedWrite('SKU-D3');
    const r = await runCli(['dlq', 'replay', '--all', '--source', 'woocommerce:outlet', '--dry-run', '--json'], { env });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.ok(r.json.result.outcomes.some((o: { deadLetterId: string; outcome: string }) => o.deadLetterId === dl && o.outcome === 'would-replay'));
    assert.equal((await iso.pool.query('select status from planned_writes where write_id = $1', [writeId])).rows[0].status, 'FAILED');
  });

  const transformDeadLetter = async (sku: string) => {
    const eventId = randomUUID();
    const at = new Date().toISOString();
    const raw = {
      eventId, platform: 'shopify', instance: 'main', eventType: 'inventory_levels/update', entityRef: `ii-${sku}`, origin: 'webhook', dedupeKey: `d-${eventId}`,
      occurredAt: at, receivedAt: at, checksum: 'x', sku,
      payload: { kind: 'inventory', sku, available: 7, updatedAt: at, refs: { id: `gid://shopify/ProductVariant/${sku}`, inventoryItemId: `gid://shopify/InventoryItem/${sku}` } },
    };
    const dl = randomUUID();
    await iso.pool.query(
      `insert into dead_letters (dead_letter_id, event_id, source_key, sku, stage, error_class, error_code, error_message, attempts, payload, first_failed_at)
       values ($1, $2, 'shopify:main', $3, 'transform', 'PERMANENT', 'UNKNOWN_KIND', 'rejected by an older mapping', 1, $4, now())`,
      [dl, eventId, sku, JSON.stringify(raw)],
    );
    return { dl, eventId };
  };

  it('replays a transform dead letter through the embedded transform: its canonical event is published (no raw-topic consumer needed)', async () => {
    const topics = pipelineTopics(iso.config.kafka.topicPrefix);
    const seen: DecodedMessage[] = [];
    const consumer = await kafka.consume({ groupId: `t-${randomSuffix()}`, topics: [topics.canonical], fromBeginning: true }, async (b) => void seen.push(...b.messages));
    try {
      const { dl, eventId } = await transformDeadLetter('SKU-T1');
      const r = await runCli(['dlq', 'replay', dl, '--json'], { env });
      assert.equal(r.exitCode, 0, String(r.stderr));
      assert.equal(r.json.result.outcomes[0].outcome, 'replayed', r.json.result.outcomes[0].detail);
      const ev = await eventually(async () => seen.map((m) => m.value as { rawEventId: string; type: string; sku: string; origin: string }).find((v) => v.rawEventId === eventId), 'the canonical event on the canonical topic');
      assert.deepEqual([ev.type, ev.sku, ev.origin], ['InventoryObserved', 'SKU-T1', 'replay']);
      assert.equal((await iso.pool.query('select status from dead_letters where dead_letter_id = $1', [dl])).rows[0].status, 'REPLAYED');
    } finally {
      await consumer.disconnect();
    }
  });

  it('reports a transform dead letter rejected again as failed, naming the new dead letter', async () => {
    const { dl, eventId } = await transformDeadLetter('   ');
    const r = await runCli(['dlq', 'replay', dl, '--json'], { env });
    assert.equal(r.exitCode, 1, String(r.stderr));
    assert.equal(r.json.result.outcomes[0].outcome, 'failed');
    const again = await iso.pool.query<{ dead_letter_id: string; error_code: string; status: string }>(`select dead_letter_id, error_code, status from dead_letters where event_id = $1 and dead_letter_id <> $2`, [eventId, dl]);
    assert.equal(again.rows.length, 1);
    assert.equal(again.rows[0]!.error_code, 'NO_SKU');
    assert.match(r.json.result.outcomes[0].detail, new RegExp(again.rows[0]!.dead_letter_id));
  });

  it('lists, shows and discards dead letters', async () => {
    const { dl } = await failedWrite('SKU-D4');
    const list = await runCli(['dlq', 'list', '--source', 'woocommerce', '--json'], { env });
    assert.ok(list.json.result.deadLetters.some((d: { deadLetterId: string }) => d.deadLetterId === dl));
    const show = await runCli(['dlq', 'show', dl, '--json'], { env });
    assert.equal(show.json.result.errorCode, 'WOO_HTTP_503');
    const discard = await runCli(['dlq', 'discard', dl, '--reason', 'obsolete', '--json'], { env });
    assert.equal(discard.exitCode, 0, String(discard.stderr));
    assert.equal((await iso.pool.query('select status, note from dead_letters where dead_letter_id = $1', [dl])).rows[0].note, 'obsolete');
  });

  it('exits 2 for an id that is not a UUID, and 3 for one that does not exist', async () => {
    assert.equal((await runCli(['dlq', 'show', 'nope'], { env })).exitCode, 2);
    assert.equal((await runCli(['dlq', 'show', randomUUID()], { env })).exitCode, 3);
  });
});
