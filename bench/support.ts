// Helpers shared by benchmarks: a config on the local stack with a private topic prefix.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { configSchema, type SyncConfig } from '../src/config/schema.js';
import { stackUp } from '../src/stack/manager.js';
import { ensureDatabase, migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { createShopifyConnector } from '../src/connectors/shopify/index.js';
import { EventStore } from '../src/pipeline/intake/event-store.js';
import { WebhookIntake } from '../src/pipeline/intake/webhook-intake.js';

/** A config for one benchmark run, its own topic prefix, on the local stack (started if needed). */
export async function benchConfig(name: string): Promise<SyncConfig> {
  const config = configSchema.parse({ kafka: { topicPrefix: `bench.${name}.${randomBytes(3).toString('hex')}` }, logging: { level: 'warn' } });
  await stackUp(config);
  return config;
}

/** Resident set size of this process in MB. */
export const rssMb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);

/**
 * Webhook intake for one Shopify store on a private, migrated schema of the bench database (no
 * Kafka needed): what the intake and flood benchmarks put a listener in front of. `drop()` removes
 * the schema.
 */
export async function benchShopifyIntake(name: string, clientSecret: string): Promise<{ config: SyncConfig; pool: pg.Pool; intake: WebhookIntake; drop(): Promise<void> }> {
  const schema = `bench_${name}_${Date.now().toString(36)}`;
  const config = configSchema.parse({ database: { url: 'postgres://postgres@127.0.0.1:5432/syncctl_bench', schema } });
  await ensureDatabase(config.database.url);
  const c = new pg.Client({ connectionString: config.database.url });
  await c.connect();
  await migrate(c, schema);
  const pool = await createPool({ url: config.database.url, schema, max: 10 });
  const shop = createShopifyConnector('main', { shop: 'bench.myshopify.com', url: 'http://127.0.0.1:1', apiVersion: '2026-04', accessToken: 'x', clientSecret, plan: 'standard', buffer: 0, pollIntervalSeconds: 60, subscriptionCheckSeconds: 300 });
  const intake = new WebhookIntake(pool, new EventStore(pool), new Map([['shopify/main', shop.source]]));
  return {
    config,
    pool,
    intake,
    async drop() {
      await pool.end();
      await c.query(`drop schema "${schema}" cascade`);
      await c.end();
    },
  };
}
