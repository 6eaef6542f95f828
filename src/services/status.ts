import type pg from 'pg';
import type { SyncConfig } from '../config/schema.js';
import { stackStatus } from '../stack/manager.js';
import type { StackComponentStatus } from '../stack/component.js';
import { createPool } from '../db/pool.js';
import { describeError } from '../core/errors.js';
import { sourceKey } from '../core/model.js';
import { createKafka } from '../pipeline/kafka/client.js';
import { pipelineGroups, pipelineTopics } from '../pipeline/kafka/topics.js';
import { DebeziumConnector } from '../connectors/erp/debezium.js';
import { createWooCommerceConnector } from '../connectors/woocommerce/index.js';
import { createShopifyConnector, isCredentialsRefusal, SHOPIFY_SUBSCRIPTION_TOPICS, type ShopifyConnector } from '../connectors/shopify/index.js';
import { shopifyVersionWarnings } from '../connectors/shopify/api-versions.js';
import type { SubscriptionReport, SubscriptionState } from '../connectors/shopify/subscriptions.js';
import { SyncError } from '../core/errors.js';
import { webhookUrl } from '../daemon/registry.js';
import { readDriftResults, type DriftResult } from './diff/drift-check.js';

/** One source instance's health. */
export interface SourceStatus {
  source: string;
  lastEventAt: string | null;
  lastPollAt: string | null;
  /** The poller has not succeeded for 3 poll intervals. */
  pollStale: boolean;
  /** WooCommerce: webhook subscriptions by topic; ERP: connector/task state and slot. */
  detail: Record<string, unknown>;
}

/** The health report behind `syncctl status`. */
export interface StatusReport {
  healthy: boolean;
  components: StackComponentStatus[];
  database: { reachable: boolean; migrated: boolean; detail?: string; openConflicts?: number; openDeadLetters?: number; unpublishedEvents?: number; pendingWrites?: number };
  sources: SourceStatus[];
  consumerLag: Array<{ group: string; lag: number }>;
  latency: { windowMinutes: number; writes: number; p50Ms: number | null; p99Ms: number | null };
  drift: DriftResult[];
  /** Unhealthy: makes the exit code 1. */
  problems: string[];
  /** Worth a look, not failing. */
  warnings: string[];
}

/** Collects the health of the stack, the sources, Kafka, the ERP capture and syncctl's own state. Never throws for a part that is down. */
export async function collectStatus(config: SyncConfig, opts: { now?: Date } = {}): Promise<StatusReport> {
  const problems: string[] = [];
  const warnings: string[] = [...shopifyVersionWarnings(config.sources.shopify, opts.now)];
  const components = await stackStatus(config, { connect: Boolean(config.sources.erp), flink: config.transform.runner === 'flink' });
  for (const c of components) {
    const required = ['postgres', 'redis', 'kafka'].includes(c.component) || c.managed || (c.component === 'connect' && Boolean(config.sources.erp));
    if (required && !c.ready) problems.push(`${c.component} is down${c.detail ? `: ${c.detail}` : ''}`);
  }
  const report: StatusReport = { healthy: false, components, database: { reachable: false, migrated: false }, sources: [], consumerLag: [], latency: { windowMinutes: 15, writes: 0, p50Ms: null, p99Ms: null }, drift: [], problems, warnings };
  let pool: pg.Pool | undefined;
  try {
    pool = await createPool({ url: config.database.url, schema: config.database.schema, max: 2 });
    report.database.reachable = true;
    const m = await pool.query("select to_regclass('syncctl_migrations') is not null and to_regclass('planned_writes') is not null as ok");
    report.database.migrated = Boolean(m.rows[0]?.ok);
    if (!report.database.migrated) problems.push('the database is not initialised: run `syncctl init-db`');
    else await collectFromDatabase(config, pool, report);
  } catch (err) {
    report.database.detail = describeError(err).message;
    problems.push(`database unreachable: ${report.database.detail}`);
  } finally {
    await pool?.end().catch(() => undefined);
  }
  await collectConsumerLag(config, report).catch((err) => warnings.push(`consumer lag unknown: ${describeError(err).message}`));
  report.healthy = problems.length === 0;
  return report;
}

/** Shopify connectors built by `collectStatus` in this process, by instance and config. */
const statusConnectors = new Map<string, ShopifyConnector>();

async function collectFromDatabase(config: SyncConfig, pool: pg.Pool, report: StatusReport): Promise<void> {
  const r = await pool.query<{ conflicts: number; dlq: number; unpublished: number; pending: number }>(
    `select (select count(*)::int from conflict_log where status = 'OPEN') as conflicts,
            (select count(*)::int from dead_letters where status = 'OPEN') as dlq,
            (select count(*)::int from outbox) as unpublished,
            (select count(*)::int from planned_writes where status in ('PENDING', 'INFLIGHT')) as pending`,
  );
  const x = r.rows[0]!;
  Object.assign(report.database, { openConflicts: x.conflicts, openDeadLetters: x.dlq, unpublishedEvents: x.unpublished, pendingWrites: x.pending });
  if (x.dlq > 0) report.warnings.push(`${x.dlq} open dead letter(s): see \`syncctl dlq list\``);
  if (x.conflicts > 0) report.warnings.push(`${x.conflicts} open conflict(s): see \`syncctl conflicts list --open\``);
  const lat = await pool.query<{ n: number; p50: number | null; p99: number | null }>(
    `select count(*)::int as n,
            percentile_cont(0.5) within group (order by extract(epoch from updated_at - source_event_at)) * 1000 as p50,
            percentile_cont(0.99) within group (order by extract(epoch from updated_at - source_event_at)) * 1000 as p99
       from planned_writes where status = 'DONE' and source_event_at is not null and kind <> 'recheck' and cause = 'change' and updated_at > now() - interval '15 minutes'`,
  );
  report.latency = { windowMinutes: 15, writes: lat.rows[0]!.n, p50Ms: lat.rows[0]!.p50 === null ? null : Math.round(lat.rows[0]!.p50), p99Ms: lat.rows[0]!.p99 === null ? null : Math.round(lat.rows[0]!.p99) };
  const ev = await pool.query<{ k: string; at: Date }>(`select lower(source_type) || ':' || source_instance as k, max(received_at) as at from source_events group by 1`);
  const lastEvent = new Map(ev.rows.map((e) => [e.k.startsWith('erp:') ? 'erp' : e.k, e.at]));
  const cps = await pool.query<{ name: string; updated_at: Date }>(`select name, updated_at from checkpoints where name like 'poll:%'`);
  const lastPoll = new Map<string, Date>();
  for (const c of cps.rows) {
    const key = c.name.split(':').slice(1, -1).join(':');
    if (!lastPoll.has(key) || lastPoll.get(key)! < c.updated_at) lastPoll.set(key, c.updated_at);
  }
  const iso = (d?: Date) => (d ? d.toISOString() : null);
  const polled = [
    ...Object.entries(config.sources.shopify).map(([i, s]) => ({ key: sourceKey('shopify', i), interval: s.pollIntervalSeconds })),
    ...Object.entries(config.sources.woocommerce).map(([i, s]) => ({ key: sourceKey('woocommerce', i), interval: s.pollIntervalSeconds })),
  ];
  for (const p of polled) {
    const at = lastPoll.get(p.key);
    const stale = !at || Date.now() - at.getTime() > 3 * p.interval * 1000;
    const s: SourceStatus = { source: p.key, lastEventAt: iso(lastEvent.get(p.key)), lastPollAt: iso(at), pollStale: stale, detail: {} };
    if (stale) report.warnings.push(`${p.key}: no successful poll in the last ${3 * p.interval} s (is \`syncctl start\` running?)`);
    report.sources.push(s);
  }
  for (const [instance, cfg] of Object.entries(config.sources.woocommerce)) {
    const s = report.sources.find((x) => x.source === sourceKey('woocommerce', instance))!;
    try {
      const health = await withTimeout(createWooCommerceConnector(instance, { ...cfg, repairWebhooks: false }, { retry: { retries: 1 } }).health.checkWebhooks(), 5000);
      s.detail.webhooks = health.map((h) => ({ topic: h.topic, status: h.status }));
      for (const h of health) if (h.status !== 'active') report.problems.push(`woocommerce:${instance}: webhook ${h.topic} is ${h.status} (see "A WooCommerce webhook was disabled" in docs/operations.md)`);
    } catch (err) {
      report.warnings.push(`woocommerce:${instance}: webhooks unknown (${describeError(err).message})`);
    }
  }
  for (const [instance, cfg] of Object.entries(config.sources.shopify)) {
    const s = report.sources.find((x) => x.source === sourceKey('shopify', instance))!;
    // The same token provider as the daemon: a refused grant shows here too. Kept for the process,
    // so `status --watch` reuses its token instead of asking for one every refresh (a refusal is
    // not reused: each refresh asks again).
    const key = `${instance}|${JSON.stringify(cfg)}`;
    let shop = statusConnectors.get(key);
    if (!shop || shop.auth.status().state === 'refused') statusConnectors.set(key, (shop = createShopifyConnector(instance, cfg, { retry: { retries: 1 } })));
    s.detail.apiVersion = cfg.apiVersion;
    try {
      const live = await withTimeout(shop.subscriptions.list(), 5000);
      s.detail.auth = shop.auth.status();
      if (config.daemon.registerWebhooks) {
        const url = webhookUrl(config, 'shopify', instance);
        const last = (await pool.query<{ value: SubscriptionReport }>('select value from checkpoints where name = $1', [`subscriptions:shopify:${instance}`])).rows[0]?.value;
        const subs = SHOPIFY_SUBSCRIPTION_TOPICS.map((topic) => {
          const now = live.find((x) => x.topic === topic && x.uri === url);
          const was = last?.callbackUrl === url ? last.topics.find((t) => t.topic === topic) : undefined;
          const state: SubscriptionState = !now ? 'missing' : was?.state === 're-registered' && was.id === now.id ? 're-registered' : 'registered';
          return { topic, state, ...(state === 're-registered' ? { at: was!.at } : {}) };
        });
        s.detail.subscriptions = subs;
        const missing = subs.filter((x) => x.state === 'missing').map((x) => x.topic);
        if (missing.length) report.problems.push(`shopify:${instance}: webhook subscription(s) missing: ${missing.join(', ')} (the daemon's leader creates them again; see "Shopify deleted a webhook subscription" in docs/operations.md)`);
        const again = subs.filter((x) => x.state === 're-registered').map((x) => x.topic);
        if (again.length) report.warnings.push(`shopify:${instance}: Shopify had deleted webhook subscription(s) ${again.join(', ')}; syncctl created them again (was the webhook intake unreachable?)`);
      }
    } catch (err) {
      s.detail.auth = shop.auth.status();
      if (isCredentialsRefusal(err)) report.problems.push(`shopify:${instance}: ${(err as SyncError).message}${(err as SyncError).hint ? ` — ${(err as SyncError).hint}` : ''}`);
      else report.warnings.push(`shopify:${instance}: webhook subscriptions unknown (${describeError(err).message})`);
    }
  }
  if (config.sources.erp) {
    const erp = config.sources.erp;
    const s: SourceStatus = { source: 'erp', lastEventAt: iso(lastEvent.get('erp')), lastPollAt: null, pollStale: false, detail: {} };
    try {
      const d = await withTimeout(new DebeziumConnector(erp, erp.connectUrl ?? `http://127.0.0.1:${config.stack.connect.port}`, { connectorName: erp.connectorName }).status(), 5000);
      s.detail.cdc = d;
      if (d.state === 'MISSING') report.problems.push('erp: the Debezium connector is not registered (the daemon registers it when it runs)');
      else if (d.state !== 'RUNNING' || d.tasks.some((t) => t.state !== 'RUNNING')) report.problems.push(`erp: Debezium connector ${d.state}, tasks ${d.tasks.map((t) => t.state).join(', ') || 'none'}`);
      for (const w of d.warnings) report.warnings.push(`erp: ${w}`);
    } catch (err) {
      report.problems.push(`erp: capture status unknown: ${describeError(err).message}`);
    }
    report.sources.push(s);
  }
  report.drift = await readDriftResults(pool).catch(() => []);
}

async function collectConsumerLag(config: SyncConfig, report: StatusReport): Promise<void> {
  const admin = createKafka({ ...config.kafka, connectionTimeoutMs: 2000 }, { retry: { retries: 1 } }).admin();
  await admin.connect();
  try {
    const topics = pipelineTopics(config.kafka.topicPrefix);
    for (const { group, topics: list } of pipelineGroups(config.daemon.groupPrefix, config.transform.runner, topics)) {
      let lag = 0;
      for (const topic of list) {
        const [committed, ends] = await Promise.all([admin.fetchOffsets({ groupId: group, topics: [topic] }).catch(() => []), admin.fetchTopicOffsets(topic).catch(() => [])]);
        const c = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
        for (const e of ends) lag += Math.max(0, Number(e.high) - Math.max(0, c.get(e.partition) ?? 0));
      }
      report.consumerLag.push({ group, lag });
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`no answer in ${ms} ms`)), ms).unref())]);
}
