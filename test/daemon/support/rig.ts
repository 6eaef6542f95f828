// A whole syncctl deployment for daemon tests: a Shopify store (the stock authority) and
// WooCommerce sites as simulators, a migrated private schema / topic prefix / Redis prefix,
// a config file for the real CLI, and helpers to read every channel's stock and write log.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startShopifySimulator, type ShopifySimOptionsInput, type ShopifySimulator } from '../../../src/simulators/shopify/index.js';
import { startWooCommerceSimulator, type WooCommerceSimulator } from '../../../src/simulators/woocommerce/index.js';
import { configSchema, type SyncConfig, type SyncConfigInput } from '../../../src/config/schema.js';
import { initDb } from '../../../src/services/init-db.js';
import { isolatedConfig } from '../../support/config.js';
import { dropEverything } from '../../support/isolation.js';
import { freePort } from '../../support/ports.js';

/** The authority's instance key. */
export const AUTHORITY = 'shopify:main';

/** What a rig is asked for. */
export interface RigOptions {
  /** Shared SKUs (`SKU-00000p-1`, p = 1..skus). */
  skus: number;
  /** WooCommerce sites and their buffers. */
  woo: Record<string, { buffer: number }>;
  /** Initial quantity of every SKU on the authority. */
  initial: number;
  /** Config keys merged over the rig's defaults. */
  overrides?: SyncConfigInput;
  /** Options of the Shopify simulator merged over the rig's. */
  shopify?: ShopifySimOptionsInput;
  /** `client-credentials`: the store is a Dev Dashboard app (clientId + clientSecret, expiring tokens), not a static token. */
  shopifyAuth?: 'access-token' | 'client-credentials';
}

/** A running set of simulators and the config a daemon needs for them. */
export interface Rig {
  shop: ShopifySimulator;
  woo: Map<string, WooCommerceSimulator>;
  buffers: Map<string, number>;
  skus: string[];
  initial: number;
  /** The daemon's config (HTTP port fixed, so a restarted daemon keeps its webhook URL). */
  config: SyncConfig;
  /** A JSON config file with the same content, for `syncctl start --config`. */
  configPath: string;
  /** Writes another config file (e.g. for a second daemon on other ports: `http.public.port` and `http.admin.port`). */
  writeConfig(overrides: SyncConfigInput, name: string): string;
  /** Stock on the authority, per SKU. */
  authorityStock(): Promise<Map<string, number>>;
  /** Stock on a WooCommerce site, per SKU. */
  wooStock(site: string): Promise<Map<string, number>>;
  /** `inventoryAdjustQuantities` mutations the authority applied (one per sale line on another channel). */
  adjustWrites(): Promise<Array<{ sku: string; delta: number; key: string | null }>>;
  /** A query on the rig's schema. */
  query<T extends pg.QueryResultRow = any>(sql: string, params?: unknown[]): Promise<T[]>;
  close(keep?: boolean): Promise<void>;
}

/** `SKU-000001-1`: the shared catalog's SKU of simple product / first variant p. */
export const skuOf = (p: number): string => `SKU-${String(p).padStart(6, '0')}-1`;

/** Calls a simulator's control API (`/_sim/...`), throwing on HTTP errors. */
export async function simControl(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Starts the simulators, sets the authority's stock, migrates the schema and writes the config file. */
export async function startRig(name: string, opts: RigOptions): Promise<Rig> {
  const shop = await startShopifySimulator({ plan: 'plus', catalog: { products: opts.skus, variantsPerProduct: 1 }, webhookRetryScale: 0.001, ...opts.shopify });
  const credentials = opts.shopifyAuth === 'client-credentials' ? { clientId: shop.info.clientId } : { accessToken: shop.info.accessToken! };
  const woo = new Map<string, WooCommerceSimulator>();
  let seed = 10;
  for (const site of Object.keys(opts.woo)) woo.set(site, await startWooCommerceSimulator({ products: opts.skus, seed: seed++, coalesceWindowMs: 50 }));
  const skus = Array.from({ length: opts.skus }, (_, i) => skuOf(i + 1));
  for (const sku of skus) await simControl(shop.info.controlUrl, 'POST', '/inventory/set', { sku, quantity: opts.initial });

  const base = isolatedConfig(name);
  const port = await freePort();
  const raw: SyncConfigInput = {
    database: base.database,
    kafka: { ...base.kafka },
    redis: base.redis,
    logging: { level: 'warn' },
    http: { public: { host: '127.0.0.1', port }, admin: { host: '127.0.0.1', port: await freePort() } },
    sources: {
      shopify: { main: { shop: shop.info.shop, url: shop.baseUrl, ...credentials, clientSecret: shop.info.clientSecret, plan: 'plus', pollIntervalSeconds: 1 } },
      woocommerce: Object.fromEntries(
        [...woo].map(([site, sim]) => [site, { url: sim.info.siteUrl, consumerKey: sim.info.consumerKey, consumerSecret: sim.info.consumerSecret, webhookSecret: `whsec-${site}`, pollIntervalSeconds: 1, buffer: opts.woo[site]!.buffer }]),
      ),
    },
    sync: { authority: AUTHORITY },
    // Consumer groups are per cluster, not per topic: keep them private to this rig.
    daemon: { settleSeconds: 3, drainTimeoutSeconds: 20, writeLeaseSeconds: 5, groupPrefix: base.kafka.topicPrefix },
    retry: { retries: 8, initialDelayMs: 100, maxDelayMs: 2000 },
    monitoring: { metricsHistory: { enabled: false } },
  };
  const merged = deepMerge(raw, opts.overrides ?? {});
  const config = configSchema.parse(merged);
  await initDb(config);
  const dir = mkdtempSync(join(tmpdir(), `syncctl-${name}-`));
  const writeConfig = (overrides: SyncConfigInput, file: string): string => {
    const path = join(dir, `${file}.json`);
    writeFileSync(path, JSON.stringify(deepMerge(merged, overrides), null, 2));
    return path;
  };
  const configPath = writeConfig({}, 'syncctl');
  const db = new pg.Pool({ connectionString: config.database.url, max: 2, options: `-c search_path="${config.database.schema}"` });

  const wooStock = async (site: string) => {
    const sim = woo.get(site)!;
    const out = new Map<string, number>();
    for (const sku of skus) {
      const p = (await simControl(sim.info.controlUrl, 'GET', `/products?sku=${sku}`))[0];
      out.set(sku, p ? p.stock_quantity : NaN);
    }
    return out;
  };
  return {
    shop,
    woo,
    buffers: new Map(Object.entries(opts.woo).map(([k, v]) => [k, v.buffer])),
    skus,
    initial: opts.initial,
    config,
    configPath,
    writeConfig,
    async authorityStock() {
      const out = new Map<string, number>();
      for (const sku of skus) out.set(sku, (await simControl(shop.info.controlUrl, 'GET', `/inventory?sku=${sku}`))[0].levels[0].available);
      return out;
    },
    wooStock,
    async adjustWrites() {
      const log = (await simControl(shop.info.controlUrl, 'GET', '/writes?mutation=inventoryAdjustQuantities')) as Array<{ idempotencyKey: string | null; changes?: Array<{ sku: string; delta: number; name: string }> }>;
      return log.flatMap((w) => (w.changes ?? []).filter((c) => c.name === 'available').map((c) => ({ sku: c.sku, delta: c.delta, key: w.idempotencyKey })));
    },
    async query(sql, params) {
      return (await db.query(sql, params)).rows;
    },
    async close(keep = false) {
      await db.end().catch(() => undefined);
      await shop.close().catch(() => undefined);
      for (const sim of woo.values()) await sim.close().catch(() => undefined);
      if (!keep) await dropEverything(config);
      else process.stderr.write(`[test] kept schema ${config.database.schema}\n`);
    },
  };
}

/** The differences from "every channel = authority − buffer and authority = initial − sold" (empty when consistent). */
export async function inconsistencies(rig: Rig, sold: Map<string, number>): Promise<string[]> {
  const problems: string[] = [];
  const auth = await rig.authorityStock();
  for (const sku of rig.skus) {
    const want = rig.initial - (sold.get(sku) ?? 0);
    if (auth.get(sku) !== want) problems.push(`authority ${sku}: ${auth.get(sku)} ≠ ${want}`);
  }
  for (const [site, buffer] of rig.buffers) {
    const st = await rig.wooStock(site);
    for (const sku of rig.skus) {
      const want = Math.max(0, auth.get(sku)! - buffer);
      if (st.get(sku) !== want) problems.push(`woocommerce:${site} ${sku}: ${st.get(sku)} ≠ ${want}`);
    }
  }
  return problems;
}

/** Places one sale of `quantity` units of `sku` on a channel (`main` = the authority, or a Woo site). */
export async function sell(rig: Rig, channel: string, sku: string, quantity: number): Promise<void> {
  if (channel === 'main') await simControl(rig.shop.info.controlUrl, 'POST', '/orders', { lines: [{ sku, quantity }] });
  else await simControl(rig.woo.get(channel)!.info.controlUrl, 'POST', '/orders', { status: 'processing', lines: [{ sku, quantity }] });
}

function deepMerge<T>(a: T, b: unknown): T {
  if (!isObject(a) || !isObject(b)) return (b === undefined ? a : b) as T;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as T;
}
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A free TCP port (re-exported for tests building second daemons). */
export { freePort };
