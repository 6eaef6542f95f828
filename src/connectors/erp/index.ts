/**
 * The ERP connector: CDC source (Debezium topics → raw events), writer (order lines into the
 * ERP, echo-suppressed by replication origin), and the Connect/slot supervisor (leader task).
 */
import pg from 'pg';
import { ConfigError, describeError } from '../../core/errors.js';
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import { getLogger } from '../../core/logger.js';
import type { SyncConfig } from '../../config/schema.js';
import type { LeaderTask } from '../../daemon/connector-set.js';
import type { EventStore } from '../../pipeline/intake/event-store.js';
import type { KafkaBus } from '../../pipeline/kafka/bus.js';
import { DebeziumConnector, type DebeziumOptions } from './debezium.js';
import { ErpSink, type ErpSinkOptions } from './sink.js';
import { ErpCdcSource, type ErpCdcSourceOptions } from './source.js';
import { ErpCdcSupervisor, type ErpCdcSupervisorOptions } from './supervisor.js';

export { ErpCdcSource, WRITER_ORIGIN_PREFIX, APPLIED_WRITES_TABLE, type ErpSourceStats, type DebeziumEnvelope } from './source.js';
export { ErpSink, ORDER_LINES_TABLE, type EchoSuppression } from './sink.js';
export { ErpCdcSupervisor, type SupervisionRound } from './supervisor.js';
export { DebeziumConnector, debeziumTopic, debeziumAuxTopics, capturedTables, buildDebeziumConfig } from './debezium.js';

const log = getLogger('erp');

/** What the daemon needs from the ERP connector. */
export interface ErpConnector {
  /** The CDC consumer, run by the daemon as a service. */
  source: { name: string; start(): Promise<void>; stop(): Promise<void> } & Pick<ErpCdcSource, 'stats' | 'topics' | 'handle'>;
  sink: ErpSink;
  supervisor: LeaderTask & Pick<ErpCdcSupervisor, 'round' | 'last'>;
  debezium: DebeziumConnector;
  close(): Promise<void>;
}

/** Dependencies of {@link createErpConnector}. */
export interface ErpConnectorDeps {
  /** syncctl's pool (dead letters). */
  pool: pg.Pool;
  kafka: KafkaBus;
  store: EventStore;
  /** Consumer groups are `<groupPrefix>.erp-cdc`. */
  groupPrefix: string;
  events?: SyncEventBus;
  /** Settings beyond the config (tests, tuning). */
  debezium?: DebeziumOptions;
  supervisor?: ErpCdcSupervisorOptions;
  sink?: Partial<Omit<ErpSinkOptions, 'erp'>>;
  sourceOptions?: Partial<Pick<ErpCdcSourceOptions, 'writerOriginPrefix' | 'txidEchoCheck'>>;
}

/** The Connect REST URL: `sources.erp.connectUrl`, else the local stack's worker. */
export const connectUrlOf = (cfg: SyncConfig): string => cfg.sources.erp?.connectUrl ?? `http://127.0.0.1:${cfg.stack.connect.port}`;

/** Builds the ERP connector from config (`sources.erp`). */
export function createErpConnector(cfg: SyncConfig, deps: ErpConnectorDeps): ErpConnector {
  const erp = cfg.sources.erp;
  if (!erp) throw new ConfigError('ERP_NOT_CONFIGURED', 'sources.erp is not configured.', { hint: 'Add sources.erp.databaseUrl to the config (see docs/erp-cdc.md).' });
  const bus = deps.events ?? defaultBus;
  const debezium = new DebeziumConnector(erp, connectUrlOf(cfg), {
    connectorName: erp.connectorName,
    heartbeatIntervalMs: erp.heartbeatIntervalMs,
    heartbeatAction: erp.heartbeatAction,
    ...deps.debezium,
  });
  // Reads only (stock per batch, the writer's xids); small, separate from the writer's origin-tagged pool.
  const erpPool = new pg.Pool({ connectionString: erp.databaseUrl, max: 2, application_name: 'syncctl-erp-source' });
  erpPool.on('error', (err) => log.warn({ err: describeError(err) }, 'idle ERP connection failed'));
  const cdc = new ErpCdcSource({
    erp,
    kafka: deps.kafka,
    store: deps.store,
    pool: deps.pool,
    erpPool,
    groupId: `${deps.groupPrefix}.erp-cdc`,
    skuRule: cfg.identity.sku,
    events: bus,
    debezium: { heartbeatIntervalMs: erp.heartbeatIntervalMs, heartbeatAction: erp.heartbeatAction, ...deps.debezium },
    ...deps.sourceOptions,
    ...(deps.sink?.originPrefix ? { writerOriginPrefix: deps.sink.originPrefix } : {}),
  });
  const sink = new ErpSink({ erp, ...deps.sink });
  const supervisor = new ErpCdcSupervisor(debezium, { events: bus, ...deps.supervisor });
  return {
    source: {
      name: 'erp-cdc',
      start: () => cdc.start(),
      stop: () => cdc.stop(),
      get stats() {
        return cdc.stats;
      },
      topics: () => cdc.topics(),
      handle: (records) => cdc.handle(records),
    },
    sink,
    supervisor,
    debezium,
    async close() {
      await cdc.stop();
      await sink.close();
      await erpPool.end().catch(() => undefined);
    },
  };
}
