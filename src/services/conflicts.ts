import type pg from 'pg';
import { ConfigError, PermanentError } from '../core/errors.js';
import type { ConflictResolved } from '../core/model.js';
import type { KafkaBus } from '../pipeline/kafka/bus.js';

/** A row of `conflict_log`, as commands show it. */
export interface ConflictRow {
  conflictId: string;
  sku: string;
  source: string;
  type: string;
  status: 'OPEN' | 'RESOLVED';
  resolution: string | null;
  details: Record<string, unknown>;
  createdAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  note: string | null;
}

/** Filters of `conflicts list` and of resolving many at once. */
export interface ConflictFilter {
  open?: boolean;
  type?: string;
  entity?: string;
  /** The source instance that recorded it, or one of the sources whose values disagree (e.g. `woocommerce:outlet`). */
  source?: string;
  limit?: number;
  /** Rows to skip (paging). */
  offset?: number;
  /** Sort column (default `created`) and order (default `desc`). */
  sort?: ConflictSort;
  order?: 'asc' | 'desc';
}

/** Columns conflicts can be sorted by. */
export const CONFLICT_SORTS = { created: 'created_at', sku: 'entity_id', type: 'conflict_type', source: 'source_type', status: 'status' } as const;
export type ConflictSort = keyof typeof CONFLICT_SORTS;

function conflictWhere(f: ConflictFilter, args: unknown[]): string {
  const where: string[] = [];
  if (f.open) where.push(`status = 'OPEN'`);
  if (f.type) where.push(`conflict_type = $${args.push(f.type.toUpperCase())}`);
  if (f.entity) where.push(`entity_id = $${args.push(f.entity)}`);
  if (f.source) {
    const n = args.push(f.source);
    where.push(`(source_type = $${n} or details->'values' @> jsonb_build_array(jsonb_build_object('source', $${n}::text)))`);
  }
  return where.length ? `where ${where.join(' and ')}` : '';
}

const toRow = (r: Record<string, unknown>): ConflictRow => ({
  conflictId: String(r.conflict_id),
  sku: String(r.entity_id),
  source: String(r.source_type),
  type: String(r.conflict_type),
  status: r.status as ConflictRow['status'],
  resolution: (r.resolution as string | null) ?? null,
  details: (r.details as Record<string, unknown>) ?? {},
  createdAt: (r.created_at as Date).toISOString(),
  resolvedAt: r.resolved_at ? (r.resolved_at as Date).toISOString() : null,
  resolvedBy: (r.resolved_by as string | null) ?? null,
  note: (r.note as string | null) ?? null,
});

/** Lists conflicts, newest first. */
export async function listConflicts(pool: pg.Pool, f: ConflictFilter = {}): Promise<ConflictRow[]> {
  const args: unknown[] = [];
  const where = conflictWhere(f, args);
  const col = CONFLICT_SORTS[f.sort ?? 'created'] ?? 'created_at';
  const dir = f.order === 'asc' ? 'asc' : 'desc';
  const r = await pool.query(
    `select * from conflict_log ${where} order by ${col} ${dir}, conflict_id ${dir} limit $${args.push(f.limit ?? 1000)} offset $${args.push(f.offset ?? 0)}`,
    args,
  );
  return r.rows.map(toRow);
}

/** How many conflicts match a filter (limit and offset ignored), for paging. */
export async function countConflicts(pool: pg.Pool, f: ConflictFilter = {}): Promise<number> {
  const args: unknown[] = [];
  const r = await pool.query<{ n: number }>(`select count(*)::int as n from conflict_log ${conflictWhere(f, args)}`, args);
  return r.rows[0]!.n;
}

/** One conflict; PermanentError CONFLICT_NOT_FOUND when there is none. */
export async function getConflict(pool: pg.Pool, id: string): Promise<ConflictRow> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new ConfigError('CONFLICT_ID_INVALID', `"${id}" is not a conflict id (a UUID).`, { hint: 'See `syncctl conflicts list`.' });
  const r = await pool.query('select * from conflict_log where conflict_id = $1', [id]);
  if (!r.rows[0]) throw new PermanentError('CONFLICT_NOT_FOUND', `No conflict ${id}.`, { hint: 'See `syncctl conflicts list`.' });
  return toRow(r.rows[0]);
}

/** How to resolve: take one source's value, or give the value. */
export type Decision = { use: string } | { value: unknown };

/** What resolving did for one conflict. */
export interface ResolveOutcome {
  conflictId: string;
  sku: string;
  resolution: string;
  /** The engine was asked to apply a value (field conflicts). */
  applied: { field: string; value: string | null } | null;
  skipped?: string;
}

/**
 * Resolves conflicts: records the decision in `conflict_log` and, for a field conflict, hands the
 * value to the engine (a ConflictResolved event on the canonical topic, keyed by SKU), which
 * lifts the hold and writes the value everywhere with its usual rules.
 */
export async function resolveConflicts(
  pool: pg.Pool,
  kafka: KafkaBus,
  canonicalTopic: string,
  rows: ConflictRow[],
  decision: Decision,
  who: string,
  note?: string,
): Promise<ResolveOutcome[]> {
  const out: ResolveOutcome[] = [];
  for (const c of rows) {
    if (c.status !== 'OPEN') {
      out.push({ conflictId: c.conflictId, sku: c.sku, resolution: c.resolution ?? 'RESOLVED', applied: null, skipped: 'already resolved' });
      continue;
    }
    let applied: ResolveOutcome['applied'] = null;
    let resolution: string;
    if (c.type === 'FIELD_CONFLICT') {
      const field = String(c.details.field ?? '');
      const values = (c.details.values as Array<{ source: string; value: string | null }>) ?? [];
      let value: string | null;
      if ('use' in decision) {
        const v = values.find((x) => x.source === decision.use);
        if (!v) throw new ConfigError('CONFLICT_SOURCE_UNKNOWN', `Conflict ${c.conflictId} has no value from "${decision.use}".`, { hint: `Its sources: ${values.map((x) => x.source).join(', ')}.` });
        value = v.value;
        resolution = `USE_SOURCE:${decision.use}`;
      } else {
        value = decision.value === null ? null : String(decision.value);
        resolution = 'USE_VALUE';
      }
      const now = new Date().toISOString();
      const ev: ConflictResolved = {
        type: 'ConflictResolved',
        eventId: `${c.conflictId}:resolved`,
        sku: c.sku,
        source: 'use' in decision ? decision.use : 'operator',
        sourceVersion: now,
        occurredAt: now,
        rawEventId: c.conflictId,
        origin: 'replay',
        conflictId: c.conflictId,
        field,
        value,
      };
      await kafka.publish(canonicalTopic, [{ key: c.sku, value: ev, headers: { 'syncctl-type': ev.type, 'syncctl-source': 'operator' } }]);
      applied = { field, value };
    } else {
      resolution = 'use' in decision ? `ACKNOWLEDGED:${decision.use}` : 'ACKNOWLEDGED';
    }
    await pool.query(
      `update conflict_log set status = 'RESOLVED', resolution = $2, resolved_at = now(), resolved_by = $3, note = $4,
              details = details || jsonb_build_object('decision', $5::jsonb) where conflict_id = $1`,
      [c.conflictId, resolution, who, note ?? null, JSON.stringify(decision)],
    );
    out.push({ conflictId: c.conflictId, sku: c.sku, resolution, applied });
  }
  return out;
}
