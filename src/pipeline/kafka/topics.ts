import type { Admin, ITopicConfig } from 'kafkajs';
import { ServiceUnavailableError } from '../../core/errors.js';

/** Platforms that have a raw topic. */
export const SOURCE_PLATFORMS = ['shopify', 'woocommerce', 'erp'] as const;
export type SourcePlatform = (typeof SOURCE_PLATFORMS)[number];

/** The topics of the pipeline, named from `kafka.topicPrefix`. */
export interface PipelineTopics {
  /** Raw events of each platform (all its instances), keyed by entity. */
  raw: Record<SourcePlatform, string>;
  /** Canonical typed events, keyed by SKU. */
  canonical: string;
  /** Dead letters (also kept in the dead_letters table). */
  dlq: string;
  /** Windowed figures from the transform runner (Flink). */
  metrics: string;
}

/** Topic names for a prefix, e.g. `syncctl.raw.shopify`, `syncctl.canonical`. */
export function pipelineTopics(prefix: string): PipelineTopics {
  return {
    raw: { shopify: `${prefix}.raw.shopify`, woocommerce: `${prefix}.raw.woocommerce`, erp: `${prefix}.raw.erp` },
    canonical: `${prefix}.canonical`,
    dlq: `${prefix}.dlq`,
    metrics: `${prefix}.metrics`,
  };
}

/** A consumer group of the pipeline and the topics it reads. */
export interface PipelineGroup {
  group: string;
  topics: string[];
}

/**
 * The pipeline's consumer groups: the sync workers (`<groupPrefix>.sync`, canonical topic) and,
 * with the Flink runner, the transform job (`<groupPrefix>.transform`, raw topics). The embedded
 * runner has no consumer: it runs in the outbox relay.
 */
export function pipelineGroups(groupPrefix: string, runner: 'embedded' | 'flink', t: PipelineTopics): PipelineGroup[] {
  const sync = { group: `${groupPrefix}.sync`, topics: [t.canonical] };
  return runner === 'flink' ? [{ group: `${groupPrefix}.transform`, topics: Object.values(t.raw) }, sync] : [sync];
}

/** Every topic name of the pipeline, flat. */
export function allTopicNames(t: PipelineTopics): string[] {
  return [...Object.values(t.raw), t.canonical, t.dlq, t.metrics];
}

/** Creates the topics that do not exist yet; returns the names it created. */
export async function ensureTopics(admin: Admin, names: string[], partitions: number, replicationFactor: number): Promise<string[]> {
  let existing: string[];
  try {
    existing = await admin.listTopics();
  } catch (err) {
    throw new ServiceUnavailableError('kafka', `Cannot list Kafka topics: ${(err as Error).message}`, {
      cause: err,
      hint: 'Is Kafka running? `syncctl stack up`, or fix kafka.brokers (SYNCCTL_KAFKA_BROKERS).',
    });
  }
  const missing = names.filter((n) => !existing.includes(n));
  if (missing.length === 0) return [];
  const topics: ITopicConfig[] = missing.map((topic) => ({
    topic,
    numPartitions: partitions,
    replicationFactor,
    configEntries: topic.endsWith('.dlq') ? [{ name: 'retention.ms', value: String(30 * 24 * 3600 * 1000) }] : [],
  }));
  await admin.createTopics({ topics, waitForLeaders: true });
  return missing;
}

/** Deletes every topic named `<prefix>.*`; a Kafka that is down is not an error. */
export async function deleteTopicsByPrefix(admin: Admin, prefix: string): Promise<void> {
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // nothing to clean on a broker that is gone
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
