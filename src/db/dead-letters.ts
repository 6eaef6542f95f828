import type pg from 'pg';
import { newId } from '../core/ids.js';

/** A dead letter as stored in `dead_letters`. */
export interface DeadLetter {
  deadLetterId: string;
  eventId: string | null;
  sourceKey: string | null;
  sku: string | null;
  /** intake, transform, sync, write:<target> */
  stage: string;
  errorClass: 'RETRIABLE_EXHAUSTED' | 'PERMANENT';
  errorCode: string;
  errorMessage: string;
  attempts: number;
  payload: unknown;
  context: Record<string, unknown>;
  firstFailedAt: string;
  lastFailedAt: string;
  status: 'OPEN' | 'REPLAYED' | 'SUPERSEDED' | 'DISCARDED';
  note: string | null;
}

/** A new dead letter (ids and times are filled in). */
export type NewDeadLetter = Pick<DeadLetter, 'stage' | 'errorClass' | 'errorCode' | 'errorMessage' | 'payload'> &
  Partial<Pick<DeadLetter, 'eventId' | 'sourceKey' | 'sku' | 'attempts' | 'context' | 'firstFailedAt'>>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Inserts dead letters in one statement; returns them with their ids. */
export async function insertDeadLetters(db: pg.Pool | pg.PoolClient, list: NewDeadLetter[]): Promise<DeadLetter[]> {
  if (list.length === 0) return [];
  const now = new Date().toISOString();
  const full: DeadLetter[] = list.map((d) => ({
    deadLetterId: newId(),
    eventId: d.eventId ?? null,
    sourceKey: d.sourceKey ?? null,
    sku: d.sku ?? null,
    stage: d.stage,
    errorClass: d.errorClass,
    errorCode: d.errorCode,
    errorMessage: d.errorMessage,
    attempts: d.attempts ?? 1,
    payload: d.payload,
    context: d.context ?? {},
    firstFailedAt: d.firstFailedAt ?? now,
    lastFailedAt: now,
    status: 'OPEN',
    note: null,
  }));
  // The raw events behind them are marked FAILED (until replayed or discarded).
  const rawIds = full.map((d) => d.eventId).filter((id): id is string => id !== null && UUID.test(id));
  if (rawIds.length) await db.query(`update source_events set status = 'FAILED' where event_id = any($1::uuid[])`, [rawIds]);
  await db.query(
    `insert into dead_letters (dead_letter_id, event_id, source_key, sku, stage, error_class, error_code, error_message, attempts, payload, context, first_failed_at, last_failed_at)
     select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::jsonb[], $11::jsonb[], $12::timestamptz[], $13::timestamptz[])`,
    [
      full.map((d) => d.deadLetterId),
      full.map((d) => d.eventId),
      full.map((d) => d.sourceKey),
      full.map((d) => d.sku),
      full.map((d) => d.stage),
      full.map((d) => d.errorClass),
      full.map((d) => d.errorCode),
      full.map((d) => d.errorMessage),
      full.map((d) => d.attempts),
      full.map((d) => JSON.stringify(d.payload ?? null)),
      full.map((d) => JSON.stringify(d.context)),
      full.map((d) => d.firstFailedAt),
      full.map((d) => d.lastFailedAt),
    ],
  );
  return full;
}

/** Maps a row to a DeadLetter. */
export function rowToDeadLetter(r: Record<string, unknown>): DeadLetter {
  const ts = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
  return {
    deadLetterId: String(r.dead_letter_id),
    eventId: (r.event_id as string | null) ?? null,
    sourceKey: (r.source_key as string | null) ?? null,
    sku: (r.sku as string | null) ?? null,
    stage: String(r.stage),
    errorClass: r.error_class as DeadLetter['errorClass'],
    errorCode: String(r.error_code ?? ''),
    errorMessage: String(r.error_message ?? ''),
    attempts: Number(r.attempts),
    payload: r.payload,
    context: (r.context as Record<string, unknown>) ?? {},
    firstFailedAt: ts(r.first_failed_at),
    lastFailedAt: ts(r.last_failed_at),
    status: r.status as DeadLetter['status'],
    note: (r.note as string | null) ?? null,
  };
}
