import pg from 'pg';
import type { SyncConfig } from '../../config/schema.js';
import { events as bus } from '../../core/events.js';
import { sleep } from '../../core/retry.js';
import { describeError } from '../../core/errors.js';
import { stackDown, stackStatus, stackUp } from '../../stack/manager.js';
import { initDb } from '../init-db.js';
import { Daemon } from '../../daemon/daemon.js';
import { buildConnectorSet } from '../../daemon/registry.js';
import { runErpGenerator } from '../../simulators/erp/index.js';
import { startSimulatedWorld, type SimulatedWorld } from './simulated-world.js';
import { checkConvergence, type ConvergenceReport } from './convergence.js';
import { cleanupDemoRun, demoConfig, DEMO_SCHEMA, resetDemoState } from './reset.js';

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
  signal: AbortSignal;
  /** Progress lines for a person (stderr). */
  onPhase?: (message: string) => void;
  /** Live figures, about once a second. */
  onTick?: (s: DemoSnapshot) => void;
}

/** Live figures of the demo. */
export interface DemoSnapshot {
  elapsedSeconds: number;
  eventsProcessed: number;
  eventsPerSecond: number;
  writesApplied: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  conflicts: number;
  deadLetters: number;
  urls: { metrics: string; health: string; simulators: Record<string, string> };
}

/** The demo's final summary (also its `--json` result). */
export interface DemoSummary {
  converged: boolean;
  eventsProcessed: number;
  writesApplied: number;
  latency: { p50Ms: number | null; p99Ms: number | null; samples: number };
  conflicts: number;
  deadLetters: number;
  durationSeconds: number;
  convergence: ConvergenceReport;
}

const pct = (v: number[], p: number): number | null => {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! * 1000);
};

/**
 * The README's main job: brings up the stack, simulated stores and the sample ERP, runs the
 * daemon, generates live orders and ERP changes, then stops the traffic, lets the pipeline settle
 * and checks by reading every platform that the channels converged. Stops what it started.
 */
export async function runDemo(userConfig: SyncConfig, o: DemoOptions): Promise<DemoSummary> {
  const say = o.onPhase ?? (() => undefined);
  const config = demoConfig(userConfig);
  const started = Date.now();
  const withConnect = Boolean(config.sources.erp);
  const before = await stackStatus(config, { connect: withConnect });
  const wasUp = new Set(before.filter((c) => c.ready).map((c) => c.component));
  let world: SimulatedWorld | undefined;
  let daemon: Daemon | undefined;
  const erpAbort = new AbortController();
  let erpRun: Promise<unknown> | undefined;
  const latencies: number[] = [];
  let processed = 0;
  let writes = 0;
  const offs = [
    bus.on('events.processed', (e) => (processed += e.count)),
    bus.on('write.applied', (e) => {
      writes += e.count;
      for (const l of e.latencySeconds) {
        latencies.push(l);
        if (latencies.length > 50_000) latencies.splice(0, 10_000);
      }
    }),
  ];
  const pool = new pg.Pool({ connectionString: config.database.url, max: 2, options: `-c search_path=${DEMO_SCHEMA}` });
  try {
    say(`Starting the local stack (Kafka${withConnect ? ', Kafka Connect + Debezium' : ''}); the first run downloads pinned jars from Maven Central...`);
    await stackUp(config, { connect: withConnect });
    say(`Resetting the demo's own state (schema ${DEMO_SCHEMA}${config.sources.erp ? ', the sample ERP database and its connector' : ''})...`);
    await resetDemoState(config);
    say('Initialising the database and topics...');
    await initDb(config);
    say(`Starting simulated stores (${o.products} products × ${o.variantsPerProduct} variants, with deliberate drift) and the sample ERP...`);
    world = await startSimulatedWorld(config, { products: o.products, variantsPerProduct: o.variantsPerProduct });
    say('Starting the sync daemon (initial load through the pollers)...');
    daemon = new Daemon(config, buildConnectorSet);
    await daemon.start();
    await settle(pool, 120_000, say);
    say(`Live traffic: ${o.ordersPerSecond} orders/s per store, ${o.erpChangesPerSecond} ERP changes/s. ${o.durationSeconds ? `Running ${o.durationSeconds} s.` : 'Ctrl-C to stop.'}`);
    await world.setTraffic(o.ordersPerSecond);
    if (config.sources.erp && o.erpChangesPerSecond > 0) {
      erpRun = runErpGenerator({ databaseUrl: config.sources.erp.databaseUrl, ratePerSecond: o.erpChangesPerSecond, signal: erpAbort.signal }).catch((err) => say(`ERP generator stopped: ${describeError(err).message}`));
    }
    const liveStart = Date.now();
    let lastProcessed = processed;
    while (!o.signal.aborted && (!o.durationSeconds || Date.now() - liveStart < o.durationSeconds * 1000)) {
      await sleep(1000, o.signal).catch(() => undefined);
      const counts = await counters(pool);
      o.onTick?.({
        elapsedSeconds: Math.round((Date.now() - liveStart) / 1000),
        eventsProcessed: processed,
        eventsPerSecond: processed - lastProcessed,
        writesApplied: writes,
        latencyP50Ms: pct(latencies, 50),
        latencyP99Ms: pct(latencies, 99),
        conflicts: counts.conflicts,
        deadLetters: counts.deadLetters,
        urls: {
          metrics: `${daemon.adminUrl}/metrics`,
          health: `${daemon.adminUrl}/readyz`,
          simulators: Object.fromEntries([...[...world.shopify].map(([n, s]) => [`shopify:${n}`, s.info.controlUrl]), ...[...world.woocommerce].map(([n, w]) => [`woocommerce:${n}`, w.info.controlUrl])]),
        },
      });
      lastProcessed = processed;
    }
    say('Stopping the traffic and letting the pipeline settle...');
    await world.setTraffic(0);
    erpAbort.abort();
    await erpRun;
    await settle(pool, 120_000, say);
    say('Final diff: reading every channel and the ERP...');
    const convergence = await checkConvergence(config);
    const counts = await counters(pool);
    return {
      converged: convergence.converged,
      eventsProcessed: processed,
      writesApplied: writes,
      latency: { p50Ms: pct(latencies, 50), p99Ms: pct(latencies, 99), samples: latencies.length },
      conflicts: counts.conflicts,
      deadLetters: counts.deadLetters,
      durationSeconds: Math.round((Date.now() - started) / 1000),
      convergence,
    };
  } finally {
    for (const off of offs) off();
    erpAbort.abort();
    await daemon?.stop().catch(() => undefined);
    await world?.close().catch(() => undefined);
    await cleanupDemoRun(config).catch(() => undefined);
    await pool.end().catch(() => undefined);
    if (!wasUp.has('kafka')) {
      say('Stopping the local stack the demo started...');
      await stackDown(config, { connect: true }).catch(() => undefined);
    }
  }
}

async function counters(pool: pg.Pool): Promise<{ conflicts: number; deadLetters: number; pendingWrites: number; unpublished: number }> {
  const r = await pool.query<{ c: number; d: number; w: number; u: number }>(
    `select (select count(*)::int from conflict_log where status = 'OPEN') as c,
            (select count(*)::int from dead_letters where status = 'OPEN') as d,
            (select count(*)::int from planned_writes where status in ('PENDING', 'INFLIGHT')) as w,
            (select count(*)::int from outbox) as u`,
  );
  const x = r.rows[0]!;
  return { conflicts: x.c, deadLetters: x.d, pendingWrites: x.w, unpublished: x.u };
}

/** Waits until nothing is pending (no unpublished events, no due writes) and no event was stored for a while. */
async function settle(pool: pg.Pool, maxMs: number, say: (m: string) => void): Promise<void> {
  const end = Date.now() + maxMs;
  let quiet = 0;
  let lastEvents = -1;
  while (Date.now() < end) {
    const c = await counters(pool);
    const ev = (await pool.query<{ n: number }>(`select count(*)::int as n from source_events`)).rows[0]!.n;
    const idle = c.unpublished === 0 && c.pendingWrites === 0 && ev === lastEvents;
    quiet = idle ? quiet + 1 : 0;
    lastEvents = ev;
    if (quiet >= 4) return;
    await sleep(1000);
  }
  say('The pipeline did not settle in time; checking anyway.');
}
