import pg from 'pg';
import { ServiceUnavailableError } from '../core/errors.js';
import { getLogger } from '../core/logger.js';
import { redactUrl } from '../config/redact.js';

/** Settings of a connection pool. */
export interface PoolOptions {
  url: string;
  /** Schema put first on the search_path of every connection. */
  schema: string;
  max?: number;
  statementTimeoutMs?: number;
  applicationName?: string;
}

/** Opens a pool whose connections use `schema`; checks it can connect (ServiceUnavailableError otherwise). */
export async function createPool(opts: PoolOptions): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    application_name: opts.applicationName ?? 'syncctl',
    statement_timeout: opts.statementTimeoutMs || undefined,
    options: `-c search_path=${quoteIdent(opts.schema)},public`,
  });
  const log = getLogger('db');
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle PostgreSQL connection failed'));
  try {
    const c = await pool.connect();
    c.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw unreachable(opts.url, err);
  }
  return pool;
}

/** The error for a database that cannot be reached, with a hint that fits the cause. */
export function unreachable(url: string, err: unknown): ServiceUnavailableError {
  const code = (err as { code?: string }).code;
  const hint =
    code === '3D000'
      ? 'The database does not exist yet: run `syncctl init-db`.'
      : code === '28P01' || code === '28000'
        ? 'Authentication failed: check the user and password in database.url (SYNCCTL_DATABASE_URL).'
        : 'Is PostgreSQL running? Start it (or `syncctl stack up`), or fix database.url (SYNCCTL_DATABASE_URL).';
  return new ServiceUnavailableError('postgres', `Cannot connect to PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err, hint });
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * True for the errors PostgreSQL raises to break a lock cycle or a serialisation conflict
 * (`40P01` deadlock_detected, `40001` serialization_failure): the transaction was rolled back and
 * running it again is safe. Statements that take several row or index locks in one transaction
 * take them in one order (target, SKU, kind) so that cycles stay rare; a retry is counted
 * (`syncctl_retries_total{code="DEADLOCK"}`).
 */
export function isLockConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/** Runs `fn` (a whole transaction) again when PostgreSQL broke a lock cycle in it (up to `attempts` times). */
export async function retryOnLockConflict<T>(fn: () => Promise<T>, onRetry: (attempt: number, err: unknown) => void, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isLockConflict(err) || attempt >= attempts) throw err;
      onRetry(attempt, err);
    }
  }
}

/** Runs `fn` inside a transaction on one client of the pool. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Wakes the LISTENers of `channel` once a transaction has committed. Not inside the transaction:
 * a transaction that NOTIFYs takes a database-wide lock from its commit until its WAL is flushed,
 * which serialises every such commit (intake requests queued behind the sync worker's large
 * commits: seconds of latency under load). A lost wake-up costs the listener's poll interval.
 */
export function wakeAfterCommit(pool: pg.Pool, channel: string): void {
  pool.query(`select pg_notify($1, '')`, [channel]).catch(() => undefined);
}
