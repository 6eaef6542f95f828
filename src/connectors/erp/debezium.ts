import pg from 'pg';
import { canonicalJson } from '../../core/ids.js';
import { PermanentError, RetriableError, ServiceUnavailableError } from '../../core/errors.js';
import { getLogger } from '../../core/logger.js';
import { sleep } from '../../core/retry.js';
import { redactUrl } from '../../config/redact.js';
import type { ErpConfig } from '../../config/schema.js';
import { ConnectRestClient, type ConnectState } from './connect-client.js';

const log = getLogger('erp-cdc');

/** Default name of the Debezium connector syncctl registers. */
export const DEFAULT_CONNECTOR_NAME = 'syncctl-erp';
/** Default heartbeat table (created in the ERP database when missing). */
export const DEFAULT_HEARTBEAT_TABLE = 'public.syncctl_heartbeat';

/** Settings of the Debezium connector beyond `ErpConfig`. */
export interface DebeziumOptions {
  /** Connector name in Kafka Connect (also the key of its offsets). */
  connectorName?: string;
  /**
   * How often Debezium emits a heartbeat and runs the heartbeat action, in ms (0 = off).
   * Heartbeats alone do not move the slot: only a change Debezium receives through the slot
   * does, so an action that writes into the stream is what keeps WAL from piling up when the
   * captured tables are idle in a busy server (measured: docs/erp-cdc.md).
   */
  heartbeatIntervalMs?: number;
  /**
   * What the heartbeat writes: `message` (default) emits a logical decoding message
   * (`pg_logical_emit_message`, no table needed, arrives on `<prefix>.message`); `table`
   * upserts a row into {@link DebeziumOptions.heartbeatTable}, which is then captured too;
   * `none` sends Kafka heartbeats only (the slot does not advance while captured tables are idle).
   */
  heartbeatAction?: 'message' | 'table' | 'none';
  /** `schema.table` of the heartbeat table for `heartbeatAction: 'table'` (default `public.syncctl_heartbeat`). */
  heartbeatTable?: string;
  /** Host of PostgreSQL as seen from the Connect worker, when it differs from the ERP URL's host. */
  databaseHostForConnect?: string;
  /** Extra connector settings, applied last (tests, tuning). */
  extra?: Record<string, string>;
}

/** The table names Debezium captures for this ERP config (deduplicated, `schema.table`). */
export function capturedTables(erp: ErpConfig, opts: DebeziumOptions = {}): string[] {
  const hb = heartbeatTableOf(opts);
  return [...new Set([...Object.values(erp.tables), ...(hb ? [hb] : [])])];
}

/** The Debezium topic of one captured table: `<topic prefix>.<schema>.<table>`. */
export const debeziumTopic = (erp: ErpConfig, table: string): string => `${erp.topicPrefix}.${qualify(table)}`;

/**
 * Topics Debezium writes besides the table topics: `__debezium-heartbeat.<prefix>` (Kafka
 * heartbeats) and what the heartbeat action writes to: `<prefix>.message` (logical decoding
 * messages) or the heartbeat table's topic. Creating them
 * beforehand matters for latency: left to the broker's auto-creation, the first heartbeat makes
 * Connect's producer wait for the new topic's metadata, and every change behind it waits too
 * (measured: a ~240 ms stall of all changes, 10 s after the task starts).
 */
export function debeziumAuxTopics(erp: ErpConfig, opts: DebeziumOptions = {}): string[] {
  const heartbeatMs = opts.heartbeatIntervalMs ?? erp.heartbeatIntervalMs;
  if (heartbeatMs <= 0) return [];
  const action = opts.heartbeatAction ?? erp.heartbeatAction;
  const written = action === 'message' ? [`${erp.topicPrefix}.message`] : action === 'table' ? [debeziumTopic(erp, opts.heartbeatTable ?? DEFAULT_HEARTBEAT_TABLE)] : [];
  return [`__debezium-heartbeat.${erp.topicPrefix}`, ...written];
}

/** Prefix of the logical decoding messages the heartbeat emits (consumers drop them). */
export const HEARTBEAT_MESSAGE_PREFIX = 'syncctl-heartbeat';

const heartbeatActionOf = (opts: DebeziumOptions): 'message' | 'table' | 'none' =>
  (opts.heartbeatIntervalMs ?? 10_000) > 0 ? opts.heartbeatAction ?? 'message' : 'none';
const heartbeatTableOf = (opts: DebeziumOptions): string | null =>
  heartbeatActionOf(opts) === 'table' ? qualify(opts.heartbeatTable ?? DEFAULT_HEARTBEAT_TABLE) : null;
const qualify = (t: string): string => (t.includes('.') ? t : `public.${t}`);

/** The Debezium PostgreSQL connector config for this ERP (all values strings, as Connect stores them). */
export function buildDebeziumConfig(erp: ErpConfig, opts: DebeziumOptions = {}): Record<string, string> {
  const u = new URL(erp.databaseUrl);
  const heartbeatMs = opts.heartbeatIntervalMs ?? 10_000;
  const hb = heartbeatTableOf(opts);
  const config: Record<string, string> = {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'database.hostname': opts.databaseHostForConnect ?? u.hostname,
    'database.port': u.port || '5432',
    'database.user': decodeURIComponent(u.username || 'postgres'),
    'database.password': decodeURIComponent(u.password),
    'database.dbname': decodeURIComponent(u.pathname.replace(/^\//, '')),
    'topic.prefix': erp.topicPrefix,
    'plugin.name': 'pgoutput',
    'slot.name': erp.slotName,
    'publication.name': erp.publicationName,
    // Debezium keeps the publication's table list equal to table.include.list (needs table ownership).
    'publication.autocreate.mode': 'filtered',
    'table.include.list': capturedTables(erp, opts).join(','),
    'snapshot.mode': erp.snapshotMode,
    'poll.interval.ms': String(erp.pollIntervalMs),
    // Bulk throughput (a large transaction): more events per poll and larger produce requests.
    // Neither delays a lone change (Connect takes what is queued; the worker's linger.ms is 0).
    'max.batch.size': String(erp.maxBatchSize),
    'max.queue.size': String(erp.maxQueueSize),
    'decimal.handling.mode': 'string',
    'tombstones.on.delete': 'true',
    'heartbeat.interval.ms': String(heartbeatMs),
  };
  if (erp.producerBatchBytes > 0) config['producer.override.batch.size'] = String(erp.producerBatchBytes);
  if (heartbeatActionOf(opts) === 'message') {
    // non-transactional: written to WAL at once, decoded even though no table changed
    config['heartbeat.action.query'] = `SELECT pg_logical_emit_message(false, '${HEARTBEAT_MESSAGE_PREFIX}', now()::text)`;
  } else if (hb) {
    config['heartbeat.action.query'] =
      `INSERT INTO ${hb} (id, beat_at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at`;
  }
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) config['database.sslmode'] = sslmode;
  return { ...config, ...opts.extra };
}

/** Replication slot health from `pg_replication_slots`. */
export interface SlotStatus {
  name: string;
  /** A walsender (Debezium) is attached. */
  active: boolean;
  activePid: number | null;
  /** WAL bytes written since the slot's confirmed flush position: what Debezium has not acknowledged. */
  lagBytes: number | null;
  /** WAL bytes the server keeps for this slot (from `restart_lsn`). */
  retainedBytes: number | null;
  confirmedFlushLsn: string | null;
  /** `reserved`, `extended`, `unreserved` or `lost` (PG 13+). */
  walStatus: string | null;
}

/** Connector, tasks and slot, as `syncctl status` shows them. */
export interface ErpCdcStatus {
  connector: string;
  /** `MISSING` when Connect has no such connector. */
  state: ConnectState | 'MISSING';
  trace?: string;
  tasks: Array<{ id: number; state: ConnectState; trace?: string }>;
  slot: SlotStatus | null;
  publicationExists: boolean;
  /** Problems an operator should look at (failed task, inactive slot...). */
  warnings: string[];
}

/** What {@link DebeziumConnector.register} did. */
export type RegisterAction = 'created' | 'updated' | 'unchanged';

/**
 * The Debezium connector of one ERP database: registration through Connect's REST API,
 * status (Connect + `pg_replication_slots`), restart of failed tasks, and removal that also
 * drops the replication slot and the publication (an orphaned slot retains WAL without bound).
 */
export class DebeziumConnector {
  /** Connector name in Kafka Connect. */
  readonly name: string;
  readonly connect: ConnectRestClient;

  constructor(
    private readonly erp: ErpConfig,
    connectUrl: string | ConnectRestClient,
    private readonly opts: DebeziumOptions = {},
  ) {
    this.name = opts.connectorName ?? DEFAULT_CONNECTOR_NAME;
    this.connect = typeof connectUrl === 'string' ? new ConnectRestClient(connectUrl) : connectUrl;
  }

  /** The config this connector should have. */
  desiredConfig(): Record<string, string> {
    return buildDebeziumConfig(this.erp, this.opts);
  }

  /**
   * Creates or updates the connector idempotently: an unchanged config is not written again
   * (a write would restart the task). Creates the heartbeat table first when one is configured.
   */
  async register(): Promise<{ action: RegisterAction }> {
    const desired = this.desiredConfig();
    const hb = heartbeatTableOf(this.opts);
    if (hb) await this.ensureHeartbeatTable(hb);
    const current = await this.connect.getConfig(this.name);
    if (current) {
      const { name: _ignored, ...stored } = current;
      if (canonicalJson(stored) === canonicalJson(desired)) return { action: 'unchanged' };
    }
    const { created } = await this.connect.putConfig(this.name, desired);
    const action: RegisterAction = created ? 'created' : 'updated';
    log.info({ connector: this.name, action, tables: desired['table.include.list'], db: redactUrl(this.erp.databaseUrl) }, 'Debezium connector registered');
    return { action };
  }

  /**
   * Waits until the connector and all its tasks are RUNNING (and, with `streaming`, the slot is
   * active: the snapshot is over and Debezium reads the WAL); throws with the task's trace when one FAILED.
   */
  async waitUntilRunning(opts: { timeoutMs?: number; streaming?: boolean } = {}): Promise<ErpCdcStatus> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status();
      const running = s.state === 'RUNNING' && s.tasks.length > 0 && s.tasks.every((t) => t.state === 'RUNNING');
      if (running && (!opts.streaming || s.slot?.active)) return s;
      const failed = s.tasks.find((t) => t.state === 'FAILED');
      if (s.state === 'FAILED' || failed) {
        throw new PermanentError('ERP_CDC_TASK_FAILED', `Debezium connector ${this.name} failed: ${firstLine(failed?.trace ?? s.trace)}`, {
          hint: 'Fix the cause, then restart it (syncctl restarts failed tasks; or POST /connectors/<n>/restart?includeTasks=true&onlyFailed=true).',
        });
      }
      if (Date.now() > deadline) {
        throw new RetriableError('ERP_CDC_NOT_RUNNING', `Debezium connector ${this.name} is ${s.state} (tasks: ${s.tasks.map((t) => t.state).join(', ') || 'none'}) after ${timeoutMs} ms.`);
      }
      await sleep(200);
    }
  }

  /** Connector and task states from Connect, slot lag and activity from PostgreSQL. */
  async status(): Promise<ErpCdcStatus> {
    const [c, pgState] = await Promise.all([this.connect.status(this.name), this.slotAndPublication()]);
    const warnings: string[] = [];
    const tasks = (c?.tasks ?? []).map((t) => ({ id: t.id, state: t.state, ...(t.trace ? { trace: firstLine(t.trace) } : {}) }));
    if (!c) warnings.push(`Debezium connector ${this.name} is not registered in Kafka Connect.`);
    for (const t of tasks) if (t.state === 'FAILED') warnings.push(`Task ${t.id} of ${this.name} FAILED: ${t.trace ?? 'no trace'}`);
    const slot = pgState.slot;
    if (slot && !slot.active) {
      warnings.push(`Replication slot ${slot.name} is inactive and retains ${formatBytes(slot.retainedBytes)} of WAL: CDC is not reading it.`);
    }
    if (slot?.walStatus === 'lost') warnings.push(`Replication slot ${slot.name} lost required WAL: a new snapshot is needed.`);
    if (c && !slot && c.connector.state === 'RUNNING') warnings.push(`Replication slot ${this.erp.slotName} does not exist although the connector runs.`);
    return {
      connector: this.name,
      state: c?.connector.state ?? 'MISSING',
      ...(c?.connector.trace ? { trace: firstLine(c.connector.trace) } : {}),
      tasks,
      slot,
      publicationExists: pgState.publication,
      warnings,
    };
  }

  /**
   * Restarts the FAILED connector instance/tasks only (RUNNING ones are left alone), and waits
   * until none is FAILED any more. Returns whether anything had failed.
   */
  async restartFailed(timeoutMs = 30_000): Promise<{ hadFailed: boolean }> {
    const s = await this.connect.status(this.name);
    if (!s) throw new PermanentError('ERP_CDC_MISSING', `Debezium connector ${this.name} is not registered.`, { hint: 'Register it first (syncctl init-db / daemon start).' });
    const failed = (x: typeof s) => x.connector.state === 'FAILED' || x.tasks.some((t) => t.state === 'FAILED');
    const hadFailed = failed(s);
    await this.connect.restart(this.name, { includeTasks: true, onlyFailed: true });
    if (!hadFailed) return { hadFailed };
    log.warn({ connector: this.name, tasks: s.tasks.map((t) => t.state) }, 'restarting failed Debezium connector/tasks');
    // The restart is asynchronous: the status shows FAILED until the task has been restarted.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await sleep(200);
      const now = await this.connect.status(this.name);
      if (now && !failed(now)) return { hadFailed };
      if (Date.now() > deadline) {
        throw new RetriableError('ERP_CDC_RESTART_FAILED', `Debezium connector ${this.name} is still FAILED ${timeoutMs} ms after a restart: ${firstLine(now?.tasks.find((t) => t.trace)?.trace)}`, {
          hint: 'Read the task trace in `syncctl status` or the Connect log; the cause persists (credentials, slot, publication?).',
        });
      }
    }
  }

  /**
   * Removes the connector and what it leaves behind: stops it, resets its offsets (so a
   * connector registered again under this name snapshots afresh instead of resuming from a
   * position the new slot cannot serve), deletes it, then drops its replication slot and
   * publication.
   */
  async remove(timeoutMs = 30_000): Promise<{ connectorDeleted: boolean; slotDropped: boolean; publicationDropped: boolean }> {
    const deadline = Date.now() + timeoutMs;
    let connectorDeleted = false;
    if (await this.connect.status(this.name)) {
      await this.connect.stop(this.name);
      while ((await this.connect.status(this.name))?.connector.state !== 'STOPPED') {
        if (Date.now() > deadline) throw new RetriableError('ERP_CDC_STOP_TIMEOUT', `Debezium connector ${this.name} did not stop within ${timeoutMs} ms.`);
        await sleep(200);
      }
      await this.connect.resetOffsets(this.name);
      connectorDeleted = await this.connect.delete(this.name);
      // deletion is asynchronous in a distributed worker: the status lingers for a moment
      while (await this.connect.status(this.name)) {
        if (Date.now() > deadline) throw new RetriableError('ERP_CDC_DELETE_TIMEOUT', `Debezium connector ${this.name} was deleted but still listed after ${timeoutMs} ms.`);
        await sleep(200);
      }
    }
    return this.withErpClient(async (c) => {
      let slotDropped = false;
      for (;;) {
        const r = await c.query<{ active: boolean; active_pid: number | null }>('select active, active_pid from pg_replication_slots where slot_name = $1', [this.erp.slotName]);
        const row = r.rows[0];
        if (!row) break;
        if (!row.active) {
          await c.query('select pg_drop_replication_slot($1)', [this.erp.slotName]);
          slotDropped = true;
          break;
        }
        // The task is gone but its walsender may linger a moment; past the deadline, end it.
        if (Date.now() > deadline && row.active_pid) await c.query('select pg_terminate_backend($1)', [row.active_pid]);
        await sleep(200);
        if (Date.now() > deadline + 10_000) throw new RetriableError('ERP_CDC_SLOT_BUSY', `Replication slot ${this.erp.slotName} stays active; cannot drop it.`);
      }
      const p = await c.query('select 1 from pg_publication where pubname = $1', [this.erp.publicationName]);
      if (p.rowCount) await c.query(`drop publication ${pg.escapeIdentifier(this.erp.publicationName)}`);
      log.info({ connector: this.name, connectorDeleted, slotDropped, publicationDropped: Boolean(p.rowCount) }, 'Debezium connector removed');
      return { connectorDeleted, slotDropped, publicationDropped: Boolean(p.rowCount) };
    });
  }

  /** Creates the heartbeat table if missing (the connector's user must be allowed to, or a DBA creates it). */
  async ensureHeartbeatTable(table = heartbeatTableOf(this.opts) ?? DEFAULT_HEARTBEAT_TABLE): Promise<void> {
    const [schema, name] = qualify(table).split('.') as [string, string];
    const ident = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
    await this.withErpClient(async (c) => {
      const exists = await c.query('select 1 from pg_tables where schemaname = $1 and tablename = $2', [schema, name]);
      if (exists.rowCount) return;
      try {
        await c.query(`create table if not exists ${ident} (id integer primary key, beat_at timestamptz not null default now())`);
      } catch (err) {
        throw new PermanentError('ERP_HEARTBEAT_TABLE', `Cannot create the CDC heartbeat table ${table}: ${(err as Error).message}`, {
          cause: err,
          hint: `Ask the DBA to run: CREATE TABLE ${ident} (id integer PRIMARY KEY, beat_at timestamptz NOT NULL DEFAULT now()); ALTER TABLE ${ident} OWNER TO <cdc user>;`,
        });
      }
    });
  }

  private async slotAndPublication(): Promise<{ slot: SlotStatus | null; publication: boolean }> {
    return this.withErpClient(async (c) => {
      const r = await c.query<{
        active: boolean; active_pid: number | null; lag: string | null; retained: string | null; confirmed_flush_lsn: string | null; wal_status: string | null;
      }>(
        `select active, active_pid, confirmed_flush_lsn::text,
                pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text as lag,
                pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text as retained, wal_status
           from pg_replication_slots where slot_name = $1`,
        [this.erp.slotName],
      );
      const p = await c.query('select 1 from pg_publication where pubname = $1', [this.erp.publicationName]);
      const row = r.rows[0];
      const slot: SlotStatus | null = row
        ? {
            name: this.erp.slotName,
            active: row.active,
            activePid: row.active_pid,
            lagBytes: row.lag === null ? null : Number(row.lag),
            retainedBytes: row.retained === null ? null : Number(row.retained),
            confirmedFlushLsn: row.confirmed_flush_lsn,
            walStatus: row.wal_status,
          }
        : null;
      return { slot, publication: Boolean(p.rowCount) };
    });
  }

  private async withErpClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({ connectionString: this.erp.databaseUrl, connectionTimeoutMillis: 5000, application_name: 'syncctl-erp-cdc' });
    try {
      await c.connect();
    } catch (err) {
      throw new ServiceUnavailableError('postgres', `The ERP database is not reachable at ${redactUrl(this.erp.databaseUrl)}.`, { cause: err, hint: 'Check sources.erp.databaseUrl.' });
    }
    try {
      return await fn(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}

const firstLine = (s: string | undefined): string => (s ?? '').split('\n')[0] ?? '';

function formatBytes(n: number | null): string {
  if (n === null) return 'an unknown amount';
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
