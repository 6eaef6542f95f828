import pg from 'pg';
import type { SyncConfig } from '../config/schema.js';
import { ensureDatabase, migrate, type Migration } from '../db/migrate.js';
import { quoteIdent, unreachable } from '../db/pool.js';
import { createKafka } from '../pipeline/kafka/client.js';
import { allTopicNames, ensureTopics, pipelineTopics } from '../pipeline/kafka/topics.js';
import { describeError } from '../core/errors.js';

/** Options of {@link initDb}. */
export interface InitDbOptions {
  /** Report pending SQL without changing anything. */
  dryRun?: boolean;
  /** Skip creating Kafka topics. */
  skipTopics?: boolean;
}

/** What `syncctl init-db` did. */
export interface InitDbResult {
  database: string;
  schema: string;
  createdDatabase: boolean;
  applied: string[];
  pending: Array<{ name: string; sql: string }>;
  changedSinceApplied: string[];
  topics: { created: string[]; existing: string[]; skipped?: string };
  /** Nothing was changed (already up to date). */
  upToDate: boolean;
}

/** Creates the database if missing, applies pending migrations, creates the pipeline's Kafka topics. */
export async function initDb(config: SyncConfig, opts: InitDbOptions = {}): Promise<InitDbResult> {
  const dbName = decodeURIComponent(new URL(config.database.url).pathname.slice(1));
  const createdDatabase = opts.dryRun ? false : await ensureDatabase(config.database.url);
  const client = new pg.Client({ connectionString: config.database.url, connectionTimeoutMillis: 5000, application_name: 'syncctl init-db' });
  let res: Awaited<ReturnType<typeof migrate>>;
  try {
    await client.connect();
  } catch (err) {
    if (opts.dryRun && (err as { code?: string }).code === '3D000') {
      res = await dryRunOnMissingDatabase(config.database.schema);
      return finish(res, false);
    }
    throw unreachable(config.database.url, err);
  }
  try {
    res = await migrate(client, config.database.schema, { dryRun: opts.dryRun });
  } finally {
    await client.end().catch(() => undefined);
  }
  return finish(res, createdDatabase);

  async function finish(r: Awaited<ReturnType<typeof migrate>>, created: boolean): Promise<InitDbResult> {
    const topics = opts.dryRun || opts.skipTopics ? { created: [], existing: [], skipped: opts.dryRun ? 'dry run' : 'skipped' } : await createTopics(config);
    return {
      database: dbName,
      schema: config.database.schema,
      createdDatabase: created,
      applied: r.applied.map((m) => m.name),
      pending: r.pending.map((m: Migration) => ({ name: m.name, sql: m.sql })),
      changedSinceApplied: r.changed.map((m) => m.name),
      topics,
      upToDate: !created && r.applied.length === 0 && r.pending.length === 0 && topics.created.length === 0,
    };
  }
}

async function dryRunOnMissingDatabase(schema: string) {
  const { listMigrations } = await import('../db/migrate.js');
  return { applied: [], pending: listMigrations(), changed: [], schema };
}

async function createTopics(config: SyncConfig): Promise<InitDbResult['topics']> {
  const kafka = createKafka({ ...config.kafka, connectionTimeoutMs: Math.min(config.kafka.connectionTimeoutMs, 3000) }, { retry: { retries: 1, initialRetryTime: 200 } });
  const admin = kafka.admin();
  const names = allTopicNames(pipelineTopics(config.kafka.topicPrefix));
  try {
    await admin.connect();
    const created = await ensureTopics(admin, names, config.kafka.partitions, config.kafka.replicationFactor);
    return { created, existing: names.filter((n) => !created.includes(n)) };
  } catch (err) {
    return { created: [], existing: [], skipped: `Kafka not reachable (${describeError(err).message}); run init-db again once it is up` };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Drops a schema and everything in it (tests and `--reset`). */
export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}
