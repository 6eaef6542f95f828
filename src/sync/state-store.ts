import type pg from 'pg';
import type { Redis } from 'ioredis';
import { events as bus, type SyncEventBus } from '../core/events.js';
import { RetriableError } from '../core/errors.js';
import { emptyBundle, ENTITY_ROW, type ChannelState, type EntityState, type SkuBundle } from './state.js';

/** Another worker changed a row since we read it (optimistic concurrency): reload and redo. */
export class StaleStateError extends RetriableError {
  constructor(count: number) {
    super('STATE_CHANGED', `${count} state row(s) changed concurrently`);
  }
}

/** One `sync_state` row as sent to PostgreSQL. */
interface StateRow {
  id: string;
  t: string;
  v: number;
  d: unknown;
  st: string;
  sv: string | null;
}

interface CachedBundle {
  sku: string;
  entity: EntityState;
  channels: Record<string, ChannelState>;
  rowVersions: Record<string, number>;
}

/**
 * The engine's state: `sync_state` rows in PostgreSQL (the truth), with Redis in front
 * (read-through, write-through after commit, TTL). Correct when Redis is empty, flushed or
 * down: every save checks row versions in PostgreSQL, so a stale cache costs a retry, never a
 * wrong write.
 */
export class StateStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly redis: Redis | null,
    private readonly keyPrefix: string,
    private readonly ttlSeconds: number,
    private readonly instrumentation: SyncEventBus = bus,
  ) {}

  private key(sku: string): string {
    return `${this.keyPrefix}state:${sku}`;
  }

  /** Loads the bundles of `skus` (cache first unless `fromDatabase`). */
  async load(skus: string[], fromDatabase = false): Promise<Map<string, SkuBundle>> {
    const out = new Map<string, SkuBundle>();
    let missing = skus;
    if (!fromDatabase && this.redis && skus.length) {
      try {
        const vals = await this.redis.mget(...skus.map((s) => this.key(s)));
        missing = [];
        vals.forEach((v, i) => {
          const sku = skus[i]!;
          if (v) {
            const c = JSON.parse(v) as CachedBundle;
            out.set(sku, { ...c, dirty: new Set() });
          } else missing.push(sku);
        });
        this.instrumentation.emit('cache.access', { outcome: 'hit', count: skus.length - missing.length });
        if (missing.length) this.instrumentation.emit('cache.access', { outcome: 'miss', count: missing.length });
      } catch {
        this.instrumentation.emit('cache.access', { outcome: 'error', count: skus.length });
        missing = skus;
      }
    }
    if (missing.length) {
      const r = await this.pool.query<{ entity_id: string; source_type: string; version: number; data: unknown }>(
        'select entity_id, source_type, version, data from sync_state where entity_id = any($1::text[])',
        [missing],
      );
      for (const sku of missing) out.set(sku, emptyBundle(sku));
      for (const row of r.rows) {
        const b = out.get(row.entity_id)!;
        b.rowVersions[row.source_type] = row.version;
        if (row.source_type === ENTITY_ROW) b.entity = { ...b.entity, ...(row.data as EntityState) };
        else b.channels[row.source_type] = row.data as ChannelState;
      }
    }
    return out;
  }

  /**
   * Writes the dirty rows of `bundles` inside `client`'s transaction, each only if its version
   * is still the one loaded; throws StaleStateError otherwise (the caller rolls back and retries).
   */
  async save(client: pg.PoolClient, bundleList: Iterable<SkuBundle>): Promise<void> {
    // Read twice (rows now, row versions after the write): an iterator (Map.values()) must be
    // materialised, or the versions are never advanced and the next batch meets its own rows
    // as concurrent changes (a retry per batch).
    const bundles = [...bundleList];
    // One JSON document per statement (not parallel text arrays): node serialises each row's data
    // once, without array-literal escaping, and PostgreSQL parses it in one pass.
    const fresh: StateRow[] = [];
    const known: StateRow[] = [];
    for (const b of bundles) {
      for (const row of b.dirty) {
        const v = (b.rowVersions[row] ?? 0) + 1;
        let r: StateRow;
        if (row === ENTITY_ROW) {
          const st = Object.keys(b.entity.held).length || Object.keys(b.entity.identityConflicts).length ? 'CONFLICT' : 'IN_SYNC';
          r = { id: b.sku, t: row, v, d: b.entity, st, sv: b.entity.authority.version };
        } else {
          const ch = b.channels[row]!;
          const st = ch.deleted ? 'DELETED' : ch.refs ? (ch.expected === ch.observed?.available ? 'IN_SYNC' : 'PENDING') : 'UNMATCHED';
          r = { id: b.sku, t: row, v, d: ch, st, sv: ch.observed?.version ?? null };
        }
        (v === 1 ? fresh : known).push(r);
      }
    }
    const total = fresh.length + known.length;
    if (total === 0) return;
    // Rows we loaded (version > 0) are updated only if still at that version; rows new to us are
    // inserted only if nobody created them meanwhile. A cache that disagrees with PostgreSQL
    // (flushed, stale, restored database) therefore costs a retry, never a lost update.
    let changed = 0;
    if (fresh.length) {
      const r = await client.query(
        `insert into sync_state (entity_id, source_type, last_sync_at, version, data, status, source_version, updated_at)
         select id, t, now(), v, d, st, sv, now() from jsonb_to_recordset($1::jsonb) as u(id text, t text, v int, d jsonb, st text, sv text)
         on conflict (entity_id, source_type) do nothing`,
        [JSON.stringify(fresh)],
      );
      changed += r.rowCount ?? 0;
    }
    if (known.length) {
      const r = await client.query(
        `update sync_state s set version = u.v, data = u.d, status = u.st, source_version = u.sv, last_sync_at = now(), updated_at = now()
           from jsonb_to_recordset($1::jsonb) as u(id text, t text, v int, d jsonb, st text, sv text)
          where s.entity_id = u.id and s.source_type = u.t and s.version = u.v - 1`,
        [JSON.stringify(known)],
      );
      changed += r.rowCount ?? 0;
    }
    if (changed !== total) throw new StaleStateError(total - changed);
    for (const b of bundles) {
      for (const row of b.dirty) b.rowVersions[row] = (b.rowVersions[row] ?? 0) + 1;
    }
  }

  /** Write-through after commit; a failure deletes the keys (or leaves them for the version check). */
  async cache(bundles: SkuBundle[]): Promise<void> {
    if (!this.redis || bundles.length === 0) return;
    const changed = bundles.filter((b) => b.dirty.size > 0);
    if (changed.length === 0) return;
    try {
      const p = this.redis.pipeline();
      for (const b of changed) {
        const c: CachedBundle = { sku: b.sku, entity: b.entity, channels: b.channels, rowVersions: b.rowVersions };
        p.set(this.key(b.sku), JSON.stringify(c), 'EX', this.ttlSeconds);
      }
      await p.exec();
    } catch {
      this.instrumentation.emit('cache.access', { outcome: 'error', count: changed.length });
      await this.forget(changed.map((b) => b.sku));
    }
  }

  /** Drops cached bundles (after a failed save, or when state changed outside the engine). */
  async forget(skus: string[]): Promise<void> {
    if (!this.redis || skus.length === 0) return;
    await this.redis.del(...skus.map((s) => this.key(s))).catch(() => undefined);
  }
}
