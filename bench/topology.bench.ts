// Sync latency per path in the demo's topology (issue 21): two Shopify stores and a WooCommerce
// site (simulators, in this process), the sample ERP as stock authority through real Debezium on
// the local stack's Kafka Connect, and the real `syncctl start` as a child process. Measured
// outside syncctl, as bench/latency.bench.ts does: the bench makes each change itself at a known
// time (an ERP stock UPDATE through SQL, or a one-line order placed on a channel simulator) on a
// SKU nobody else is changing, and records when every other channel's simulator shows the
// expected quantity (in-process change listeners) and, for a sale, when its order line exists in
// the ERP (one query every 20 ms for all pending lines). Beside it: the daemon's own per-stage
// histograms (`syncctl_pipeline_stage_seconds`) over the window, Debezium commit → stored, and the
// webhook path of bench/latency.bench.ts at 100 changes/s as the baseline of the same run.
//
// BENCH_TOPOLOGY_LOADS (default `1,10`): multiples of the demo's load (2 orders/s on each of the
// three stores, 2 ERP stock changes/s). BENCH_TOPOLOGY_SECONDS (default 60): measured seconds per
// load, after BENCH_TOPOLOGY_WARMUP_SECONDS (default 10) of the same load. BENCH_TOPOLOGY_PRODUCTS
// (default 500, 2 variants each). BENCH_TOPOLOGY_BASELINE_RATE (default 100; 0 skips the baseline).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config/load.js';
import { configSchema, type SyncConfig } from '../src/config/schema.js';
import { quoteIdent } from '../src/db/pool.js';
import { DebeziumConnector } from '../src/connectors/erp/debezium.js';
import { bucketQuantile } from '../src/monitoring/history.js';
import { initDb } from '../src/services/init-db.js';
import { demoConfig } from '../src/services/demo/reset.js';
import { initErp } from '../src/simulators/erp/index.js';
import { startShopifySimulator, type ShopifySimulator } from '../src/simulators/shopify/index.js';
import { simulatorOfStore } from '../src/services/demo/simulated-world.js';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../src/simulators/woocommerce/index.js';
import { createOrder } from '../src/simulators/woocommerce/orders.js';
import { deleteTopicsByPrefix } from '../src/pipeline/kafka/topics.js';
import { createKafka } from '../src/pipeline/kafka/client.js';
import { killNow, startDaemonProcess, type DaemonProcess } from '../test/daemon/support/process.js';
import { dropEverything } from '../test/support/isolation.js';
import { TEST_DATABASE_URL } from '../test/support/config.js';
import { freePort } from '../test/support/ports.js';
import { cpuBetween, percentile, processCpuSeconds, readCpu, round, type BenchFigure } from './lib.js';
import { runLatency } from './latency.bench.js';

const LOADS = (process.env.BENCH_TOPOLOGY_LOADS ?? '1,10').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_TOPOLOGY_SECONDS ?? 60);
const WARMUP_SECONDS = Number(process.env.BENCH_TOPOLOGY_WARMUP_SECONDS ?? 10);
const PRODUCTS = Number(process.env.BENCH_TOPOLOGY_PRODUCTS ?? 500);
const VARIANTS = 2;
const BASELINE_RATE = Number(process.env.BENCH_TOPOLOGY_BASELINE_RATE ?? 100);
/** The demo's load (`syncctl demo` defaults): orders per second on each store, ERP changes per second. */
const DEMO_ORDERS_PER_STORE = 2;
const DEMO_ERP_CHANGES = 2;
/** Every SKU's available stock when the run starts, in the ERP and on every channel. */
const INITIAL = 500;
/** A change not seen on a channel within this time counts as missing (its SKU is reused afterwards). */
const MISSING_AFTER_MS = 30_000;
const ERP_POLL_MS = 20;

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHANNELS = ['shopify:main', 'shopify:eu', 'woocommerce:outlet'] as const;
type Channel = (typeof CHANNELS)[number];
type Side = Channel | 'erp';

/** One change in flight: what each other side must show, and when the change was made. */
interface Pending {
  sku: string;
  source: Side;
  at: number;
  measured: boolean;
  /** Channel → the available quantity it must show. */
  expects: Map<Channel, number>;
  /** A sale: the ERP must hold its order line (channel, channel_order_id). */
  erpOrder?: { channel: Channel; orderId: string };
}

/** Latencies per path (`source->target`) and the changes that never arrived. */
class Recorder {
  readonly latencies = new Map<string, number[]>();
  readonly missing = new Map<string, number>();
  add(path: string, ms: number): void {
    let l = this.latencies.get(path);
    if (!l) this.latencies.set(path, (l = []));
    l.push(ms);
  }
  miss(path: string): void {
    this.missing.set(path, (this.missing.get(path) ?? 0) + 1);
  }
}

/** The simulators, the ERP, the daemon and the bench's model of every SKU's stock. */
interface Topology {
  config: SyncConfig;
  shopify: Map<Channel, ShopifySimulator>;
  woo: WooCommerceSimulator;
  erpUrl: string;
  daemon: DaemonProcess;
  skus: string[];
}

/** What a run has created so far, for its removal (also after a failed start). */
interface Created {
  erpUrl?: string;
  erpSlot?: string;
  erpConnector?: string;
  config?: SyncConfig;
  shopify: ShopifySimulator[];
  woo?: WooCommerceSimulator;
  daemon?: DaemonProcess;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds the topology: ERP database and connector names, simulators and schema all private to this run. */
async function startTopology(run: string, created: Created): Promise<Topology> {
  const erpDb = `bench_topology_${run}`;
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${erpDb}`;
  const erpUrl = u.toString();
  created.erpUrl = erpUrl;
  await initErp({ databaseUrl: erpUrl, products: PRODUCTS, variantsPerProduct: VARIANTS });
  const erp = new pg.Client({ connectionString: erpUrl });
  await erp.connect();
  try {
    // One stock figure everywhere, so the warm-up has no initial differences to write.
    await erp.query(`update stock_levels set on_hand = case when warehouse = 'MAIN' then $1::int else 0 end, reserved = 0`, [INITIAL]);
  } finally {
    await erp.end();
  }

  const demo = (await loadConfig({ file: join(REPO_ROOT, 'config/config.yml'), env: {} })).config;
  const shopify = new Map<Channel, ShopifySimulator>();
  let seed = 1;
  for (const name of ['main', 'eu'] as const) {
    const s = demo.sources.shopify[name]!;
    const sim = await startShopifySimulator({ ...simulatorOfStore(s, seed++), catalog: { products: PRODUCTS, variantsPerProduct: VARIANTS } });
    shopify.set(`shopify:${name}`, sim);
    created.shopify.push(sim);
  }
  const w = demo.sources.woocommerce.outlet!;
  // The demo's world starts its WooCommerce site with a 200 ms webhook coalescing window.
  const woo = await startWooCommerceSimulator({ consumerKey: w.consumerKey, consumerSecret: w.consumerSecret, seed: seed++, products: PRODUCTS, variationsPerProduct: VARIANTS, coalesceWindowMs: 200 });
  created.woo = woo;
  const skus: string[] = [];
  for (let p = 1; p <= PRODUCTS; p++) for (let v = 1; v <= VARIANTS; v++) skus.push(`SKU-${String(p).padStart(6, '0')}-${v}`);
  for (const sim of shopify.values()) {
    const store = sim.store;
    for (const sku of skus) {
      const level = store.levelAt(store.variantsBySku.get(sku)[0]!.inventoryItem, store.locations[0]!);
      const delta = INITIAL - level.quantities.available;
      if (delta !== 0) store.applyQuantityDeltas([{ level, name: 'available', delta }]);
    }
  }
  for (const sku of skus) {
    const rec = woo.store.findBySku(sku)[0];
    if (!rec) throw new Error(`the WooCommerce simulator has no ${sku}`);
    if (rec.stockQuantity !== INITIAL) woo.store.setStock(rec, INITIAL);
  }

  const port = await freePort();
  const prefix = `bench.topology.${run}`;
  const base = demoConfig(demo);
  const raw = {
    ...base,
    database: { ...base.database, url: TEST_DATABASE_URL, schema: `bench_topology_${run}` },
    kafka: { ...base.kafka, topicPrefix: prefix },
    redis: { ...base.redis, keyPrefix: `bench:topology:${run}:` },
    http: { ...base.http, public: { ...base.http.public, host: '127.0.0.1', port }, admin: { ...base.http.admin, host: '127.0.0.1', port: await freePort() } },
    // the levels of config/logging.yml are already merged in: the written file has no relative path
    // BENCH_TOPOLOGY_LOG_COMPONENTS=shopify.sink=debug,...: more of the daemon's log (see BENCH_TOPOLOGY_DAEMON_LOG).
    logging: {
      ...base.logging,
      file: undefined,
      level: 'warn' as const,
      components: { ...base.logging.components, ...Object.fromEntries((process.env.BENCH_TOPOLOGY_LOG_COMPONENTS ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string])) },
    },
    daemon: { ...base.daemon, groupPrefix: prefix },
    sources: {
      ...base.sources,
      shopify: {
        main: { ...base.sources.shopify.main!, url: shopify.get('shopify:main')!.baseUrl },
        eu: { ...base.sources.shopify.eu!, url: shopify.get('shopify:eu')!.baseUrl },
      },
      woocommerce: { outlet: { ...w, url: woo.info.siteUrl } },
      erp: { ...base.sources.erp!, databaseUrl: erpUrl, topicPrefix: `${prefix}.erp`, slotName: erpDb, publicationName: erpDb, connectorName: `bench-topology-${run}` },
    },
  };
  const config = configSchema.parse(raw);
  created.config = config;
  created.erpSlot = erpDb;
  created.erpConnector = `bench-topology-${run}`;
  await initDb(config);
  const dir = mkdtempSync(join(tmpdir(), 'syncctl-topology-'));
  const configPath = join(dir, 'syncctl.json');
  writeFileSync(configPath, JSON.stringify(raw, null, 2));
  const daemon = await startDaemonProcess(configPath, { timeoutMs: 120_000 });
  created.daemon = daemon;
  return { config, shopify, woo, erpUrl, daemon, skus };
}

/**
 * Stops the daemon and simulators and removes the connector (slot, publication); unless `keep`
 * (BENCH_KEEP=1, for a look at the data), also the ERP database, schema, topics and keys.
 */
async function stopTopology(c: Created, keep = false): Promise<void> {
  if (c.daemon) await killNow(c.daemon).catch(() => undefined);
  for (const s of c.shopify) await s.close().catch(() => undefined);
  await c.woo?.close().catch(() => undefined);
  const erp = c.config?.sources.erp;
  if (c.config && erp) {
    await new DebeziumConnector(erp, `http://127.0.0.1:${c.config.stack.connect.port}`, { connectorName: erp.connectorName }).remove().catch((err) => process.stderr.write(`[topology] connector removal: ${(err as Error).message}\n`));
    if (!keep) await deleteTopicsByPrefix(createKafka(c.config.kafka).admin(), `__debezium-heartbeat.${erp.topicPrefix}`).catch(() => undefined);
  }
  if (keep) {
    process.stderr.write(`[topology] kept schema ${c.config?.database.schema} and the ERP database ${c.erpUrl}\n`);
    return;
  }
  if (c.erpUrl) {
    const u = new URL(c.erpUrl);
    const db = decodeURIComponent(u.pathname.slice(1));
    u.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: u.toString() });
    await admin.connect();
    try {
      if (c.erpSlot) await admin.query(`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1 and not active`, [c.erpSlot]);
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [db]);
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)}`);
    } finally {
      await admin.end();
    }
  }
  if (c.config) await dropEverything(c.config);
}

/** The quantity a channel simulator shows for a SKU (Shopify: available at the first location). */
function shown(t: Topology, channel: Channel, sku: string): number | null {
  if (channel === 'woocommerce:outlet') return t.woo.store.findBySku(sku)[0]?.stockQuantity ?? null;
  const store = t.shopify.get(channel)!.store;
  const v = store.variantsBySku.get(sku)[0];
  return v ? (v.inventoryItem.levels.get(store.locations[0]!.id)?.quantities.available ?? null) : null;
}

/**
 * Waits for the end of the initial load: the ERP's snapshot stored, every channel showing the ERP's
 * stock, nothing unpublished or pending, and no event stored for 5 s (the demo's settle, stricter).
 */
async function warmUp(t: Topology, model: Map<string, number>, db: pg.Pool, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let quiet = 0;
  let lastEvents = -1;
  for (;;) {
    const off = t.skus.flatMap((sku) => CHANNELS.filter((c) => shown(t, c, sku) !== model.get(sku)).map((c) => `${c} ${sku}: ${shown(t, c, sku)} ≠ ${model.get(sku)}`));
    const c = await db
      .query<{ erp: number; events: number; pending: number; unpublished: number }>(
        `select (select count(*)::int from source_events where source_type = 'ERP') as erp, (select count(*)::int from source_events) as events,
                (select count(*)::int from planned_writes where status in ('PENDING', 'INFLIGHT')) as pending, (select count(*)::int from outbox) as unpublished`,
      )
      .then((r) => r.rows[0]!);
    const idle = off.length === 0 && c.erp >= t.skus.length && c.pending === 0 && c.unpublished === 0 && c.events === lastEvents;
    lastEvents = c.events;
    quiet = idle ? quiet + 1 : 0;
    if (quiet >= 5) return;
    if (Date.now() > end) throw new Error(`the topology did not settle in ${timeoutMs / 1000} s: ${off.length} differences (${off.slice(0, 3).join('; ')}), ${JSON.stringify(c)}`);
    await sleep(1000);
  }
}

/** A Prometheus histogram read from /metrics: label set (without le) → cumulative bucket counts. */
type Histogram = Map<string, Map<string, number>>;

function parseHistogram(text: string, name: string): Histogram {
  const out: Histogram = new Map();
  const prefix = `${name}_bucket{`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const close = line.lastIndexOf('}');
    const labels: Record<string, string> = {};
    for (const m of line.slice(prefix.length, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    const le = labels.le!;
    delete labels.le;
    const key = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
    let b = out.get(key);
    if (!b) out.set(key, (b = new Map()));
    b.set(le, Number(line.slice(close + 1).trim()));
  }
  return out;
}

/** Counter increases between two scrapes, per series (`name{labels}`), for the counters named. */
function counterDeltas(a: string, b: string, names: string[]): Record<string, number> {
  const read = (text: string) => {
    const m = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!names.some((n) => line.startsWith(`${n}{`) || line.startsWith(`${n} `))) continue;
      const i = line.lastIndexOf(' ');
      m.set(line.slice(0, i), Number(line.slice(i + 1)));
    }
    return m;
  };
  const before = read(a);
  const out: Record<string, number> = {};
  for (const [k, v] of read(b)) if (v - (before.get(k) ?? 0) > 0) out[k.replace(/^syncctl_/, '')] = v - (before.get(k) ?? 0);
  return out;
}

/** p50/p99 (ms) and count per label set of a histogram between two scrapes. */
function histogramWindow(a: Histogram, b: Histogram): Array<{ labels: Record<string, string>; count: number; p50: number | null; p99: number | null }> {
  const out = [];
  for (const [key, buckets] of b) {
    const prev = a.get(key);
    const delta = [...buckets].map(([le, c]) => ({ le: le === '+Inf' ? Infinity : Number(le), count: c - (prev?.get(le) ?? 0) }));
    const count = delta.find((d) => d.le === Infinity)?.count ?? 0;
    if (count <= 0) continue;
    const q = (p: number) => {
      const v = bucketQuantile(p, delta);
      return v === undefined ? null : round(v * 1000, 0);
    };
    out.push({ labels: Object.fromEntries(key.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string])), count, p50: q(0.5), p99: q(0.99) });
  }
  return out;
}

async function scrape(t: Topology): Promise<string> {
  const r = await fetch(`${t.daemon.adminUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return r.text();
}

/** What one load level measured. */
interface LoadResult {
  load: number;
  rec: Recorder;
  made: Record<string, number>;
  skipped: Record<string, number>;
  stages: ReturnType<typeof histogramWindow>;
  syncLatency: ReturnType<typeof histogramWindow>;
  cdcToStored: { p50: number | null; p99: number | null; count: number };
  webhookHandling: ReturnType<typeof histogramWindow>;
  counters: Record<string, number>;
  shopifyBuckets: Record<string, { spentPerSecond: number; availableP10: number; availableP50: number; availableMin: number }>;
  polls: ReturnType<typeof histogramWindow>;
  saleToWebhook: Record<string, { p50: number; p99: number; count: number }>;
  cpu: Record<string, number>;
}

/**
 * Runs `load` × the demo's load for warm-up + `seconds`: sales on each store and stock changes in
 * the ERP, each on a free SKU, recording per path when the change shows on the other sides.
 */
async function runLoad(t: Topology, model: Map<string, number>, load: number, seconds: number, warmupSeconds: number): Promise<LoadResult> {
  const rec = new Recorder();
  const pending = new Map<string, Pending>();
  const free: string[] = t.skus.filter((s) => model.has(s));
  const erpPool = new pg.Pool({ connectionString: t.erpUrl, max: 4 });
  const erpPoll = new pg.Client({ connectionString: t.erpUrl });
  await erpPoll.connect();
  const db = new pg.Pool({ connectionString: t.config.database.url, max: 1, options: `-c search_path="${t.config.database.schema}"` });
  const made: Record<string, number> = {};
  const skipped: Record<string, number> = {};
  // Sales in the window: channel → order id → when placed (the platform's own webhook dispatch delay is reported apart).
  const sales = new Map<Channel, Map<string, number>>(CHANNELS.map((c) => [c, new Map()]));

  const settle = (p: Pending) => {
    if (p.expects.size === 0 && !p.erpOrder && pending.get(p.sku) === p) {
      pending.delete(p.sku);
      free.push(p.sku);
    }
  };
  const arrived = (channel: Channel, sku: string, value: number | null) => {
    const p = pending.get(sku);
    if (!p || p.expects.get(channel) !== value) return;
    p.expects.delete(channel);
    if (p.measured) rec.add(`${p.source}->${channel}`, Date.now() - p.at);
    settle(p);
  };
  // Simulators keep their listeners: each load's listeners stop listening when the load ends.
  let listening = true;
  for (const [channel, sim] of t.shopify) {
    sim.store.onEvent((e) => {
      if (!listening || e.kind !== 'inventoryLevel.updated' || e.level.location !== sim.store.locations[0]) return;
      const sku = e.level.item.variant.sku;
      if (sku) arrived(channel, sku, e.level.quantities.available);
    });
  }
  t.woo.store.onChange((c) => {
    if (!listening || c.resource !== 'product' || c.event !== 'updated') return;
    const r = t.woo.store.products.get(c.id);
    if (r?.sku) arrived('woocommerce:outlet', r.sku, r.stockQuantity);
  });

  // The ERP side of sales: one query for every pending order line, every 20 ms.
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const waiting = [...pending.values()].filter((p) => p.erpOrder);
      if (waiting.length > 0) {
        const at = Date.now();
        const r = await erpPoll.query<{ channel: string; channel_order_id: string }>(
          `select o.channel, o.channel_order_id from sales_orders o
            where (o.channel, o.channel_order_id) in (select * from unnest($1::text[], $2::text[]))
              and exists (select 1 from sales_order_lines l where l.order_id = o.id)`,
          [waiting.map((p) => p.erpOrder!.channel), waiting.map((p) => p.erpOrder!.orderId)],
        );
        const got = new Set(r.rows.map((x) => `${x.channel}|${x.channel_order_id}`));
        for (const p of waiting) {
          if (!got.has(`${p.erpOrder!.channel}|${p.erpOrder!.orderId}`)) continue;
          if (p.measured) rec.add(`${p.source}->erp`, at - p.at);
          p.erpOrder = undefined;
          settle(p);
        }
      }
      await sleep(ERP_POLL_MS);
    }
  })();
  // Changes that never arrive: counted missing after MISSING_AFTER_MS, their SKU freed.
  const reap = (olderThanMs: number) => {
    const now = Date.now();
    for (const p of [...pending.values()]) {
      if (now - p.at < olderThanMs) continue;
      if (p.measured) {
        for (const c of p.expects.keys()) rec.miss(`${p.source}->${c}`);
        if (process.env.BENCH_TOPOLOGY_DEBUG) process.stderr.write(`[topology] missing ${p.sku} from ${p.source} at ${new Date(p.at).toISOString()}: ${[...p.expects].map(([c, v]) => `${c} shows ${shown(t, c, p.sku)}, expected ${v}`).join('; ')}${p.erpOrder ? `; no ERP line for ${p.erpOrder.orderId}` : ''}\n`);
        if (p.erpOrder) rec.miss(`${p.source}->erp`);
      }
      pending.delete(p.sku);
      // its stock on some side is unknown now: left out of the rotation for good
      model.delete(p.sku);
    }
  };
  const reaper = setInterval(() => reap(MISSING_AFTER_MS), 1000);

  const t0 = Date.now();
  const windowStart = t0 + warmupSeconds * 1000;
  const windowEnd = windowStart + seconds * 1000;
  const take = (stream: string): string | undefined => {
    const sku = free.shift();
    if (!sku) skipped[stream] = (skipped[stream] ?? 0) + 1;
    return sku;
  };
  const sale = (channel: Channel) => {
    const sku = take(channel);
    if (!sku) return;
    const before = model.get(sku)!;
    let orderId: string;
    const at = Date.now();
    if (channel === 'woocommerce:outlet') {
      orderId = String(createOrder(t.woo.store, { status: 'processing', line_items: [{ sku, quantity: 1 }] }).id);
    } else {
      const store = t.shopify.get(channel)!.store;
      orderId = `gid://shopify/Order/${store.createOrder([{ variant: store.variantsBySku.get(sku)[0]!, quantity: 1 }]).id}`;
    }
    model.set(sku, before - 1);
    if (at >= windowStart) sales.get(channel)!.set(orderId, at);
    const expects = new Map(CHANNELS.filter((c) => c !== channel).map((c) => [c, before - 1] as [Channel, number]));
    pending.set(sku, { sku, source: channel, at, measured: at >= windowStart, expects, erpOrder: { channel, orderId } });
    made[channel] = (made[channel] ?? 0) + 1;
  };
  let erpSeq = 0;
  const erpChange = async () => {
    const sku = take('erp');
    if (!sku) return;
    const delta = (erpSeq++ % 2 === 0 ? 1 : -1) * (1 + (erpSeq % 5));
    const value = model.get(sku)! + delta;
    // Placeholder until the commit returned (a listener cannot see the value before that).
    const p: Pending = { sku, source: 'erp', at: Date.now(), measured: false, expects: new Map() };
    pending.set(sku, p);
    await erpPool.query(`update stock_levels set on_hand = on_hand + $2, updated_at = now() where sku = $1 and warehouse = 'MAIN'`, [sku, delta]);
    p.at = Date.now();
    p.measured = p.at >= windowStart;
    model.set(sku, value);
    for (const c of CHANNELS) p.expects.set(c, value);
    // a channel that already shows the value (it cannot: every change moves it) would never fire
    made.erp = (made.erp ?? 0) + 1;
  };
  const stream = async (rate: number, fn: () => void | Promise<void>) => {
    if (rate <= 0) return;
    const inflight: Promise<void>[] = [];
    for (let i = 0; ; i++) {
      const due = t0 + (i * 1000) / rate;
      if (due >= windowEnd) break;
      if (due > Date.now()) await sleep(due - Date.now());
      try {
        const r = fn();
        if (r) inflight.push(r.catch((err) => void process.stderr.write(`[topology] change failed: ${(err as Error).message}\n`)));
      } catch (err) {
        process.stderr.write(`[topology] change failed: ${(err as Error).message}\n`);
      }
    }
    await Promise.all(inflight);
  };

  // The Shopify simulators' cost buckets over the window (observed, not changed): points left and points spent.
  const bucketSamples = new Map<Channel, number[]>([...t.shopify.keys()].map((c) => [c, []]));
  const spent = new Map<Channel, number>([...t.shopify.keys()].map((c) => [c, 0]));
  const restore: Array<() => void> = [];
  for (const [c, sim] of t.shopify) {
    const b = sim.state.bucket;
    const charge = b.tryCharge.bind(b);
    const refund = b.refund.bind(b);
    b.tryCharge = (cost: number) => {
      const ok = charge(cost);
      if (ok && Date.now() >= windowStart && Date.now() < windowEnd) spent.set(c, spent.get(c)! + cost);
      return ok;
    };
    b.refund = (points: number) => {
      if (Date.now() >= windowStart && Date.now() < windowEnd) spent.set(c, spent.get(c)! - Math.max(0, points));
      refund(points);
    };
    restore.push(() => {
      b.tryCharge = charge;
      b.refund = refund;
    });
  }
  const sampler = setInterval(() => {
    if (Date.now() < windowStart || Date.now() >= windowEnd) return;
    for (const [c, sim] of t.shopify) bucketSamples.get(c)!.push(sim.state.bucket.status().currentlyAvailable);
  }, 250);
  let metricsA = '';
  let cpuA = readCpu();
  let daemonCpuA = 0;
  const atWindow = sleep(Math.max(0, windowStart - Date.now())).then(async () => {
    metricsA = await scrape(t);
    cpuA = readCpu();
    daemonCpuA = processCpuSeconds(t.daemon.pid);
  });
  await Promise.all([
    ...CHANNELS.map((c) => stream(DEMO_ORDERS_PER_STORE * load, () => sale(c))),
    stream(DEMO_ERP_CHANGES * load, erpChange),
    atWindow,
  ]);
  clearInterval(sampler);
  for (const r of restore) r();
  const metricsB = await scrape(t);
  const cpuB = readCpu();
  const daemonCpuB = processCpuSeconds(t.daemon.pid);
  // Let the last changes arrive (or time out).
  const end = Date.now() + MISSING_AFTER_MS + 2000;
  while (pending.size > 0 && Date.now() < end) await sleep(100);
  polling = false;
  await poller;
  clearInterval(reaper);
  reap(0);
  listening = false;
  const cdc = await db.query<{ p50: number | null; p99: number | null; n: number }>(
    `select percentile_cont(0.5) within group (order by ms) as p50, percentile_cont(0.99) within group (order by ms) as p99, count(*)::int as n
       from (select extract(epoch from received_at - "timestamp") * 1000 as ms from source_events
              where source_type = 'ERP' and origin = 'cdc' and received_at between to_timestamp($1 / 1000.0) and to_timestamp($2 / 1000.0)) x`,
    [windowStart, windowEnd],
  ).then((r) => r.rows[0]!).catch(() => ({ p50: null, p99: null, n: 0 }));
  await Promise.all([erpPool.end(), erpPoll.end(), db.end()]);
  // Sale → the platform starts the order-created webhook delivery: the simulator's share of a sale's path.
  const dispatch: Record<string, number[]> = {};
  for (const [channel, sim] of t.shopify) {
    dispatch[channel] = sim.state.dispatcher.deliveries
      .filter((d) => (d.topic === 'ORDERS_CREATE' || d.topic === 'orders/create') && !d.duplicate && d.attempts[0] && Date.parse(d.triggeredAt) >= windowStart && Date.parse(d.triggeredAt) < windowEnd)
      .map((d) => Date.parse(d.attempts[0]!.at) - Date.parse(d.triggeredAt));
  }
  const wooPlaced = sales.get('woocommerce:outlet')!;
  dispatch['woocommerce:outlet'] = t.woo.deliveries.filter((d) => d.kind === 'delivery' && d.topic === 'order.created' && wooPlaced.has(String(d.resourceId))).map((d) => Date.parse(d.at) - wooPlaced.get(String(d.resourceId))!);
  const cpu = cpuBetween(cpuA, cpuB);
  return {
    load,
    rec,
    made,
    skipped,
    stages: histogramWindow(parseHistogram(metricsA, 'syncctl_pipeline_stage_seconds'), parseHistogram(metricsB, 'syncctl_pipeline_stage_seconds')),
    syncLatency: histogramWindow(parseHistogram(metricsA, 'syncctl_sync_latency_seconds'), parseHistogram(metricsB, 'syncctl_sync_latency_seconds')),
    counters: counterDeltas(metricsA, metricsB, ['syncctl_retries_total', 'syncctl_shopify_throttled_total', 'syncctl_writes_failed_total', 'syncctl_poll_runs_total', 'syncctl_poll_found_total']),
    shopifyBuckets: Object.fromEntries([...bucketSamples].map(([c, v]) => [c, { spentPerSecond: round(spent.get(c)! / seconds, 0), availableP10: percentile(v, 10), availableP50: percentile(v, 50), availableMin: Math.min(...v) }])),
    polls: histogramWindow(parseHistogram(metricsA, 'syncctl_poll_duration_seconds'), parseHistogram(metricsB, 'syncctl_poll_duration_seconds')),
    webhookHandling: histogramWindow(parseHistogram(metricsA, 'syncctl_webhook_handling_seconds'), parseHistogram(metricsB, 'syncctl_webhook_handling_seconds')),
    saleToWebhook: Object.fromEntries(Object.entries(dispatch).map(([c, l]) => [c, { p50: round(percentile(l, 50), 0), p99: round(percentile(l, 99), 0), count: l.length }])),
    cdcToStored: { p50: cdc.p50 === null ? null : round(Number(cdc.p50), 0), p99: cdc.p99 === null ? null : round(Number(cdc.p99), 0), count: cdc.n },
    cpu: { ...cpu.perGroup, daemon: round(daemonCpuB - daemonCpuA, 2), seconds: seconds },
  };
}

/** `write.shopify:main`, `relay`: a stage and its target. */
const stageName = (l: Record<string, string>): string => [l.stage, l.target].filter(Boolean).join('.');

/** The per-path figures of one load, and a table on stderr. */
function figuresOf(r: LoadResult, seconds: number): BenchFigure[] {
  const tag = `topology.${r.load}x`;
  const figures: BenchFigure[] = [];
  const rows: string[] = [];
  const paths = [...new Set([...r.rec.latencies.keys(), ...r.rec.missing.keys()])].sort();
  for (const path of paths) {
    const l = r.rec.latencies.get(path) ?? [];
    const missing = r.rec.missing.get(path) ?? 0;
    const q = (p: number) => (l.length ? round(percentile(l, p), 0) : NaN);
    const params = { p90: q(90), p99: q(99), max: l.length ? Math.max(...l) : NaN, count: l.length, missing, seconds, load: r.load };
    figures.push(
      { name: `${tag}.${path}.p50`, value: q(50), unit: 'ms', target: 'p50 < 250 ms at 10× demo load', params },
      { name: `${tag}.${path}.p99`, value: q(99), unit: 'ms', target: 'p99 < 1 s at 10× demo load', params: { count: l.length, missing } },
    );
    rows.push(`  ${path.padEnd(38)} p50 ${String(q(50)).padStart(6)}  p90 ${String(q(90)).padStart(6)}  p99 ${String(q(99)).padStart(6)}  max ${String(params.max).padStart(6)}  n ${l.length}  missing ${missing}`);
  }
  for (const s of r.stages.sort((a, b) => stageName(a.labels).localeCompare(stageName(b.labels)))) {
    figures.push({ name: `${tag}.stage.${stageName(s.labels)}.p50`, value: s.p50 ?? NaN, unit: 'ms', params: { p99: s.p99, count: s.count, from: 'syncctl_pipeline_stage_seconds bucket differences over the window' } });
    rows.push(`  stage ${stageName(s.labels).padEnd(32)} p50 ${String(s.p50).padStart(6)}  p99 ${String(s.p99).padStart(6)}  n ${s.count}`);
  }
  for (const s of r.syncLatency) rows.push(`  syncctl_sync_latency_seconds ${`${s.labels.source}->${s.labels.target} ${s.labels.path}`.padEnd(40)} p50 ${String(s.p50).padStart(6)}  p99 ${String(s.p99).padStart(6)}  n ${s.count}`);
  figures.push({ name: `${tag}.debezium-commit-to-stored.p50`, value: r.cdcToStored.p50 ?? NaN, unit: 'ms', params: { ...r.cdcToStored, what: 'ERP commit (source.ts_ms) → raw event stored in source_events' } });
  figures.push({ name: `${tag}.cpu.daemon`, value: r.cpu.daemon ?? NaN, unit: 's', params: { ...r.cpu, made: r.made, skipped: r.skipped } });
  for (const s of r.webhookHandling) rows.push(`  syncctl_webhook_handling_seconds ${`${s.labels.platform} ${s.labels.outcome}`.padEnd(24)} p50 ${String(s.p50).padStart(6)}  p99 ${String(s.p99).padStart(6)}  n ${s.count}`);
  for (const [c, x] of Object.entries(r.saleToWebhook)) {
    rows.push(`  sale on ${c.padEnd(20)} → its order-created webhook sent (simulator) p50 ${x.p50} p99 ${x.p99} n ${x.count}`);
    figures.push({ name: `${tag}.sale-to-webhook-sent.${c}.p50`, value: x.p50, unit: 'ms', params: { ...x, what: 'a sale on the channel simulator → its order-created webhook delivery starts (the platform\'s own delay, not syncctl\'s)' } });
  }
  rows.push(`  counters over the window: ${JSON.stringify(r.counters)}`);
  rows.push(`  Shopify simulators' cost buckets (points/s spent, points left p10/p50/min): ${JSON.stringify(r.shopifyBuckets)}`);
  for (const s of r.polls) rows.push(`  syncctl_poll_duration_seconds ${`${s.labels.source} ${s.labels.resource}`.padEnd(32)} p50 ${String(s.p50).padStart(6)}  p99 ${String(s.p99).padStart(6)}  n ${s.count}`);
  rows.push(`  debezium commit → stored p50 ${r.cdcToStored.p50} p99 ${r.cdcToStored.p99} n ${r.cdcToStored.count}`);
  rows.push(`  changes made ${JSON.stringify(r.made)} skipped (no free SKU) ${JSON.stringify(r.skipped)} cpu s ${JSON.stringify(r.cpu)}`);
  process.stderr.write(`[topology] ${r.load}× demo load (${DEMO_ORDERS_PER_STORE * r.load} orders/s per store, ${DEMO_ERP_CHANGES * r.load} ERP changes/s), ${seconds} s window, latencies in ms:\n${rows.join('\n')}\n`);
  return figures;
}

export default async function run(): Promise<BenchFigure[]> {
  const runId = randomBytes(3).toString('hex');
  const started = Date.now();
  const created: Created = { shopify: [] };
  const figures: BenchFigure[] = [];
  let db: pg.Pool | undefined;
  try {
    const t = await startTopology(runId, created);
    db = new pg.Pool({ connectionString: t.config.database.url, max: 1, options: `-c search_path="${t.config.database.schema}"` });
    const model = new Map(t.skus.map((s) => [s, INITIAL]));
    await warmUp(t, model, db, 300_000);
    // A SKU syncctl has not polled yet on some side is not written there (the initial load is still
    // going: WooCommerce's first poll of a large catalog takes minutes): only SKUs it knows everywhere are measured.
    const sides = ['erp', ...CHANNELS];
    const known = new Set(
      (await db.query<{ sku: string }>(`select entity_id as sku from sync_state where source_type = any($1) group by entity_id having count(distinct source_type) = $2`, [sides, sides.length])).rows.map((r) => r.sku),
    );
    for (const sku of t.skus) if (!known.has(sku)) model.delete(sku);
    process.stderr.write(`[topology] converged ${round((Date.now() - started) / 1000, 0)} s after start; ${model.size} of ${t.skus.length} SKUs known to syncctl on every side are measured\n`);
    for (const load of LOADS) figures.push(...figuresOf(await runLoad(t, model, load, SECONDS, WARMUP_SECONDS), SECONDS));
  } finally {
    await db?.end().catch(() => undefined);
    // BENCH_TOPOLOGY_DAEMON_LOG=<file>: the daemon's stderr, for a look at what it warned about.
    if (process.env.BENCH_TOPOLOGY_DAEMON_LOG && created.daemon) writeFileSync(process.env.BENCH_TOPOLOGY_DAEMON_LOG, created.daemon.stderr());
    await stopTopology(created, process.env.BENCH_KEEP === '1');
  }
  if (BASELINE_RATE > 0) {
    const base = await runLatency({ rates: [BASELINE_RATE] });
    figures.push(...base.map((f) => ({ ...f, name: `baseline.${f.name}` })));
  }
  return figures;
}
