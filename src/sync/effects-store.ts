import type pg from 'pg';
import { newId } from '../core/ids.js';
import type { EntityMapRow, LedgerLine, NewConflict, PlannedWrite, WriteKind } from './engine/types.js';
import type { SourceKey } from '../core/model.js';

/** The channel writers LISTEN on; the engine NOTIFYs it after committing planned writes. */
export const WRITES_CHANNEL = 'syncctl_writes';

/** The absolute write kinds: at most one pending per target, SKU and kind (later ones fold into it). */
export const COALESCING: WriteKind[] = ['inventory', 'fields'];

/** Everything a batch decided, merged, ready to be written in one transaction. */
export interface BatchEffects {
  writes: PlannedWrite[];
  cancels: Array<{ target: SourceKey; sku: string; kind: WriteKind }>;
  conflicts: NewConflict[];
  resolved: Array<{ conflictId: string; resolution: string }>;
  ledger: LedgerLine[];
  entityMap: EntityMapRow[];
}

/** Merges absolute writes of the same target, SKU and kind (the last decision wins; fields merge). */
export function coalesceWrites(writes: PlannedWrite[]): PlannedWrite[] {
  const out: PlannedWrite[] = [];
  const index = new Map<string, number>();
  for (const w of writes) {
    if (!COALESCING.includes(w.kind)) {
      out.push(w);
      continue;
    }
    const k = `${w.target}|${w.sku}|${w.kind}`;
    const i = index.get(k);
    if (i === undefined) {
      index.set(k, out.length);
      out.push({ ...w, payload: { ...w.payload } });
      continue;
    }
    const prev = out[i]!;
    const fields = w.kind === 'fields' ? { ...(prev.payload.fields as object), ...(w.payload.fields as object) } : undefined;
    // The last decision's payload, settle time and cause; the earliest change time (latency).
    out[i] = { ...w, payload: { ...prev.payload, ...w.payload, ...(fields ? { fields } : {}) }, sourceEventAt: prev.sourceEventAt < w.sourceEventAt ? prev.sourceEventAt : w.sourceEventAt };
  }
  return out;
}

/** The lock order of planned writes: target, SKU, kind (then idempotency key). */
export function byWriteKey(a: Pick<PlannedWrite, 'target' | 'sku' | 'kind' | 'idempotencyKey'>, b: Pick<PlannedWrite, 'target' | 'sku' | 'kind' | 'idempotencyKey'>): number {
  return cmp(a.target, b.target) || cmp(a.sku, b.sku) || cmp(a.kind, b.kind) || cmp(a.idempotencyKey ?? '', b.idempotencyKey ?? '');
}
const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** Writes a batch's effects inside the caller's transaction (the caller wakes the writers after commit when `writes` is not empty). */
export async function persistEffects(client: pg.PoolClient, fx: BatchEffects): Promise<void> {
  const writes = coalesceWrites(fx.writes);
  // One lock order for every statement that creates or folds pending writes (the writers' lease
  // recovery and retries too): target, SKU, kind. Two batches then never wait on each other's
  // pending rows in a cycle.
  const absolute = writes.filter((w) => COALESCING.includes(w.kind)).sort(byWriteKey);
  const keyed = writes.filter((w) => !COALESCING.includes(w.kind)).sort(byWriteKey);
  // Cancels first: an absolute write planned later in the batch re-creates what it needs.
  const cancels = fx.cancels.filter((c) => !absolute.some((w) => w.target === c.target && w.sku === c.sku && w.kind === c.kind));
  if (cancels.length) {
    await client.query(
      `update planned_writes p set status = 'SUPERSEDED', updated_at = now()
         from unnest($1::text[], $2::text[], $3::text[]) as c(t, s, k)
        where p.target_key = c.t and p.sku = c.s and p.kind = c.k and p.status = 'PENDING'`,
      [cancels.map((c) => c.target), cancels.map((c) => c.sku), cancels.map((c) => c.kind)],
    );
  }
  if (absolute.length) {
    const ids = absolute.map(() => newId());
    await client.query(
      `insert into planned_writes (write_id, target_key, sku, kind, payload, idempotency_key, not_before, source_key, source_event_at, cause)
       select id, t, s, k, p, id::text, coalesce(nb, now()), sk, se, c
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::timestamptz[], $9::text[]) as u(id, t, s, k, p, nb, sk, se, c)
       on conflict (target_key, sku, kind) where status = 'PENDING' and kind in ('inventory', 'fields')
       do update set
         payload = case when planned_writes.kind = 'fields'
                        then excluded.payload || jsonb_build_object('fields', coalesce(planned_writes.payload->'fields', '{}'::jsonb) || coalesce(excluded.payload->'fields', '{}'::jsonb))
                        else excluded.payload end,
         not_before = excluded.not_before,
         source_event_at = least(planned_writes.source_event_at, excluded.source_event_at),
         cause = excluded.cause,
         updated_at = now()`,
      [ids, absolute.map((w) => w.target), absolute.map((w) => w.sku), absolute.map((w) => w.kind), absolute.map((w) => JSON.stringify(w.payload)), absolute.map((w) => w.notBefore ?? null), absolute.map((w) => w.sourceKey), absolute.map((w) => w.sourceEventAt), absolute.map((w) => w.cause ?? 'change')],
    );
  }
  if (keyed.length) {
    await client.query(
      `insert into planned_writes (write_id, target_key, sku, kind, payload, idempotency_key, not_before, source_key, source_event_at)
       select id, t, s, k, p, key, coalesce(nb, now()), sk, se
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::timestamptz[], $8::text[], $9::timestamptz[]) as u(id, t, s, k, p, key, nb, sk, se)
       on conflict (idempotency_key) do nothing`,
      [keyed.map(() => newId()), keyed.map((w) => w.target), keyed.map((w) => w.sku), keyed.map((w) => w.kind), keyed.map((w) => JSON.stringify(w.payload)), keyed.map((w) => w.idempotencyKey ?? newId()), keyed.map((w) => w.notBefore ?? null), keyed.map((w) => w.sourceKey), keyed.map((w) => w.sourceEventAt)],
    );
  }
  if (fx.conflicts.length) {
    await client.query(
      `insert into conflict_log (conflict_id, entity_id, source_type, conflict_type, resolution, details, created_at, status, resolved_at, resolved_by)
       select id, e, s, t, r, d, now(), st, case when st = 'RESOLVED' then now() end, case when st = 'RESOLVED' then 'policy' end
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[]) as u(id, e, s, t, r, d, st)`,
      [fx.conflicts.map((c) => c.conflictId), fx.conflicts.map((c) => c.sku), fx.conflicts.map((c) => c.source), fx.conflicts.map((c) => c.type), fx.conflicts.map((c) => c.resolution), fx.conflicts.map((c) => JSON.stringify(c.details)), fx.conflicts.map((c) => c.status)],
    );
  }
  if (fx.resolved.length) {
    await client.query(
      `update conflict_log c set status = 'RESOLVED', resolution = r.res, resolved_at = now(), resolved_by = 'engine'
         from unnest($1::uuid[], $2::text[]) as r(id, res) where c.conflict_id = r.id and c.status = 'OPEN'`,
      [fx.resolved.map((r) => r.conflictId), fx.resolved.map((r) => r.resolution)],
    );
  }
  if (fx.ledger.length) {
    const last = new Map<string, LedgerLine>();
    for (const l of fx.ledger) last.set(`${l.sourceKey}|${l.orderId}|${l.lineId}`, l);
    const lines = [...last.values()];
    await client.query(
      `insert into inventory_ledger (source_key, order_id, line_id, sku, quantity, status, source_version)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[])
       on conflict (source_key, order_id, line_id) do update
         set quantity = excluded.quantity, status = excluded.status, source_version = excluded.source_version, updated_at = now()`,
      [lines.map((l) => l.sourceKey), lines.map((l) => l.orderId), lines.map((l) => l.lineId), lines.map((l) => l.sku), lines.map((l) => l.quantity), lines.map((l) => l.status), lines.map((l) => l.sourceVersion)],
    );
  }
  if (fx.entityMap.length) {
    const uniq = new Map(fx.entityMap.map((m) => [`${m.sku}|${m.sourceKey}|${m.platformId}`, m]));
    const rows = [...uniq.values()];
    await client.query(
      `insert into entity_map (sku, source_key, platform_id, refs)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])
       on conflict (sku, source_key, platform_id) do update set refs = excluded.refs, updated_at = now()`,
      [rows.map((m) => m.sku), rows.map((m) => m.sourceKey), rows.map((m) => m.platformId), rows.map((m) => JSON.stringify(m.refs))],
    );
  }
}

/** Loads the ledger lines a batch's sales refer to. */
export async function loadLedger(pool: pg.Pool, keys: Array<{ sourceKey: string; orderId: string; lineId: string }>): Promise<Map<string, LedgerLine>> {
  const out = new Map<string, LedgerLine>();
  if (keys.length === 0) return out;
  const r = await pool.query<{ source_key: string; order_id: string; line_id: string; sku: string; quantity: number; status: 'COMMITTED' | 'CANCELLED'; source_version: string }>(
    `select l.* from inventory_ledger l join unnest($1::text[], $2::text[], $3::text[]) as k(s, o, li)
       on l.source_key = k.s and l.order_id = k.o and l.line_id = k.li`,
    [keys.map((k) => k.sourceKey), keys.map((k) => k.orderId), keys.map((k) => k.lineId)],
  );
  for (const x of r.rows) {
    out.set(`${x.source_key}|${x.order_id}|${x.line_id}`, { sourceKey: x.source_key, orderId: x.order_id, lineId: x.line_id, sku: x.sku, quantity: x.quantity, status: x.status, sourceVersion: x.source_version });
  }
  return out;
}
