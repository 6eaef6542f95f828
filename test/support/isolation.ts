import pg from 'pg';
import { Redis } from 'ioredis';
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
  const admin = createKafka(config.kafka).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${config.kafka.topicPrefix}.`));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // Kafka may be down in a test about Kafka being down
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.redis.keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis may be down in a test about Redis being down
  } finally {
    redis.disconnect();
  }
}
