import type pg from 'pg';
import { ConfigError, PermanentError } from '../core/errors.js';
import { rowToDeadLetter, type DeadLetter } from '../db/dead-letters.js';
import type { KafkaBus } from '../pipeline/kafka/bus.js';
import type { PipelineTopics } from '../pipeline/kafka/topics.js';
import type { RawEvent } from '../core/model.js';
import type { SkuNormalisation } from '../core/ids.js';
import { DeadLetterSink } from '../pipeline/dead-letter-sink.js';
import { canonicalMessages, transformRaw } from '../pipeline/transform/embedded.js';
import { COALESCING } from '../sync/effects-store.js';
import type { WriteKind } from '../sync/engine/types.js';

/** Filters of `dlq list` and `dlq replay --all`. */
export interface DeadLetterFilter {
  source?: string;
  stage?: string;
  code?: string;
  /** Exactly this SKU. */
  sku?: string;
  since?: Date;
  /** OPEN by default; `all` for every status. */
  status?: DeadLetter['status'] | 'all';
  limit?: number;
  /** Rows to skip (paging). */
  offset?: number;
  /** Sort column (default `failed`: the last failure) and order (default `desc`). */
  sort?: DeadLetterSort;
  order?: 'asc' | 'desc';
}

/** Columns dead letters can be sorted by. */
export const DEAD_LETTER_SORTS = { failed: 'last_failed_at', first: 'first_failed_at', stage: 'stage', code: 'error_code', source: 'source_key', sku: 'sku', attempts: 'attempts' } as const;
export type DeadLetterSort = keyof typeof DEAD_LETTER_SORTS;

/** Lists dead letters, newest failure first. */
export async function listDeadLetters(pool: pg.Pool, f: DeadLetterFilter = {}): Promise<DeadLetter[]> {
  const args: unknown[] = [];
  const where = deadLetterWhere(f, args);
  const col = DEAD_LETTER_SORTS[f.sort ?? 'failed'] ?? 'last_failed_at';
  const dir = f.order === 'asc' ? 'asc' : 'desc';
  const r = await pool.query(`select * from dead_letters ${where} order by ${col} ${dir} nulls last, dead_letter_id ${dir} limit $${args.push(f.limit ?? 1000)} offset $${args.push(f.offset ?? 0)}`, args);
  return r.rows.map(rowToDeadLetter);
}

/** How many dead letters match a filter (limit and offset ignored), for paging. */
export async function countDeadLetters(pool: pg.Pool, f: DeadLetterFilter = {}): Promise<number> {
  const args: unknown[] = [];
  const r = await pool.query<{ n: number }>(`select count(*)::int as n from dead_letters ${deadLetterWhere(f, args)}`, args);
  return r.rows[0]!.n;
}

function deadLetterWhere(f: DeadLetterFilter, args: unknown[]): string {
  const where: string[] = [];
  if ((f.status ?? 'OPEN') !== 'all') where.push(`status = $${args.push(f.status ?? 'OPEN')}`);
  if (f.source) where.push(`(source_key = $${args.push(f.source)} or source_key like $${args.push(`${f.source}:%`)})`);
  if (f.stage) where.push(`stage like $${args.push(`${f.stage}%`)}`);
  if (f.code) where.push(`error_code = $${args.push(f.code)}`);
  if (f.sku) where.push(`sku = $${args.push(f.sku)}`);
  if (f.since) where.push(`last_failed_at >= $${args.push(f.since)}`);
  return where.length ? `where ${where.join(' and ')}` : '';
}

/** One dead letter; PermanentError DEAD_LETTER_NOT_FOUND when there is none. */
export async function getDeadLetter(pool: pg.Pool, id: string): Promise<DeadLetter> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new ConfigError('DEAD_LETTER_ID_INVALID', `"${id}" is not a dead-letter id (a UUID).`, { hint: 'See `syncctl dlq list`.' });
  const r = await pool.query('select * from dead_letters where dead_letter_id = $1', [id]);
  if (!r.rows[0]) throw new PermanentError('DEAD_LETTER_NOT_FOUND', `No dead letter ${id}.`, { hint: 'See `syncctl dlq list`.' });
  return rowToDeadLetter(r.rows[0]);
}

/** The outcome of replaying one dead letter. */
export interface ReplayOutcome {
  deadLetterId: string;
  stage: string;
  sku: string | null;
  /** replayed: handed back to the pipeline; superseded: newer state exists, skipped; failed: failed again (or cannot be replayed). */
  outcome: 'replayed' | 'superseded' | 'failed' | 'would-replay' | 'would-skip';
  detail?: string;
}

interface WritePayload {
  writeId: string;
  kind: string;
  idempotencyKey: string;
}

/**
 * Replays dead letters through the pipeline, against current state:
 * - a failed write goes back to its writer with the same idempotency key, unless a newer write of
 *   the same kind to the same target and SKU was planned since (superseded);
 * - a raw event the transform rejected goes through the transform again, unless the source has
 *   sent a newer event for the same entity since (superseded): with the embedded runner
 *   (`transform`) it is mapped here and its canonical events published (a reject again is a new
 *   dead letter, and the outcome says so); with the Flink runner it is published to its raw topic.
 * With `wait`, waits for the writers' verdict (replayed / failed again).
 */
export async function replayDeadLetters(
  pool: pg.Pool,
  kafka: KafkaBus,
  topics: PipelineTopics,
  list: DeadLetter[],
  opts: { dryRun?: boolean; waitMs?: number; transform?: { skuRule: SkuNormalisation } } = {},
): Promise<ReplayOutcome[]> {
  const out: ReplayOutcome[] = [];
  for (const d of list) {
    if (d.status !== 'OPEN') {
      out.push({ deadLetterId: d.deadLetterId, stage: d.stage, sku: d.sku, outcome: 'failed', detail: `status is ${d.status}` });
      continue;
    }
    const o = d.stage.startsWith('write:') ? await replayWrite(pool, d, opts) : await replayRaw(pool, kafka, topics, d, opts);
    out.push(o);
  }
  return out;
}

async function replayWrite(pool: pg.Pool, d: DeadLetter, opts: { dryRun?: boolean; waitMs?: number }): Promise<ReplayOutcome> {
  const p = d.payload as WritePayload;
  const base = { deadLetterId: d.deadLetterId, stage: d.stage, sku: d.sku };
  const target = d.stage.slice('write:'.length);
  if (COALESCING.includes(p.kind as WriteKind)) {
    const newer = await pool.query(
      `select 1 from planned_writes where target_key = $1 and sku = $2 and kind = $3 and write_id <> $4 and created_at > $5 and status in ('PENDING','INFLIGHT','DONE') limit 1`,
      [target, d.sku, p.kind, p.writeId, d.firstFailedAt],
    );
    if (newer.rowCount) {
      if (!opts.dryRun) await markDeadLetter(pool, d.deadLetterId, 'SUPERSEDED', 'a newer write to the same target and SKU was planned since');
      return { ...base, outcome: opts.dryRun ? 'would-skip' : 'superseded', detail: 'a newer write was planned since' };
    }
  }
  if (opts.dryRun) return { ...base, outcome: 'would-replay' };
  const r = await pool.query(
    `update planned_writes set status = 'PENDING', attempts = 0, not_before = now(), last_error = null, updated_at = now() where write_id = $1 and status = 'FAILED'`,
    [p.writeId],
  );
  if (!r.rowCount) return { ...base, outcome: 'failed', detail: 'the planned write is gone or not failed' };
  await pool.query(`select pg_notify('syncctl_writes', '')`);
  await markDeadLetter(pool, d.deadLetterId, 'REPLAYED', null);
  if (!opts.waitMs) return { ...base, outcome: 'replayed', detail: 'queued for the writers (same idempotency key)' };
  const end = Date.now() + opts.waitMs;
  while (Date.now() < end) {
    const s = await pool.query<{ status: string; last_error: string | null }>('select status, last_error from planned_writes where write_id = $1', [p.writeId]);
    const st = s.rows[0]?.status;
    if (st === 'DONE') return { ...base, outcome: 'replayed', detail: 'written' };
    if (st === 'FAILED') return { ...base, outcome: 'failed', detail: s.rows[0]?.last_error ?? 'failed again' };
    await new Promise((res) => setTimeout(res, 250));
  }
  return { ...base, outcome: 'replayed', detail: 'queued; no writer finished it in time (is `syncctl start` running?)' };
}

async function replayRaw(pool: pg.Pool, kafka: KafkaBus, topics: PipelineTopics, d: DeadLetter, opts: { dryRun?: boolean; transform?: { skuRule: SkuNormalisation } }): Promise<ReplayOutcome> {
  const base = { deadLetterId: d.deadLetterId, stage: d.stage, sku: d.sku };
  const ev = d.payload as Partial<RawEvent> | null;
  if (!ev || typeof ev !== 'object' || typeof ev.eventId !== 'string' || !ev.platform || !(ev.platform in topics.raw)) {
    return { ...base, outcome: 'failed', detail: 'the payload is not a raw event that can be replayed (see `dlq show`)' };
  }
  const newer = await pool.query(
    `select 1 from source_events where source_type = $1 and source_instance = $2 and source_id = $3 and received_at > $4 and event_id <> $5 limit 1`,
    [ev.platform.toUpperCase(), ev.instance, ev.entityRef, ev.receivedAt ?? d.firstFailedAt, ev.eventId],
  );
  if (newer.rowCount) {
    if (!opts.dryRun) await markDeadLetter(pool, d.deadLetterId, 'SUPERSEDED', 'the source sent a newer event for this entity');
    return { ...base, outcome: opts.dryRun ? 'would-skip' : 'superseded', detail: 'newer event from the source' };
  }
  if (opts.dryRun) return { ...base, outcome: 'would-replay' };
  if (opts.transform) {
    const out = transformRaw([{ value: { ...ev, origin: 'replay' }, context: { replayOf: d.deadLetterId } }], opts.transform.skuRule);
    if (out.events.length) await kafka.publish(topics.canonical, canonicalMessages(out.events));
    const sink = new DeadLetterSink(pool, kafka, topics.dlq);
    const again = await sink.record(out.rejects);
    await markDeadLetter(pool, d.deadLetterId, 'REPLAYED', null);
    await sink.publish(again);
    if (again.length) return { ...base, outcome: 'failed', detail: `rejected again by the transform (${again.map((a) => a.errorCode).join(', ')}): new dead letter ${again.map((a) => a.deadLetterId).join(', ')}` };
    return { ...base, outcome: 'replayed', detail: `mapped again: ${out.events.length} canonical event(s) published` };
  }
  await kafka.publish(topics.raw[ev.platform as keyof PipelineTopics['raw']], [{ key: ev.sku ?? ev.entityRef ?? ev.eventId, value: { ...ev, origin: 'replay' }, headers: { 'syncctl-replay': d.deadLetterId } }]);
  await markDeadLetter(pool, d.deadLetterId, 'REPLAYED', null);
  return { ...base, outcome: 'replayed', detail: 'published to the raw topic again (a new dead letter appears if it fails again)' };
}

async function markDeadLetter(pool: pg.Pool, id: string, status: DeadLetter['status'], note: string | null): Promise<void> {
  await pool.query(`update dead_letters set status = $2, resolved_at = now(), note = coalesce($3, note) where dead_letter_id = $1`, [id, status, note]);
}

/** Discards a dead letter with a reason (kept for the record). */
export async function discardDeadLetter(pool: pg.Pool, id: string, reason: string): Promise<DeadLetter> {
  const d = await getDeadLetter(pool, id);
  if (d.status !== 'OPEN') throw new PermanentError('DEAD_LETTER_NOT_OPEN', `Dead letter ${id} is ${d.status}, not OPEN.`);
  await markDeadLetter(pool, id, 'DISCARDED', reason);
  return { ...d, status: 'DISCARDED', note: reason };
}
