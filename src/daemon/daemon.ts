import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import { alertReceiverEnabled, type SyncConfig } from '../config/schema.js';
import { getLogger } from '../core/logger.js';
import { events as bus, type SyncEventBus } from '../core/events.js';
import { ConfigError, describeError } from '../core/errors.js';
import { createPool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { createKafka } from '../pipeline/kafka/client.js';
import { KafkaBus } from '../pipeline/kafka/bus.js';
import { allTopicNames, ensureTopics, pipelineGroups, pipelineTopics, type PipelineTopics } from '../pipeline/kafka/topics.js';
import { createCacheClient } from '../pipeline/cache/redis.js';
import { EventStore } from '../pipeline/intake/event-store.js';
import { OutboxRelay } from '../pipeline/intake/outbox-relay.js';
import { WebhookIntake } from '../pipeline/intake/webhook-intake.js';
import { PollScheduler } from '../pipeline/intake/poll-scheduler.js';
import { DeadLetterSink } from '../pipeline/dead-letter-sink.js';
import { FlinkTransformRunner } from '../pipeline/transform/flink/runner.js';
import { StateStore } from '../sync/state-store.js';
import { SyncWorker } from '../sync/worker.js';
import { WriterPool } from '../sync/writers.js';
import { engineRules } from '../sync/rules.js';
import { createMetricsRegistry, bindMetrics } from '../monitoring/metrics.js';
import { MetricProbes, deadLetterDepthProbe, kafkaConsumerLagProbe } from '../monitoring/probes.js';
import { MetricsHistoryWriter } from '../monitoring/history.js';
import { AlertBook } from '../monitoring/alert-receiver.js';
import { startAdminServer, startPublicServer } from './http-server.js';
import { LeaderLease } from './leader.js';
import type { ConnectorSet } from './connector-set.js';

/** Builds the connectors from config (injected so tests and the demo can choose). */
export type ConnectorFactory = (config: SyncConfig, ctx: { pool: pg.Pool; kafka: KafkaBus; topics: PipelineTopics; store: EventStore }) => Promise<ConnectorSet>;

/** What `syncctl start` runs: intake, relay, transform, sync workers, writers, pollers (leader), metrics. */
export class Daemon {
  private readonly log = getLogger('daemon');
  private pool?: pg.Pool;
  private redis?: Redis;
  private kafka?: KafkaBus;
  private http?: FastifyInstance;
  private admin?: FastifyInstance;
  private relay?: OutboxRelay;
  private flink?: FlinkTransformRunner;
  private worker?: SyncWorker;
  private writers?: WriterPool;
  private pollers?: PollScheduler;
  private lease?: LeaderLease;
  private history?: MetricsHistoryWriter;
  private connectors?: ConnectorSet;
  private leaderAbort?: AbortController;
  private leaderLoops: Promise<void>[] = [];
  /** Cuts the wait of the leader tasks that run again after an outage (`LeaderTask.afterOutage`). */
  private readonly outageWakers = new Set<() => void>();
  private started = false;
  private lastChecks: Record<string, { ok: boolean; detail?: string }> = {};
  private healthTimer?: NodeJS.Timeout;
  private draining = false;
  /** The drain step in progress and since when (named by `syncctl start` when the drain times out). */
  private stopping?: { step: string; since: number };
  /** The public (webhook) listener's address once listening. */
  url?: string;
  /** The admin listener's address (`/metrics`, `/healthz`, `/readyz`, `/alerts`) once listening. */
  adminUrl?: string;

  constructor(
    private readonly config: SyncConfig,
    private readonly buildConnectors: ConnectorFactory,
    private readonly instrumentation: SyncEventBus = bus,
  ) {}

  /** Starts every part; throws (after cleaning up) when a dependency is missing. */
  async start(): Promise<void> {
    const c = this.config;
    try {
      this.pool = await createPool({ url: c.database.url, schema: c.database.schema, max: c.database.poolSize, statementTimeoutMs: c.database.statementTimeoutMs, applicationName: 'syncctl daemon' });
      // A pooled client checked out by our code (e.g. inside a transaction waiting on Kafka) has no
      // error listener of the pool's: a backend terminated then would emit an unhandled 'error' and
      // kill the process. The query in progress (or the next one) fails instead, and is retried.
      const guarded = new WeakSet<pg.PoolClient>();
      this.pool.on('acquire', (client) => {
        if (guarded.has(client)) return;
        guarded.add(client);
        client.on('error', (err) => this.log.warn({ err: err.message }, 'PostgreSQL connection lost; the work in progress will be retried'));
      });
      await this.checkMigrations();
      this.redis = createCacheClient(c.redis.url);
      this.kafka = new KafkaBus(createKafka(c.kafka));
      const topics = pipelineTopics(c.kafka.topicPrefix);
      await ensureTopics(await this.kafka.getAdmin(), allTopicNames(topics), c.kafka.partitions, c.kafka.replicationFactor);
      await this.kafka.connectProducer();
      const store = new EventStore(this.pool, this.instrumentation);
      const deadLetters = new DeadLetterSink(this.pool, this.kafka, topics.dlq, this.instrumentation);
      this.connectors = await this.buildConnectors(c, { pool: this.pool, kafka: this.kafka, topics, store });

      // Metrics first, so nothing that happens at start goes uncounted.
      const registry = createMetricsRegistry({ version: process.env.npm_package_version });
      bindMetrics(this.instrumentation, registry);
      const probes = new MetricProbes({ registry });
      probes.register('dlq-depth', deadLetterDepthProbe(this.pool, this.instrumentation));
      const groups = pipelineGroups(c.daemon.groupPrefix, c.transform.runner, topics);
      probes.register('consumer-lag', kafkaConsumerLagProbe(await this.kafka.getAdmin(), this.instrumentation, groups));
      if (c.monitoring.metricsHistory.enabled) {
        this.history = new MetricsHistoryWriter({ pool: this.pool, registry, probes, intervalSeconds: c.monitoring.metricsHistory.intervalSeconds, retentionDays: c.monitoring.metricsHistory.retentionDays, extraLabels: { daemon: hostname() }, bus: this.instrumentation });
        this.history.start();
      }

      const intake = new WebhookIntake(this.pool, store, this.connectors.webhookSources, this.instrumentation);
      const h = c.http;
      const alertBook = new AlertBook();
      const admin = await startAdminServer({
        host: h.admin.host,
        port: h.admin.port,
        registry,
        probes,
        health: { live: () => this.liveness(), ready: () => this.readiness() },
        token: h.admin.token,
        unauthenticated: h.admin.unauthenticated,
        alerts: alertReceiverEnabled(c) ? { book: alertBook } : false,
        console: c.console.enabled ? { config: c, pool: this.pool, kafka: this.kafka, topics, registry, alerts: alertBook } : false,
      });
      this.admin = admin.app;
      this.adminUrl = admin.url;
      const server = await startPublicServer({
        host: h.public.host,
        port: h.public.port,
        bodyLimitBytes: h.bodyLimitBytes,
        intake,
        live: () => this.liveness().ok,
        trustProxy: h.public.trustProxy,
        rateLimit: h.public.rateLimit.enabled ? h.public.rateLimit : false,
        instrumentation: this.instrumentation,
      });
      this.http = server.app;
      this.url = server.url;

      // Embedded runner: the relay maps each stored event itself (no raw-topic consumer hop).
      // Flink runner: the relay publishes the raw topics; Flink owns the job, and one daemon (the
      // leader) makes sure it runs and relays its rejects.
      const flink = c.transform.runner === 'flink';
      const output = flink ? { raw: true } : { raw: c.transform.publishRawTopics, transform: { skuRule: c.identity.sku, deadLetters } };
      this.relay = new OutboxRelay(this.pool, c.database.url, this.kafka, topics, { batchSize: Math.max(2000, c.batching.maxBatchSize), idlePollMs: 1000, output }, this.instrumentation);
      await this.relay.start();
      if (flink) this.flink = new FlinkTransformRunner({ config: c, kafka: this.kafka, pool: this.pool, deadLetters });
      const state = new StateStore(this.pool, this.redis, c.redis.keyPrefix, c.redis.ttlSeconds, this.instrumentation);
      this.worker = new SyncWorker(this.pool, this.kafka, state, deadLetters, { groupId: `${c.daemon.groupPrefix}.sync`, canonicalTopic: topics.canonical, rules: engineRules(c), concurrency: c.batching.partitionsConcurrently }, this.instrumentation);
      await this.worker.start();
      this.writers = new WriterPool(this.pool, c.database.url, this.kafka, topics.canonical, this.connectors.sinks, deadLetters, { retry: c.retry, leaseSeconds: c.daemon.writeLeaseSeconds, idlePollMs: 500 }, this.instrumentation);
      await this.writers.start();
      for (const s of this.connectors.services) await s.start();

      this.pollers = new PollScheduler(this.pool, store, this.connectors.polled, this.instrumentation);
      this.lease = new LeaderLease(c.database.url, `syncctl.leader.${c.database.schema}.${c.kafka.topicPrefix}`, () => this.becomeLeader(), () => this.stepDown());
      this.lease.start();
      this.started = true;
      this.healthTimer = setInterval(() => void this.readiness().catch(() => undefined), 5000);
      this.healthTimer.unref();
      this.log.info({ url: this.url, adminUrl: this.adminUrl, sources: [...this.connectors.webhookSources.keys()], targets: [...this.connectors.sinks.keys()] }, 'syncctl daemon started');
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  private async checkMigrations(): Promise<void> {
    const client = await this.pool!.connect();
    try {
      const r = await migrate(client, this.config.database.schema, { dryRun: true });
      if (r.pending.length) {
        throw new ConfigError('DATABASE_NOT_INITIALISED', `The database has ${r.pending.length} pending migration(s): ${r.pending.map((m) => m.name).join(', ')}.`, { hint: 'Run `syncctl init-db` first.' });
      }
    } finally {
      client.release();
    }
  }

  private becomeLeader(): void {
    this.pollers?.start();
    if (this.flink) {
      const flink = this.flink;
      void flink.start().catch((err) => this.log.error({ err: describeError(err) }, 'the Flink transform job could not be ensured; raw events wait in Kafka until it runs'));
    }
    this.leaderAbort = new AbortController();
    const signal = this.leaderAbort.signal;
    this.leaderLoops = (this.connectors?.leaderTasks ?? []).map(async (t) => {
      while (!signal.aborted) {
        try {
          await t.run(signal);
        } catch (err) {
          if (!signal.aborted) this.log.warn({ task: t.name, err: describeError(err) }, 'leader task failed; will run again');
        }
        await new Promise((r) => {
          // Woken by the timer, by an outage ending (afterOutage tasks) or by the step-down; each
          // way removes the other two, so no abort listener piles up across runs.
          const wake = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', wake);
            this.outageWakers.delete(wake);
            r(undefined);
          };
          const timer = setTimeout(wake, t.intervalMs);
          if (t.afterOutage) this.outageWakers.add(wake);
          signal.addEventListener('abort', wake, { once: true });
        });
      }
    });
  }

  private async stepDown(): Promise<void> {
    await this.flink?.stop().catch(() => undefined);
    this.leaderAbort?.abort();
    await Promise.allSettled(this.leaderLoops);
    await this.pollers?.stop();
  }

  /**
   * Liveness: the process answers (200 even while a dependency is down, so a supervisor does not
   * restart a daemon that will resume by itself); the body names the dependencies found down by
   * the last readiness check (refreshed every few seconds).
   */
  liveness(): { ok: boolean; detail?: Record<string, unknown> } {
    const down = Object.entries(this.lastChecks).filter(([k, v]) => !v.ok && ['postgres', 'kafka', 'redis'].includes(k)).map(([k]) => k);
    return { ok: true, detail: { dependencies: down.length ? 'degraded' : 'ok', ...(down.length ? { down } : {}) } };
  }

  /** Readiness: started, not draining, PostgreSQL and Kafka answering (Redis is optional: reported only). */
  async readiness(): Promise<{ ok: boolean; checks: Record<string, { ok: boolean; detail?: string }> }> {
    const checks: Record<string, { ok: boolean; detail?: string }> = {
      started: { ok: this.started },
      draining: { ok: !this.draining },
    };
    try {
      await this.pool?.query('select 1');
      checks.postgres = { ok: true };
    } catch (err) {
      checks.postgres = { ok: false, detail: describeError(err).message };
    }
    try {
      const admin = await withTimeout(this.kafka!.getAdmin(), 2000);
      await withTimeout(admin.describeCluster(), 2000);
      checks.kafka = { ok: true };
    } catch (err) {
      checks.kafka = { ok: false, detail: describeError(err).message };
    }
    checks.redis = { ok: this.redis?.status === 'ready', detail: this.redis?.status };
    checks.leader = { ok: true, detail: this.lease?.leader ? 'leader' : 'follower' };
    // Per-source checks (a store whose credentials are refused) are reported without failing readiness.
    const reported = new Set<string>(['redis']);
    for (const c of this.connectors?.checks ?? []) {
      checks[c.name] = c.check();
      reported.add(c.name);
    }
    const recovered = ['postgres', 'kafka'].some((k) => this.lastChecks[k] && !this.lastChecks[k]!.ok) && checks.postgres?.ok && checks.kafka?.ok;
    this.lastChecks = checks;
    if (recovered) {
      // The intake refused webhooks meanwhile: a platform may have dropped a subscription.
      this.log.warn({ tasks: this.outageWakers.size }, 'PostgreSQL and Kafka answer again after an outage: re-checking the webhook subscriptions now');
      for (const wake of [...this.outageWakers]) wake();
    }
    return { ok: Object.entries(checks).every(([k, x]) => x.ok || reported.has(k)), checks };
  }

  /**
   * Drains and stops: no new webhooks, pollers and leader tasks stop, the relay publishes what is
   * stored, consumers finish their batch (offsets after effects), writers finish in-flight writes.
   */
  async stop(): Promise<void> {
    this.draining = true;
    clearInterval(this.healthTimer);
    const step = async (name: string, fn: () => Promise<unknown> | undefined) => {
      const since = Date.now();
      this.stopping = { step: name, since };
      try {
        await fn();
      } catch (err) {
        this.log.warn({ step: name, err: describeError(err) }, 'error while stopping');
      }
      this.log.debug({ step: name, ms: Date.now() - since }, 'drain step done');
    };
    await step('http', () => Promise.all([this.http?.close(), this.admin?.close()]));
    await step('lease', () => this.lease?.stop());
    await step('pollers', () => this.pollers?.stop());
    for (const s of this.connectors?.services ?? []) await step(s.name, () => s.stop());
    await step('relay-flush', async () => {
      if (!this.relay) return;
      for (let i = 0; i < 20 && (await this.relay.relayOnce()) > 0; i++);
    });
    await step('relay', () => this.relay?.stop());
    await step('worker', () => this.worker?.stop());
    await step('writers', () => this.writers?.stop());
    await step('history', () => this.history?.stop({ flush: true }));
    await step('connectors', () => this.connectors?.close());
    await step('kafka', () => this.kafka?.close());
    await step('redis', async () => this.redis?.disconnect());
    await step('pool', () => this.pool?.end());
    this.stopping = undefined;
    this.started = false;
  }

  /** The drain step in progress and how long it has taken so far (undefined when not stopping). */
  drainProgress(): { step: string; ms: number } | undefined {
    return this.stopping && { step: this.stopping.step, ms: Date.now() - this.stopping.since };
  }
}

/** Rejects when `p` does not settle within `ms` (the dependency checks must answer quickly). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
