/**
 * The ERP source: consumes the Debezium topics of the mapped ERP tables and turns their
 * envelopes into raw events, stored once through the EventStore (so they reach
 * `source_events` and, through the outbox, the raw topic). Delivery from Connect is
 * at-least-once; the dedupe key is the change's WAL position, so a replay stores nothing.
 */
import type pg from 'pg';
import type { Consumer } from 'kafkajs';
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import { describeError } from '../../core/errors.js';
import { normaliseSku, type SkuNormalisation } from '../../core/ids.js';
import { getLogger } from '../../core/logger.js';
import type { ErpConfig } from '../../config/schema.js';
import { insertDeadLetters, type NewDeadLetter } from '../../db/dead-letters.js';
import type { EventStore } from '../../pipeline/intake/event-store.js';
import type { DecodedBatch, KafkaBus } from '../../pipeline/kafka/bus.js';
import { lsnVersion } from '../../core/versions.js';
import type { NewRawEvent, RawInventory, RawProduct, RawProductDeleted } from '../types.js';
import { debeziumAuxTopics, debeziumTopic, HEARTBEAT_MESSAGE_PREFIX, type DebeziumOptions } from './debezium.js';

const log = getLogger('erp-source');

/** Prefix of the replication origins the ERP writer tags its transactions with. */
export const WRITER_ORIGIN_PREFIX = 'syncctl_writer';
/** Table in the ERP where the writer records what it applied (idempotency keys, xids for the fallback). */
export const APPLIED_WRITES_TABLE = 'syncctl_applied_writes';

/** One Debezium change envelope (JSON converter without schemas). */
export interface DebeziumEnvelope {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  op: 'c' | 'u' | 'd' | 'r' | 't' | 'm';
  ts_ms?: number;
  source: {
    ts_ms: number;
    schema?: string;
    table?: string;
    lsn?: number | string | null;
    txId?: number | null;
    snapshot?: string | boolean | null;
    origin?: string | null;
  };
  message?: { prefix?: string };
}

/** What the source did with the records it consumed (since it was built). */
export interface ErpSourceStats {
  /** Raw events stored (new). */
  stored: number;
  /** Raw events seen before (same WAL position): at-least-once replays. */
  duplicates: number;
  /** Changes made by syncctl's own ERP writer, dropped (echo suppression). */
  echoes: number;
  /** Tombstones, heartbeats, order rows and other records that carry nothing to sync. */
  skipped: number;
  /** Rows that could not be mapped (no SKU, not JSON): dead-lettered. */
  deadLettered: number;
}

/** Settings of {@link ErpCdcSource}. */
export interface ErpCdcSourceOptions {
  erp: ErpConfig;
  kafka: KafkaBus;
  store: EventStore;
  /** syncctl's pool (dead letters). */
  pool: pg.Pool;
  /** A pool on the ERP database: one query per batch reads the current stock of the batch's SKUs. */
  erpPool: pg.Pool;
  /** Consumer group id, e.g. `<groupPrefix>.erp-cdc`. */
  groupId: string;
  /** SKU normalisation for the routing hint (config `identity.sku`); default trim + upper. */
  skuRule?: SkuNormalisation;
  /** Replication origins starting with this are the writer's (default `syncctl_writer`). */
  writerOriginPrefix?: string;
  /**
   * Also drop changes whose `source.txId` the writer recorded in `syncctl_applied_writes` (the
   * fallback when the writer's role may not use replication origins). Default true.
   */
  txidEchoCheck?: boolean;
  events?: SyncEventBus;
  /** The connector's heartbeat settings when they differ from `erp` (which aux topics to create). */
  debezium?: Pick<DebeziumOptions, 'heartbeatIntervalMs' | 'heartbeatAction' | 'heartbeatTable'>;
}

type TableRole = 'products' | 'stock' | 'orders' | 'orderLines';

/** One consumed Debezium record, as {@link ErpCdcSource.handle} takes it. */
type SourceRecord = { topic: string; offset: string; value: unknown; malformed?: boolean; raw?: Buffer | null };

/** A chunk of records turned into what is to be stored. */
interface Prepared {
  events: NewRawEvent[];
  dead: NewDeadLetter[];
  echoes: number;
  skipped: number;
}

interface Pending {
  env: DebeziumEnvelope;
  role: TableRole;
  table: string;
  row: Record<string, unknown>;
  rawSku: string;
  sku: string;
  lsn: string;
  pk: string;
  topic: string;
  offset: string;
}

/**
 * The ERP connector's source side: a Kafka consumer (its own group) of the Debezium topics.
 *
 * - `items` → a `product` payload (one variant: the SKU, price as a decimal string,
 *   `product_title` (else `name`) as title, `active` → status); a deleted item →
 *   `product_deleted` with the SKU.
 * - `stock_levels` → an `inventory` payload with the SKU's **total** available (sum over
 *   warehouses of on_hand − reserved), read from the ERP once per batch for all its SKUs;
 *   its version is the WAL position read in that same query (see docs/erp-cdc.md: a value read
 *   now must not carry an older version, or a concurrent writer's confirmation would hide it).
 * - order tables: the writer's own rows are dropped as echoes; the ERP's own orders are not
 *   channel sales, and their stock effect arrives through `stock_levels`, so they are skipped.
 * - tombstones and heartbeat messages are skipped; rows without a SKU are dead-lettered.
 * - every change tagged with the writer's replication origin is dropped (deletes included).
 *
 * Offsets are committed (by KafkaBus) only after `store()` returned.
 */
export class ErpCdcSource {
  readonly platform = 'erp' as const;
  readonly key = 'erp';
  readonly stats: ErpSourceStats = { stored: 0, duplicates: 0, echoes: 0, skipped: 0, deadLettered: 0 };
  private consumer?: Consumer;
  private readonly skuRule: SkuNormalisation;
  private readonly originPrefix: string;
  private readonly roles: Map<string, TableRole>;
  private readonly bus: SyncEventBus;
  private appliedTableExists = false;

  constructor(private readonly opts: ErpCdcSourceOptions) {
    this.skuRule = opts.skuRule ?? { trim: true, case: 'upper' };
    this.originPrefix = opts.writerOriginPrefix ?? WRITER_ORIGIN_PREFIX;
    this.bus = opts.events ?? defaultBus;
    const t = opts.erp.tables;
    this.roles = new Map<string, TableRole>([
      [qualify(t.products), 'products'],
      [qualify(t.stock), 'stock'],
      [qualify(t.orders), 'orders'],
      [qualify(t.orderLines), 'orderLines'],
    ]);
  }

  /** The Debezium topics this source reads (one per mapped table). */
  topics(): string[] {
    return [...new Set([...this.roles.keys()].map((t) => debeziumTopic(this.opts.erp, t)))];
  }

  /**
   * Creates missing Debezium topics (as the broker would on Debezium's first record, but without
   * stalling Connect's producer meanwhile: see debeziumAuxTopics) and starts consuming.
   */
  async start(): Promise<void> {
    if (this.consumer) return;
    const admin = await this.opts.kafka.getAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = [...this.topics(), ...debeziumAuxTopics(this.opts.erp, this.opts.debezium)].filter((t) => !existing.has(t));
    // One partition, like the broker's auto-creation: per-key order is what Debezium relies on.
    if (missing.length) await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true }).catch(() => undefined);
    // Larger fetches than kafkajs' 1 MB per partition: a bulk change becomes fewer round trips
    // (handle() stores a large batch in pipelined chunks of storeChunkSize).
    const perPartition = this.opts.erp.fetchMaxBytesPerPartition;
    this.consumer = await this.opts.kafka.consume(
      { groupId: this.opts.groupId, topics: this.topics(), fromBeginning: true, config: { maxBytesPerPartition: perPartition, maxBytes: 2 * perPartition } },
      (b) => this.onBatch(b),
    );
    log.info({ group: this.opts.groupId, topics: this.topics() }, 'ERP CDC source started');
  }

  /** Stops consuming (the batch in flight finishes; its offsets are committed after its store). */
  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    await c?.disconnect().catch(() => undefined);
  }

  private async onBatch(batch: DecodedBatch): Promise<void> {
    try {
      await this.handle(batch.messages.map((m) => ({ topic: batch.topic, offset: m.offset, value: m.value, malformed: m.malformed, raw: m.rawValue })));
    } catch (err) {
      // Not committed: KafkaBus/kafkajs retries the batch (the store is idempotent by LSN).
      this.bus.emit('error', { component: 'erp-source', errorClass: 'retriable', code: describeError(err).code ?? 'ERP_SOURCE_BATCH' });
      log.warn({ err: describeError(err), topic: batch.topic, count: batch.messages.length }, 'ERP CDC batch failed; it will be consumed again');
      throw err;
    }
  }

  /**
   * Turns one batch of Debezium records into raw events and dead letters and stores them.
   * Exposed for tests and the benchmark; the consumer calls it per partition batch.
   *
   * A batch larger than `storeChunkSize` is stored in chunks, in order: chunk n+1 is decoded
   * (and its ERP reads made) while chunk n is being written, and each chunk's commit wakes the
   * relay, so a bulk change reaches the raw topic while the rest of it is still being stored.
   * A failure rejects the whole batch (not committed, consumed again; the store dedupes by LSN).
   */
  async handle(records: SourceRecord[]): Promise<{ events: NewRawEvent[]; stored: number }> {
    const size = Math.max(1, this.opts.erp.storeChunkSize ?? records.length);
    if (records.length <= size) return this.commit(await this.prepare(records));
    const events: NewRawEvent[] = [];
    let stored = 0;
    let inFlight: Promise<{ events: NewRawEvent[]; stored: number }> | undefined;
    try {
      for (let i = 0; i < records.length; i += size) {
        const prepared = await this.prepare(records.slice(i, i + size));
        if (inFlight) stored += (await inFlight).stored;
        inFlight = this.commit(prepared);
        inFlight.catch(() => undefined); // awaited below; a rejection meanwhile is not "unhandled"
        events.push(...prepared.events);
      }
      stored += (await inFlight!).stored;
    } catch (err) {
      await inFlight?.catch(() => undefined); // never leave a write running behind a failed batch
      throw err;
    }
    return { events, stored };
  }

  /** Decodes records into raw events and dead letters (reads stock and writer xids from the ERP); stores nothing. */
  private async prepare(records: SourceRecord[]): Promise<Prepared> {
    const pending: Pending[] = [];
    const dead: NewDeadLetter[] = [];
    let echoes = 0;
    let skipped = 0;
    for (const rec of records) {
      if (rec.malformed) {
        dead.push(this.deadLetter('ERP_CDC_MALFORMED', 'A Debezium record is not valid JSON.', { raw: rec.raw?.toString('utf8').slice(0, 10_000) ?? null }, rec, null));
        continue;
      }
      const env = rec.value as DebeziumEnvelope | null;
      if (!env) {
        skipped++; // tombstone after a delete: the delete itself was handled
        continue;
      }
      if (env.op === 'm' || !env.source || (env.message?.prefix ?? '') === HEARTBEAT_MESSAGE_PREFIX) {
        skipped++;
        continue;
      }
      if (env.op === 't') {
        skipped++; // TRUNCATE: nothing per SKU; a re-snapshot or the next changes correct stock
        continue;
      }
      if ((env.source.origin ?? '').startsWith(this.originPrefix)) {
        echoes++;
        continue;
      }
      const table = `${env.source.schema ?? 'public'}.${env.source.table ?? ''}`;
      const role = this.roles.get(table);
      const row = env.after ?? env.before;
      if (!role || !row) {
        skipped++;
        continue;
      }
      const lsn = String(env.source.lsn ?? '0');
      const pk = role === 'stock' ? `${String(row.sku)}/${String(row.warehouse)}` : role === 'products' ? String(row.sku) : pkOf(row);
      if (role === 'orders' || role === 'orderLines') {
        pending.push({ env, role, table, row, rawSku: '', sku: '', lsn, pk, topic: rec.topic, offset: rec.offset });
        continue;
      }
      const sku = normaliseSku(row.sku, this.skuRule);
      if (!sku) {
        dead.push(this.deadLetter('NO_SKU', `An ERP ${table} row has no SKU; it cannot be matched to a product.`, { op: env.op, before: env.before, after: env.after, source: env.source }, rec, `lsn:${lsn}:${table}:${pk}`));
        continue;
      }
      pending.push({ env, role, table, row, rawSku: String(row.sku), sku, lsn, pk, topic: rec.topic, offset: rec.offset });
    }

    // Fallback echo suppression: the writer recorded its xids when it could not use an origin.
    const ours = await this.writerXids(pending.filter((p) => p.role !== 'products' && p.env.source.txId != null).map((p) => Number(p.env.source.txId)));
    const kept = pending.filter((p) => {
      if (p.env.source.txId != null && ours.has(Number(p.env.source.txId))) {
        echoes++;
        return false;
      }
      if (p.role === 'orders' || p.role === 'orderLines') {
        skipped++;
        return false;
      }
      return true;
    });

    const stockSkus = [...new Set(kept.filter((p) => p.role === 'stock').map((p) => p.rawSku))];
    const stock = await this.currentStock(stockSkus);
    const events: NewRawEvent[] = [];
    for (const p of kept) {
      const base = {
        platform: 'erp' as const,
        instance: 'default',
        eventType: `erp.${p.env.source.table}`,
        entityRef: p.rawSku,
        origin: p.env.op === 'r' ? ('backfill' as const) : ('cdc' as const),
        dedupeKey: `lsn:${p.lsn}:${p.table}:${p.pk}`,
        occurredAt: new Date(p.env.source.ts_ms).toISOString(),
        sku: p.sku,
      };
      const version = lsnVersion(p.lsn);
      if (p.role === 'products') {
        if (p.env.op === 'd') {
          const payload: RawProductDeleted = { kind: 'product_deleted', productId: p.rawSku, updatedAt: version, skus: [p.rawSku] };
          events.push({ ...base, payload });
        } else {
          const r = p.row;
          // The product's title when the ERP groups items into products (`product_title`, the title
          // channels list), else the item's name.
          const title = typeof r.product_title === 'string' && r.product_title.trim() !== '' ? r.product_title : typeof r.name === 'string' ? r.name : undefined;
          const payload: RawProduct = {
            kind: 'product',
            productId: p.rawSku,
            ...(title !== undefined ? { title } : {}),
            ...(typeof r.active === 'boolean' ? { status: r.active ? 'active' : 'archived' } : {}),
            updatedAt: version,
            variants: [{ id: p.rawSku, sku: p.rawSku, ...(r.price != null ? { price: String(r.price) } : {}), ...(title !== undefined ? { title } : {}) }],
          };
          events.push({ ...base, payload });
        }
        continue;
      }
      const s = stock.rows.get(p.rawSku);
      if (s === undefined) {
        skipped++; // the item itself is gone (its deletion is its own event)
        continue;
      }
      // The value is the state as of `stock.position`, newer than (or equal to) this change.
      const payload: RawInventory = { kind: 'inventory', sku: p.rawSku, available: s, updatedAt: stock.position, refs: { id: p.rawSku } };
      events.push({ ...base, payload });
    }

    return { events, dead, echoes, skipped };
  }

  /**
   * Stores one prepared chunk and counts it: dead letters first, then events. A bad row comes
   * before the later rows of its chunk in the WAL, so once a later change is visible in
   * source_events the bad row's dead letter is too (a crash in between replays the batch; both
   * stores skip what they already hold).
   */
  private async commit(p: Prepared): Promise<{ events: NewRawEvent[]; stored: number }> {
    if (p.dead.length) await this.storeDeadLetters(p.dead);
    const res = p.events.length ? await this.opts.store.store(p.events) : { stored: [], duplicates: 0, unchanged: 0 };
    this.stats.stored += res.stored.length;
    this.stats.duplicates += res.duplicates + res.unchanged;
    this.stats.echoes += p.echoes;
    this.stats.skipped += p.skipped;
    this.stats.deadLettered += p.dead.length;
    return { events: p.events, stored: res.stored.length };
  }

  /** Available per SKU (sum over warehouses of on_hand − reserved) and the WAL position of the read. */
  private async currentStock(skus: string[]): Promise<{ rows: Map<string, number>; position: string }> {
    if (!skus.length) return { rows: new Map(), position: '' };
    const items = qualifiedIdent(this.opts.erp.tables.products);
    const levels = qualifiedIdent(this.opts.erp.tables.stock);
    const r = await this.opts.erpPool.query<{ sku: string; available: string; lsn: string }>(
      `select i.sku, coalesce(sum(s.on_hand - s.reserved), 0)::bigint::text as available, pg_current_wal_lsn()::text as lsn
         from ${items} i left join ${levels} s on s.sku = i.sku
        where i.sku = any($1::text[]) group by i.sku`,
      [skus],
    );
    const position = r.rows[0] ? lsnVersion(r.rows[0].lsn) : '';
    return { rows: new Map(r.rows.map((x) => [x.sku, Number(x.available)])), position };
  }

  private async writerXids(xids: number[]): Promise<Set<number>> {
    if (!xids.length || this.opts.txidEchoCheck === false) return new Set();
    if (!this.appliedTableExists) {
      // No writer has run against this ERP yet (it creates the table): nothing can be its echo.
      const t = await this.opts.erpPool.query<{ t: string | null }>('select to_regclass($1)::text as t', [APPLIED_WRITES_TABLE]);
      if (!t.rows[0]?.t) return new Set();
      this.appliedTableExists = true;
    }
    const r = await this.opts.erpPool.query<{ xid32: string }>(
      `select distinct xid32::text from ${APPLIED_WRITES_TABLE} where xid32 = any($1::bigint[]) and applied_at > now() - interval '7 days'`,
      [[...new Set(xids)]],
    );
    return new Set(r.rows.map((x) => Number(x.xid32)));
  }

  private deadLetter(code: string, message: string, payload: unknown, rec: { topic: string; offset: string }, dedupeKey: string | null): NewDeadLetter {
    return {
      sourceKey: 'erp',
      stage: 'intake',
      errorClass: 'PERMANENT',
      errorCode: code,
      errorMessage: message,
      payload,
      context: { topic: rec.topic, offset: rec.offset, ...(dedupeKey ? { dedupeKey } : {}) },
    };
  }

  /** Inserts dead letters, skipping those already recorded for the same change (a replay). */
  private async storeDeadLetters(list: NewDeadLetter[]): Promise<void> {
    const keys = list.map((d) => String(d.context?.dedupeKey ?? '')).filter(Boolean);
    let known = new Set<string>();
    if (keys.length) {
      const r = await this.opts.pool.query<{ k: string }>(
        `select context->>'dedupeKey' as k from dead_letters where source_key = 'erp' and stage = 'intake' and context->>'dedupeKey' = any($1::text[])`,
        [keys],
      );
      known = new Set(r.rows.map((x) => x.k));
    }
    const fresh = list.filter((d) => !known.has(String(d.context?.dedupeKey ?? '')));
    await insertDeadLetters(this.opts.pool, fresh);
    for (const d of fresh) {
      this.bus.emit('deadletter.created', { stage: 'intake', source: 'erp', code: d.errorCode });
      log.warn({ code: d.errorCode, context: d.context }, d.errorMessage);
    }
  }
}

const qualify = (t: string): string => (t.includes('.') ? t : `public.${t}`);
const qualifiedIdent = (t: string): string => qualify(t).split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
const pkOf = (row: Record<string, unknown>): string => String(row.id ?? `${String(row.order_id)}/${String(row.line_no)}`);
