/**
 * `backfill`: a full or partial (`--since`) load of a source's products, stock and orders into
 * the pipeline. Batches are stored through the intake's EventStore (origin `backfill`: stored once,
 * states already held are recognised by checksum), then the cursor is written to `checkpoints` as
 * `backfill:<source>`, so a run stopped by Ctrl-C or a crash resumes with `--resume` after the last
 * durable batch. Memory is bounded by one batch. `--dry-run` reads and counts, and stores nothing.
 */
import type pg from 'pg';
import { ConfigError, RetriableError } from '../../core/errors.js';
import { getLogger } from '../../core/logger.js';
import type { SyncConfig } from '../../config/schema.js';
import { createPool } from '../../db/pool.js';
import { EventStore } from '../../pipeline/intake/event-store.js';
import { readCheckpoint, writeCheckpoint } from '../../pipeline/intake/poll-scheduler.js';
import type { DiffSide } from '../diff/sides.js';
import { phaseTotals, PHASES, readSource, type SourceCursor } from './sources.js';

/** The checkpoint name of a source's backfill. */
export const backfillCheckpointName = (source: string): string => `backfill:${source}`;

/** What `backfill:<source>` holds. */
export interface BackfillCheckpoint {
  source: string;
  status: 'running' | 'done';
  /** Resume here (null once done). */
  cursor: SourceCursor | null;
  since: string | null;
  startedAt: string;
  updatedAt: string;
  /** Totals of the run so far (carried over by resumed runs). */
  records: number;
  stored: number;
}

/** Progress of one phase (for the CLI's progress display). */
export interface BackfillProgress {
  phase: string;
  /** Records read in this phase by this run. */
  records: number;
  /** Records in the phase, when known (for an ETA). */
  total: number | null;
  /** Events stored by this run (all phases). */
  stored: number;
  /** The phase is finished. */
  done: boolean;
}

/** Options of {@link runBackfill}. */
export interface BackfillOptions {
  /** Only what changed at or after this time. */
  since?: Date | null;
  /** Read and count; store nothing, write no checkpoint. */
  dryRun?: boolean;
  /** Continue from the stored checkpoint of an unfinished run. */
  resume?: boolean;
  pool?: pg.Pool;
  /** Stops after the batch in flight (Ctrl-C); the checkpoint allows `--resume`. */
  signal?: AbortSignal;
  onProgress?: (p: BackfillProgress) => void;
}

/** The outcome of a run (`--json` result). */
export interface BackfillResult {
  source: string;
  dryRun: boolean;
  since: string | null;
  /** The cursor the run resumed from (null: from the start). */
  resumedFrom: SourceCursor | null;
  /** Per phase: records read and events built, stored, already known, skipped by `--since`. */
  phases: Array<{ phase: string; records: number; events: number; stored: number; alreadyKnown: number; skippedBySince: number }>;
  /** Events stored by this run. */
  stored: number;
  seconds: number;
  /** Every phase finished (false when interrupted). */
  complete: boolean;
}

/** The phases a source goes through (for progress displays). */
export const backfillPhases = (side: DiffSide): string[] => PHASES[side.platform];

/** Runs (or resumes) the backfill of `side`. Throws BACKFILL_INTERRUPTED (retriable) when stopped. */
export async function runBackfill(config: SyncConfig, side: DiffSide, opts: BackfillOptions = {}): Promise<BackfillResult> {
  const started = Date.now();
  const log = getLogger('backfill');
  const pool = opts.pool ?? (await createPool({ url: config.database.url, schema: config.database.schema, max: 2, applicationName: 'syncctl backfill' }));
  const name = backfillCheckpointName(side.key);
  try {
    const previous = await readCheckpoint<BackfillCheckpoint>(pool, name).catch((err: { code?: string }) => {
      if (err.code === '42P01') throw new ConfigError('DATABASE_NOT_INITIALISED', 'syncctl\'s tables do not exist in this database schema.', { hint: 'Run `syncctl init-db` first.' });
      throw err;
    });
    let resumeFrom: SourceCursor | null = null;
    let since = opts.since ?? null;
    if (opts.resume && previous?.status === 'running' && previous.cursor) {
      resumeFrom = previous.cursor;
      since = previous.since ? new Date(previous.since) : null;
      if (opts.since && previous.since !== opts.since.toISOString()) throw new ConfigError('BACKFILL_SINCE_MISMATCH', `The unfinished backfill of ${side.key} was started with --since ${previous.since ?? '(none)'}.`, { hint: 'Resume without --since, or start over without --resume.' });
    }
    const cp: BackfillCheckpoint = resumeFrom && previous
      ? { ...previous, updatedAt: new Date().toISOString() }
      : { source: side.key, status: 'running', cursor: null, since: since?.toISOString() ?? null, startedAt: new Date().toISOString(), updatedAt: new Date().toISOString(), records: 0, stored: 0 };
    const store = new EventStore(pool);
    const totals = await phaseTotals(side, { config, since, signal: opts.signal });
    const result: BackfillResult = { source: side.key, dryRun: !!opts.dryRun, since: since?.toISOString() ?? null, resumedFrom: resumeFrom, phases: [], stored: 0, seconds: 0, complete: false };
    const phaseOf = (phase: string) => {
      let p = result.phases.find((x) => x.phase === phase);
      if (!p) {
        const prev = result.phases[result.phases.length - 1];
        if (prev) opts.onProgress?.({ phase: prev.phase, records: prev.records, total: totals[prev.phase] ?? null, stored: result.stored, done: true });
        result.phases.push((p = { phase, records: 0, events: 0, stored: 0, alreadyKnown: 0, skippedBySince: 0 }));
      }
      return p;
    };
    // A bulk load outgrows the planner's statistics of source_events long before autovacuum (if on)
    // refreshes them, and intake's checksum lookup then degrades to scans: refresh them as it grows.
    let analyzedAt = 0;
    const refreshStats = async () => {
      if (result.stored - analyzedAt < Math.max(5000, analyzedAt)) return;
      analyzedAt = result.stored;
      await pool.query('analyze source_events').catch(() => undefined);
    };
    log.info({ source: side.key, resumeFrom, since, dryRun: !!opts.dryRun }, 'backfill started');
    try {
      for await (const batch of readSource(side, resumeFrom, { config, since, signal: opts.signal })) {
        const p = phaseOf(batch.phase);
        const kept = since ? batch.events.filter((e) => Date.parse(e.occurredAt) >= since!.getTime() || e.platform === 'erp') : batch.events;
        p.records += batch.records;
        p.events += kept.length;
        p.skippedBySince += batch.events.length - kept.length;
        if (!opts.dryRun) {
          const r = await store.store(kept);
          p.stored += r.stored.length;
          p.alreadyKnown += r.unchanged + r.duplicates;
          result.stored += r.stored.length;
          Object.assign(cp, { cursor: batch.cursor, status: batch.cursor ? 'running' : 'done', updatedAt: new Date().toISOString(), records: cp.records + batch.records, stored: cp.stored + r.stored.length });
          await writeCheckpoint(pool, name, cp);
          await refreshStats();
        }
        opts.onProgress?.({ phase: p.phase, records: p.records, total: totals[p.phase] ?? null, stored: result.stored, done: false });
        if (opts.signal?.aborted) break;
      }
    } catch (err) {
      if (!opts.signal?.aborted) throw err;
    }
    result.seconds = (Date.now() - started) / 1000;
    if (opts.signal?.aborted) {
      log.warn({ source: side.key, cursor: cp.cursor }, 'backfill interrupted');
      throw new RetriableError('BACKFILL_INTERRUPTED', `The backfill of ${side.key} was interrupted after storing ${result.stored} event(s).`, {
        hint: opts.dryRun ? 'Dry runs do not keep a checkpoint: run it again.' : `Run \`syncctl backfill --source ${side.key} --resume\` to continue where it stopped.`,
        details: { result },
      });
    }
    const last = result.phases[result.phases.length - 1];
    if (last) opts.onProgress?.({ phase: last.phase, records: last.records, total: totals[last.phase] ?? null, stored: result.stored, done: true });
    result.complete = true;
    log.info({ source: side.key, stored: result.stored, seconds: result.seconds }, 'backfill done');
    return result;
  } finally {
    if (!opts.pool) await pool.end().catch(() => undefined);
  }
}
