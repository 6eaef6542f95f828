/**
 * `syncctl backfill` of 100,000 products from the WooCommerce simulator (its own process, real
 * HTTP) into PostgreSQL through the intake's EventStore, with the compiled CLI as operators run it.
 * Reported as a ratio of the raw read of the same pages (the connector's backfill reader alone,
 * storing nothing: `backfill --dry-run`), measured in the same run. The Shopify simulator's bulk
 * path is measured too (100,000 variants = 50,000 products × 2).
 */
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { round, type BenchFigure } from './lib.js';
import { migrate } from '../src/db/migrate.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/syncctl.js');
const DB = process.env.SYNCCTL_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/syncctl';
const tmp = mkdtempSync(join(tmpdir(), 'syncctl-bench-backfill-'));

async function startSim(kind: 'shopify' | 'woocommerce', args: string[]): Promise<{ info: Record<string, string>; child: ResultPromise }> {
  const child = execa('node', [BIN, 'sim', kind, '--log-level', 'error', ...args], { cwd: ROOT, reject: false, buffer: false });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (line.startsWith('{')) {
      lines.close();
      return { info: JSON.parse(line) as Record<string, string>, child };
    }
  }
  throw new Error(`sim ${kind} did not start`);
}

async function backfill(file: string, source: string, extra: string[] = []): Promise<{ seconds: number; result: any }> {
  const t = performance.now();
  const r = await execa('node', [BIN, 'backfill', '--source', source, '--json', '--config', file, ...extra], { cwd: ROOT, reject: false, timeout: 900_000 });
  if (r.exitCode !== 0) throw new Error(`backfill exited ${r.exitCode}: ${String(r.stderr).slice(-2000)}`);
  return { seconds: (performance.now() - t) / 1000, result: JSON.parse(String(r.stdout)).result };
}

async function withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: DB });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export default async function bench(): Promise<BenchFigure[]> {
  const n = 100_000;
  const schema = `bench_backfill_${Math.random().toString(36).slice(2, 8)}`;
  await withClient((c) => migrate(c, schema));
  const woo = await startSim('woocommerce', ['--products', String(n), '--seed', '5']);
  const shop = await startSim('shopify', ['--products', String(n / 2), '--variants-per-product', '2', '--plan', 'plus']);
  try {
    const file = join(tmp, 'config.json');
    writeFileSync(file, JSON.stringify({
      database: { url: DB, schema }, logging: { level: 'warn' },
      sources: {
        woocommerce: { outlet: { url: woo.info.siteUrl, consumerKey: woo.info.consumerKey, consumerSecret: woo.info.consumerSecret, webhookSecret: 'bench', concurrency: 2 } },
        shopify: { main: { shop: shop.info.shop, url: shop.info.baseUrl, accessToken: shop.info.accessToken, clientSecret: shop.info.clientSecret, plan: 'plus' } },
      },
    }));
    const dry = await backfill(file, 'woocommerce:outlet', ['--dry-run']);
    const wet = await backfill(file, 'woocommerce:outlet');
    const shopDry = await backfill(file, 'shopify:main', ['--dry-run']);
    const shopWet = await backfill(file, 'shopify:main');
    const params = { products: n, stored: wet.result.stored, concurrency: 2, transport: 'http loopback', store: 'EventStore (dedupe + checksum), one transaction per page' };
    return [
      { name: 'backfill.woocommerce.100k.read_only', value: round(dry.seconds), unit: 's', params: { ...params, what: 'backfill --dry-run: the same pages read, nothing stored' } },
      { name: 'backfill.woocommerce.100k', value: round(wet.seconds), unit: 's', target: '< 60 s', baseline: { name: 'backfill.woocommerce.100k.read_only', value: round(dry.seconds), unit: 's' }, ratio: round(wet.seconds / dry.seconds, 3), params },
      { name: 'backfill.woocommerce.100k.rate', value: round(n / wet.seconds), unit: 'products/s', params },
      { name: 'backfill.shopify.100k_variants.read_only', value: round(shopDry.seconds), unit: 's', params: { products: n / 2, variants: n, path: 'bulk operation' } },
      { name: 'backfill.shopify.100k_variants', value: round(shopWet.seconds), unit: 's', baseline: { name: 'backfill.shopify.100k_variants.read_only', value: round(shopDry.seconds), unit: 's' }, ratio: round(shopWet.seconds / shopDry.seconds, 3), params: { products: n / 2, variants: n, stored: shopWet.result.stored } },
    ];
  } finally {
    woo.child.kill('SIGTERM');
    shop.child.kill('SIGTERM');
    await Promise.allSettled([woo.child, shop.child]);
    await withClient((c) => c.query(`drop schema if exists ${schema} cascade`)).catch(() => undefined);
  }
}
