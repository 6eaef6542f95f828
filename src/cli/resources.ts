import type pg from 'pg';
import type { SyncConfig } from '../config/schema.js';
import { createPool } from '../db/pool.js';
import { KafkaBus } from '../pipeline/kafka/bus.js';
import { createKafka } from '../pipeline/kafka/client.js';
import { pipelineTopics, type PipelineTopics } from '../pipeline/kafka/topics.js';

/** Lazily opened connections a command needs, closed when the command ends. */
export class CommandResources {
  private poolP?: Promise<pg.Pool>;
  private bus?: KafkaBus;

  constructor(private readonly config: SyncConfig) {}

  /** A small pool on syncctl's schema. */
  pool(): Promise<pg.Pool> {
    this.poolP ??= createPool({ url: this.config.database.url, schema: this.config.database.schema, max: 4, applicationName: 'syncctl cli' });
    return this.poolP;
  }

  /** The Kafka module (producer connected on first publish). */
  kafka(): KafkaBus {
    this.bus ??= new KafkaBus(createKafka({ ...this.config.kafka, connectionTimeoutMs: Math.min(this.config.kafka.connectionTimeoutMs, 3000) }, { retry: { retries: 2, initialRetryTime: 200 } }));
    return this.bus;
  }

  get topics(): PipelineTopics {
    return pipelineTopics(this.config.kafka.topicPrefix);
  }

  async close(): Promise<void> {
    await this.bus?.close();
    if (this.poolP) await (await this.poolP.catch(() => undefined))?.end();
  }
}
