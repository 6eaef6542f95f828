import type pg from 'pg';
import { listConflicts, type ConflictRow } from './conflicts.js';
import { listDeadLetters } from './dlq.js';
import type { DeadLetter } from '../db/dead-letters.js';

/** One instance's state of a SKU (`sync_state`). */
export interface EntityInstanceState {
  source: string;
  status: string | null;
  version: number | null;
  sourceVersion: string | null;
  lastSyncAt: string | null;
  updatedAt: string;
  data: Record<string, unknown>;
  /** Platform ids (`entity_map`). */
  platformIds: string[];
}

/** A source event about the SKU (`source_events`). */
export interface EntityEvent {
  eventId: string;
  source: string;
  eventType: string | null;
  origin: string;
  status: string | null;
  occurredAt: string | null;
  receivedAt: string;
  data: unknown;
}

/** A planned write for the SKU (`planned_writes`). */
export interface EntityWrite {
  writeId: string;
  target: string;
  kind: string;
  status: string;
  cause: string;
  attempts: number;
  source: string | null;
  sourceEventAt: string | null;
  createdAt: string;
  updatedAt: string;
  lastError: string | null;
  payload: unknown;
}

/** An order line committing stock of the SKU (`inventory_ledger`). */
export interface EntityLedgerLine {
  source: string;
  orderId: string;
  lineId: string;
  quantity: number;
  status: string;
  sourceVersion: string;
  updatedAt: string;
}

/** Everything syncctl knows about one SKU, for the console's entity page. */
export interface EntityReport {
  sku: string;
  known: boolean;
  instances: EntityInstanceState[];
  events: EntityEvent[];
  writes: EntityWrite[];
  ledger: EntityLedgerLine[];
  conflicts: ConflictRow[];
  deadLetters: DeadLetter[];
}

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : v == null ? null : String(v));

/** One SKU across instances: state, the latest `limit` events, writes and ledger lines, its conflicts and dead letters. */
export async function getEntity(pool: pg.Pool, sku: string, opts: { limit?: number } = {}): Promise<EntityReport> {
  const limit = opts.limit ?? 50;
  const [state, ids, events, writes, ledger, conflicts, deadLetters] = await Promise.all([
    pool.query(`select * from sync_state where entity_id = $1 order by source_type`, [sku]),
    pool.query<{ source_key: string; platform_id: string }>(`select source_key, platform_id from entity_map where sku = $1 order by source_key, platform_id`, [sku]),
    // source_events has no index on sku (it is the hottest insert table): the SKU's events are found
    // by the platform ids entity_map knows (the (source_type, source_instance, source_id) index),
    // plus those naming the SKU in the last day (the timestamp index bounds the scan).
    pool.query(
      `with ids as (
         select upper(split_part(m.source_key, ':', 1)) as st, nullif(split_part(m.source_key, ':', 2), '') as si, x.id as sid
           from entity_map m, lateral (values (m.platform_id), (m.refs->>'id'), (m.refs->>'productId'), (m.refs->>'inventoryItemId')) as x(id)
          where m.sku = $1 and x.id is not null
       ), found as (
         select e.event_id from source_events e join ids on e.source_type = ids.st and e.source_id = ids.sid and (ids.si is null or e.source_instance = ids.si)
         union
         select e.event_id from source_events e where e.sku = $1 and e.timestamp > now() - interval '1 day'
       )
       select event_id, lower(source_type) || ':' || source_instance as source, event_type, origin, status, timestamp, received_at, data
         from source_events where event_id in (select event_id from found) order by received_at desc limit $2`,
      [sku, limit],
    ),
    pool.query(`select * from planned_writes where sku = $1 order by created_at desc limit $2`, [sku, limit]),
    pool.query(`select * from inventory_ledger where sku = $1 order by updated_at desc limit $2`, [sku, limit]),
    listConflicts(pool, { entity: sku, limit }),
    listDeadLetters(pool, { status: 'all', sku, limit }),
  ]);
  const idsBy = new Map<string, string[]>();
  for (const r of ids.rows) idsBy.set(r.source_key, [...(idsBy.get(r.source_key) ?? []), r.platform_id]);
  const report: EntityReport = {
    sku,
    known: false,
    instances: state.rows.map((r) => ({
      source: String(r.source_type),
      status: r.status ?? null,
      version: r.version ?? null,
      sourceVersion: r.source_version ?? null,
      lastSyncAt: iso(r.last_sync_at),
      updatedAt: iso(r.updated_at)!,
      data: (r.data as Record<string, unknown>) ?? {},
      platformIds: idsBy.get(String(r.source_type)) ?? [],
    })),
    events: events.rows.map((r) => ({ eventId: String(r.event_id), source: String(r.source), eventType: r.event_type ?? null, origin: String(r.origin), status: r.status ?? null, occurredAt: iso(r.timestamp), receivedAt: iso(r.received_at)!, data: r.data })),
    writes: writes.rows.map((r) => ({
      writeId: String(r.write_id), target: String(r.target_key), kind: String(r.kind), status: String(r.status), cause: String(r.cause ?? 'change'), attempts: Number(r.attempts),
      source: r.source_key ?? null, sourceEventAt: iso(r.source_event_at), createdAt: iso(r.created_at)!, updatedAt: iso(r.updated_at)!, lastError: r.last_error ?? null, payload: r.payload,
    })),
    ledger: ledger.rows.map((r) => ({ source: String(r.source_key), orderId: String(r.order_id), lineId: String(r.line_id), quantity: Number(r.quantity), status: String(r.status), sourceVersion: String(r.source_version), updatedAt: iso(r.updated_at)! })),
    conflicts,
    deadLetters,
  };
  // Platform ids without a state row yet (mapped, never synced).
  for (const [source, pids] of idsBy) {
    if (!report.instances.some((i) => i.source === source)) report.instances.push({ source, status: null, version: null, sourceVersion: null, lastSyncAt: null, updatedAt: '', data: {}, platformIds: pids });
  }
  report.known = report.instances.length + report.events.length + report.writes.length + report.conflicts.length + report.deadLetters.length > 0;
  return report;
}
