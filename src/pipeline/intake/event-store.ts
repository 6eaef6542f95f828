import type pg from 'pg';
import { wakeAfterCommit } from '../../db/pool.js';
import { newId, payloadChecksum } from '../../core/ids.js';
import type { RawEvent } from '../../core/model.js';
import type { NewRawEvent } from '../../connectors/types.js';
import { events as bus, type SyncEventBus } from '../../core/events.js';

/**
 * The channel the outbox relay LISTENs on; intake NOTIFYs it after each commit (a NOTIFY inside the
 * storing transaction would make concurrent commits queue on PostgreSQL's notification lock).
 */
export const OUTBOX_CHANNEL = 'syncctl_outbox';

/** What storing a batch did. */
export interface StoreResult {
  /** Events stored now (new). */
  stored: RawEvent[];
  /** Deliveries seen before (same dedupe key). */
  duplicates: number;
  /** Polled/backfilled states equal to one already stored (same checksum). */
  unchanged: number;
}

/**
 * Stores raw events exactly once in `source_events` (the intake's durable step): a delivery
 * seen before (same dedupe key) is dropped, and a polled or backfilled state equal to one
 * already stored (same checksum of the normalised payload) is recognised and not stored again.
 * New rows get an `outbox` entry; the outbox relay publishes them to Kafka and deletes it.
 */
export class EventStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly instrumentation: SyncEventBus = bus,
  ) {}

  /** Stores a batch atomically and wakes the relay. */
  async store(batch: NewRawEvent[]): Promise<StoreResult> {
    if (batch.length === 0) return { stored: [], duplicates: 0, unchanged: 0 };
    const now = new Date().toISOString();
    const full: RawEvent[] = batch.map((e) => ({ ...e, eventId: newId(), receivedAt: now, checksum: payloadChecksum(e.payload) }));
    // One statement (atomic on its own): no BEGIN/COMMIT round trips, so a busy process does not
    // leave transactions open between them. A poll or backfill finding a state we already hold
    // (same checksum, any origin) is not new; a delivery seen before (same dedupe key) is dropped.
    const rows = full.map((e, ord) => ({
      event_id: e.eventId, source_type: e.platform.toUpperCase(), source_id: e.entityRef, event_type: e.eventType, data: e.payload,
      ts: e.occurredAt, checksum: e.checksum, source_instance: e.instance, origin: e.origin, dedupe_key: e.dedupeKey, sku: e.sku ?? null,
      received_at: e.receivedAt, chk: e.origin !== 'webhook' && e.origin !== 'cdc', ord,
    }));
    const r = await this.pool.query<{ k: 'known' | 'stored'; event_id: string }>(
      `with q as (
         select * from jsonb_to_recordset($1::jsonb) as q(event_id uuid, source_type text, source_id text, event_type text, data jsonb,
           ts timestamptz, checksum text, source_instance text, origin text, dedupe_key text, sku text, received_at timestamptz, chk boolean, ord int)
       ),
       known as (
         select q.event_id from q
          where q.chk and exists (select 1 from source_events s where s.source_type = q.source_type and s.source_instance = q.source_instance
                                                                and s.source_id = q.source_id and s.checksum = q.checksum)
       ),
       ins as (
         insert into source_events (event_id, source_type, source_id, event_type, data, timestamp, status, checksum, source_instance, origin, dedupe_key, sku, received_at)
         select event_id, source_type, source_id, event_type, data, ts, 'RECEIVED', checksum, source_instance, origin, dedupe_key, sku, received_at
           from q where q.event_id not in (select event_id from known)
         on conflict (source_type, source_instance, dedupe_key) do nothing
         returning event_id
       ),
       -- in the order received: the relay publishes by outbox sequence
       ob as (insert into outbox (event_id) select i.event_id from ins i join q using (event_id) order by q.ord)
       select 'known' as k, event_id from known union all select 'stored', event_id from ins`,
      [JSON.stringify(rows)],
    );
    const known = new Set(r.rows.filter((x) => x.k === 'known').map((x) => x.event_id));
    const ids = new Set(r.rows.filter((x) => x.k === 'stored').map((x) => x.event_id));
    const stored = full.filter((e) => ids.has(e.eventId));
    if (stored.length) wakeAfterCommit(this.pool, OUTBOX_CHANNEL);
    const unchanged = known.size;
    const duplicates = full.length - unchanged - stored.length;
    // one emit per (source, origin, type) with its count: a bulk change is thousands of events
    const counts = new Map<string, { source: string; origin: string; eventType: string; count: number }>();
    for (const e of stored) {
      const source = `${e.platform}:${e.instance}`;
      const k = `${source}\u0000${e.origin}\u0000${e.eventType}`;
      const c = counts.get(k);
      if (c) c.count++;
      else counts.set(k, { source, origin: e.origin, eventType: e.eventType, count: 1 });
    }
    for (const c of counts.values()) this.instrumentation.emit('events.ingested', c);
    return { stored, duplicates, unchanged };
  }
}
