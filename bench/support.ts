// Helpers shared by benchmarks: a config on the local stack with a private topic prefix.
import { randomBytes } from 'node:crypto';
import { configSchema, type SyncConfig } from '../src/config/schema.js';
import { stackUp } from '../src/stack/manager.js';

/** A config for one benchmark run, its own topic prefix, on the local stack (started if needed). */
export async function benchConfig(name: string): Promise<SyncConfig> {
  const config = configSchema.parse({ kafka: { topicPrefix: `bench.${name}.${randomBytes(3).toString('hex')}` }, logging: { level: 'warn' } });
  await stackUp(config);
  return config;
}

/** Resident set size of this process in MB. */
export const rssMb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);
