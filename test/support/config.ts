import { randomBytes } from 'node:crypto';
import { configSchema, type SyncConfig, type SyncConfigInput } from '../../src/config/schema.js';

/** The database every test schema lives in. */
export const TEST_DATABASE_URL = process.env.SYNCCTL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/syncctl_test';

/** A short random suffix for names (schemas, topics, keys, consumer groups). */
export const randomSuffix = (): string => randomBytes(4).toString('hex');

/** The config the test run's shared services use (local stack on its default ports). */
export function testBaseConfig(): SyncConfigInput {
  return {
    database: { url: TEST_DATABASE_URL },
    kafka: { brokers: (process.env.SYNCCTL_KAFKA_BROKERS ?? '127.0.0.1:29092').split(',') },
    redis: { url: process.env.SYNCCTL_REDIS_URL ?? 'redis://127.0.0.1:6379/0' },
    logging: { level: 'warn' },
  };
}

/** A full validated config for one test file: its own schema, topic prefix and Redis prefix. */
export function isolatedConfig(name: string, overrides: SyncConfigInput = {}): SyncConfig {
  const id = `${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomSuffix()}`;
  const base = testBaseConfig();
  return configSchema.parse({
    ...base,
    ...overrides,
    database: { ...base.database, schema: `t_${id}`.slice(0, 60), ...overrides.database },
    kafka: { ...base.kafka, topicPrefix: `test.${id}`, partitions: 2, ...overrides.kafka },
    redis: { ...base.redis, keyPrefix: `test:${id}:`, ...overrides.redis },
  });
}
