import pg from 'pg';
import { deleteTopicsByPrefix } from '../../pipeline/kafka/topics.js';
import type { SyncConfig } from '../../config/schema.js';
import { quoteIdent } from '../../db/pool.js';
import { ensureDatabase } from '../../db/migrate.js';
import { DebeziumConnector } from '../../connectors/erp/debezium.js';
import { createKafka } from '../../pipeline/kafka/client.js';

/** The demo's own schema, so a demo never touches a real installation's state. */
export const DEMO_SCHEMA = 'syncctl_demo';

/** The config the demo runs with: its own schema, topic prefix and consumer groups for this run. */
export function demoConfig(config: SyncConfig): SyncConfig {
  const run = Date.now().toString(36);
  // `syncctl-demo-<run>` with the default topic prefix
  const prefix = `${config.kafka.topicPrefix}-demo-${run}`;
  return {
    ...config,
    database: { ...config.database, schema: DEMO_SCHEMA },
    kafka: { ...config.kafka, topicPrefix: prefix },
    redis: { ...config.redis, keyPrefix: `${prefix}:` },
    daemon: { ...config.daemon, groupPrefix: prefix, settleSeconds: Math.min(config.daemon.settleSeconds, 3), drainTimeoutSeconds: Math.min(config.daemon.drainTimeoutSeconds, 15) },
    monitoring: { ...config.monitoring, metricsHistory: { ...config.monitoring.metricsHistory, intervalSeconds: 10 } },
  };
}

/** The Kafka Connect URL of the config (explicit, or the local stack's). */
export const connectUrlOf = (config: SyncConfig): string => config.sources.erp?.connectUrl ?? `http://127.0.0.1:${config.stack.connect.port}`;

/**
 * Starts the demo from nothing: drops the demo schema, removes the ERP connector (with its
 * replication slot and publication) and recreates the sample ERP database.
 */
export async function resetDemoState(config: SyncConfig): Promise<void> {
  // On a fresh machine syncctl's database does not exist yet (init-db runs after the reset).
  await ensureDatabase(config.database.url);
  const c = new pg.Client({ connectionString: config.database.url });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(DEMO_SCHEMA)} CASCADE`);
  } finally {
    await c.end();
  }
  const erp = config.sources.erp;
  if (!erp) return;
  await new DebeziumConnector(erp, connectUrlOf(config), { connectorName: erp.connectorName }).remove().catch(() => undefined);
  // The previous runs' change events: a new run reading them would see their SKUs (and quantities) as the ERP's.
  await removeErpTopics(config);
  const u = new URL(erp.databaseUrl);
  const db = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: u.toString() });
  await admin.connect();
  try {
    await admin.query(`select pg_drop_replication_slot(slot_name) from pg_replication_slots where database = $1 and not active`, [db]);
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [db]);
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)}`);
  } finally {
    await admin.end();
  }
}

/** Removes the demo's ERP connector from Kafka Connect (with its replication slot and publication). */
export async function removeDemoConnector(config: SyncConfig, timeoutMs = 30_000): Promise<void> {
  const erp = config.sources.erp;
  if (erp) await new DebeziumConnector(erp, connectUrlOf(config), { connectorName: erp.connectorName }).remove(timeoutMs);
}

/** Deletes the topics of the demo's ERP connector (`<erp.topicPrefix>.*` and its heartbeat topic). */
export async function removeErpTopics(config: SyncConfig): Promise<void> {
  const erp = config.sources.erp;
  if (!erp) return;
  const admin = createKafka(config.kafka).admin();
  try {
    await admin.connect();
    const heartbeat = `__debezium-heartbeat.${erp.topicPrefix}`;
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${erp.topicPrefix}.`) || t === heartbeat);
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Deletes the topics earlier demo runs left (`<topicPrefix>-demo-<run>.*`: a run ended by a
 * second Ctrl-C does not wait to delete its own). Takes the user's config, not the run's.
 */
export async function removeStaleDemoTopics(userConfig: SyncConfig): Promise<void> {
  const admin = createKafka(userConfig.kafka).admin();
  try {
    await admin.connect();
    const root = `${userConfig.kafka.topicPrefix}-demo-`;
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(root));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Deletes the Kafka topics of this demo run (its own topic prefix). */
export async function removeDemoTopics(config: SyncConfig): Promise<void> {
  await deleteTopicsByPrefix(createKafka(config.kafka).admin(), config.kafka.topicPrefix);
}
