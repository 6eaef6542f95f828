/**
 * `diff`: compares the live catalogs and stock of two sides by SKU with bounded memory. Both
 * sides are read concurrently from the platforms and streamed into a staging table; PostgreSQL
 * classifies every SKU (missing on a side, duplicated, quantity / price / title differences) and
 * the differences are streamed back in SKU order. See `staging.ts` for the SQL and
 * docs/operations.md for the quantity rule.
 */
import type pg from 'pg';
import { ConfigError, describeError, ServiceUnavailableError, SyncError } from '../../core/errors.js';
import { getLogger } from '../../core/logger.js';
import type { RetryOptions } from '../../core/retry.js';
import type { SyncConfig } from '../../config/schema.js';
import { createPool } from '../../db/pool.js';
import { HeapGuard } from '../../core/memory.js';
import { readCatalog } from './catalog.js';
import type { FixResult } from './fix.js';
import { pairName, type DiffSide } from './sides.js';
import { DIFF_FIELDS, DiffStaging, type ClassifiedRow, type DiffField, type QuantityRule, type StagedCounts } from './staging.js';

/** Kinds of difference, in the order they are listed for one SKU. */
export const DIFFERENCE_KINDS = ['missing_on_a', 'missing_on_b', 'duplicate', 'quantity', 'shared_stock', 'price', 'title'] as const;
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

/**
 * One difference of one SKU. `a`/`b` by kind: quantity, price, title: each side's value;
 * missing_on_a / missing_on_b: null on the missing side, the product title (else the SKU) on the
 * other; duplicate: how many rows carry the SKU on each side; shared_stock: the pool on the side
 * where the SKU's stock is one pool shared with other SKUs (`pool of product 20: 6`), the
 * SKU's own quantity on the other (a pool cannot be compared with one SKU's stock, nor written).
 */
export interface Difference {
  sku: string;
  kind: DifferenceKind;
  a: string | number | null;
  b: string | number | null;
}

/** SKU counts by kind (a SKU with two kinds counts in both). */
export type DiffSummary = StagedCounts;

/** Options of {@link runDiff}. */
export interface DiffOptions {
  /** Compared fields (default quantity and price). */
  fields?: readonly DiffField[];
  /** A pool on syncctl's schema (default: one is opened and closed by the run). */
  pool?: pg.Pool;
  signal?: AbortSignal;
  /** Called after each batch read (queued for storing) with the rows read so far on that side. */
  onProgress?: (side: 'a' | 'b', rows: number) => void;
  retry?: Partial<RetryOptions>;
  /** Keep what `--fix` needs (ids and versions of each row): only then can {@link DiffRun.fix} run. */
  forFix?: boolean;
  /**
   * Garbage beyond which a full collection runs between batches (MB, default 16): keeps the peak
   * memory of a long run at the level of a short one. 0 leaves it to V8.
   */
  heapBudgetMb?: number;
}

/** Default compared fields: titles often differ on purpose between channels, so they are opt-in. */
export const DEFAULT_FIELDS: readonly DiffField[] = ['quantity', 'price'];

/** Parses `--fields quantity,price,title`. */
export function parseFields(text: string | undefined): DiffField[] {
  if (!text) return [...DEFAULT_FIELDS];
  const list = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = list.filter((f) => !(DIFF_FIELDS as readonly string[]).includes(f));
  if (bad.length || list.length === 0) throw new ConfigError('DIFF_BAD_FIELDS', `Unknown field(s) in --fields: ${bad.join(', ') || '(none)'}.`, { hint: `Use a comma-separated list of ${DIFF_FIELDS.join(', ')}.` });
  return [...new Set(list)] as DiffField[];
}

/** The quantity rule of a pair: buffers, and which side (if any) is the stock authority. */
export const quantityRule = (a: DiffSide, b: DiffSide): QuantityRule => ({ bufferA: a.buffer, bufferB: b.buffer, exactA: a.authority, exactB: b.authority });

/** A finished comparison: summary now, differences streamed on demand; `close()` drops the staging. */
export class DiffRun {
  readonly pair: string;
  readonly rule: QuantityRule;

  constructor(
    readonly a: DiffSide,
    readonly b: DiffSide,
    readonly fields: readonly DiffField[],
    readonly summary: DiffSummary,
    readonly seconds: number,
    private readonly staging: DiffStaging,
    private readonly pool: pg.Pool,
    private readonly ownPool: boolean,
    private readonly config: SyncConfig,
    private readonly forFix: boolean,
    private readonly heap: HeapGuard | null,
  ) {
    this.pair = pairName(a, b);
    this.rule = quantityRule(a, b);
  }

  /** No SKU differs. */
  get inSync(): boolean {
    const s = this.summary;
    return s.missingOnA + s.missingOnB + s.duplicates + s.quantity + s.sharedStock + s.price + s.title === 0;
  }

  /** SKU counts by kind, as the drift metric labels them. */
  get kinds(): Record<string, number> {
    const s = this.summary;
    const k: Record<string, number> = { missing_a: s.missingOnA, missing_b: s.missingOnB, duplicate: s.duplicates, quantity: s.quantity, price: s.price };
    if (s.sharedStock) k.shared_stock = s.sharedStock;
    if (this.fields.includes('title')) k.title = s.title;
    return k;
  }

  /** Every difference in SKU order (kinds in {@link DIFFERENCE_KINDS} order within a SKU). */
  async *differences(): AsyncGenerator<Difference> {
    for await (const rows of this.staging.differing(this.fields, this.rule)) {
      for (const r of rows) yield* explode(r);
      this.heap?.check();
    }
  }

  /** Submits the differing SKUs' current states to the pipeline (`--fix`). */
  async fix(): Promise<FixResult> {
    if (!this.forFix) throw new ConfigError('DIFF_NOT_FOR_FIX', 'This comparison was read without what a fix needs.', { hint: 'Pass forFix: true to runDiff.' });
    const s = this.summary;
    // Loaded on demand: most runs only report, and the pipeline's modules slow the CLI's start.
    const { submitFix } = await import('./fix.js');
    return submitFix(this.pool, this.staging, [this.a, this.b], this.fields, this.rule, this.config.identity.sku, s.missingOnA + s.missingOnB + s.duplicates);
  }

  /** Drops the staging table (and closes the pool the run opened). */
  async close(): Promise<void> {
    if (this.heap?.collections) getLogger('diff').debug({ pair: this.pair, collections: this.heap.collections }, 'full garbage collections run to bound memory');
    await this.staging.drop().catch(() => undefined);
    if (this.ownPool) await this.pool.end().catch(() => undefined);
  }
}

function* explode(r: ClassifiedRow): Generator<Difference> {
  if (r.missing_a) yield { sku: r.sku, kind: 'missing_on_a', a: null, b: r.tb ?? r.sku };
  if (r.missing_b) yield { sku: r.sku, kind: 'missing_on_b', a: r.ta ?? r.sku, b: null };
  if (r.duplicate) yield { sku: r.sku, kind: 'duplicate', a: r.na, b: r.nb };
  if (r.quantity) yield { sku: r.sku, kind: 'quantity', a: r.qa, b: r.qb };
  if (r.shared_stock) yield { sku: r.sku, kind: 'shared_stock', a: poolText(r.la) ?? r.qa, b: poolText(r.lb) ?? r.qb };
  if (r.price) yield { sku: r.sku, kind: 'price', a: r.pa, b: r.pb };
  if (r.title) yield { sku: r.sku, kind: 'title', a: r.ta, b: r.tb };
}

/** `20:6` → `pool of product 20: 6` (null when the side has no pool). */
function poolText(v: string | null): string | null {
  if (v === null) return null;
  const i = v.lastIndexOf(':');
  const q = v.slice(i + 1);
  return `pool of product ${v.slice(0, i)}: ${q === '' ? '?' : q}`;
}

/** Reads both sides into a staging table and classifies them. The caller must `close()` the run. */
export async function runDiff(config: SyncConfig, a: DiffSide, b: DiffSide, opts: DiffOptions = {}): Promise<DiffRun> {
  if (a.key === b.key) throw new ConfigError('DIFF_SAME_SIDE', `Both sides are ${a.key}: compare two different sources.`);
  const started = Date.now();
  const fields = opts.fields ?? DEFAULT_FIELDS;
  const pool = opts.pool ?? (await createPool({ url: config.database.url, schema: config.database.schema, max: 4, applicationName: 'syncctl diff' }));
  let staging: DiffStaging | undefined;
  try {
    staging = await DiffStaging.create(pool);
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const budget = opts.heapBudgetMb ?? 16;
    const heap = budget > 0 ? new HeapGuard(budget) : null;
    const load = async (side: DiffSide, n: 1 | 2) => {
      let rows = 0;
      const writer = staging!.writer(n, { meta: opts.forFix ?? false });
      try {
        for await (const batch of readCatalog(side, config, { signal: abort.signal, retry: opts.retry })) {
          await writer.add(batch);
          rows += batch.length;
          heap?.check();
          opts.onProgress?.(n === 1 ? 'a' : 'b', rows);
        }
        await writer.end();
      } catch (err) {
        // Only the first failure counts: the other side then stops on the abort.
        if (abort.signal.aborted) return;
        firstFailure = readFailure(side, err);
        abort.abort(firstFailure);
      }
    };
    let firstFailure: Error | undefined;
    await Promise.all([load(a, 1), load(b, 2)]);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    opts.signal?.throwIfAborted();
    if (firstFailure) throw firstFailure;
    const read = Date.now();
    await pool.query(`analyze "${staging.table}"`);
    const summary = await staging.counts(fields, quantityRule(a, b));
    const seconds = (Date.now() - started) / 1000;
    getLogger('diff').info({ pair: pairName(a, b), seconds, readSeconds: (read - started) / 1000, summary }, 'diff compared');
    return new DiffRun(a, b, fields, summary, seconds, staging, pool, !opts.pool, config, opts.forFix ?? false, heap);
  } catch (err) {
    await staging?.drop().catch(() => undefined);
    if (!opts.pool) await pool.end().catch(() => undefined);
    throw err;
  }
}

/** A side that could not be read: a platform failure (exit 3) that names the side. */
function readFailure(side: DiffSide, err: unknown): Error {
  if (err instanceof ConfigError) return err;
  const d = describeError(err);
  const hint = err instanceof SyncError && err.hint ? err.hint : `Check that ${side.key} is reachable and its credentials in sources.${side.platform === 'erp' ? 'erp' : `${side.platform}.${side.instance}`} are right.`;
  return new ServiceUnavailableError(side.key, `Could not read the catalog of ${side.key}: ${d.message}`, { cause: err, hint, details: { code: d.code } });
}
