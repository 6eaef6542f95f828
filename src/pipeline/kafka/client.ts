import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry } from 'kafkajs';
import type { SyncConfig } from '../../config/schema.js';
import { getLogger } from '../../core/logger.js';
import { patchKafkaRequestQueue } from './request-queue.js';

/**
 * The one place that constructs the Kafka client (kafkajs 2.2.4). Everything else goes through
 * this module, so a maintained client can replace kafkajs without touching the engine.
 */
export function createKafka(cfg: SyncConfig['kafka'], overrides: Partial<KafkaJsConfig> = {}): Kafka {
  const log = getLogger('kafka');
  patchKafkaRequestQueue();
  return new Kafka({
    clientId: cfg.clientId,
    brokers: cfg.brokers,
    connectionTimeout: cfg.connectionTimeoutMs,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.INFO,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, timestamp: _t, logger: _l, ...rest } = entry;
        // Our producers retry a bounded number of times on purpose: the PostgreSQL outbox
        // republishes what failed, and consumers deduplicate, so this warning is noise.
        if (message.startsWith('Limiting retries for the idempotent producer')) return;
        // kafkajs reports retriable coordinator errors as ERROR while it recovers; keep them at warn.
        if (level === logLevel.ERROR) log.warn(rest, message);
        else if (level === logLevel.WARN) log.warn(rest, message);
        else if (level === logLevel.INFO) log.debug(rest, message);
        else log.trace(rest, message);
      },
    ...overrides,
  });
}

/** Creates Kafka's own KafkaJS partitioner warning-free default (the Java-compatible one). */
export { Partitioners } from 'kafkajs';
