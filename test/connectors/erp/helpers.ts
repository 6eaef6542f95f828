// Shared fixtures of the ERP CDC tests: the local Connect worker, throwaway ERP databases and
// a kafkajs reader of Debezium topics.
import pg from 'pg';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { configSchema } from '../../../src/config/schema.js';
import { stackEnv } from '../../../src/stack/manager.js';
import { ScriptComponent } from '../../../src/stack/script-component.js';
import { ensureLogicalWal } from '../../../src/stack/postgres-logical.js';
import { randomSuffix, testBaseConfig } from '../../support/config.js';

/** Server URL for admin work (as the superuser). */
export const ADMIN_URL = process.env.SYNCCTL_TEST_ERP_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const config = configSchema.parse(testBaseConfig());
/** REST URL of the test run's Connect worker. */
export const CONNECT_URL = `http://127.0.0.1:${config.stack.connect.port}`;
export const BROKERS = config.kafka.brokers;

/** Brings up Kafka (if the global setup did not) and Connect, and makes sure wal_level=logical. Idempotent. */
export async function connectUp(): Promise<void> {
  const env = stackEnv(config);
  await new ScriptComponent('kafka', env).up();
  await new ScriptComponent('connect', env).up();
  await ensureLogicalWal(ADMIN_URL, { manage: true });
}

/** A fresh name for a database, slot, publication, topic prefix or role: `<base>_<random>`. */
export const uniqueName = (base: string): string => `${base}_${randomSuffix()}`;

/** The URL of database `db` on the test server (optionally as another role). */
export function dbUrl(db: string, user = 'postgres'): string {
  const u = new URL(ADMIN_URL);
  u.username = user;
  u.pathname = `/${db}`;
  return u.toString();
}

/** Runs SQL on a database as the superuser. */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query<R>(text, params);
  } finally {
    await c.end();
  }
}

/** Drops a test database even while connections are open. */
export async function dropDatabase(db: string): Promise<void> {
  await sql(ADMIN_URL, `drop database if exists ${pg.escapeIdentifier(db)} with (force)`);
}

/** Deletes every topic starting with `<prefix>.` (Debezium's table and message topics). */
export async function deleteTopics(prefix: string): Promise<void> {
  const admin = new Kafka({ clientId: 'erp-test-admin', brokers: BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`) || t === `__debezium-heartbeat.${prefix}`);
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

/** One record of a Debezium topic, JSON-decoded (value null for a tombstone). */
export interface DebeziumRecord {
  topic: string;
  key: Record<string, unknown> | null;
  value: {
    before: Record<string, unknown> | null;
    after: Record<string, unknown> | null;
    op: 'c' | 'u' | 'd' | 'r' | 't' | 'm';
    source: Record<string, unknown>;
  } | null;
}

/** Reads Debezium topics from the beginning with kafkajs and keeps every record. */
export class TopicReader {
  readonly records: DebeziumRecord[] = [];
  private consumer?: Consumer;

  constructor(private readonly topics: string[]) {}

  async start(): Promise<this> {
    const kafka = new Kafka({ clientId: 'erp-test-reader', brokers: BROKERS, logLevel: logLevel.NOTHING });
    // Create the topics first (as the broker would on Debezium's first record), so subscribing
    // does not race the broker's auto-creation.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: this.topics.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true }).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
    this.consumer = kafka.consumer({ groupId: uniqueName('erp-test-reader') });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        this.records.push({
          topic,
          key: message.key ? JSON.parse(message.key.toString()) : null,
          value: message.value ? JSON.parse(message.value.toString()) : null,
        });
      },
    });
    return this;
  }

  /** Waits (bounded) until `pick` finds what it wants in the records read so far. */
  async waitFor<T>(what: string, pick: (records: DebeziumRecord[]) => T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = pick(this.records);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; read ${this.records.length} records`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
