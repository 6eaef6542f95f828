import pg from 'pg';
import { ConfigError } from '../../core/errors.js';
import { getLogger } from '../../core/logger.js';
import { sleep } from '../../core/retry.js';
import { SeededRandom } from '../random.js';

const log = getLogger('sim.erp');

/** Kinds of ERP-side changes the generator makes. */
export type ErpChangeKind = 'receipt' | 'adjustment' | 'priceChange';

/** Options of {@link runErpGenerator}. */
export interface ErpGeneratorOptions {
  /** URL of an ERP database prepared by `initErp`. */
  databaseUrl: string;
  /** Changes (one transaction each) per second. */
  ratePerSecond: number;
  /** Seed of the choice of changes. */
  seed?: number;
  /** Stops the generator (it finishes the change in flight). */
  signal?: AbortSignal;
  /** Stop after this many changes (default: until aborted). */
  maxChanges?: number;
  /** Relative weights of the change kinds (default 3 receipts : 4 adjustments : 3 price changes). */
  mix?: Partial<Record<ErpChangeKind, number>>;
  /** Called after each committed change (tests, progress output). */
  onChange?: (kind: ErpChangeKind, sku: string) => void;
}

/** What the generator did. */
export interface ErpGeneratorStats {
  receipt: number;
  adjustment: number;
  priceChange: number;
  /** Changes that failed (logged, skipped). */
  errors: number;
  elapsedMs: number;
}

const SUPPLIERS = ['Acme Supply', 'Nordic Wholesale', 'Harbor Imports', 'Summit Trading'];
const REASONS = ['count', 'damage', 'loss', 'found', 'return'] as const;

/**
 * Makes ERP-side changes at a steady rate until aborted: purchase receipts (receipt + lines,
 * stock raised), stock adjustments (audit row + stock changed) and price changes. Each change
 * is one transaction, paced against the start time so the rate does not drift.
 */
export async function runErpGenerator(opts: ErpGeneratorOptions): Promise<ErpGeneratorStats> {
  if (!(opts.ratePerSecond > 0)) throw new ConfigError('SIM_ERP_RATE', 'The ERP generator rate must be above 0 changes per second.');
  const rng = new SeededRandom(`erp-gen:${opts.seed ?? 1}`);
  const mix = { receipt: 3, adjustment: 4, priceChange: 3, ...opts.mix };
  const kinds = (Object.keys(mix) as ErpChangeKind[]).filter((k) => mix[k] > 0);
  const weight = kinds.reduce((s, k) => s + mix[k], 0);
  const client = new pg.Client({ connectionString: opts.databaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  const stats: ErpGeneratorStats = { receipt: 0, adjustment: 0, priceChange: 0, errors: 0, elapsedMs: 0 };
  const started = Date.now();
  try {
    const skus = (await client.query<{ sku: string }>('select sku from items where active order by sku')).rows.map((r) => r.sku);
    const warehouses = (await client.query<{ code: string }>('select code from warehouses where active order by code')).rows.map((r) => r.code);
    if (skus.length === 0 || warehouses.length === 0) {
      throw new ConfigError('SIM_ERP_EMPTY', 'The ERP database has no items or warehouses.', { hint: 'Run syncctl sim erp --init first.' });
    }
    for (let i = 0; opts.maxChanges === undefined || i < opts.maxChanges; i++) {
      if (opts.signal?.aborted) break;
      const due = started + (i * 1000) / opts.ratePerSecond;
      if (due > Date.now()) {
        try {
          await sleep(due - Date.now(), opts.signal);
        } catch {
          break; // aborted while waiting
        }
      }
      let r = rng.next() * weight;
      const kind = kinds.find((k) => (r -= mix[k]) < 0) ?? kinds[0]!;
      const sku = rng.pick(skus);
      const warehouse = rng.pick(warehouses);
      try {
        await client.query('begin');
        if (kind === 'receipt') await receipt(client, rng, sku, warehouse, skus);
        else if (kind === 'adjustment') await adjustment(client, rng, sku, warehouse);
        else await priceChange(client, rng, sku);
        await client.query('commit');
        stats[kind]++;
        opts.onChange?.(kind, sku);
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        stats.errors++;
        log.warn({ err, kind, sku }, 'ERP generator change failed');
      }
    }
  } finally {
    stats.elapsedMs = Date.now() - started;
    await client.end().catch(() => undefined);
  }
  return stats;
}

async function receipt(c: pg.Client, rng: SeededRandom, sku: string, warehouse: string, skus: string[]): Promise<void> {
  const lineSkus = [...new Set([sku, ...Array.from({ length: rng.int(0, 2) }, () => rng.pick(skus))])];
  const qtys = lineSkus.map(() => rng.int(1, 50));
  const r = await c.query<{ id: string }>(
    `insert into purchase_receipts (receipt_no, supplier, warehouse)
     values ('PR-' || to_char(nextval('purchase_receipt_no_seq'), 'FM00000000'), $1, $2) returning id`,
    [rng.pick(SUPPLIERS), warehouse],
  );
  const id = r.rows[0]!.id;
  await c.query(
    `insert into purchase_receipt_lines (receipt_id, line_no, sku, qty, unit_cost)
     select $1, n, t.sku, t.qty, round(i.price * 0.55, 2)
       from unnest($2::text[], $3::int[]) with ordinality as t(sku, qty, n) join items i on i.sku = t.sku`,
    [id, lineSkus, qtys],
  );
  await c.query(
    `insert into stock_levels as s (sku, warehouse, on_hand) select * from unnest($1::text[], $2::text[], $3::int[])
     on conflict (sku, warehouse) do update set on_hand = s.on_hand + excluded.on_hand, updated_at = now()`,
    [lineSkus, lineSkus.map(() => warehouse), qtys],
  );
}

async function adjustment(c: pg.Client, rng: SeededRandom, sku: string, warehouse: string): Promise<void> {
  const reason = rng.pick(REASONS);
  const size = rng.int(1, 5);
  const delta = reason === 'found' || reason === 'return' ? size : reason === 'count' && rng.next() < 0.5 ? size : -size;
  // never below zero: the audit row records the delta actually applied
  const r = await c.query<{ applied: number }>(
    `with old as (select on_hand from stock_levels where sku = $1 and warehouse = $2 for update)
     update stock_levels s set on_hand = greatest(0, s.on_hand + $3), updated_at = now()
       from old where s.sku = $1 and s.warehouse = $2
     returning s.on_hand - old.on_hand as applied`,
    [sku, warehouse, delta],
  );
  let applied = r.rows[0]?.applied;
  if (applied === undefined) {
    applied = Math.max(0, delta);
    await c.query('insert into stock_levels (sku, warehouse, on_hand) values ($1, $2, $3)', [sku, warehouse, applied]);
  }
  if (applied !== 0) {
    await c.query('insert into stock_adjustments (sku, warehouse, delta, reason) values ($1, $2, $3, $4)', [sku, warehouse, applied, reason]);
  }
}

async function priceChange(c: pg.Client, rng: SeededRandom, sku: string): Promise<void> {
  const factor = 1 + (rng.int(-10, 10) || 1) / 100;
  await c.query('update items set price = greatest(0.5, round(price * $2, 2)), updated_at = now() where sku = $1', [sku, factor]);
}
