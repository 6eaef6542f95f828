// End-to-end sync latency (issue 7): a stock change on the authority (a Shopify store, simulator)
// → signed webhook → the real CLI `syncctl start` (intake, relay, transform, sync worker, writer)
// → the WooCommerce site (simulator) shows the new quantity. Measured outside syncctl: the time the
// bench changed the Shopify level, and the time the WooCommerce store applied the value (its
// in-process change listener), per change, at a steady rate. Baseline in the same run: the
// simulators' own webhook delivery (change → the webhook request reaches a bare HTTP server).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRig, inconsistencies, type Rig } from '../test/daemon/support/rig.js';
import { killNow, startDaemonProcess } from '../test/daemon/support/process.js';
import { percentile, round, type BenchFigure } from './lib.js';

const DEFAULT_SKUS = Number(process.env.BENCH_LATENCY_SKUS ?? 2000);
const DEFAULT_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 15);
// 1,000 changes/s (2,000 webhooks/s) overloads this 2-core machine: the simulators in this process
// cannot even deliver that many to a bare HTTP server on time (the baseline's p50 reaches seconds).
const DEFAULT_RATES = (process.env.BENCH_LATENCY_RATES ?? '10,100,300').split(',').map(Number);

interface Pending {
  sku: string;
  value: number;
  at: number;
}

/** Changes `sku` on the Shopify simulator's first location to `quantity` (in process, as its control API does). */
function setAuthority(rig: Rig, sku: string, quantity: number): void {
  const store = rig.shop.store;
  const item = store.variantsBySku.get(sku)[0]!.inventoryItem;
  const level = store.levelAt(item, store.locations[0]!);
  const delta = quantity - level.quantities.available;
  if (delta !== 0) store.applyQuantityDeltas([{ level, name: 'available', delta }]);
}

/** Runs `rate` changes/s for `seconds`, each on a different SKU in turn; returns latencies (ms) and how many never arrived. */
async function drive(rig: Rig, rate: number, seconds: number, value: (i: number) => number): Promise<{ latencies: number[]; missing: number; achieved: number }> {
  const woo = rig.woo.get('outlet')!;
  const pending = new Map<string, Pending>();
  const latencies: number[] = [];
  const listener = (c: { resource: string; event: string; id: number }) => {
    if (c.resource !== 'product' || c.event !== 'updated') return;
    const p = woo.store.products.get(c.id);
    if (!p) return;
    const want = pending.get(p.sku);
    if (want && p.stockQuantity === want.value) {
      latencies.push(Date.now() - want.at);
      pending.delete(p.sku);
    }
  };
  woo.store.onChange(listener);
  const n = Math.round(rate * seconds);
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sku = rig.skus[i % rig.skus.length]!;
    const v = value(i);
    // A SKU changed again before its previous change arrived: the previous one is superseded.
    pending.set(sku, { sku, value: v, at: Date.now() });
    setAuthority(rig, sku, v);
  }
  const achieved = n / ((Date.now() - t0) / 1000);
  const end = Date.now() + 60_000;
  while (pending.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return { latencies, missing: pending.size, achieved };
}

/** The simulator's webhook delivery alone: change → request at a bare HTTP server (same rate). */
async function webhookBaseline(rig: Rig, rate: number, seconds: number): Promise<number[]> {
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const id = /"inventory_item_id":\s*(\d+)/.exec(body)?.[1];
      const t = id ? sent.get(id) : undefined;
      if (t !== undefined) {
        latencies.push(Date.now() - t);
        sent.delete(id!);
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  // A subscription as webhookSubscriptionCreate records it.
  const d = rig.shop.state.dispatcher;
  const at = rig.shop.store.stamp();
  const sub = { id: d.nextSubscriptionId(), topic: 'INVENTORY_LEVELS_UPDATE', uri: url, format: 'JSON' as const, filter: null, includeFields: [], apiVersion: rig.shop.info.apiVersion, createdAt: at, updatedAt: at, seq: 0 };
  d.subscriptions.set(sub.id, sub);
  const n = Math.round(rate * seconds);
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - Date.now(); // read once: due - Date.now() can be -1 a moment after due > Date.now() (Node 24 warns)
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sku = rig.skus[i % rig.skus.length]!;
    const item = rig.shop.store.variantsBySku.get(sku)[0]!.inventoryItem;
    sent.set(String(item.id), Date.now());
    setAuthority(rig, sku, 7000 + i);
  }
  await new Promise((r) => setTimeout(r, 3000));
  d.subscriptions.delete(sub.id);
  await new Promise<void>((r) => server.close(() => r()));
  return latencies;
}

/** Where the time went (BENCH_LATENCY_DIAG=1): webhook scheduling, intake, engine, writer. */
async function diagnose(rig: Rig, since: number): Promise<void> {
  const ds = rig.shop.state.dispatcher.deliveries.filter((d) => Date.parse(d.triggeredAt) >= since);
  const topics = new Map<string, number>();
  for (const d of ds) topics.set(d.topic, (topics.get(d.topic) ?? 0) + 1);
  const sched = ds.filter((d) => d.attempts[0]).map((d) => Date.parse(d.attempts[0]!.at) - Date.parse(d.triggeredAt));
  const trig = new Map(ds.map((d) => [d.eventId, Date.parse(d.triggeredAt)]));
  const rows = await rig.query<{ dedupe_key: string; received: string }>(`select dedupe_key, (extract(epoch from received_at) * 1000)::bigint::text as received from source_events where origin = 'webhook' and source_type = 'SHOPIFY'`);
  const intake = rows.filter((r) => trig.has(r.dedupe_key)).map((r) => Number(r.received) - trig.get(r.dedupe_key)!);
  const w = await rig.query<{ plan: number; exec: number }>(`select extract(epoch from created_at - source_event_at) * 1000 as plan, extract(epoch from updated_at - created_at) * 1000 as exec from planned_writes where created_at >= to_timestamp($1 / 1000.0) and target_key like 'woocommerce:%'`, [since]);
  // Intake → decision: the last webhook event of the SKU stored before the write was planned.
  const plan = await rig.query<{ ms: number }>(
    `select extract(epoch from p.created_at - s.received_at) * 1000 as ms from planned_writes p
       cross join lateral (select max(received_at) as received_at from source_events s
                            where s.sku = p.sku and s.source_type = 'SHOPIFY' and s.origin = 'webhook' and s.received_at <= p.created_at) s
      where p.created_at >= to_timestamp($1 / 1000.0) and p.target_key like 'woocommerce:%' and s.received_at is not null`, [since]);
  const p = (xs: number[]) => `p50 ${round(percentile(xs, 50), 0)} p99 ${round(percentile(xs, 99), 0)} n ${xs.length}`;
  process.stderr.write(`[diag] webhooks by topic ${JSON.stringify([...topics])}\n[diag] trigger → first attempt ${p(sched)}\n[diag] trigger → stored (intake) ${p(intake)}\n[diag] change (source time) → write planned ${p(w.map((x) => Number(x.plan)))}\n[diag] stored → write planned ${p(plan.map((x) => Number(x.ms)))}\n[diag] planned → done ${p(w.map((x) => Number(x.exec)))}\n`);
}

/** The webhook path at the given rates (the topology bench runs it at 100 changes/s as its baseline). */
export async function runLatency(opts: { rates?: number[]; seconds?: number; skus?: number } = {}): Promise<BenchFigure[]> {
  const rates = opts.rates ?? DEFAULT_RATES;
  const seconds = opts.seconds ?? DEFAULT_SECONDS;
  const skus = opts.skus ?? DEFAULT_SKUS;
  const rig = await startRig('latency', { skus, woo: { outlet: { buffer: 0 } }, initial: 500, overrides: { daemon: { settleSeconds: 0 }, ...(process.env.BENCH_LATENCY_ENGINE_DEBUG ? { logging: { components: { engine: 'debug' } } } : {}) } });
  const diag = process.env.BENCH_LATENCY_DIAG === '1';
  // TEST_DAEMON_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR': a CPU profile of the daemon (written when it stops on SIGTERM).
  const prof = /--cpu-prof/.test(process.env.TEST_DAEMON_NODE_ARGS ?? '');
  const daemon = await startDaemonProcess(rig.configPath, { timeoutMs: 120_000 });
  const figures: BenchFigure[] = [];
  try {
    // The initial sync (every Woo SKU at the authority's 500) before measuring.
    const end = Date.now() + 180_000;
    while ((await inconsistencies(rig, new Map())).length > 0) {
      if (Date.now() > end) throw new Error('initial sync not reached in 180 s');
      await new Promise((r) => setTimeout(r, 1000));
    }
    let base = 1000;
    for (const rate of rates) {
      const offset = base;
      const driveStart = Date.now();
      const r = await drive(rig, rate, seconds, (i) => offset + i);
      if (diag) {
        await diagnose(rig, driveStart);
        const lines = daemon.stderr().split('\n');
        const msgs = new Map<string, number>();
        for (const l of lines) {
          const m = /"msg":"([^"]*)"/.exec(l)?.[1] ?? l.slice(0, 80);
          msgs.set(m, (msgs.get(m) ?? 0) + 1);
        }
        if (process.env.DIAG_DUMP) (await import('node:fs')).writeFileSync(process.env.DIAG_DUMP, daemon.stderr());
        process.stderr.write(`[diag] daemon stderr: ${lines.length} lines; top ${JSON.stringify([...msgs].sort((a, b) => b[1] - a[1]).slice(0, 5))}\n`);
      }
      base += rate * seconds + 1000;
      const hooks = await webhookBaseline(rig, rate, Math.min(seconds, 5));
      const baseline = { name: `latency.${rate}.webhook-delivery.p50`, value: round(percentile(hooks, 50), 0), unit: 'ms' };
      const params = { ratePerSecond: rate, achievedRate: round(r.achieved, 1), seconds: seconds, skus: skus, arrived: r.latencies.length, superseded: rate * seconds - r.latencies.length - r.missing, missing: r.missing, path: 'Shopify simulator change → webhook → syncctl start → WooCommerce simulator applied' };
      figures.push(
        { name: `latency.${rate}.end-to-end.p50`, value: round(percentile(r.latencies, 50), 0), unit: 'ms', target: 'p50 < 200 ms at 1,000 changes/s', baseline, ratio: round(percentile(r.latencies, 50) / Math.max(1, baseline.value), 1), params },
        { name: `latency.${rate}.end-to-end.p99`, value: round(percentile(r.latencies, 99), 0), unit: 'ms', target: 'p99 < 1 s at 1,000 changes/s', params },
        { name: `latency.${rate}.end-to-end.max`, value: round(Math.max(...r.latencies), 0), unit: 'ms', params },
        { ...baseline, params: { changes: hooks.length, what: 'the simulator\'s own webhook delivery to a bare HTTP server (same rate, 5 s)' } },
        { name: `latency.${rate}.webhook-delivery.p99`, value: round(percentile(hooks, 99), 0), unit: 'ms' },
      );
    }
  } finally {
    if (prof) {
      daemon.kill('SIGTERM');
      await daemon.exited;
    } else await killNow(daemon);
    await rig.close(process.env.BENCH_KEEP === "1");
  }
  return figures;
}

export default function run(): Promise<BenchFigure[]> {
  return runLatency();
}
