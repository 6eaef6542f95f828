/**
 * The continuous drift check: the daemon's leader runs the same diff per configured pair every
 * `sync.driftCheck.intervalSeconds` (default hourly), emits `drift.completed` (the
 * `syncctl_drift_skus{pair,kind}` gauge and last-run time) and keeps the last result in the
 * `checkpoints` table as `drift:<pair>`, where `syncctl status` reads it. Rate budgets: Shopify is
 * read by one bulk operation (not charged to the cost bucket), WooCommerce with the site's
 * configured concurrency, the ERP with one cursor.
 */
import type pg from 'pg';
import { describeError } from '../../core/errors.js';
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import { getLogger } from '../../core/logger.js';
import { sourceKey } from '../../core/model.js';
import type { SyncConfig } from '../../config/schema.js';
import { readCheckpoint, writeCheckpoint } from '../../pipeline/intake/poll-scheduler.js';
import { runDiff, type DiffSummary } from './service.js';
import { pairName, parsePair, resolveSide } from './sides.js';

/** The last drift check of a pair, as stored under `drift:<pair>`. */
export interface DriftResult {
  pair: string;
  /** When it finished (ISO). */
  at: string;
  ok: boolean;
  seconds: number;
  /** SKUs by kind (`missing_a`, `missing_b`, `duplicate`, `quantity`, `price`). */
  kinds: Record<string, number>;
  summary: DiffSummary | null;
  /** Why it failed, when `ok` is false. */
  error?: { code?: string; message: string };
}

/** A periodic task for the daemon's leader (same shape as the daemon's `LeaderTask`). */
export interface DriftTask {
  name: string;
  intervalMs: number;
  run(signal: AbortSignal): Promise<void>;
}

/** The checkpoint name of a pair's last drift check. */
export const driftCheckpointName = (pair: string): string => `drift:${pair}`;

/**
 * The pairs to check: `sync.driftCheck.pairs`, else every channel (and the ERP) against the stock
 * authority; in peer mode, the first channel against each other one.
 */
export function driftPairs(config: SyncConfig): string[] {
  const configured = config.sync.driftCheck.pairs;
  if (configured.length) return configured;
  const channels = [
    ...Object.keys(config.sources.shopify).map((i) => sourceKey('shopify', i)),
    ...Object.keys(config.sources.woocommerce).map((i) => sourceKey('woocommerce', i)),
  ];
  const all = config.sources.erp ? ['erp', ...channels] : channels;
  const authority = config.sync.authority;
  const anchor = authority !== 'peer' && all.includes(authority) ? authority : channels[0];
  if (!anchor) return [];
  return all.filter((k) => k !== anchor).map((k) => pairName(anchor, k));
}

/** Runs one drift check of `pair`, records it and emits `drift.completed`. */
export async function runDriftCheck(config: SyncConfig, pool: pg.Pool, pair: string, opts: { bus?: SyncEventBus; signal?: AbortSignal } = {}): Promise<DriftResult> {
  const [a, b] = parsePair(pair);
  const started = Date.now();
  let result: DriftResult;
  try {
    const run = await runDiff(config, resolveSide(a, config), resolveSide(b, config), { pool, signal: opts.signal });
    try {
      result = { pair: run.pair, at: new Date().toISOString(), ok: true, seconds: run.seconds, kinds: run.kinds, summary: run.summary };
    } finally {
      await run.close();
    }
    (opts.bus ?? defaultBus).emit('drift.completed', { pair: result.pair, kinds: result.kinds, seconds: result.seconds });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    const d = describeError(err);
    result = { pair, at: new Date().toISOString(), ok: false, seconds: (Date.now() - started) / 1000, kinds: {}, summary: null, error: { code: d.code, message: d.message } };
    await writeCheckpoint(pool, driftCheckpointName(pair), result);
    throw err;
  }
  await writeCheckpoint(pool, driftCheckpointName(result.pair), result);
  return result;
}

/** A pair with full source keys (`shopify` → `shopify:main`), or as written when it does not resolve (its runs report why). */
function canonicalPair(config: SyncConfig, pair: string): string {
  try {
    const [a, b] = parsePair(pair);
    return pairName(resolveSide(a, config), resolveSide(b, config));
  } catch {
    return pair;
  }
}

/** The last drift check of every pair checked so far (for `syncctl status`). */
export async function readDriftResults(pool: pg.Pool): Promise<DriftResult[]> {
  const r = await pool.query<{ value: DriftResult }>(`select value from checkpoints where name like 'drift:%' order by name`);
  return r.rows.map((x) => x.value);
}

/** The last drift check of one pair, or null. */
export const readDriftResult = (pool: pg.Pool, pair: string): Promise<DriftResult | null> => readCheckpoint<DriftResult>(pool, driftCheckpointName(pair));

/**
 * One leader task per pair. The task wakes every minute (or the interval, if shorter) and runs
 * when the pair's last check is older than the interval, so a leader change neither skips nor
 * repeats a check; the first check of a new deployment runs `initialDelaySeconds` after start.
 */
export function driftCheckTasks(config: SyncConfig, pool: pg.Pool, bus: SyncEventBus = defaultBus): DriftTask[] {
  const dc = config.sync.driftCheck;
  if (!dc.enabled) return [];
  const intervalMs = dc.intervalSeconds * 1000;
  const firstDue = Date.now() + dc.initialDelaySeconds * 1000;
  const log = getLogger('drift-check');
  return driftPairs(config).map((configured) => canonicalPair(config, configured)).map((pair) => ({
    name: `drift-check:${pair}`,
    intervalMs: Math.min(60_000, intervalMs),
    run: async (signal) => {
      if (Date.now() < firstDue) return;
      const last = await readDriftResult(pool, pair);
      if (last && Date.now() - Date.parse(last.at) < intervalMs) return;
      const r = await runDriftCheck(config, pool, pair, { bus, signal });
      log.info({ pair, kinds: r.kinds, seconds: r.seconds }, 'drift check done');
    },
  }));
}
