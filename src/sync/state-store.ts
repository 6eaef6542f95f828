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
  async save(client: pg.PoolClient, bundles: Iterable<SkuBundle>): Promise<void> {
    const ids: string[] = [];
    const types: string[] = [];
    const versions: number[] = [];
    const data: string[] = [];
    const statuses: string[] = [];
    const srcVersions: Array<string | null> = [];
    for (const b of bundles) {
      for (const row of b.dirty) {
        const next = (b.rowVersions[row] ?? 0) + 1;
        ids.push(b.sku);
        types.push(row);
        versions.push(next);
        if (row === ENTITY_ROW) {
          data.push(JSON.stringify(b.entity));
          statuses.push(Object.keys(b.entity.held).length || Object.keys(b.entity.identityConflicts).length ? 'CONFLICT' : 'IN_SYNC');
          srcVersions.push(b.entity.authority.version);
        } else {
          const ch = b.channels[row]!;
          data.push(JSON.stringify(ch));
          statuses.push(ch.deleted ? 'DELETED' : ch.refs ? (ch.expected === ch.observed?.available ? 'IN_SYNC' : 'PENDING') : 'UNMATCHED');
          srcVersions.push(ch.observed?.version ?? null);
        }
      }
    }
    if (ids.length === 0) return;
    // Rows we loaded (version > 0) are updated only if still at that version; rows new to us are
    // inserted only if nobody created them meanwhile. A cache that disagrees with PostgreSQL
    // (flushed, stale, restored database) therefore costs a retry, never a lost update.
    const isNew = versions.map((v) => v === 1);
    const pick = <T>(arr: T[], wantNew: boolean) => arr.filter((_, i) => isNew[i] === wantNew);
    let changed = 0;
    if (isNew.some(Boolean)) {
      const r = await client.query(
        `insert into sync_state (entity_id, source_type, last_sync_at, version, data, status, source_version, updated_at)
         select id, t, now(), v, d, s, sv, now() from unnest($1::text[], $2::text[], $3::int[], $4::jsonb[], $5::text[], $6::text[]) as u(id, t, v, d, s, sv)
         on conflict (entity_id, source_type) do nothing`,
        [pick(ids, true), pick(types, true), pick(versions, true), pick(data, true), pick(statuses, true), pick(srcVersions, true)],
      );
      changed += r.rowCount ?? 0;
    }
    if (isNew.some((x) => !x)) {
      const r = await client.query(
        `update sync_state s set version = u.v, data = u.d, status = u.st, source_version = u.sv, last_sync_at = now(), updated_at = now()
           from unnest($1::text[], $2::text[], $3::int[], $4::jsonb[], $5::text[], $6::text[]) as u(id, t, v, d, st, sv)
          where s.entity_id = u.id and s.source_type = u.t and s.version = u.v - 1`,
        [pick(ids, false), pick(types, false), pick(versions, false), pick(data, false), pick(statuses, false), pick(srcVersions, false)],
      );
      changed += r.rowCount ?? 0;
    }
    if (changed !== ids.length) throw new StaleStateError(ids.length - changed);
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
