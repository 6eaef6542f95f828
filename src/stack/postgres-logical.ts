import pg from 'pg';
import { ConfigError, ServiceUnavailableError } from '../core/errors.js';
import { getLogger } from '../core/logger.js';
import { redactUrl } from '../config/redact.js';
import type { StackComponent, StackComponentStatus } from './component.js';
import { PostgresService, pgCtl, probePostgres } from './services.js';

const log = getLogger('stack');
const LOCAL = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** What {@link ensureLogicalWal} found and did. */
export interface LogicalWalResult {
  /** `wal_level` after the call. */
  walLevel: string;
  /** Whether `ALTER SYSTEM SET wal_level = logical` was run. */
  changed: boolean;
  /** Whether the local server was restarted to apply it. */
  restarted: boolean;
}

/** The replication-related server settings Debezium depends on. */
export interface ReplicationSettings {
  walLevel: string;
  maxReplicationSlots: number;
  maxWalSenders: number;
  /** A setting was changed with ALTER SYSTEM and waits for a restart. */
  pendingRestart: boolean;
}

async function withMaintenanceClient<T>(databaseUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const u = new URL(databaseUrl);
  u.pathname = '/postgres';
  const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (err) {
    throw new ServiceUnavailableError('postgres', `PostgreSQL is not reachable at ${redactUrl(databaseUrl)}.`, { cause: err });
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Reads `wal_level`, `max_replication_slots`, `max_wal_senders` and whether a restart is pending. */
export async function readReplicationSettings(databaseUrl: string): Promise<ReplicationSettings> {
  return withMaintenanceClient(databaseUrl, async (c) => {
    const r = await c.query<{ name: string; setting: string; pending_restart: boolean }>(
      "select name, setting, pending_restart from pg_settings where name in ('wal_level', 'max_replication_slots', 'max_wal_senders')",
    );
    const get = (n: string) => r.rows.find((x) => x.name === n);
    return {
      walLevel: get('wal_level')?.setting ?? 'unknown',
      maxReplicationSlots: Number(get('max_replication_slots')?.setting ?? 0),
      maxWalSenders: Number(get('max_wal_senders')?.setting ?? 0),
      pendingRestart: r.rows.some((x) => x.pending_restart),
    };
  });
}

/**
 * Makes sure the local PostgreSQL runs with `wal_level=logical` (needed by Debezium):
 * `ALTER SYSTEM` + a restart of the machine's cluster, only when the level is wrong, and only
 * for a server on this machine that syncctl may manage. A remote server gets a ConfigError
 * with the statements its DBA must run.
 */
export async function ensureLogicalWal(databaseUrl: string, opts: { manage: boolean; restartTimeoutMs?: number }): Promise<LogicalWalResult> {
  const before = await readReplicationSettings(databaseUrl);
  if (before.walLevel === 'logical') return { walLevel: 'logical', changed: false, restarted: false };
  const local = LOCAL.has(new URL(databaseUrl).hostname);
  if (!opts.manage || !local) {
    throw new ConfigError('PG_WAL_LEVEL', `PostgreSQL at ${redactUrl(databaseUrl)} runs with wal_level=${before.walLevel}; Debezium needs wal_level=logical.`, {
      hint: "Run as a superuser: ALTER SYSTEM SET wal_level = 'logical'; then restart PostgreSQL (a reload is not enough).",
      details: { walLevel: before.walLevel },
    });
  }
  log.info({ walLevel: before.walLevel }, 'setting wal_level=logical and restarting the local PostgreSQL');
  await withMaintenanceClient(databaseUrl, (c) => c.query("alter system set wal_level = 'logical'"));
  await pgCtl('restart');
  const deadline = Date.now() + (opts.restartTimeoutMs ?? 30_000);
  for (;;) {
    const p = await probePostgres(databaseUrl);
    if (p) {
      if (p.walLevel !== 'logical') {
        throw new ServiceUnavailableError('postgres', `PostgreSQL restarted but wal_level is still ${p.walLevel}.`, {
          hint: 'Check postgresql.conf / postgresql.auto.conf for a conflicting wal_level setting.',
        });
      }
      return { walLevel: 'logical', changed: true, restarted: true };
    }
    if (Date.now() > deadline) throw new ServiceUnavailableError('postgres', 'PostgreSQL did not come back after the restart for wal_level=logical.');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The machine's PostgreSQL when the stack includes Kafka Connect: like {@link PostgresService},
 * and `up` also makes sure `wal_level=logical`; `status` reports the level and warns when it is wrong.
 */
export class LogicalPostgresService implements StackComponent {
  readonly name = 'postgres';
  private readonly inner: PostgresService;

  constructor(private readonly databaseUrl: string, private readonly manage: boolean) {
    this.inner = new PostgresService(databaseUrl, manage);
  }

  async status(): Promise<StackComponentStatus> {
    const s = await this.inner.status();
    if (!s.ready) return s;
    const r = await readReplicationSettings(this.databaseUrl).catch(() => null);
    if (!r) return s;
    const problems: string[] = [];
    if (r.walLevel !== 'logical') problems.push(`wal_level=${r.walLevel}: CDC needs logical (syncctl stack up --connect sets it)`);
    if (r.maxReplicationSlots < 1 || r.maxWalSenders < 1) problems.push('max_replication_slots/max_wal_senders must be at least 1');
    return {
      ...s,
      detail: problems.length ? `${s.detail}; ${problems.join('; ')}` : s.detail,
      items: [{ walLevel: r.walLevel, maxReplicationSlots: r.maxReplicationSlots, maxWalSenders: r.maxWalSenders, pendingRestart: r.pendingRestart, logicalReady: problems.length === 0 }],
    };
  }

  async up(): Promise<StackComponentStatus> {
    await this.inner.up();
    await ensureLogicalWal(this.databaseUrl, { manage: this.manage });
    return this.status();
  }

  /** The machine's PostgreSQL is not ours to stop. */
  down(): Promise<StackComponentStatus> {
    return this.status();
  }
}
