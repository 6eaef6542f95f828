// Conformance of the Flink runner with the embedded one: the same raw events (every payload kind,
// malformed JSON, a JSON array, blank SKUs, cancelled orders, out-of-order versions, a deletion...)
// go through the embedded interpreter (mapRawEvent) and through the real Flink job generated from
// the same mapping; the canonical output (per key, as sets) and the reject reasons must be equal.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { canonicalJson, type SkuNormalisation } from '../../../../src/core/ids.js';
import { KafkaBus } from '../../../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../../../src/pipeline/kafka/client.js';
import { pipelineTopics } from '../../../../src/pipeline/kafka/topics.js';
import { mapRawEvent } from '../../../../src/pipeline/transform/interpret.js';
import { MAPPING } from '../../../../src/pipeline/transform/mapping.js';
import { flinkDlqTopic, flinkJobFor, type FlinkDeadLetterRow } from '../../../../src/pipeline/transform/flink/sql.js';
import { isolatedConfig } from '../../../support/config.js';
import { dropEverything } from '../../../support/isolation.js';
import { collect, createTopics, ensureFlink, jobManager, sendRaw, uniqueName, until } from './support.js';

const SKU_RULE: SkuNormalisation = { trim: true, case: 'upper' };

/** A raw event as intake publishes it. */
function raw(platform: 'shopify' | 'woocommerce' | 'erp', payload: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: randomUUID(),
    platform,
    instance: platform === 'erp' ? 'default' : 'main',
    eventType: 'test',
    entityRef: `ref-${randomUUID().slice(0, 8)}`,
    origin: 'webhook',
    dedupeKey: randomUUID(),
    occurredAt: '2025-03-01T10:00:00.000Z',
    receivedAt: '2025-03-01T10:00:01.000Z',
    checksum: 'x',
    payload,
    ...extra,
  };
}

/** The test corpus: case name → [platform topic, raw value]. */
function corpus(): Array<{ name: string; platform: 'shopify' | 'woocommerce' | 'erp'; value: string | null }> {
  const j = (v: unknown) => JSON.stringify(v);
  const product = (updatedAt: string, title: string) => ({
    kind: 'product',
    productId: 'gid://shopify/Product/1',
    title,
    status: 'active',
    updatedAt,
    variants: [
      { id: 'v1', sku: ' ab-1 ', price: '19.90', inventoryItemId: 'ii1', available: 5 },
      { id: 'v2', sku: '   ', price: '1.00', available: 3 },
      { id: 'v3', sku: 'Cd-2', price: '7.50', available: null },
      { id: 'v4', sku: 12345, available: 0 },
      { id: 'v5', sku: true, available: 1 },
      { id: 'v6', sku: 'ünï\u00a0', parentId: 'p9' },
    ],
  });
  return [
    { name: 'product', platform: 'shopify', value: j(raw('shopify', product('2025-03-01T10:00:00Z', 'Shirt "quoted" \\ back'))) },
    { name: 'product-older-version', platform: 'shopify', value: j(raw('shopify', product('2025-02-01T10:00:00Z', 'Shirt (old)'))) },
    { name: 'product-newer-version', platform: 'shopify', value: j(raw('shopify', product('2025-04-01T10:00:00Z', 'Shirt (new)'))) },
    { name: 'woo-product-blank-skus', platform: 'woocommerce', value: j(raw('woocommerce', { kind: 'product', productId: '77', updatedAt: 'u', variants: [{ id: '1', sku: '' }, { id: '2', sku: null }] })) },
    { name: 'product-empty-variants', platform: 'woocommerce', value: j(raw('woocommerce', { kind: 'product', productId: '76', updatedAt: 'u', variants: [] })) },
    { name: 'order-no-lines', platform: 'woocommerce', value: j(raw('woocommerce', { kind: 'order', orderId: 'o4', committed: true, cancelled: false, createdAt: 'c', updatedAt: 'u', lines: [] })) },
    { name: 'product-no-variants', platform: 'woocommerce', value: j(raw('woocommerce', { kind: 'product', productId: '78', updatedAt: 'u' })) },
    { name: 'product-variants-object', platform: 'woocommerce', value: j(raw('woocommerce', { kind: 'product', productId: '79', updatedAt: 'u', variants: { sku: 'X' } })) },
    { name: 'woo-variation', platform: 'woocommerce', value: j(raw('woocommerce', { kind: 'product', productId: '80', updatedAt: 'u', title: 'Mug', variants: [{ id: '81', sku: 'mug-1', parentId: '80', price: '5' }] }, { origin: 'poll' })) },
    { name: 'erp-inventory', platform: 'erp', value: j(raw('erp', { kind: 'inventory', sku: 'erp-1', available: 42, updatedAt: '0/16B3748', refs: { id: 'ERP-1', locationId: 'main' } }, { origin: 'cdc' })) },
    { name: 'inventory-zero', platform: 'shopify', value: j(raw('shopify', { kind: 'inventory', sku: 'ab-1', available: 0, updatedAt: 'u2', refs: { id: 'v1', inventoryItemId: 'ii1' } })) },
    { name: 'inventory-no-sku', platform: 'shopify', value: j(raw('shopify', { kind: 'inventory', sku: null, available: 3, updatedAt: 'u', refs: { id: 'v1' } })) },
    { name: 'inventory-no-available', platform: 'shopify', value: j(raw('shopify', { kind: 'inventory', sku: 'Q', updatedAt: 'u', refs: { id: 'v1' } })) },
    {
      name: 'order',
      platform: 'shopify',
      value: j(raw('shopify', { kind: 'order', orderId: 'o1', name: '#1001', committed: true, cancelled: false, currency: 'EUR', createdAt: 'c', updatedAt: 'u', lines: [{ lineId: 'l1', sku: 'ab-1', quantity: 2, price: '19.90' }, { lineId: 'l2', sku: null, quantity: 1 }, { lineId: 'l3', sku: 'cd-2', quantity: 1 }] })),
    },
    { name: 'order-cancelled', platform: 'woocommerce', value: j(raw('woocommerce', { kind: 'order', orderId: 'o2', committed: true, cancelled: true, createdAt: 'c', updatedAt: 'u', lines: [{ lineId: 'l1', sku: 'ab-1', quantity: 2 }] })) },
    { name: 'order-not-committed', platform: 'woocommerce', value: j(raw('woocommerce', { kind: 'order', orderId: 'o3', committed: false, cancelled: false, createdAt: 'c', updatedAt: 'u', lines: [{ lineId: 'l1', sku: 'ab-1', quantity: 2 }] })) },
    { name: 'deletion', platform: 'shopify', value: j(raw('shopify', { kind: 'product_deleted', productId: 'gid://shopify/Product/1', updatedAt: 'u', skus: ['ab-1', ' ', 'cd-2', 7] })) },
    { name: 'deletion-empty', platform: 'shopify', value: j(raw('shopify', { kind: 'product_deleted', productId: 'p', updatedAt: 'u', skus: [] })) },
    { name: 'unknown-kind', platform: 'erp', value: j(raw('erp', { kind: 'customer', id: 1 })) },
    { name: 'not-raw-event', platform: 'erp', value: j({ hello: 'world' }) },
    { name: 'payload-without-kind', platform: 'erp', value: j(raw('erp', { sku: 'x' })) },
    { name: 'json-array', platform: 'shopify', value: '[1,2,3]' },
    { name: 'json-string', platform: 'shopify', value: '"just a string"' },
    { name: 'malformed', platform: 'woocommerce', value: '{"eventId": "x", broken' },
    { name: 'trailing-garbage', platform: 'woocommerce', value: `${j(raw('woocommerce', { kind: 'inventory', sku: 'g', available: 1, updatedAt: 'u', refs: { id: '1' } }))} trailing` },
    { name: 'null-literal', platform: 'erp', value: 'null' },
    { name: 'tombstone', platform: 'erp', value: null },
  ];
}

type Reject = { reason: string; detail: string };

/** What the embedded runner does with one raw value (its `handle()` classification + mapRawEvent). */
function embedded(value: string | null): { events: unknown[]; reject?: Reject } {
  if (value === null) return { events: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { events: [], reject: { reason: 'MALFORMED_JSON', detail: 'raw message is not valid JSON' } };
  }
  if (parsed === null) return { events: [] };
  const r = mapRawEvent(parsed, SKU_RULE, MAPPING);
  return r.ok ? { events: r.events } : { events: [], reject: { reason: r.reason, detail: r.detail } };
}

describe('Flink runner: equivalence with the embedded runner', function () {
  this.timeout(240_000);
  const config = isolatedConfig('flink_equiv');
  const topics = pipelineTopics(config.kafka.topicPrefix);
  const dlq = flinkDlqTopic(config.kafka.topicPrefix);
  const jm = jobManager();
  const bus = new KafkaBus(createKafka(config.kafka));
  const collectors: KafkaBus[] = [];
  let jobId: string | undefined;

  before(async () => {
    await ensureFlink();
    await createTopics(bus, [...Object.values(topics.raw), topics.canonical, dlq], 2);
  });

  after(async () => {
    if (jobId) await jm.cancel(jobId).catch(() => undefined);
    await Promise.allSettled(collectors.map((c) => c.close()));
    await bus.close();
    await dropEverything(config);
  });

  it('produces the same canonical events per key and the same rejects as mapRawEvent', async () => {
    const cases = corpus();
    // Expected, from the embedded interpreter.
    const expected: string[] = [];
    const expectedRejects: string[] = [];
    for (const c of cases) {
      const e = embedded(c.value);
      for (const ev of e.events) expected.push(`${(ev as { sku: string }).sku} ${canonicalJson(ev)}`);
      if (e.reject) expectedRejects.push(`${c.name} ${e.reject.reason} ${e.reject.detail}`);
    }
    assert.ok(expected.length > 15);
    assert.equal(new Set(expectedRejects.map((r) => r.split(' ')[1])).size, 4); // every reason is covered

    // Through Flink.
    for (const c of cases) await sendRaw(bus, topics.raw[c.platform], [{ key: c.name, value: c.value }]);
    const job = flinkJobFor(MAPPING, {
      name: uniqueName('equiv'),
      topics,
      brokers: config.kafka.brokers,
      skuRule: SKU_RULE,
      groupId: uniqueName('equiv-g'),
      dlqTopic: dlq,
      checkpointIntervalMs: 1000,
      deliveryGuarantee: 'at-least-once',
      parallelism: 1,
    });
    jobId = (await jm.start(job)).jobId;
    const canonical = await collect(config, topics.canonical);
    const dead = await collect(config, dlq);
    collectors.push(canonical.bus, dead.bus);
    await until(() => canonical.messages.length >= expected.length && dead.messages.length >= expectedRejects.length, 90_000, 'the Flink output');
    await new Promise((r) => setTimeout(r, 1500)); // nothing more may come

    const actual = canonical.messages.map((m) => {
      const ev = m.value as { sku: string; type: string; source: string };
      assert.equal(m.key, ev.sku, 'Kafka key = SKU');
      assert.equal(m.headers['syncctl-type'], ev.type);
      assert.equal(m.headers['syncctl-source'], ev.source);
      return `${ev.sku} ${canonicalJson(ev)}`;
    });
    assert.deepEqual(actual.sort(), [...expected].sort());

    const actualRejects = dead.messages.map((m) => {
      const row = m.value as FlinkDeadLetterRow;
      return `${row.src_key} ${row.reason} ${row.detail}`;
    });
    if (process.env.DEBUG_EQUIV) console.log(JSON.stringify({ actualRejects: actualRejects.sort(), expectedRejects: [...expectedRejects].sort() }, null, 1));
    assert.deepEqual(actualRejects.sort(), [...expectedRejects].sort());

    const health = await jm.health(jobId);
    assert.equal(health.job.state, 'RUNNING');
    assert.equal(health.restarts, 0);
  });
});
