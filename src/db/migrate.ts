import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { BugError } from '../core/errors.js';
import { quoteIdent, unreachable } from './pool.js';

/** One numbered SQL migration file (`NNN_name.sql`). */
export interface Migration {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

/** What a migration run did. */
export interface MigrationResult {
  /** The database was created by this run. */
  createdDatabase: boolean;
  applied: Array<Pick<Migration, 'id' | 'name'>>;
  pending: Migration[];
  /** Applied migrations whose file has changed since (a warning for the operator). */
  changed: Array<Pick<Migration, 'id' | 'name'>>;
  schema: string;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Reads the migrations shipped with syncctl, in order. */
export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return files.map((f) => {
    const sql = readFileSync(`${dir}/${f}`, 'utf8');
    const id = Number(f.slice(0, 3));
    if (!Number.isInteger(id)) throw new BugError(`bad migration file name ${f}`);
    return { id, name: f.replace(/\.sql$/, ''), sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

/** Creates the database named in `url` when it does not exist; true when it was created. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const dbName = decodeURIComponent(target.pathname.replace(/^\//, '')) || 'postgres';
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw unreachable(url, err);
  }
  try {
    const r = await client.query('select 1 from pg_database where datname = $1', [dbName]);
    if (r.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(dbName)}`);
    } catch (err) {
      if ((err as { code?: string }).code === '42P04') return false; // created concurrently
      throw err;
    }
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Applies pending migrations to `schema` in one transaction under an advisory lock, so two
 * processes starting together never race. With `dryRun`, only reports what is pending.
 */
export async function migrate(client: pg.ClientBase, schema: string, opts: { dryRun?: boolean; migrations?: Migration[] } = {}): Promise<Omit<MigrationResult, 'createdDatabase'>> {
  const all = opts.migrations ?? listMigrations();
  const s = quoteIdent(schema);
  if (opts.dryRun) {
    const applied = await readApplied(client, schema);
    return { applied: [], pending: all.filter((m) => !applied.has(m.id)), changed: changedOf(all, applied), schema };
  }
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`syncctl.migrate.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`SET LOCAL search_path TO ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.syncctl_migrations (
      id INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum VARCHAR(64) NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const applied = await readApplied(client, schema);
    const pending = all.filter((m) => !applied.has(m.id));
    for (const m of pending) {
      await client.query(m.sql);
      await client.query(`INSERT INTO ${s}.syncctl_migrations (id, name, checksum) VALUES ($1, $2, $3)`, [m.id, m.name, m.checksum]);
    }
    await client.query('COMMIT');
    return { applied: pending.map(({ id, name }) => ({ id, name })), pending: [], changed: changedOf(all, applied), schema };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function readApplied(client: pg.ClientBase, schema: string): Promise<Map<number, string>> {
  const exists = await client.query('select 1 from information_schema.tables where table_schema = $1 and table_name = $2', [schema, 'syncctl_migrations']);
  if (!exists.rowCount) return new Map();
  const r = await client.query<{ id: number; checksum: string }>(`SELECT id, checksum FROM ${quoteIdent(schema)}.syncctl_migrations`);
  return new Map(r.rows.map((x) => [x.id, x.checksum]));
}

function changedOf(all: Migration[], applied: Map<number, string>): Array<Pick<Migration, 'id' | 'name'>> {
  return all.filter((m) => applied.has(m.id) && applied.get(m.id) !== m.checksum).map(({ id, name }) => ({ id, name }));
}
