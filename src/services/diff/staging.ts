/**
 * The comparison table of one diff run. Neither platform returns SKUs in order, so both sides are
 * streamed into an UNLOGGED table in syncctl's schema (`COPY ... FROM STDIN` of a few thousand
 * rows at a time, one copy in flight per side while the side goes on reading), and PostgreSQL
 * matches, classifies and sorts them; results are streamed back through a cursor. The process
 * never holds more than two batches per side. Tables are dropped at the end of the run; a run
 * that crashed leaves one behind, which the next run drops once it is a day old.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { CatalogRow } from './catalog.js';
import { copyFromStdin, copyValue } from './copy-in.js';
import { withTransaction } from '../../db/pool.js';

/** Fields a diff can compare beyond presence. */
export const DIFF_FIELDS = ['quantity', 'price', 'title'] as const;
export type DiffField = (typeof DIFF_FIELDS)[number];

/** How quantities of the two sides relate (see docs/operations.md, "Stock differs..."). */
export interface QuantityRule {
  /** Buffers of side a and b (units a channel keeps back). */
  bufferA: number;
  bufferB: number;
  /** The side is the stock authority: its quantity is exact, not "authority − buffer". */
  exactA: boolean;
  exactB: boolean;
}

/** One SKU that differs, with the flags of every kind that applies. */
export interface ClassifiedRow {
  sku: string;
  na: number;
  nb: number;
  qa: number | null;
  qb: number | null;
  pa: string | null;
  pb: string | null;
  ta: string | null;
  tb: string | null;
  missing_a: boolean;
  missing_b: boolean;
  duplicate: boolean;
  quantity: boolean;
  /** The SKU's stock is a pool shared with other SKUs on a side (`la`/`lb`: `<product id>:<pool quantity>`). */
  shared_stock: boolean;
  la: string | null;
  lb: string | null;
  price: boolean;
  title: boolean;
  /** The side's meta (with `--fix` only, when the SKU is once on each side). */
  ma?: Record<string, unknown> | null;
  mb?: Record<string, unknown> | null;
  ra?: string | null;
  rb?: string | null;
}

/** Counts over the whole comparison. */
export interface StagedCounts {
  missingOnA: number;
  missingOnB: number;
  duplicates: number;
  quantity: number;
  /** SKUs whose stock is a shared pool on a side (compared as a pool, not as the SKU's quantity). */
  sharedStock: number;
  price: number;
  title: number;
  compared: number;
  rows: { a: number; b: number };
  blankSkus: { a: number; b: number };
}

const TABLE_PREFIX = 'syncctl_diff_';
/** Rows per COPY: large enough that round trips do not matter, small enough to keep memory flat. */
const STAGING_BATCH_ROWS = 2000;
/**
 * Memory of the comparison's grouping and sort (per query, this transaction only): at 100,000
 * SKUs per side they fit in memory instead of spilling to temporary files; bigger runs spill.
 */
const WORK_MEM = '64MB';
const DECIMAL = `'^-?[0-9]+(\\.[0-9]+)?$'`;

/** The staging table of one run. */
export class DiffStaging {
  readonly table: string;

  private constructor(private readonly pool: pg.Pool, table: string) {
    this.table = table;
  }

  /** Creates the run's table (and drops leftovers of crashed runs older than a day). */
  static async create(pool: pg.Pool): Promise<DiffStaging> {
    const now = Math.floor(Date.now() / 1000);
    const old = await pool.query<{ t: string }>(
      `select tablename as t from pg_tables where schemaname = current_schema() and tablename like '${TABLE_PREFIX}%'`,
    );
    for (const { t } of old.rows) {
      const at = Number(/^syncctl_diff_(\d+)_/.exec(t)?.[1] ?? now);
      if (now - at > 86_400) await pool.query(`drop table if exists "${t}"`).catch(() => undefined);
    }
    const table = `${TABLE_PREFIX}${now}_${randomBytes(4).toString('hex')}`;
    // meta is only carried for --fix, never queried: json (kept as text) loads faster than jsonb.
    await pool.query(`create unlogged table "${table}" (side smallint not null, sku text, raw_sku text, quantity bigint, price text, title text, meta json, pool text)`);
    return new DiffStaging(pool, table);
  }

  /** Appends one batch of a side's rows (one COPY); `meta` only when asked (what `--fix` needs). */
  async insert(side: 1 | 2, rows: readonly CatalogRow[], opts: { meta?: boolean } = {}): Promise<void> {
    if (rows.length === 0) return;
    let data = '';
    for (const r of rows) {
      const pool = r.pool ? `${r.pool.productId}:${r.pool.quantity ?? ''}` : null;
      data += `${side}\t${copyValue(r.sku)}\t${copyValue(r.rawSku)}\t${copyValue(r.quantity)}\t${copyValue(r.price)}\t${copyValue(r.title)}\t${opts.meta ? copyValue(JSON.stringify(r.meta)) : '\\N'}\t${copyValue(pool)}\n`;
    }
    await copyFromStdin(this.pool, `"${this.table}" (side, sku, raw_sku, quantity, price, title, meta, pool)`, data);
  }

  /** A writer that loads one side's rows in batches of `batchRows`, overlapping each copy with the reading. */
  writer(side: 1 | 2, opts: { meta?: boolean; batchRows?: number } = {}): StagingWriter {
    return new StagingWriter(this, side, opts.batchRows ?? STAGING_BATCH_ROWS, opts.meta ?? false);
  }

  /** The comparison as SQL: one row per SKU with a flag per kind of difference. */
  private classified(fields: readonly DiffField[], rule: QuantityRule, withMeta: boolean): string {
    const has = (f: DiffField) => fields.includes(f);
    const lo = (q: string, buf: number, exact: boolean) => (exact ? q : `(case when ${q} > 0 then ${q} + ${buf} end)`);
    const hi = (q: string, buf: number, exact: boolean) => (exact ? q : `(case when ${q} > 0 then ${q} + ${buf} else ${buf} end)`);
    const consistent = `coalesce(greatest(${lo('qa', rule.bufferA, rule.exactA)}, ${lo('qb', rule.bufferB, rule.exactB)}) <= least(${hi('qa', rule.bufferA, rule.exactA)}, ${hi('qb', rule.bufferB, rule.exactB)}), true)`;
    const once = 'na = 1 and nb = 1';
    const both = (expr: (side: 1 | 2) => string, a: string, b: string) => `${expr(1)} as ${a}, ${expr(2)} as ${b}`;
    const meta = withMeta
      ? `, ${both((n) => `(array_agg(meta) filter (where side = ${n}))[1]`, 'ma', 'mb')}, ${both((n) => `(array_agg(raw_sku) filter (where side = ${n}))[1]`, 'ra', 'rb')}`
      : '';
    // One pass over the table, one group per SKU holding both sides.
    return `
      with j as (
        select sku, ${both((n) => `(count(*) filter (where side = ${n}))::int`, 'na', 'nb')},
               ${both((n) => `(min(quantity) filter (where side = ${n}))::int`, 'qa', 'qb')},
               ${both((n) => `min(price) filter (where side = ${n})`, 'pa', 'pb')},
               ${both((n) => `min(title) filter (where side = ${n})`, 'ta', 'tb')},
               ${both((n) => `min(pool) filter (where side = ${n})`, 'la', 'lb')}${meta}
          from "${this.table}" where sku is not null group by sku
      )
      select j.*, na = 0 as missing_a, nb = 0 as missing_b, (na > 1 or nb > 1) as duplicate,
             ${has('quantity') ? `(${once} and qa is not null and qb is not null and not ${consistent})` : 'false'} as quantity,
             ${has('quantity') ? '(la is not null or lb is not null)' : 'false'} as shared_stock,
             ${has('price') ? `(${once} and pa is not null and pb is not null and case when pa ~ ${DECIMAL} and pb ~ ${DECIMAL} then pa::numeric <> pb::numeric else pa <> pb end)` : 'false'} as price,
             ${has('title') ? `(${once} and ta is not null and tb is not null and btrim(ta) <> btrim(tb))` : 'false'} as title
        from j`;
  }

  /** Counts per kind (SKUs) over the whole comparison. */
  async counts(fields: readonly DiffField[], rule: QuantityRule): Promise<StagedCounts> {
    const r = await withTransaction(this.pool, async (client) => {
      await client.query(`set local work_mem = '${WORK_MEM}'`);
      return client.query<Record<string, number>>(
        `select count(*) filter (where missing_a)::int as missing_a, count(*) filter (where missing_b)::int as missing_b,
                count(*) filter (where duplicate)::int as duplicate, count(*) filter (where quantity)::int as quantity,
                count(*) filter (where shared_stock)::int as shared_stock,
                count(*) filter (where price)::int as price, count(*) filter (where title)::int as title,
                count(*) filter (where na > 0 and nb > 0)::int as compared
           from (${this.classified(fields, rule, false)}) c`,
      );
    });
    const s = await this.pool.query<{ side: number; rows: number; blank: number }>(
      `select side, count(*)::int as rows, count(*) filter (where sku is null)::int as blank from "${this.table}" group by side`,
    );
    const side = (n: 1 | 2) => s.rows.find((x) => x.side === n);
    const c = r.rows[0]!;
    return {
      missingOnA: c.missing_a!, missingOnB: c.missing_b!, duplicates: c.duplicate!, quantity: c.quantity!, sharedStock: c.shared_stock!, price: c.price!, title: c.title!, compared: c.compared!,
      rows: { a: side(1)?.rows ?? 0, b: side(2)?.rows ?? 0 },
      blankSkus: { a: side(1)?.blank ?? 0, b: side(2)?.blank ?? 0 },
    };
  }

  /**
   * Streams the SKUs that differ in SKU order through a server-side cursor (`fetchSize` at a
   * time). `only` restricts to kinds (e.g. the fixable ones); `withMeta` adds each side's meta.
   */
  async *differing(fields: readonly DiffField[], rule: QuantityRule, opts: { withMeta?: boolean; only?: Array<'missing_a' | 'missing_b' | 'duplicate' | 'shared_stock' | DiffField>; fetchSize?: number } = {}): AsyncGenerator<ClassifiedRow[]> {
    const kinds = opts.only ?? ['missing_a', 'missing_b', 'duplicate', ...fields, ...(fields.includes('quantity') ? ['shared_stock' as const] : [])];
    const client = await this.pool.connect();
    let open = false;
    try {
      await client.query('begin');
      open = true;
      await client.query(`set local work_mem = '${WORK_MEM}'`);
      await client.query(`declare diff_rows no scroll cursor for select * from (${this.classified(fields, rule, opts.withMeta ?? false)}) c where ${kinds.join(' or ')} order by sku`);
      for (;;) {
        const r = await client.query<ClassifiedRow>(`fetch ${opts.fetchSize ?? 1000} from diff_rows`);
        if (r.rows.length === 0) break;
        yield r.rows;
      }
      await client.query('commit');
      open = false;
    } finally {
      // Also when the reader stopped early (a --limit reached): close the cursor's transaction.
      if (open) await client.query('rollback').catch(() => undefined);
      client.release();
    }
  }

  /** Drops the table. */
  async drop(): Promise<void> {
    await this.pool.query(`drop table if exists "${this.table}"`);
  }
}

/**
 * Buffers one side's rows and loads them a batch at a time; at most one copy is in flight, so the
 * side keeps reading while the previous batch is stored, and memory stays at two batches.
 */
export class StagingWriter {
  private buffer: CatalogRow[] = [];
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly staging: DiffStaging,
    private readonly side: 1 | 2,
    private readonly batchRows: number,
    private readonly meta: boolean,
  ) {}

  /** Adds rows; waits only when a full batch must wait for the previous copy. */
  async add(rows: readonly CatalogRow[]): Promise<void> {
    for (const r of rows) this.buffer.push(r);
    if (this.buffer.length >= this.batchRows) await this.flush();
  }

  /** Stores what is buffered and waits for every copy. */
  async end(): Promise<void> {
    if (this.buffer.length) await this.flush();
    await this.inFlight;
  }

  private async flush(): Promise<void> {
    const rows = this.buffer;
    this.buffer = [];
    await this.inFlight;
    const copy = this.staging.insert(this.side, rows, { meta: this.meta });
    // Observed by the next flush or end(); a reader that fails first abandons it.
    copy.catch(() => undefined);
    this.inFlight = copy;
  }
}
