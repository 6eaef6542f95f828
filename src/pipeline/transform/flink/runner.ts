import type pg from 'pg';
import type { SyncConfig } from '../../../config/schema.js';
import { getLogger } from '../../../core/logger.js';
import { events as bus, type SyncEventBus } from '../../../core/events.js';
import { stackDir } from '../../../stack/paths.js';
import type { DeadLetterSink } from '../../dead-letter-sink.js';
import type { KafkaBus } from '../../kafka/bus.js';
import { ensureTopics, pipelineTopics, type PipelineTopics } from '../../kafka/topics.js';
import type { TransformRunner } from '../embedded.js';
import { MAPPING, type MappingRule } from '../mapping.js';
import { FlinkDeadLetterConsumer } from './dead-letters.js';
import { FlinkJobManager, type FlinkJobHealth, type FlinkSqlJob, type StartResult } from './jobs.js';
import { FlinkMetricsConsumer, flinkMetricsJobFor } from './metrics-job.js';
import { flinkDlqTopic, flinkJobFor } from './sql.js';

/** `transform.flink` resolved: URLs and checkpoint URI with their defaults from `stack.*`. */
export interface FlinkRunnerSettings {
  gatewayUrl: string;
  restUrl: string;
  checkpointIntervalMs: number;
  checkpointUri: string;
  deliveryGuarantee: 'at-least-once' | 'exactly-once';
  parallelism: number;
  metricsWindowSeconds: number;
}

/** Resolves `transform.flink` (the local stack's ports and directory when not set). */
export function flinkSettingsOf(config: SyncConfig): FlinkRunnerSettings {
  const f = config.transform.flink;
  return {
    gatewayUrl: f.gatewayUrl ?? `http://127.0.0.1:${config.stack.flink.gatewayPort}`,
    restUrl: f.restUrl ?? `http://127.0.0.1:${config.stack.flink.restPort}`,
    checkpointIntervalMs: f.checkpointIntervalMs,
    checkpointUri: f.checkpointUri ?? `file://${stackDir(config.stack.dir)}/data/flink/checkpoints`,
    deliveryGuarantee: f.deliveryGuarantee,
    parallelism: f.parallelism,
    metricsWindowSeconds: f.metricsWindowSeconds,
  };
}

/** Names of the Flink jobs and consumer groups of one deployment (one topic prefix). */
export function flinkNames(config: SyncConfig): { transformJob: string; metricsJob: string; sourceGroup: string; metricsSourceGroup: string; deadLetterGroup: string; metricsGroup: string } {
  const p = config.kafka.topicPrefix;
  const g = config.daemon.groupPrefix;
  return {
    transformJob: `syncctl-transform ${p}`,
    metricsJob: `syncctl-transform-metrics ${p}`,
    // Same group as the embedded runner: switching runners resumes from the committed offsets.
    sourceGroup: `${g}.transform`,
    metricsSourceGroup: `${g}.transform.flink-metrics`,
    deadLetterGroup: `${g}.transform.flink-dlq`,
    metricsGroup: `${g}.flink-metrics`,
  };
}

/** The transform job of a config (the mapping's hash ends up in the running job's name). */
export function transformJobOf(config: SyncConfig, mapping: MappingRule[] = MAPPING, overrides: Partial<FlinkRunnerSettings> = {}): FlinkSqlJob {
  const s = { ...flinkSettingsOf(config), ...overrides };
  const n = flinkNames(config);
  return flinkJobFor(mapping, {
    name: n.transformJob,
    topics: pipelineTopics(config.kafka.topicPrefix),
    brokers: config.kafka.brokers,
    skuRule: config.identity.sku,
    groupId: n.sourceGroup,
    dlqTopic: flinkDlqTopic(config.kafka.topicPrefix),
    checkpointIntervalMs: s.checkpointIntervalMs,
    checkpointUri: s.checkpointUri,
    deliveryGuarantee: s.deliveryGuarantee,
    parallelism: s.parallelism,
  });
}

/** The windowed-figures job of a config. */
export function metricsJobOf(config: SyncConfig, overrides: Partial<FlinkRunnerSettings> = {}): FlinkSqlJob {
  const s = { ...flinkSettingsOf(config), ...overrides };
  const n = flinkNames(config);
  return flinkMetricsJobFor({
    name: n.metricsJob,
    topics: pipelineTopics(config.kafka.topicPrefix),
    brokers: config.kafka.brokers,
    groupId: n.metricsSourceGroup,
    windowSeconds: s.metricsWindowSeconds,
    checkpointIntervalMs: s.checkpointIntervalMs,
    checkpointUri: s.checkpointUri,
    parallelism: s.parallelism,
  });
}

/** Options of {@link FlinkTransformRunner}. */
export interface FlinkTransformRunnerOptions {
  config: SyncConfig;
  kafka: KafkaBus;
  /** Pool on syncctl's schema (for `sync_metrics`). */
  pool: pg.Pool;
  /** Where Flink's rejects become `dead_letters` rows. */
  deadLetters: DeadLetterSink;
  mapping?: MappingRule[];
  /** Run the windowed-figures job and write its rows into `sync_metrics` (default true). */
  metrics?: boolean;
  /** Overrides of `transform.flink` (tests: a short window). */
  settings?: Partial<FlinkRunnerSettings>;
  manager?: FlinkJobManager;
  instrumentation?: SyncEventBus;
}

/** What {@link FlinkTransformRunner.health} reports. */
export interface FlinkRunnerHealth {
  transform: { jobName: string; jobId: string | null; health: FlinkJobHealth | null; error?: string };
  metrics: { jobName: string; jobId: string | null; health: FlinkJobHealth | null; error?: string } | null;
}

/**
 * The transform stage on Flink: `start()` brings the Flink jobs to the current mapping through
 * {@link FlinkJobManager.ensure} (a running job with the same spec is kept, so a daemon restart
 * never submits a duplicate; a changed mapping is rolled out by stop-with-savepoint and restore)
 * and starts the consumers of Flink's dead-letter topic and of the metrics topic. `stop()` stops
 * only those consumers: the jobs belong to Flink and keep running.
 */
export class FlinkTransformRunner implements TransformRunner {
  readonly name = 'flink' as const;
  private readonly log = getLogger('transform');
  readonly manager: FlinkJobManager;
  readonly topics: PipelineTopics;
  readonly settings: FlinkRunnerSettings;
  private deadLetterConsumer?: FlinkDeadLetterConsumer;
  private metricsConsumer?: FlinkMetricsConsumer;
  /** The outcome of the last `start()` for each job. */
  transformJob?: StartResult;
  metricsJob?: StartResult;

  constructor(private readonly opts: FlinkTransformRunnerOptions) {
    this.settings = { ...flinkSettingsOf(opts.config), ...opts.settings };
    this.manager = opts.manager ?? new FlinkJobManager({ gatewayUrl: this.settings.gatewayUrl, restUrl: this.settings.restUrl });
    this.topics = pipelineTopics(opts.config.kafka.topicPrefix);
  }

  /** The transform job this runner ensures. */
  job(): FlinkSqlJob {
    return transformJobOf(this.opts.config, this.opts.mapping ?? MAPPING, this.settings);
  }

  /** The metrics job this runner ensures. */
  metricsJobSpec(): FlinkSqlJob {
    return metricsJobOf(this.opts.config, this.settings);
  }

  async start(): Promise<void> {
    const { config, kafka } = this.opts;
    const n = flinkNames(config);
    const dlq = flinkDlqTopic(config.kafka.topicPrefix);
    await ensureTopics(await kafka.getAdmin(), [...Object.values(this.topics.raw), this.topics.canonical, this.topics.dlq, this.topics.metrics, dlq], config.kafka.partitions, config.kafka.replicationFactor);
    // The dead-letter consumer first: whatever the job rejects from the first record on is written.
    this.deadLetterConsumer ??= new FlinkDeadLetterConsumer(kafka, dlq, n.deadLetterGroup, this.opts.deadLetters, this.opts.instrumentation ?? bus);
    await this.deadLetterConsumer.start();
    this.transformJob = await this.manager.ensure(this.job());
    this.log.info({ jobId: this.transformJob.jobId, name: this.transformJob.jobName, action: this.transformJob.action }, 'Flink transform job ensured');
    if (this.opts.metrics !== false) {
      this.metricsConsumer ??= new FlinkMetricsConsumer(kafka, this.topics.metrics, n.metricsGroup, this.opts.pool);
      await this.metricsConsumer.start();
      this.metricsJob = await this.manager.ensure(this.metricsJobSpec());
      this.log.info({ jobId: this.metricsJob.jobId, name: this.metricsJob.jobName, action: this.metricsJob.action }, 'Flink metrics job ensured');
    }
    this.emitState().catch(() => undefined);
  }

  /** Stops the consumers; the Flink jobs keep running (Flink owns them). */
  async stop(): Promise<void> {
    await Promise.allSettled([this.deadLetterConsumer?.stop(), this.metricsConsumer?.stop()]);
  }

  /** Cancels both Flink jobs (operators: `syncctl` switching back to the embedded runner; tests). */
  async cancelJobs(): Promise<void> {
    const n = flinkNames(this.opts.config);
    for (const name of [n.transformJob, n.metricsJob]) {
      const j = await this.manager.findActive(name);
      if (j) await this.manager.cancel(j.id);
    }
  }

  /** State, restarts, checkpoints and last failure of both jobs (found by name, so it works after a restart). */
  async health(): Promise<FlinkRunnerHealth> {
    const n = flinkNames(this.opts.config);
    const one = async (name: string) => {
      try {
        const j = await this.manager.findActive(name);
        return { jobName: j?.name ?? name, jobId: j?.id ?? null, health: j ? await this.manager.health(j.id) : null };
      } catch (err) {
        return { jobName: name, jobId: null, health: null, error: (err as Error).message };
      }
    };
    return { transform: await one(n.transformJob), metrics: this.opts.metrics === false ? null : await one(n.metricsJob) };
  }

  /** Emits `flink.job` events (job state, last checkpoint) for the metrics module. */
  async emitState(): Promise<FlinkRunnerHealth> {
    const h = await this.health();
    const ib = this.opts.instrumentation ?? bus;
    for (const j of [h.transform, h.metrics]) {
      if (!j) continue;
      const last = j.health?.checkpoints.lastCompleted?.completedAt;
      ib.emit('flink.job', { job: j.jobName.replace(/ \[[0-9a-f]+\]$/, ''), state: j.health?.job.state ?? 'NOT_RUNNING', ...(last ? { lastCheckpointEpochSeconds: Math.floor(last / 1000) } : {}) });
    }
    return h;
  }
}
