import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { execSync } from 'node:child_process';
import { isolate, type Isolation } from '../support/isolation.js';
import { cliEnv, runCli, REPO_ROOT } from '../support/cli.js';

describe('syncctl entity (one SKU across the tables, as the console shows it)', function () {
  this.timeout(90_000);
  let iso: Isolation;
  let env: Record<string, string>;

  before(async () => {
    execSync('npm run build --silent', { cwd: REPO_ROOT, stdio: 'ignore' });
    iso = await isolate('cli_entity');
    env = cliEnv(iso.config);
  });
  after(async () => iso?.cleanup());

  it('shows state, conflicts, writes, events (found by platform id), ledger and dead letters of one SKU, and nothing of another', async () => {
    const sku = 'SKU-E1';
    await iso.pool.query(`insert into sync_state (entity_id, source_type, version, data, status) values ($1, 'woocommerce:outlet', 1, '{"available": 4, "fields": {"price": {"value": "9.90"}}}', 'IN_SYNC')`, [sku]);
    await iso.pool.query(`insert into entity_map (sku, source_key, platform_id, refs) values ($1, 'woocommerce:outlet', '77', '{"productId": "77"}')`, [sku]);
    // A WooCommerce event that does not name the SKU: found through the product id.
    await iso.pool.query(`insert into source_events (event_id, source_type, source_id, event_type, data, timestamp, status, source_instance, origin, dedupe_key, sku) values ($1, 'WOOCOMMERCE', '77', 'product.updated', '{}', now(), 'RECEIVED', 'outlet', 'webhook', $2, null)`, [randomUUID(), 'd1']);
    await iso.pool.query(`insert into source_events (event_id, source_type, source_id, event_type, data, timestamp, status, source_instance, origin, dedupe_key, sku) values ($1, 'WOOCOMMERCE', '78', 'product.updated', '{}', now(), 'RECEIVED', 'outlet', 'webhook', $2, 'SKU-OTHER')`, [randomUUID(), 'd2']);
    const w = randomUUID();
    await iso.pool.query(`insert into planned_writes (write_id, target_key, sku, kind, payload, idempotency_key, status) values ($1::uuid, 'woocommerce:outlet', $2, 'inventory', '{"available": 4}', $1::text, 'DONE')`, [w, sku]);
    await iso.pool.query(`insert into inventory_ledger (source_key, order_id, line_id, sku, quantity, status, source_version) values ('shopify:main', 'o1', 'l1', $1, 2, 'COMMITTED', 'v1')`, [sku]);
    await iso.pool.query(`insert into conflict_log (conflict_id, entity_id, source_type, conflict_type, details, created_at, status) values ($1, $2, 'woocommerce:outlet', 'FIELD_CONFLICT', '{}', now(), 'OPEN')`, [randomUUID(), sku]);
    await iso.pool.query(`insert into dead_letters (dead_letter_id, source_key, sku, stage, error_class, error_code, error_message, payload) values ($1, 'woocommerce:outlet', $2, 'write:woocommerce:outlet', 'PERMANENT', 'WOO_HTTP_400', 'bad', '{}')`, [randomUUID(), sku]);

    const r = await runCli(['entity', sku, '--json'], { env });
    assert.equal(r.exitCode, 0, String(r.stderr));
    const e = r.json.result;
    assert.equal(e.known, true);
    assert.deepEqual(e.instances.map((i: { source: string; platformIds: string[] }) => [i.source, i.platformIds]), [['woocommerce:outlet', ['77']]]);
    assert.deepEqual(e.events.map((v: { source: string; eventType: string }) => [v.source, v.eventType]), [['woocommerce:outlet', 'product.updated']]);
    assert.equal(e.writes[0].writeId, w);
    assert.equal(e.ledger[0].quantity, 2);
    assert.equal(e.conflicts.length, 1);
    assert.equal(e.deadLetters[0].errorCode, 'WOO_HTTP_400');

    const text = await runCli(['entity', sku], { env });
    assert.equal(text.exitCode, 0, String(text.stderr));
    assert.match(String(text.stdout), /woocommerce:outlet\s+IN_SYNC\s+available=4 price="9.90"/);
    const none = await runCli(['entity', 'SKU-NOBODY', '--json'], { env });
    assert.equal(none.json.result.known, false);
  });
});
