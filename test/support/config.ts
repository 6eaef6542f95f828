import { randomBytes } from 'node:crypto';
import { configSchema, type SyncConfig, type SyncConfigInput } from '../../src/config/schema.js';
import { applyEnvOverrides } from '../../src/config/load.js';

/** The database every test schema lives in. */
export const TEST_DATABASE_URL = process.env.SYNCCTL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/syncctl_test';

/** A short random suffix for names (schemas, topics, keys, consumer groups). */
export const randomSuffix = (): string => randomBytes(4).toString('hex');

/**
 * `stack.*` from the CLI's own `SYNCCTL_STACK__*` variables: a run can use a stack of its own
 * (another `stack.dir` and ports, with `SYNCCTL_KAFKA_BROKERS` naming its broker), e.g. to try
 * new Connect or Flink versions beside a stack others are using.
 */
function stackFromEnv(): SyncConfigInput['stack'] {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('SYNCCTL_STACK__')));
  return (applyEnvOverrides({}, env) as SyncConfigInput).stack;
}

/** The config the test run's shared services use (local stack on its default ports unless `SYNCCTL_STACK__*` say otherwise). */
export function testBaseConfig(): SyncConfigInput {
  const stack = stackFromEnv();
  return {
    database: { url: TEST_DATABASE_URL },
    kafka: { brokers: (process.env.SYNCCTL_KAFKA_BROKERS ?? '127.0.0.1:29092').split(',') },
    redis: { url: process.env.SYNCCTL_REDIS_URL ?? 'redis://127.0.0.1:6379/0' },
    logging: { level: 'warn' },
    ...(stack ? { stack } : {}),
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
