import type pg from 'pg';
import { getLogger } from '../../core/logger.js';
import { events as bus, type SyncEventBus } from '../../core/events.js';
import { parseSourceKey, type PlatformRefs, type SourceKey } from '../../core/model.js';
import type { NewRawEvent, RawProductDeleted } from '../../connectors/types.js';
import type { EventStore } from './event-store.js';

/** What a connector offers to find deletions its platform does not announce. */
export interface DeletionChecker {
  /** The ids (of those given) that no longer exist on the platform. */
  gone(known: Array<{ id: string; refs: PlatformRefs }>, signal?: AbortSignal): Promise<Set<string>>;
}

/** Known ids read per round trip. */
const PAGE = 500;

/**
 * Reconciles the ids syncctl knows on one source instance (entity map, SKUs not already marked
 * deleted there) against the platform, and stores a `product_deleted` raw event for each one the
 * platform no longer has: the same canonical deletion a webhook would have given, so the engine
 * stops writing that SKU there and records it (`sync_state` status `DELETED`). The dedupe key
 * carries the channel row's version, so a deletion found again before the engine applied it is
 * stored once, and a product restored and deleted again is found again. Returns how many were found.
 */
export async function checkDeletions(
  pool: pg.Pool,
  store: EventStore,
  key: SourceKey,
  checker: DeletionChecker,
  opts: { signal?: AbortSignal; bus?: SyncEventBus; now?: () => number } = {},
): Promise<number> {
  const { signal, bus: instrumentation = bus, now = Date.now } = opts;
  const { platform, instance } = parseSourceKey(key);
  const log = getLogger('deletions').child({ source: key });
  let after = '';
  let found = 0;
  const started = Date.now();
  for (;;) {
    signal?.throwIfAborted();
    const r = await pool.query<{ sku: string; platform_id: string; refs: PlatformRefs; version: number }>(
      `select e.sku, e.platform_id, e.refs, s.version
         from entity_map e join sync_state s on s.entity_id = e.sku and s.source_type = e.source_key
        where e.source_key = $1 and s.status <> 'DELETED' and e.platform_id > $2
        order by e.platform_id limit $3`,
      [key, after, PAGE],
    );
    if (r.rows.length === 0) break;
    after = r.rows.at(-1)!.platform_id;
    const gone = await checker.gone(r.rows.map((x) => ({ id: x.platform_id, refs: x.refs ?? { id: x.platform_id } })), signal);
    if (gone.size) {
      const at = new Date(Math.floor(now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
      const evs: NewRawEvent[] = r.rows.filter((x) => gone.has(x.platform_id)).map((x) => {
        const payload: RawProductDeleted = { kind: 'product_deleted', productId: x.platform_id, updatedAt: at, skus: [x.sku] };
        return { platform, instance, eventType: 'product.deleted', entityRef: x.platform_id, origin: 'poll', dedupeKey: `reconcile:deleted:${x.platform_id}:${x.version}`, occurredAt: at, payload, sku: x.sku };
      });
      const stored = await store.store(evs);
      found += stored.stored.length;
      if (stored.stored.length) log.info({ deleted: evs.filter((_, i) => i < 20).map((e) => ({ id: e.entityRef, sku: e.sku })), count: stored.stored.length }, 'found deletions the platform did not announce');
    }
    if (r.rows.length < PAGE) break;
  }
  instrumentation.emit('poll.completed', { source: key, resource: 'deletions', found, seconds: (Date.now() - started) / 1000 });
  return found;
}
