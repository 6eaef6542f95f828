import pg from 'pg';
import { connect as tcpConnect } from 'node:net';
import type { SyncConfig } from '../../config/schema.js';
import { events as bus } from '../../core/events.js';
import { sleep } from '../../core/retry.js';
import { describeError } from '../../core/errors.js';
import { stackComponents, stackStatus, stackUp } from '../../stack/manager.js';
import { initDb } from '../init-db.js';
import { Daemon } from '../../daemon/daemon.js';
import { buildConnectorSet } from '../../daemon/registry.js';
import { runErpGenerator } from '../../simulators/erp/index.js';
import { startSimulatedWorld, type SimulatedWorld } from './simulated-world.js';
import { checkConvergence, type ConvergenceReport } from './convergence.js';
import { connectUrlOf, demoConfig, DEMO_SCHEMA, removeDemoConnector, removeDemoTopics, removeStaleDemoTopics, resetDemoState } from './reset.js';
import { deleteKeysByPrefix } from '../../pipeline/cache/redis.js';
import { LatencyPaths, type PathLatency } from './latency.js';

/** Options of the demo. */
export interface DemoOptions {
  /** Stop after this many seconds of live traffic (otherwise when `signal` aborts). */
  durationSeconds?: number;
  products: number;
  variantsPerProduct: number;
  /** Orders per second on each simulated store. */
  ordersPerSecond: number;
  /** ERP changes (receipts, adjustments, price changes) per second. */
  erpChangesPerSecond: number;
  /** Most seconds to wait for the pipeline to settle once the traffic stops (then it checks anyway). */
  settleSeconds: number;
  /** The first Ctrl-C / SIGTERM: stop the traffic, settle, check, summarise. */
  signal: AbortSignal;
  /** Progress lines for a person (stderr). */
  onPhase?: (message: string) => void;
  /** Live figures, about once a second. */
  onTick?: (s: DemoSnapshot) => void;
  /** Settle progress, about once a second. */
  onSettle?: (p: SettleProgress) => void;
  /**
   * Receives the demo's emergency stop (for a second Ctrl-C): removes the ERP connector and stops
   * the stack components this demo started, quickly, without waiting for anything else.
   */
  onEmergencyStop?: (stop: () => Promise<void>) => void;
}

/** The window of the live view's latency figures. */
export const LATENCY_WINDOW_SECONDS = 30;

/** Open dead letters and conflicts by kind: what the demo causes on purpose, and anything else. */
export interface DemoProblems {
  /** Order lines held as dead letters because their SKU exists on one store only (the demo's deliberate catalog drift). */
  heldOrderLines: number;
  /** Distinct SKUs of those held order lines. */
  heldSkus: number;
  /** Open UNMATCHED_SKU conflicts: SKUs only some platforms have (the demo creates a few on purpose). */
  unmatchedSkus: number;
  /** Concurrent edits decided by a field policy (the ERP's price wins), resolved automatically. */
  policyDecisions: number;
  /** Every other open dead letter, by stage and code: not expected in the demo. */
  otherDeadLetters: Array<{ stage: string; code: string; count: number }>;
  /** Every other open conflict, by type: not expected in the demo. */
  otherConflicts: Array<{ type: string; count: number }>;
}

/** Live figures of the demo. */
export interface DemoSnapshot {
  elapsedSeconds: number;
  eventsProcessed: number;
  eventsPerSecond: number;
  writesApplied: number;
  /** Sync latency (source change → applied on the target) over the last {@link LATENCY_WINDOW_SECONDS} s, by path. */
  latency: PathLatency[];
  latencyWindowSeconds: number;
  /** Whether the demo runs with the ERP (else its latency paths do not apply). */
  withErp: boolean;
  /** Open conflicts (all kinds). */
  conflicts: number;
  /** Open dead letters (all kinds). */
  deadLetters: number;
  problems: DemoProblems;
  urls: { metrics: string; health: string; simulators: Record<string, string> };
}

/** How the settle after the traffic stopped is going. */
export interface SettleProgress {
  elapsedSeconds: number;
  maxSeconds: number;
  pendingWrites: number;
  unpublishedEvents: number;
  /** Raw events stored in the last second (changes still arriving). */
  arrivingPerSecond: number;
}

/** A component of the demo that stopped working during the run. */
export interface DemoFailure {
  component: string;
  message: string;
}

/** The demo's final summary (also its `--json` result). */
export interface DemoSummary {
  /**
   * `converged` / `not-converged`: the check ran; `component-failed`: a component died and
   * nothing was checked; `interrupted`: stopped before live traffic began.
   */
  outcome: 'converged' | 'not-converged' | 'component-failed' | 'interrupted';
  converged: boolean;
  failure?: DemoFailure;
  eventsProcessed: number;
  writesApplied: number;
  /** Over the whole live traffic and settle (all paths). */
  latency: { p50Ms: number | null; p99Ms: number | null; samples: number };
  /** Over the whole live traffic and settle, by path. */
  latencyByPath: PathLatency[];
  conflicts: number;
  deadLetters: number;
  problems: DemoProblems;
  /** Whether the pipeline settled within the bound before the check. */
  settled: boolean;
  durationSeconds: number;
  /** Stack components the demo started (and stopped again). */
  stackStarted: string[];
  convergence: ConvergenceReport | null;
}

/** How long a component must fail every check before the demo calls it dead. */
const DEAD_AFTER_MS = 5_000;

/** Thrown inside the run when a component died: the demo skips to its failure summary. */
class ComponentFailed extends Error {
  constructor(readonly failure: DemoFailure) {
    super(failure.message);
  }
}

/**
 * The README's main job: brings up the stack, simulated stores and the sample ERP, runs the
 * daemon, generates live orders and ERP changes, then stops the traffic, lets the pipeline settle
 * (at most `settleSeconds`) and checks by reading every platform that the channels converged.
 * Stops what it started. A component that dies during the run (Kafka, Kafka Connect, the
 * connector, PostgreSQL) ends the run at once with a failure summary naming it.
 */
export async function runDemo(userConfig: SyncConfig, o: DemoOptions): Promise<DemoSummary> {
  const say = o.onPhase ?? (() => undefined);
  const config = demoConfig(userConfig);
  const started = Date.now();
  const withConnect = Boolean(config.sources.erp);
  const before = await stackStatus(config, { connect: withConnect });
  // A component already running (its pid file names a live process, or something holds its
  // port) is someone else's: the demo never stops it, even when it was not ready yet.
  const wasRunning = new Set(before.filter((c) => c.running || c.ready).map((c) => c.component));
  const startedByDemo: string[] = [];
  let world: SimulatedWorld | undefined;
  let daemon: Daemon | undefined;
  const erpAbort = new AbortController();
  let erpRun: Promise<unknown> | undefined;
  const latency = new LatencyPaths(LATENCY_WINDOW_SECONDS * 1000);
  let processed = 0;
  let writes = 0;
  const offs = [
    bus.on('events.processed', (e) => (processed += e.count)),
    bus.on('write.applied', (e) => {
      writes += e.count;
      latency.add(e.source, e.target, e.latencySeconds, e.path);
    }),
  ];
  const pool = new pg.Pool({ connectionString: config.database.url, max: 2, options: `-c search_path=${DEMO_SCHEMA}` });
  pool.on('error', () => undefined); // a dropped idle connection shows up in the next query, named
  const health = new HealthProbe(config, withConnect);
  let failure: DemoFailure | undefined;
  let connectorMayExist = false;

  const stopStarted = async (): Promise<void> => {
    if (!startedByDemo.length) return;
    say(`Stopping what the demo started: ${startedByDemo.join(', ')}...`);
    for (const c of stackComponents(config, { connect: withConnect }).reverse()) {
      if (startedByDemo.includes(c.name)) await c.down().catch((err) => say(`Could not stop ${c.name}: ${describeError(err).message}`));
    }
  };
  o.onEmergencyStop?.(async () => {
    if (connectorMayExist && !failure) await bounded(removeDemoConnector(config, 2_000), 3_000);
    await stopStarted();
  });

  let convergence: ConvergenceReport | null = null;
  let settled = false;
  let interrupted = false;
  let stackReady = false;
  try {
    say(`Starting the local stack (Kafka${withConnect ? ', Kafka Connect + Debezium' : ''}); the first run downloads pinned jars from Maven Central...`);
    await stackUp(config, { connect: withConnect }, (s) => {
      if (s.ready && s.managed && !wasRunning.has(s.component)) startedByDemo.push(s.component);
    });
    stackReady = true;
    if (o.signal.aborted) throw new Interrupted();
    say(`Resetting the demo's own state (schema ${DEMO_SCHEMA}${config.sources.erp ? ', the sample ERP database and its connector' : ''})...`);
    await resetDemoState(config);
    await removeStaleDemoTopics(userConfig);
    say('Initialising the database and topics...');
    await initDb(config);
    if (o.signal.aborted) throw new Interrupted();
    say(`Starting simulated stores (${o.products} products × ${o.variantsPerProduct} variants, with deliberate drift)${config.sources.erp ? ' and the sample ERP' : ''}...`);
    world = await startSimulatedWorld(config, { products: o.products, variantsPerProduct: o.variantsPerProduct });
    say('Starting the sync daemon (initial load through the pollers)...');
    connectorMayExist = withConnect;
    daemon = new Daemon(config, buildConnectorSet);
    await daemon.start();
    health.connectorExpected = withConnect;
    const initial = await settle(pool, health, 120, o.signal);
    if (initial === 'interrupted') throw new Interrupted();
    if (initial === 'timeout') say('The initial load did not settle within 120 s; starting the traffic anyway.');
    latency.reset();
    say(`Live traffic: ${o.ordersPerSecond} orders/s per store${config.sources.erp ? `, ${o.erpChangesPerSecond} ERP changes/s` : ''}. ${o.durationSeconds ? `Running ${o.durationSeconds} s (Ctrl-C stops earlier).` : 'Ctrl-C to stop.'}`);
    await world.setTraffic(o.ordersPerSecond);
    if (config.sources.erp && o.erpChangesPerSecond > 0) {
      erpRun = runErpGenerator({ databaseUrl: config.sources.erp.databaseUrl, ratePerSecond: o.erpChangesPerSecond, signal: erpAbort.signal }).catch((err) => {
        if (!erpAbort.signal.aborted) say(`ERP generator stopped: ${describeError(err).message}`);
      });
    }
    const liveStart = Date.now();
    let lastProcessed = processed;
    while (!o.signal.aborted && (!o.durationSeconds || Date.now() - liveStart < o.durationSeconds * 1000)) {
      await sleep(1000, o.signal).catch(() => undefined);
      if (o.signal.aborted) break;
      await health.check();
      const counts = await counters(pool, health);
      o.onTick?.({
        elapsedSeconds: Math.round((Date.now() - liveStart) / 1000),
        eventsProcessed: processed,
        eventsPerSecond: processed - lastProcessed,
        writesApplied: writes,
        latency: latency.window(),
        latencyWindowSeconds: LATENCY_WINDOW_SECONDS,
        withErp: Boolean(config.sources.erp),
        conflicts: counts.conflicts,
        deadLetters: counts.deadLetters,
        problems: await problems(pool, health),
        urls: {
          metrics: `${daemon.adminUrl}/metrics`,
          health: `${daemon.adminUrl}/readyz`,
          simulators: Object.fromEntries([...[...world.shopify].map(([n, s]) => [`shopify:${n}`, s.info.controlUrl]), ...[...world.woocommerce].map(([n, w]) => [`woocommerce:${n}`, w.info.controlUrl])]),
        },
      });
      lastProcessed = processed;
    }
    say(`Stopping the traffic; letting the pipeline settle (at most ${o.settleSeconds} s, Ctrl-C again to exit at once)...`);
    await world.setTraffic(0);
    erpAbort.abort();
    await erpRun;
    const end = await settle(pool, health, o.settleSeconds, undefined, o.onSettle);
    settled = end === 'settled';
    if (!settled) say(`The pipeline did not settle within ${o.settleSeconds} s; checking anyway.`);
    say(`Final check: reading every channel${config.sources.erp ? ' and the ERP' : ''}...`);
    convergence = await checkConvergence(config);
  } catch (err) {
    if (err instanceof ComponentFailed) failure = err.failure;
    else if (err instanceof Interrupted) interrupted = true;
    else {
      // Once the stack was up, an error because a component died (a refused connection...) is
      // that component's failure; before, it is the stack's own error (it names the component).
      const dead = !stackReady ? undefined : await health.check(true).then(() => undefined, (e: unknown) => (e instanceof ComponentFailed ? e.failure : undefined));
      if (!dead) {
        await cleanUp();
        throw err;
      }
      failure = dead;
    }
  }
  if (failure) say(`✗ ${failure.message} Skipping the settle and the convergence check.`);
  if (interrupted) say('Interrupted before the live traffic began: nothing to check.');
  const counts = failure ? { conflicts: 0, deadLetters: 0 } : await counters(pool, health).catch(() => ({ conflicts: 0, deadLetters: 0 }));
  const found = failure ? emptyProblems() : await problems(pool, health).catch(() => emptyProblems());
  await cleanUp();
  const all = latency.total();
  return {
    outcome: failure ? 'component-failed' : interrupted || !convergence ? 'interrupted' : convergence.converged ? 'converged' : 'not-converged',
    converged: convergence?.converged ?? false,
    ...(failure ? { failure } : {}),
    eventsProcessed: processed,
    writesApplied: writes,
    latency: { p50Ms: all.p50Ms, p99Ms: all.p99Ms, samples: all.samples },
    latencyByPath: latency.byPath(),
    conflicts: counts.conflicts,
    deadLetters: counts.deadLetters,
    problems: found,
    settled,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    stackStarted: [...startedByDemo],
    convergence,
  };

  /** Stops the daemon and the simulators, removes the run's traces and stops what the demo started; bounded when a component died. */
  async function cleanUp(): Promise<void> {
    for (const off of offs) off();
    erpAbort.abort();
    const fast = Boolean(failure);
    if (daemon) {
      say('Stopping the sync daemon...');
      if (!(await bounded(daemon.stop().then(() => true), fast ? 5_000 : 60_000))) say('The daemon did not stop in time; going on.');
    }
    await world?.close().catch(() => undefined);
    if (connectorMayExist && failure?.component !== 'Kafka Connect') await bounded(removeDemoConnector(config), fast ? 5_000 : 40_000);
    await bounded(deleteKeysByPrefix(config.redis.url, config.redis.keyPrefix), 5_000);
    if (failure?.component !== 'Kafka') await bounded(removeDemoTopics(config), fast ? 5_000 : 30_000);
    await pool.end().catch(() => undefined);
    await stopStarted();
  }
}

class Interrupted extends Error {}

/** Resolves true when `p` settles in time, false otherwise (its outcome is then ignored). */
async function bounded(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const emptyProblems = (): DemoProblems => ({ heldOrderLines: 0, heldSkus: 0, unmatchedSkus: 0, policyDecisions: 0, otherDeadLetters: [], otherConflicts: [] });

/**
 * Watches the components a run cannot do without: Kafka (a TCP connect to the brokers), Kafka
 * Connect and the Debezium connector (its REST status), PostgreSQL (the demo's own queries).
 * `check()` throws {@link ComponentFailed} naming the first one that died.
 */
class HealthProbe {
  connectorExpected = false;
  /** When each component was first seen failing, in the current run of failed checks. */
  private readonly failingSince = new Map<string, number>();
  private immediate = false;

  constructor(private readonly config: SyncConfig, private readonly withConnect: boolean, private readonly graceMs = DEAD_AFTER_MS) {}

  /** Throws {@link ComponentFailed} for a component dead for the grace period (`immediate`: failing now). */
  async check(immediate = false): Promise<void> {
    this.immediate = immediate;
    const brokers = this.config.kafka.brokers;
    const up = await Promise.all(brokers.map((b) => tcpOpen(b, 1500)));
    this.observe({ component: 'Kafka', message: `Kafka stopped answering at ${brokers.join(', ')}.` }, up.some(Boolean));
    if (!this.withConnect) return;
    const url = connectUrlOf(this.config);
    const name = this.config.sources.erp!.connectorName;
    let res: Response | undefined;
    try {
      res = await fetch(`${url}/connectors/${encodeURIComponent(name)}/status`, { signal: AbortSignal.timeout(3000) });
    } catch {
      res = undefined;
    }
    this.observe({ component: 'Kafka Connect', message: `Kafka Connect stopped answering at ${url}.` }, res !== undefined);
    if (!res) return;
    if (!res.ok) {
      await res.body?.cancel();
      return; // 404 while the daemon (re)creates the connector
    }
    const s = (await res.json()) as { connector?: { state?: string; trace?: string }; tasks?: Array<{ id: number; state: string; trace?: string }> };
    const failedTask = s.tasks?.find((t) => t.state === 'FAILED');
    const trace = (failedTask?.trace ?? s.connector?.trace ?? '').split('\n')[0];
    this.observe(
      { component: 'Debezium connector', message: `The ERP's Debezium connector ${name} failed${trace ? `: ${trace.slice(0, 200)}` : '.'}` },
      !(this.connectorExpected && (s.connector?.state === 'FAILED' || failedTask)),
    );
  }

  /** A component is dead once it has failed every check for the grace period (one slow answer under load is not a death). */
  private observe(f: DemoFailure, ok: boolean): void {
    if (ok) {
      this.failingSince.delete(f.component);
      return;
    }
    const since = this.failingSince.get(f.component) ?? Date.now();
    this.failingSince.set(f.component, since);
    if (this.immediate || Date.now() - since >= this.graceMs) throw new ComponentFailed(f);
  }

  /** Runs a query of the demo; a refused or dropped connection is PostgreSQL's failure. */
  async query<R extends pg.QueryResultRow>(pool: pg.Pool, sql: string): Promise<pg.QueryResult<R>> {
    try {
      return await pool.query<R>(sql);
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (/^(ECONNREFUSED|ECONNRESET|57P01|57P02|57P03)$/.test(code) || /terminat|Connection terminated/i.test((err as Error).message)) {
        throw new ComponentFailed({ component: 'PostgreSQL', message: `PostgreSQL stopped answering (${describeError(err).message}).` });
      }
      throw err;
    }
  }
}

function tcpOpen(hostPort: string, timeoutMs: number): Promise<boolean> {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(hostPort.slice(i + 1));
  return new Promise((resolve) => {
    const s = tcpConnect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function counters(pool: pg.Pool, health: HealthProbe): Promise<{ conflicts: number; deadLetters: number; pendingWrites: number; unpublished: number; events: number }> {
  const r = await health.query<{ c: number; d: number; w: number; u: number; e: number }>(
    pool,
    `select (select count(*)::int from conflict_log where status = 'OPEN') as c,
            (select count(*)::int from dead_letters where status = 'OPEN') as d,
            (select count(*)::int from planned_writes where status in ('PENDING', 'INFLIGHT')) as w,
            (select count(*)::int from outbox) as u,
            (select count(*)::int from source_events) as e`,
  );
  const x = r.rows[0]!;
  return { conflicts: x.c, deadLetters: x.d, pendingWrites: x.w, unpublished: x.u, events: x.e };
}

/**
 * Open dead letters and conflicts by kind. Expected in the demo: order lines held because their
 * SKU is one the demo's catalogs give to one store only (an open UNMATCHED_SKU conflict names
 * it), the UNMATCHED_SKU conflicts themselves, and price edits decided by the ERP-wins policy.
 */
async function problems(pool: pg.Pool, health: HealthProbe): Promise<DemoProblems> {
  const dl = await health.query<{ stage: string; code: string | null; held: boolean; n: number; skus: number }>(
    pool,
    `select d.stage, d.error_code as code,
            (d.payload->>'kind' = 'order_line' and exists (select 1 from conflict_log c where c.status = 'OPEN' and c.conflict_type = 'UNMATCHED_SKU' and c.entity_id = d.sku)) as held,
            count(*)::int as n, count(distinct d.sku)::int as skus
       from dead_letters d where d.status = 'OPEN' group by 1, 2, 3`,
  );
  const cf = await health.query<{ type: string; status: string; policy: boolean; n: number }>(
    pool,
    `select conflict_type as type, status, coalesce(resolution like 'APPLIED_POLICY%', false) as policy, count(*)::int as n
       from conflict_log group by 1, 2, 3`,
  );
  const p = emptyProblems();
  for (const r of dl.rows) {
    if (r.held) {
      p.heldOrderLines += r.n;
      p.heldSkus += r.skus;
    } else p.otherDeadLetters.push({ stage: r.stage, code: r.code ?? 'UNKNOWN', count: r.n });
  }
  for (const r of cf.rows) {
    if (r.policy) p.policyDecisions += r.n;
    else if (r.status !== 'OPEN') continue;
    else if (r.type === 'UNMATCHED_SKU') p.unmatchedSkus += r.n;
    else p.otherConflicts.push({ type: r.type, count: r.n });
  }
  return p;
}

/**
 * Waits until nothing is pending (no unpublished events, no due writes) and no event was stored
 * for 4 s, at most `maxSeconds`; checks the components every second.
 */
async function settle(pool: pg.Pool, health: HealthProbe, maxSeconds: number, signal?: AbortSignal, onProgress?: (p: SettleProgress) => void): Promise<'settled' | 'timeout' | 'interrupted'> {
  const start = Date.now();
  const end = start + maxSeconds * 1000;
  let quiet = 0;
  let lastEvents = -1;
  while (Date.now() < end) {
    if (signal?.aborted) return 'interrupted';
    await health.check();
    const c = await counters(pool, health);
    const idle = c.unpublished === 0 && c.pendingWrites === 0 && c.events === lastEvents;
    onProgress?.({ elapsedSeconds: Math.round((Date.now() - start) / 1000), maxSeconds, pendingWrites: c.pendingWrites, unpublishedEvents: c.unpublished, arrivingPerSecond: lastEvents < 0 ? 0 : c.events - lastEvents });
    quiet = idle ? quiet + 1 : 0;
    lastEvents = c.events;
    if (quiet >= 4) return 'settled';
    await sleep(1000, signal).catch(() => undefined);
  }
  return 'timeout';
}
