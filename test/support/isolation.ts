import pg from 'pg';
import { deleteKeysByPrefix } from '../../src/pipeline/cache/redis.js';
import { deleteTopicsByPrefix } from '../../src/pipeline/kafka/topics.js';
import type { SyncConfig, SyncConfigInput } from '../../src/config/schema.js';
import { ensureDatabase, migrate } from '../../src/db/migrate.js';
import { createPool, quoteIdent } from '../../src/db/pool.js';
import { createKafka } from '../../src/pipeline/kafka/client.js';
import { isolatedConfig } from './config.js';

/** Everything one test file gets for itself, and how to give it back. */
export interface Isolation {
  config: SyncConfig;
  /** A pool on the file's own schema (migrated). */
  pool: pg.Pool;
  /** Drops the schema, the topics and the Redis keys (kept when `keep` is true, for inspection). */
  cleanup(keep?: boolean): Promise<void>;
}

/**
 * Gives a test file its own PostgreSQL schema (migrated), Kafka topic prefix and Redis key
 * prefix. Use in `before`, and call `cleanup` in `after` (keep on failure for inspection).
 */
export async function isolate(name: string, overrides: SyncConfigInput = {}, opts: { migrate?: boolean } = {}): Promise<Isolation> {
  const config = isolatedConfig(name, overrides);
  await ensureDatabase(config.database.url);
  if (opts.migrate !== false) {
    const c = new pg.Client({ connectionString: config.database.url });
    await c.connect();
    try {
      await migrate(c, config.database.schema);
    } finally {
      await c.end();
    }
  }
  const pool = await createPool({ url: config.database.url, schema: config.database.schema, max: 5 });
  return {
    config,
    pool,
    async cleanup(keep = false) {
      await pool.end().catch(() => undefined);
      if (keep) {
        process.stderr.write(`[test] kept schema ${config.database.schema} and topics ${config.kafka.topicPrefix}.* for inspection\n`);
        return;
      }
      await dropEverything(config);
    },
  };
}

/** Drops a test config's schema, topics and Redis keys. */
export async function dropEverything(config: SyncConfig): Promise<void> {
  const c = new pg.Client({ connectionString: config.database.url });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(config.database.schema)} CASCADE`);
  } finally {
    await c.end();
  }
  await deleteTopicsByPrefix(createKafka(config.kafka).admin(), config.kafka.topicPrefix);
  await deleteKeysByPrefix(config.redis.url, config.redis.keyPrefix);
}
