/**
 * The ERP writer: applies what belongs in the ERP (the channels' order lines, which commit
 * stock) with SQL in one transaction per batch, idempotently, and under its own replication
 * origin so the ERP source drops the resulting CDC events (echo suppression).
 */
import pg from 'pg';
import { describeError, PermanentError } from '../../core/errors.js';
import { getLogger } from '../../core/logger.js';
import type { ErpConfig } from '../../config/schema.js';
import { compareVersions, lsnVersion } from '../../core/versions.js';
import type { SinkConnector, SinkReading, SinkResult, SinkWrite } from '../types.js';
import { APPLIED_WRITES_TABLE, WRITER_ORIGIN_PREFIX } from './source.js';

const log = getLogger('erp-writer');

/** The writer's bookkeeping of channel order lines (channel line id → ERP line, quantity, warehouse). */
export const ORDER_LINES_TABLE = 'syncctl_order_lines';

/** How the writer keeps its own changes from coming back through CDC. */
export type EchoSuppression = 'origin' | 'txid';

/** Settings of {@link ErpSink}. */
export interface ErpSinkOptions {
  erp: ErpConfig;
  /** A pool on the ERP database used only by the writer (each connection gets its own origin). Built from `erp.databaseUrl` when absent. */
  pool?: pg.Pool;
  /** Prefix of the writer's replication origins (`<prefix>_<n>`, one per pooled connection). */
  originPrefix?: string;
  /** `origin` (default; falls back to `txid` when the role may not use origins) or `txid` only. */
  echoSuppression?: EchoSuppression;
  /** Largest batch of one call (one ERP transaction). */
  maxBatch?: number;
  /** Warehouse a line reserves in when none has enough stock (default `MAIN`, else the SKU's first). */
  defaultWarehouse?: string;
  /** Connections of the writer's own pool (default 4). */
  poolSize?: number;
  /**
   * Transactions one batch is split into, run at once on separate connections (default 3, at most
   * the pool size): the lines of one order stay in one transaction. One line costs about a dozen
   * statements, so a backlog of sales is written several times faster this way (bench/topology).
   */
  parallelTransactions?: number;
}

/** Below this many lines per transaction a batch is not split (a lone sale is one transaction). */
const MIN_LINES_PER_TRANSACTION = 4;

/** The payload of a planned `order_line` write (see `src/sync/engine/inventory.ts`). */
interface OrderLinePayload {
  channel: string;
  orderId: string;
  lineId: string;
  /** The line's committed quantity now (0 when cancelled): applying it is "set the line to N". */
  quantity: number;
  status: 'COMMITTED' | 'CANCELLED';
  /** The order's version (updated_at) this state comes from; older states than the applied one are ignored. */
  version?: string;
  price?: string | null;
  order?: { orderId: string; name?: string; currency?: string; createdAt?: string };
}

/** The writer's own tables in the ERP (not captured: they are not in the publication). */
const BOOKKEEPING_DDL: Record<string, string> = {
  [APPLIED_WRITES_TABLE]: `
    create table if not exists ${APPLIED_WRITES_TABLE} (
      key        text primary key,
      write_id   text,
      xid32      bigint not null,
      origin     text,
      result     jsonb,
      applied_at timestamptz not null default now()
    );
    create index if not exists ${APPLIED_WRITES_TABLE}_xid32_idx on ${APPLIED_WRITES_TABLE} (xid32);`,
  [ORDER_LINES_TABLE]: `
    create table if not exists ${ORDER_LINES_TABLE} (
      channel          text not null,
      channel_order_id text not null,
      channel_line_id  text not null,
      order_id         bigint not null,
      line_no          integer not null,
      sku              text not null,
      quantity         integer not null,
      warehouse        text not null,
      updated_at       timestamptz not null default now(),
      primary key (channel, channel_order_id, channel_line_id)
    );
    alter table ${ORDER_LINES_TABLE} add column if not exists version text;`,
};

const ORIGIN_SETUP = Symbol('syncctl.erp.origin');
type TaggedClient = pg.PoolClient & { [ORIGIN_SETUP]?: string | null };

/**
 * The ERP as a sink (key `erp`). Kind `order_line` sets a channel order line in the ERP:
 * upserts the sales order (`channel`, `channel_order_id`) and its line, moves the line's
 * quantity difference into `stock_levels.reserved`, and records the idempotency key in
 * `syncctl_applied_writes` (created if missing) so a replay changes nothing. Each item runs
 * under a savepoint: one bad item (unknown SKU) does not fail the others. `applied` is the
 * SKU's available after the batch and the WAL position read in the transaction, so the engine
 * treats the CDC events of this write as not newer. Kind `inventory` is refused: the ERP is
 * the stock authority, syncctl never overwrites its stock.
 */
export class ErpSink implements SinkConnector {
  readonly key = 'erp';
  readonly maxBatch: number;
  private readonly pool: pg.Pool;
  private readonly parallel: number;
  private readonly ownsPool: boolean;
  private readonly originPrefix: string;
  private mode: EchoSuppression;
  private setupDone?: Promise<void>;

  constructor(private readonly opts: ErpSinkOptions) {
    this.maxBatch = opts.maxBatch ?? 200;
    this.originPrefix = opts.originPrefix ?? WRITER_ORIGIN_PREFIX;
    this.mode = opts.echoSuppression ?? 'origin';
    this.ownsPool = !opts.pool;
    this.pool = opts.pool ?? new pg.Pool({ connectionString: opts.erp.databaseUrl, max: opts.poolSize ?? 4, application_name: 'syncctl-erp-writer' });
    this.parallel = Math.max(1, opts.parallelTransactions ?? Math.min(3, opts.poolSize ?? 4));
    this.pool.on('error', (err) => log.warn({ err: describeError(err) }, 'idle ERP writer connection failed'));
  }

  /** The echo suppression in use (`txid` after a fallback). */
  get echoSuppression(): EchoSuppression {
    return this.mode;
  }

  async write(batch: SinkWrite[]): Promise<SinkResult[]> {
    const results = new Map<string, SinkResult>();
    const todo: Array<{ w: SinkWrite; p: OrderLinePayload }> = [];
    for (const w of batch) {
      const kind = w.kind as string;
      if (kind === 'order_line') {
        const p = w.payload as unknown as OrderLinePayload;
        if (!p.channel || !p.orderId || !p.lineId || !Number.isInteger(p.quantity) || p.quantity < 0) {
          results.set(w.writeId, permanent(w, 'ERP_INVALID_WRITE', 'order_line needs channel, orderId, lineId and an integer quantity >= 0'));
        } else todo.push({ w, p });
      } else if (kind === 'inventory') {
        results.set(w.writeId, permanent(w, 'ERP_NOT_WRITABLE', 'The ERP is the stock authority: syncctl does not set its stock levels (order lines reserve stock instead).'));
      } else {
        results.set(w.writeId, permanent(w, 'ERP_UNSUPPORTED_WRITE', `The ERP writer does not apply '${kind}' writes.`));
      }
    }
    if (todo.length) for (const r of await this.applyOrderLines(todo)) results.set(r.writeId, r);
    return batch.map((w) => results.get(w.writeId)!);
  }

  /** Available (sum over warehouses of on_hand − reserved), price and name per SKU. Unknown SKUs are left out. */
  async read(skus: string[]): Promise<SinkReading[]> {
    if (!skus.length) return [];
    const t = this.tables();
    // The version of a reading is the WAL position read in the same query (as the CDC source does).
    const r = await this.pool.query<{ sku: string; price: string; name: string; available: string; lsn: string }>(
      `select i.sku, i.price::text as price, i.name, coalesce(sum(s.on_hand - s.reserved), 0)::bigint::text as available, pg_current_wal_lsn()::text as lsn
         from ${t.items} i left join ${t.stock} s on s.sku = i.sku where i.sku = any($1::text[]) group by i.sku, i.price, i.name`,
      [skus],
    );
    return r.rows.map((x) => ({ sku: x.sku, available: Number(x.available), price: x.price, title: x.name, refs: { id: x.sku }, version: lsnVersion(x.lsn) }));
  }

  /** Creates the writer's bookkeeping tables in the ERP when missing (idempotent). */
  async ensureSetup(): Promise<void> {
    this.setupDone ??= (async () => {
      const c = await this.pool.connect();
      try {
        await c.query('select pg_advisory_lock(hashtext($1))', [APPLIED_WRITES_TABLE]);
        // Only what is missing: a role that may not own DDL still works with tables a DBA created.
        const missing = (await c.query<{ t: string }>('select t from unnest($1::text[]) t where to_regclass(t) is null', [[APPLIED_WRITES_TABLE, ORDER_LINES_TABLE]])).rows.map((r) => r.t);
        for (const t of missing) {
          try {
            await c.query(BOOKKEEPING_DDL[t]!);
          } catch (err) {
            if ((err as { code?: string }).code !== '42501') throw err;
            throw new PermanentError('ERP_WRITER_SETUP', `The ERP writer cannot create its table ${t}: ${(err as Error).message}`, {
              cause: err,
              hint: `Ask the ERP's DBA to run (then grant SELECT, INSERT, UPDATE to the writer's role): ${BOOKKEEPING_DDL[t]!.replace(/\s+/g, ' ').trim()}`,
            });
          }
        }
      } finally {
        await c.query('select pg_advisory_unlock(hashtext($1))', [APPLIED_WRITES_TABLE]).catch(() => undefined);
        c.release();
      }
    })().catch((err) => {
      this.setupDone = undefined;
      throw err;
    });
    return this.setupDone;
  }

  /** Closes the writer's pool (when it built it). */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end().catch(() => undefined);
  }

  private tables() {
    const q = (t: string) => (t.includes('.') ? t : `public.${t}`).split('.').map((p) => pg.escapeIdentifier(p)).join('.');
    return { items: q(this.opts.erp.tables.products), stock: q(this.opts.erp.tables.stock), orders: q(this.opts.erp.tables.orders), lines: q(this.opts.erp.tables.orderLines) };
  }

  /**
   * Makes this pooled connection write under its own replication origin (`<prefix>_<n>`: PG 15
   * allows one active origin per session, so each connection takes the first free one).
   * Returns the origin, or null when the role may not use origins (→ txid fallback).
   */
  private async originOf(c: TaggedClient): Promise<string | null> {
    if (c[ORIGIN_SETUP] !== undefined) return c[ORIGIN_SETUP]!;
    if (this.mode === 'txid') return (c[ORIGIN_SETUP] = null);
    for (let n = 1; n <= 256; n++) {
      const name = `${this.originPrefix}_${n}`;
      try {
        await c.query('select pg_replication_origin_create($1) where pg_replication_origin_oid($1) is null', [name]);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === '42501') return this.fallBack(c, err);
        if (code !== '23505') throw err; // created concurrently by another writer: fine
      }
      try {
        await c.query('select pg_replication_origin_session_setup($1)', [name]);
        c[ORIGIN_SETUP] = name;
        return name;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === '42501') return this.fallBack(c, err);
        if (code === '55006') continue; // active in another session: try the next one
        throw err;
      }
    }
    throw new PermanentError('ERP_ORIGINS_EXHAUSTED', `All 256 replication origins ${this.originPrefix}_<n> are in use.`, { hint: 'Lower the number of ERP writer connections, or raise max_replication_slots (it also bounds origins).' });
  }

  private fallBack(c: TaggedClient, err: unknown): null {
    if (this.mode !== 'txid') {
      log.warn({ err: describeError(err) }, 'the ERP writer role may not use replication origins: echo suppression falls back to recorded transaction ids (see docs/erp-cdc.md for the grants)');
    }
    this.mode = 'txid';
    c[ORIGIN_SETUP] = null;
    return null;
  }

  /**
   * Applies a batch of order lines: one transaction, or (a larger batch) several at once, each
   * holding whole orders. Each transaction locks the stock rows of its SKUs first, in SKU order,
   * so two transactions sharing SKUs wait for each other instead of deadlocking.
   */
  private async applyOrderLines(todo: Array<{ w: SinkWrite; p: OrderLinePayload }>): Promise<SinkResult[]> {
    await this.ensureSetup();
    const parts = Math.min(this.parallel, Math.floor(todo.length / MIN_LINES_PER_TRANSACTION));
    if (parts <= 1) return this.applyOrderLinesTx(todo, false);
    const orders = new Map<string, Array<{ w: SinkWrite; p: OrderLinePayload }>>();
    for (const item of todo) {
      const k = `${item.p.channel}\u0000${item.p.orderId}`;
      let o = orders.get(k);
      if (!o) orders.set(k, (o = []));
      o.push(item);
    }
    // Whole orders into the least filled transaction, largest orders first; batch order kept inside each.
    const bins = Array.from({ length: parts }, () => [] as Array<{ w: SinkWrite; p: OrderLinePayload }>);
    for (const o of [...orders.values()].sort((a, b) => b.length - a.length)) bins.reduce((min, b) => (b.length < min.length ? b : min)).push(...o);
    const rank = new Map(todo.map((x, i) => [x, i]));
    const used = bins.filter((b) => b.length > 0).map((b) => b.sort((x, y) => rank.get(x)! - rank.get(y)!));
    const settled = await Promise.allSettled(used.map((b) => this.applyOrderLinesTx(b, true)));
    // A transaction that failed as a whole: its lines are retried by the writer (the others are applied).
    return settled.flatMap((r, i) => (r.status === 'fulfilled' ? r.value : used[i]!.map(({ w }) => retriableOf(w, r.reason))));
  }

  private async applyOrderLinesTx(todo: Array<{ w: SinkWrite; p: OrderLinePayload }>, lockStockFirst: boolean): Promise<SinkResult[]> {
    const t = this.tables();
    const c = (await this.pool.connect()) as TaggedClient;
    const results: SinkResult[] = [];
    let broken = false;
    try {
      const origin = await this.originOf(c);
      await c.query('BEGIN');
      const xid = (await c.query<{ xid32: string }>('select (txid_current() % 4294967296)::text as xid32')).rows[0]!.xid32;
      if (lockStockFirst) {
        await c.query(`select 1 from ${t.stock} where sku = any($1::text[]) order by sku, warehouse for update`, [[...new Set(todo.map(({ w }) => w.sku))]]);
      }
      const ok: Array<{ w: SinkWrite; sku: string; replay?: Record<string, unknown> }> = [];
      for (const { w, p } of todo) {
        await c.query('SAVEPOINT w');
        try {
          // Applied before (its outcome), and the ERP's item for the SKU (exact, else trimmed case-insensitive): one round trip.
          const first = await c.query<{ found: boolean; result: Record<string, unknown> | null; sku: string | null; price: string | null }>(
            `select a.key is not null as found, a.result, i.sku, i.price
               from (select 1) one
               left join ${APPLIED_WRITES_TABLE} a on a.key = $1
               left join lateral (select sku, price::text as price from ${t.items} where sku = $2 union all
                                  (select sku, price::text from ${t.items} where upper(btrim(sku)) = upper(btrim($2)) limit 1) limit 1) i on true`,
            [w.idempotencyKey, w.sku],
          );
          const row = first.rows[0]!;
          if (row.found) {
            await c.query('RELEASE SAVEPOINT w');
            ok.push({ w, sku: w.sku, replay: row.result ?? undefined });
            continue;
          }
          const sku = await this.applyLine(c, t, w, p, row.sku === null ? null : { sku: row.sku, price: row.price! });
          await c.query(`insert into ${APPLIED_WRITES_TABLE} (key, write_id, xid32, origin) values ($1, $2, $3, $4)`, [w.idempotencyKey, w.writeId, xid, origin]);
          await c.query('RELEASE SAVEPOINT w');
          ok.push({ w, sku });
        } catch (err) {
          await c.query('ROLLBACK TO SAVEPOINT w');
          const d = describeError(err);
          if (err instanceof PermanentError) results.push(permanent(w, err.code, err.message));
          else if (['23503', '23514', '22P02', '22003'].includes((err as { code?: string }).code ?? '')) results.push(permanent(w, 'ERP_REJECTED', d.message));
          else results.push({ writeId: w.writeId, status: 'retriable', code: d.code ?? 'ERP_WRITE_FAILED', message: d.message });
        }
      }
      // The SKUs' availability after the whole batch, and the WAL position it corresponds to.
      const skus = [...new Set(ok.filter((o) => !o.replay).map((o) => o.sku))];
      const after = new Map<string, { available: number; version: string }>();
      if (skus.length) {
        const r = await c.query<{ sku: string; available: string; lsn: string }>(
          `select i.sku, coalesce(sum(s.on_hand - s.reserved), 0)::bigint::text as available, pg_current_wal_lsn()::text as lsn
             from ${t.items} i left join ${t.stock} s on s.sku = i.sku where i.sku = any($1::text[]) group by i.sku`,
          [skus],
        );
        for (const x of r.rows) after.set(x.sku, { available: Number(x.available), version: lsnVersion(x.lsn) });
        const fresh = ok.filter((o) => !o.replay);
        await c.query(
          `update ${APPLIED_WRITES_TABLE} a set result = r.res from unnest($1::text[], $2::jsonb[]) as r(k, res) where a.key = r.k`,
          [fresh.map((o) => o.w.idempotencyKey), fresh.map((o) => JSON.stringify(after.get(o.sku) ?? null))],
        );
      }
      await c.query('COMMIT');
      for (const o of ok) {
        const applied = o.replay ?? after.get(o.sku) ?? {};
        results.push({ writeId: o.w.writeId, status: 'ok', applied: { ...applied, ...(o.replay ? { replay: true } : {}) } });
      }
      return results;
    } catch (err) {
      broken = true;
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      // A connection that failed mid-transaction is not reused (its session state is unknown).
      c.release(broken ? true : undefined);
    }
  }

  /** Sets one channel order line in the ERP (`item`: the ERP's SKU and price, null when unknown); returns the ERP's SKU. */
  private async applyLine(c: pg.PoolClient, t: ReturnType<ErpSink['tables']>, w: SinkWrite, p: OrderLinePayload, item: { sku: string; price: string } | null): Promise<string> {
    if (!item) throw new PermanentError('ERP_UNKNOWN_SKU', `SKU ${w.sku} does not exist in the ERP (${this.opts.erp.tables.products}).`);
    const sku = item.sku;
    const price = p.price ?? item.price;
    const header = await c.query<{ id: string; status: string }>(
      `insert into ${t.orders} (channel, channel_order_id, currency) values ($1, $2, coalesce($3, 'EUR'))
       on conflict (channel, channel_order_id) do update set updated_at = now() returning id::text, status`,
      [p.channel, p.orderId, p.order?.currency ?? null],
    );
    const orderId = header.rows[0]!.id;
    // The line's mapping (locked), the SKU's stock per warehouse (for a new line's warehouse) and
    // the next free line number of the order: one round trip.
    const state = await c.query<{ prev: { line_no: number; quantity: number; warehouse: string; version: string | null } | null; stock: Array<{ warehouse: string; available: number }> | null; next_line: number }>(
      `with m as (select line_no, quantity, warehouse, version from ${ORDER_LINES_TABLE} where channel = $1 and channel_order_id = $2 and channel_line_id = $3 for update)
       select (select row_to_json(m) from m) as prev,
              (select json_agg(json_build_object('warehouse', s.warehouse, 'available', s.on_hand - s.reserved) order by s.warehouse) from ${t.stock} s where s.sku = $4) as stock,
              -- another line of this order may have been removed: never reuse a number a mapping holds
              greatest((select coalesce(max(line_no), 0) from ${t.lines} where order_id = $5), (select coalesce(max(line_no), 0) from ${ORDER_LINES_TABLE} where order_id = $5)) + 1 as next_line`,
      [p.channel, p.orderId, p.lineId, sku, orderId],
    );
    const before = state.rows[0]!.prev ?? undefined;
    // Writes for one line can land out of order (retries, replays): a state older than the one
    // applied is a no-op, so a late "placed" never undoes a cancellation.
    if (before?.version && p.version && compareVersions(p.version, before.version) <= 0) return sku;
    const delta = p.quantity - (before?.quantity ?? 0);
    const warehouse = before?.warehouse ?? this.chooseWarehouse(state.rows[0]!.stock ?? [], p.quantity);
    const lineNo = before?.line_no ?? Number(state.rows[0]!.next_line);
    if (p.quantity > 0) {
      await c.query(
        `insert into ${t.lines} (order_id, line_no, sku, qty, price, warehouse) values ($1, $2, $3, $4, $5, $6)
         on conflict (order_id, line_no) do update set qty = excluded.qty, price = excluded.price`,
        [orderId, lineNo, sku, p.quantity, price, warehouse],
      );
    } else {
      // the line was cancelled (quantity 0 is not a valid ERP line): it leaves the order
      await c.query(`delete from ${t.lines} where order_id = $1 and line_no = $2`, [orderId, lineNo]);
    }
    if (delta !== 0) {
      const moved = await c.query(
        `update ${t.stock} set reserved = greatest(0, reserved + $3), updated_at = now() where sku = $1 and warehouse = $2`,
        [sku, warehouse, delta],
      );
      if (!moved.rowCount && delta > 0) {
        await c.query(`insert into ${t.stock} (sku, warehouse, on_hand, reserved) values ($1, $2, 0, $3)`, [sku, warehouse, delta]);
      }
    }
    await c.query(
      `insert into ${ORDER_LINES_TABLE} (channel, channel_order_id, channel_line_id, order_id, line_no, sku, quantity, warehouse, version)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (channel, channel_order_id, channel_line_id) do update set quantity = excluded.quantity, version = excluded.version, updated_at = now()`,
      [p.channel, p.orderId, p.lineId, orderId, lineNo, sku, p.quantity, warehouse, p.version ?? null],
    );
    // The order is cancelled once none of its lines commits stock any more (and reopened if one does again).
    await c.query(
      `update ${t.orders} o set
         status = case when m.live = 0 then 'cancelled' when o.status = 'cancelled' then 'open' else o.status end,
         total = coalesce((select sum(l.qty * l.price) from ${t.lines} l where l.order_id = o.id), 0),
         updated_at = now()
         from (select count(*) filter (where quantity > 0) as live from ${ORDER_LINES_TABLE} where order_id = $1) m
        where o.id = $1`,
      [orderId],
    );
    return sku;
  }

  /** The first warehouse (by code) with enough available stock, else the default one, else the SKU's first. */
  private chooseWarehouse(rows: Array<{ warehouse: string; available: number }>, quantity: number): string {
    const enough = rows.find((x) => x.available >= quantity);
    if (enough) return enough.warehouse;
    const dflt = this.opts.defaultWarehouse ?? 'MAIN';
    if (rows.some((x) => x.warehouse === dflt) || !rows.length) return dflt;
    return rows[0]!.warehouse;
  }
}

function retriableOf(w: SinkWrite, err: unknown): SinkResult {
  const d = describeError(err);
  return { writeId: w.writeId, status: 'retriable', code: d.code ?? 'ERP_WRITE_FAILED', message: d.message };
}

function permanent(w: SinkWrite, code: string, message: string): SinkResult {
  return { writeId: w.writeId, status: 'permanent', code, message };
}
