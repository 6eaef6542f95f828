// The ERP connector on a throwaway ERP database, its own Debezium connector/slot/topics and an
// isolated syncctl schema: what the source, sink and fault tests share.
import pg from 'pg';
import { createErpConnector, type ErpConnector, type ErpConnectorDeps } from '../../../src/connectors/erp/index.js';
import { EventStore } from '../../../src/pipeline/intake/event-store.js';
import { KafkaBus } from '../../../src/pipeline/kafka/bus.js';
import { createKafka } from '../../../src/pipeline/kafka/client.js';
import { initErp } from '../../../src/simulators/erp/index.js';
import { isolate, type Isolation } from '../../support/isolation.js';
import { CONNECT_URL, connectUp, dbUrl, deleteTopics, dropDatabase, sql, uniqueName } from './helpers.js';

/** One row of `source_events` as the tests look at it. */
export interface StoredEvent {
  event_type: string;
  source_id: string;
  origin: string;
  dedupe_key: string;
  sku: string | null;
  timestamp: Date;
  data: Record<string, unknown> & { kind: string };
}

export interface ErpFixture {
  id: string;
  /** The ERP database (superuser). */
  url: string;
  iso: Isolation;
  bus: KafkaBus;
  store: EventStore;
  conn: ErpConnector;
  /** Runs SQL on the ERP database. */
  erpSql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** The ERP's stored raw events (optionally for one SKU), in WAL order. */
  events(sku?: string): Promise<StoredEvent[]>;
  /** Waits (bounded) until `pick` is satisfied by the stored events. */
  waitEvents<T>(what: string, pick: (evs: StoredEvent[]) => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  cleanup(): Promise<void>;
}

/** Builds the fixture: ERP database with sample data, connector registered and streaming, source consuming. */
export async function erpFixture(name: string, opts: { products?: number; variants?: number; deps?: Partial<ErpConnectorDeps>; startSource?: boolean } = {}): Promise<ErpFixture> {
  await connectUp();
  const id = uniqueName(name);
  const url = dbUrl(id);
  await initErp({ databaseUrl: url, products: opts.products ?? 3, variantsPerProduct: opts.variants ?? 2, seed: 7 });
  const iso = await isolate(name, {
    sources: { erp: { databaseUrl: url, topicPrefix: id, slotName: id, publicationName: id, connectorName: id, connectUrl: CONNECT_URL, heartbeatIntervalMs: 1000 } },
  });
  const bus = new KafkaBus(createKafka(iso.config.kafka));
  const store = new EventStore(iso.pool);
  const conn = createErpConnector(iso.config, { pool: iso.pool, kafka: bus, store, groupPrefix: `${iso.config.kafka.topicPrefix}`, ...opts.deps });
  await conn.debezium.register();
  await conn.debezium.waitUntilRunning({ streaming: true, timeoutMs: 120_000 });
  if (opts.startSource !== false) await conn.source.start();
  const erpSql = <R extends pg.QueryResultRow>(text: string, params: unknown[] = []) => sql<R>(url, text, params);
  const events = async (sku?: string) =>
    (await iso.pool.query<StoredEvent>(
      `select event_type, source_id, origin, dedupe_key, sku, timestamp, data from source_events
        where source_type = 'ERP' and ($1::text is null or sku = $1) order by (split_part(dedupe_key, ':', 2))::numeric, dedupe_key`,
      [sku ?? null],
    )).rows;
  return {
    id, url, iso, bus, store, conn, erpSql, events,
    async waitEvents(what, pick, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = pick(await events());
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    },
    async cleanup() {
      await conn.close().catch(() => undefined);
      await bus.close().catch(() => undefined);
      await conn.debezium.remove().catch(() => undefined);
      await dropDatabase(id).catch(() => undefined);
      await deleteTopics(id).catch(() => undefined);
      await iso.cleanup();
    },
  };
}
