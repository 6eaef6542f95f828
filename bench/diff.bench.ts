/**
 * `syncctl diff` at scale, against the simulators over real HTTP. Every simulator runs in a child
 * process of its own (`syncctl sim ...`), and so does the diff (the compiled CLI, as operators run
 * it), whose peak RSS is read from `process.resourceUsage().maxRSS` at its exit (a preloaded
 * module prints it). Differences are streamed as CSV to a line counter.
 *
 * Figures: 100,000 SKUs per side Shopify ↔ WooCommerce (wall, peak RSS), as a ratio of a raw
 * page read of the WooCommerce simulator (plain GETs of every page, the slower side) measured right
 * after the diff (`DIFF_BENCH_1M=0` skips the 1M run);
 * 100,000 and 1,000,000 SKUs per side Shopify ↔ ERP (peak RSS must not grow with size). The
 * WooCommerce simulator keeps a query's filtered, sorted list until the catalog changes, so a full
 * read is linear, but generating and serving a 1M-product site takes minutes: the 1M figure pairs
 * the Shopify simulator (one bulk operation) with the ERP (one SQL cursor).
 */
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { round, type BenchFigure } from './lib.js';
import { configSchema, type SyncConfig } from '../src/config/schema.js';
import { initErp } from '../src/simulators/erp/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/syncctl.js');
const DB = process.env.SYNCCTL_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/syncctl';
const ADMIN = DB.replace(/\/[^/]*$/, '/postgres');
const tmp = mkdtempSync(join(tmpdir(), 'syncctl-bench-diff-'));
const MAXRSS = join(tmp, 'maxrss.mjs');
writeFileSync(MAXRSS, `process.on('exit', () => process.stderr.write('\\nMAXRSS:' + process.resourceUsage().maxRSS + '\\n'));\n`);

interface Sim { info: Record<string, string>; child: ResultPromise }

/** Starts `syncctl sim <kind>` in its own process and waits for its ready line. */
async function startSim(kind: 'shopify' | 'woocommerce', args: string[]): Promise<Sim> {
  const child = execa('node', [BIN, 'sim', kind, '--log-level', 'error', ...args], { cwd: ROOT, reject: false, env: { NODE_OPTIONS: '--max-old-space-size=12288' }, buffer: false });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (line.startsWith('{')) {
      lines.close();
      return { info: JSON.parse(line) as Record<string, string>, child };
    }
  }
  throw new Error(`sim ${kind} did not start: ${(await child).stderr}`);
}

async function stopSim(s: Sim): Promise<void> {
  s.child.kill('SIGTERM');
  await s.child;
}

/** Runs the CLI with `args`; returns wall seconds, peak RSS (MB), CSV rows and stderr. */
async function runCliMeasured(args: string[], configFile: string): Promise<{ seconds: number; rssMb: number; rows: number; stderr: string; exitCode: number }> {
  const t = performance.now();
  const child = execa('node', [BIN, ...args, '--config', configFile], { cwd: ROOT, reject: false, env: { NODE_OPTIONS: `--import=${pathToFileURL(MAXRSS).href}`, FORCE_COLOR: '0' }, buffer: { stdout: false, stderr: true } });
  let rows = 0;
  for await (const _ of createInterface({ input: child.stdout! })) rows++;
  const r = await child;
  const stderr = String(r.stderr);
  const rss = Number(/MAXRSS:(\d+)/.exec(stderr)?.[1] ?? NaN) / 1024;
  return { seconds: (performance.now() - t) / 1000, rssMb: Math.round(rss), rows: Math.max(0, rows - 1), stderr, exitCode: r.exitCode ?? -1 };
}

function writeConfig(schema: string, sources: Record<string, unknown>): { file: string; config: SyncConfig } {
  const input = { database: { url: DB, schema }, logging: { level: 'warn' as const }, sources, sync: { authority: 'peer' } };
  const file = join(tmp, `config-${schema}-${Object.keys(sources).join('-')}-${Math.random().toString(36).slice(2, 6)}.json`);
  writeFileSync(file, JSON.stringify(input));
  return { file, config: configSchema.parse(input) };
}

const shopifySource = (s: Sim) => ({ main: { shop: s.info.shop, url: s.info.baseUrl, accessToken: s.info.accessToken, clientSecret: s.info.clientSecret, plan: 'plus' } });
const wooSource = (s: Sim) => ({ outlet: { url: s.info.siteUrl, consumerKey: s.info.consumerKey, consumerSecret: s.info.consumerSecret, webhookSecret: 'bench', concurrency: 2 } });

/** The baseline: every page of the WooCommerce simulator fetched and parsed, nothing else. */
async function rawWooRead(woo: Sim, concurrency: number): Promise<{ seconds: number; pages: number; rows: number }> {
  const auth = { authorization: `Basic ${Buffer.from(`${woo.info.consumerKey}:${woo.info.consumerSecret}`).toString('base64')}` };
  const t = performance.now();
  let next = 1;
  let last = Infinity;
  let rows = 0;
  let pages = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next <= last) {
      const page = next++;
      const res = await fetch(`${woo.info.apiUrl}/products?per_page=100&page=${page}&orderby=id&order=asc`, { headers: auth });
      last = Math.min(last, Number(res.headers.get('x-wp-totalpages') ?? Infinity));
      rows += ((await res.json()) as unknown[]).length;
      pages++;
    }
  }));
  return { seconds: (performance.now() - t) / 1000, pages, rows };
}

async function sql(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

export default async function bench(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const schema = `bench_diff_${Math.random().toString(36).slice(2, 8)}`;
  const erpDbs: string[] = [];
  await sql(DB, `create schema ${schema}`);
  try {
    // 1) Shopify ↔ WooCommerce, 100,000 SKUs per side.
    const n = 100_000;
    const [shop, woo] = await Promise.all([
      startSim('shopify', ['--products', String(n / 2), '--variants-per-product', '2', '--plan', 'plus', '--missing-sku-ratio', '0.01', '--extra-skus', '500', '--duplicate-skus', '50', '--quantity-drift', '0.05']),
      startSim('woocommerce', ['--products', String(n), '--seed', '2', '--extra-skus', '500', '--duplicate-skus', '50']),
    ]);
    try {
      const { file } = writeConfig(schema, { shopify: shopifySource(shop), woocommerce: wooSource(woo) });
      const d = await runCliMeasured(['diff', 'shopify', 'woocommerce', '--csv'], file);
      if (d.exitCode !== 1) throw new Error(`diff exited ${d.exitCode}: ${d.stderr.slice(-2000)}`);
      const raw = await rawWooRead(woo, 2);
      const params = { skusPerSide: n, differenceRows: d.rows, wooConcurrency: 2, shopify: 'bulk operation', output: '--csv (all rows streamed)' };
      figures.push({ name: 'diff.shopify_woocommerce.100k.baseline_woo_raw_read', value: round(raw.seconds), unit: 's', params: { pages: raw.pages, rows: raw.rows, concurrency: 2, what: 'plain GET of every page (per_page=100, orderby=id) + JSON.parse, after the diff, same simulator' } });
      figures.push({ name: 'diff.shopify_woocommerce.100k.wall', value: round(d.seconds), unit: 's', target: '< 10 s', baseline: { name: 'diff.shopify_woocommerce.100k.baseline_woo_raw_read', value: round(raw.seconds), unit: 's' }, ratio: round(d.seconds / raw.seconds, 3), params });
      figures.push({ name: 'diff.shopify_woocommerce.100k.peak_rss', value: d.rssMb, unit: 'MB', target: '< 300 MB', params });
    } finally {
      await Promise.all([stopSim(shop), stopSim(woo)]);
    }

    // 2) Shopify ↔ ERP at 100,000 and 1,000,000 SKUs per side: peak RSS must not grow with size.
    for (const size of process.env.DIFF_BENCH_1M === '0' ? [100_000] : [100_000, 1_000_000]) {
      const db = `syncctl_bench_erp_${size}_${Math.random().toString(36).slice(2, 6)}`;
      erpDbs.push(db);
      const erpUrl = DB.replace(/\/[^/]*$/, `/${db}`);
      const shop = await startSim('shopify', ['--products', String(size / 2), '--variants-per-product', '2', '--plan', 'plus', '--missing-sku-ratio', '0.01', '--extra-skus', '100', '--quantity-drift', '0.05']);
      try {
        await initErp({ databaseUrl: erpUrl, products: size / 2, variantsPerProduct: 2, orders: 0 });
        const { file } = writeConfig(schema, { shopify: shopifySource(shop), erp: { databaseUrl: erpUrl } });
        const d = await runCliMeasured(['diff', 'shopify', 'erp', '--csv'], file);
        if (d.exitCode !== 1) throw new Error(`diff exited ${d.exitCode}: ${d.stderr.slice(-2000)}`);
        const label = size === 100_000 ? '100k' : '1m';
        const params = { skusPerSide: size, differenceRows: d.rows, shopify: 'bulk operation', erp: 'one SQL cursor', output: '--csv (all rows streamed)' };
        figures.push({ name: `diff.shopify_erp.${label}.wall`, value: round(d.seconds), unit: 's', params });
        const small = figures.find((f) => f.name === 'diff.shopify_erp.100k.peak_rss');
        figures.push({
          name: `diff.shopify_erp.${label}.peak_rss`, value: d.rssMb, unit: 'MB', params,
          ...(small ? { baseline: { name: small.name, value: small.value, unit: 'MB' }, ratio: round(d.rssMb / small.value, 3), target: 'ratio ≤ 1 (no growth with size)' } : { target: '< 300 MB' }),
        });
      } finally {
        await stopSim(shop);
      }
    }
  } finally {
    await sql(DB, `drop schema if exists ${schema} cascade`).catch(() => undefined);
    for (const db of erpDbs) await sql(ADMIN, `drop database if exists ${db}`).catch(() => undefined);
  }
  return figures;
}

