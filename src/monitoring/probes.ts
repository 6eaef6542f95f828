import type { Admin } from 'kafkajs';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { SyncEventBus } from '../core/events.js';
import { getLogger } from '../core/logger.js';
import { metricsOf } from './metric-definitions.js';

/**
 * Readings that are pulled rather than observed (DLQ depth, Kafka consumer lag, replication
 * slot lag). Their owner registers a probe: an async function that reads the figure and
 * emits the matching reading event on the bus (`deadletters.depth`, `kafka.consumer.lag`,
 * `debezium.slot`). `renderMetrics` and the history writer run every probe before they read
 * the registry. A probe that throws or times out keeps its last reading and is counted on
 * `syncctl_metric_probe_failures_total{probe}`.
 */
export type MetricProbe = () => Promise<void> | void;

/** Options of {@link MetricProbes}. */
export interface MetricProbesOptions {
  /** Registry whose `syncctl_metric_probe_failures_total` counts failed probes. */
  registry?: Registry;
  /** Longest time one probe may take per run, in ms (a scrape must not hang on a slow database). */
  timeoutMs?: number;
}

/** The set of registered probes. */
export class MetricProbes {
  private readonly probes = new Map<string, MetricProbe>();
  private readonly log = getLogger('metrics');
  private readonly timeoutMs: number;

  constructor(private readonly opts: MetricProbesOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  /** Registers a probe under a bounded, unique name (e.g. `dlq-depth`); returns the function that removes it. */
  register(name: string, probe: MetricProbe): () => void {
    if (this.probes.has(name)) throw new Error(`metric probe ${name} is already registered`);
    this.probes.set(name, probe);
    return () => {
      if (this.probes.get(name) === probe) this.probes.delete(name);
    };
  }

  /** Names of the registered probes. */
  names(): string[] {
    return [...this.probes.keys()];
  }

  /** Runs every probe concurrently; never throws. */
  async runAll(): Promise<void> {
    await Promise.all([...this.probes].map(([name, probe]) => this.runOne(name, probe)));
  }

  private async runOne(name: string, probe: MetricProbe): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(probe),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } catch (err) {
      this.log.warn({ probe: name, err: (err as Error).message }, 'metric probe failed; keeping its last reading');
      if (this.opts.registry) metricsOf(this.opts.registry).probeFailures.inc({ probe: name });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A probe reading the open dead letters per source from syncctl's `dead_letters` table. */
export function deadLetterDepthProbe(pool: pg.Pool, bus: SyncEventBus): MetricProbe {
  return async () => {
    const { rows } = await pool.query<{ source: string; depth: string }>(
      `SELECT coalesce(source_key, 'none') AS source, count(*) AS depth
         FROM dead_letters WHERE status = 'OPEN' GROUP BY 1`,
    );
    bus.emit('deadletters.depth', { depths: rows.map((r) => ({ source: r.source, depth: Number(r.depth) })) });
  };
}

/**
 * A probe reading logical replication slots (Debezium's) of the ERP database: WAL retained
 * behind each slot and whether a consumer is attached. `pool` connects to the ERP database.
 */
export function replicationSlotProbe(pool: pg.Pool, bus: SyncEventBus, slotNames: string[]): MetricProbe {
  return async () => {
    const { rows } = await pool.query<{ slot_name: string; active: boolean; lag: string | null }>(
      `SELECT slot_name, active,
              pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(confirmed_flush_lsn, restart_lsn)) AS lag
         FROM pg_replication_slots WHERE slot_name = ANY($1)`,
      [slotNames],
    );
    for (const r of rows) bus.emit('debezium.slot', { slot: r.slot_name, lagBytes: Math.max(0, Number(r.lag ?? 0)), active: r.active });
  };
}

/** A probe reading the lag of consumer groups on their topics (high watermark − committed offset, summed over partitions). */
export function kafkaConsumerLagProbe(admin: Pick<Admin, 'fetchOffsets' | 'fetchTopicOffsets'>, bus: SyncEventBus, groups: Array<{ group: string; topics: string[] }>): MetricProbe {
  return async () => {
    for (const { group, topics } of groups) {
      const committed = await admin.fetchOffsets({ groupId: group, topics });
      for (const t of committed) {
        const ends = await admin.fetchTopicOffsets(t.topic);
        let lag = 0;
        for (const end of ends) {
          const c = t.partitions.find((p) => p.partition === end.partition);
          const high = Number(end.high);
          // No committed offset yet (-1): the group would start from the low watermark.
          const from = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(end.low);
          lag += Math.max(0, high - from);
        }
        bus.emit('kafka.consumer.lag', { group, topic: t.topic, lag });
      }
    }
  };
}
