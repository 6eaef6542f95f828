import type pg from 'pg';
import { newId, payloadChecksum } from '../../core/ids.js';
import type { RawEvent } from '../../core/model.js';
import type { NewRawEvent } from '../../connectors/types.js';
import { events as bus, type SyncEventBus } from '../../core/events.js';

/** The channel the outbox relay LISTENs on; intake NOTIFYs it after each commit. */
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

  /** Stores a batch in one transaction and wakes the relay. */
  async store(batch: NewRawEvent[]): Promise<StoreResult> {
    if (batch.length === 0) return { stored: [], duplicates: 0, unchanged: 0 };
    const now = new Date().toISOString();
    const full: RawEvent[] = batch.map((e) => ({ ...e, eventId: newId(), receivedAt: now, checksum: payloadChecksum(e.payload) }));
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // A poll or backfill finding a state we already hold (any origin) is not new.
      const checkable = full.filter((e) => e.origin !== 'webhook' && e.origin !== 'cdc');
      let known = new Set<string>();
      if (checkable.length) {
        const r = await client.query<{ k: string }>(
          `select source_type || '|' || source_instance || '|' || source_id || '|' || checksum as k
             from source_events s
             join unnest($1::text[], $2::text[], $3::text[], $4::text[]) as q(t, i, id, c)
               on s.source_type = q.t and s.source_instance = q.i and s.source_id = q.id and s.checksum = q.c`,
          [checkable.map((e) => e.platform.toUpperCase()), checkable.map((e) => e.instance), checkable.map((e) => e.entityRef), checkable.map((e) => e.checksum)],
        );
        known = new Set(r.rows.map((x) => x.k));
      }
      const fresh = full.filter((e) => !known.has(`${e.platform.toUpperCase()}|${e.instance}|${e.entityRef}|${e.checksum}`));
      const unchanged = full.length - fresh.length;
      let stored: RawEvent[] = [];
      if (fresh.length) {
        const r = await client.query<{ event_id: string }>(
          `insert into source_events (event_id, source_type, source_id, event_type, data, timestamp, status, checksum,
                                      source_instance, origin, dedupe_key, sku, received_at)
           select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::text[],
                                $9::text[], $10::text[], $11::text[], $12::text[], $13::timestamptz[])
           on conflict (source_type, source_instance, dedupe_key) do nothing
           returning event_id`,
          [
            fresh.map((e) => e.eventId),
            fresh.map((e) => e.platform.toUpperCase()),
            fresh.map((e) => e.entityRef),
            fresh.map((e) => e.eventType),
            fresh.map((e) => JSON.stringify(e.payload)),
            fresh.map((e) => e.occurredAt),
            fresh.map(() => 'RECEIVED'),
            fresh.map((e) => e.checksum),
            fresh.map((e) => e.instance),
            fresh.map((e) => e.origin),
            fresh.map((e) => e.dedupeKey),
            fresh.map((e) => e.sku ?? null),
            fresh.map((e) => e.receivedAt),
          ],
        );
        const ids = new Set(r.rows.map((x) => x.event_id));
        stored = fresh.filter((e) => ids.has(e.eventId));
      }
      if (stored.length) {
        // In the order received: the relay publishes by outbox sequence.
        await client.query(`insert into outbox (event_id) select * from unnest($1::uuid[])`, [stored.map((e) => e.eventId)]);
        await client.query(`select pg_notify($1, '')`, [OUTBOX_CHANNEL]);
      }
      await client.query('COMMIT');
      const duplicates = fresh.length - stored.length;
      for (const e of stored) this.instrumentation.emit('events.ingested', { source: `${e.platform}:${e.instance}`, origin: e.origin, eventType: e.eventType, count: 1 });
      return { stored, duplicates, unchanged };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

/** Maps a `source_events` row back to a RawEvent. */
export function rowToRawEvent(r: Record<string, unknown>): RawEvent {
  const ts = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
  return {
    eventId: String(r.event_id),
    platform: String(r.source_type).toLowerCase() as RawEvent['platform'],
    instance: String(r.source_instance),
    eventType: String(r.event_type),
    entityRef: String(r.source_id),
    origin: r.origin as RawEvent['origin'],
    dedupeKey: String(r.dedupe_key),
    occurredAt: ts(r.timestamp),
    receivedAt: ts(r.received_at),
    checksum: String(r.checksum),
    payload: r.data,
    sku: (r.sku as string | null) ?? null,
  };
}
