/**
 * Catalog sync (issue 23), first increment: `syncctl catalog plan` compares the product master
 * (the ERP) with each channel's live catalog and says what would be created, updated and
 * archived; `syncctl catalog apply` turns the creations (and, on WooCommerce, archivals) into
 * planned writes that the daemon's writers execute like every other write, and follows them.
 */
import pg from 'pg';
import { ConfigError, ServiceUnavailableError } from '../../core/errors.js';
import { normaliseSku } from '../../core/ids.js';
import { parseSourceKey, sourceKey, type PlatformRefs, type SourceKey } from '../../core/model.js';
import { redactUrl } from '../../config/redact.js';
import type { SyncConfig } from '../../config/schema.js';
import type { ListingProduct } from '../../connectors/types.js';
import type { PlannedWrite } from '../../sync/engine/types.js';
import { persistEffects, WRITES_CHANNEL } from '../../sync/effects-store.js';
import { withTransaction } from '../../db/pool.js';
import { readCatalog, type CatalogRow } from '../diff/catalog.js';
import { resolveSide } from '../diff/sides.js';

/** A product of the master with what the plan needs besides the listing. */
export interface MasterProduct {
  listing: Omit<ListingProduct, 'status'>;
  /** Every item of the product is inactive on the master. */
  archived: boolean;
}

/** What one channel needs. */
export interface ChannelPlan {
  channel: SourceKey;
  /** Master products this channel lists and has none of the SKUs of. */
  create: Array<{ key: string; title: string; skus: string[] }>;
  /** Products the channel has part of: the missing variants are not added yet (reported only). */
  incomplete: Array<{ key: string; missing: string[] }>;
  /** SKUs whose price or title differs from the master (the engine's field policies sync price; shown here). */
  update: Array<{ key: string; sku: string; field: 'price' | 'title'; from: string | null; to: string | null }>;
  /** SKUs of products archived on the master and not archived on the channel. */
  archive: Array<{ key: string; sku: string; status: string | null; refs: PlatformRefs }>;
  /** Planned creations this channel's platform does not do yet (kept out of `apply`). */
  unsupported: string[];
}

/** The whole plan. */
export interface CatalogPlan {
  master: SourceKey;
  products: number;
  channels: ChannelPlan[];
}

/** Platforms whose sinks create listings. */
const CREATES: ReadonlySet<string> = new Set(['shopify', 'woocommerce']);
/** Platforms whose sinks write `status` (archival). */
const ARCHIVES: ReadonlySet<string> = new Set(['shopify', 'woocommerce']);

/** The product master plan/apply read (`catalog.master`, default `erp`); only the ERP is implemented. */
export function catalogMaster(config: SyncConfig): SourceKey {
  const master = config.catalog.master ?? 'erp';
  if (master !== 'erp') {
    throw new ConfigError('CATALOG_MASTER_UNSUPPORTED', `catalog.master is "${master}": only the ERP can be the product master so far.`, { hint: 'Set catalog.master to "erp" (or leave it unset).' });
  }
  return master;
}

/** Reads the ERP's products (items grouped by `product_code`; an item without one is a product of its own). */
export async function readMasterProducts(config: SyncConfig): Promise<MasterProduct[]> {
  const erp = config.sources.erp;
  if (!erp) throw new ConfigError('CATALOG_NO_MASTER', 'catalog.master is "erp" but sources.erp is not configured.', { hint: 'Add sources.erp.databaseUrl to the config.' });
  const client = new pg.Client({ connectionString: erp.databaseUrl, connectionTimeoutMillis: 5000, application_name: 'syncctl-catalog' });
  try {
    await client.connect();
  } catch (err) {
    throw new ServiceUnavailableError('erp', `Cannot connect to the ERP database at ${redactUrl(erp.databaseUrl)}: ${(err as Error).message}`, { cause: err, hint: 'Is the ERP database up? Check sources.erp.databaseUrl.' });
  }
  client.on('error', () => undefined);
  try {
    const table = erp.tables.products.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
    const r = await client.query<{
      sku: string; name: string; description: string | null; price: string; active: boolean; product_code: string | null; product_title: string | null;
      vendor: string | null; product_type: string | null; option_name: string | null; option_value: string | null; barcode: string | null;
      weight_grams: number | null; compare_at_price: string | null;
    }>(
      `select sku, name, description, price::text as price, active, product_code, product_title, vendor, product_type, option_name, option_value,
              barcode, weight_grams, compare_at_price::text as compare_at_price
         from ${table} order by coalesce(product_code, sku), sku`,
    ).catch((err: unknown) => {
      if ((err as { code?: string }).code === '42703') {
        throw new ConfigError('CATALOG_ERP_ATTRIBUTES_MISSING', `The ERP table ${erp.tables.products} lacks the product attributes catalog sync needs: ${(err as Error).message}.`, {
          hint: 'Run `syncctl sim erp init` once on the sample ERP (it adds the columns), or add product_code, product_title, vendor, product_type, option_name, option_value, barcode, weight_grams, compare_at_price.',
        });
      }
      throw err;
    });
    const out = new Map<string, MasterProduct & { active: number }>();
    for (const x of r.rows) {
      const key = x.product_code ?? x.sku;
      let p = out.get(key);
      if (!p) {
        p = {
          listing: {
            key, handle: handleOf(key), title: x.product_title ?? x.name, description: x.description, vendor: x.vendor, productType: x.product_type,
            options: x.option_name ? [x.option_name] : [], variants: [],
          },
          archived: true,
          active: 0,
        };
        out.set(key, p);
      }
      if (x.active) p.archived = false;
      p.listing.variants.push({
        sku: x.sku, optionValues: x.option_name ? [x.option_value ?? ''] : [], price: x.price, compareAtPrice: x.compare_at_price, barcode: x.barcode, weightGrams: x.weight_grams,
      });
    }
    return [...out.values()].map(({ listing, archived }) => ({ listing, archived }));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A URL handle from a product key: lower case, runs of other characters as one dash. */
export const handleOf = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'product';

/** The channels catalog sync covers (all configured, or the one asked for). */
export function catalogChannels(config: SyncConfig, only?: string): SourceKey[] {
  const all = [
    ...Object.keys(config.sources.shopify).map((i) => sourceKey('shopify', i)),
    ...Object.keys(config.sources.woocommerce).map((i) => sourceKey('woocommerce', i)),
  ];
  for (const k of Object.keys(config.catalog.channels)) {
    if (!all.includes(k)) throw new ConfigError('CATALOG_UNKNOWN_CHANNEL', `catalog.channels names ${k}, which is not a configured source.`, { hint: `Configured channels: ${all.join(', ') || 'none'}.` });
  }
  if (!only) return all;
  const side = resolveSide(only, config);
  if (side.platform === 'erp') throw new ConfigError('CATALOG_BAD_CHANNEL', 'The ERP is the product master, not a channel.', { hint: `Channels: ${all.join(', ')}.` });
  return [side.key];
}

/** Whether a channel's listing rule takes a master product. */
function listed(config: SyncConfig, channel: SourceKey, p: MasterProduct): boolean {
  const rule = config.catalog.channels[channel]?.listing ?? 'all';
  if (rule === 'all') return true;
  if (!Array.isArray(rule)) return rule.productTypes.some((t) => t.trim().toLowerCase() === (p.listing.productType ?? '').trim().toLowerCase());
  const names = new Set(rule.map((s) => s.trim().toUpperCase()));
  return names.has(p.listing.key.toUpperCase()) || p.listing.variants.some((v) => names.has(v.sku.trim().toUpperCase()));
}

/** Computes the plan: the master against each channel's live catalog. */
export async function planCatalog(config: SyncConfig, opts: { channel?: string; signal?: AbortSignal } = {}): Promise<{ plan: CatalogPlan; products: MasterProduct[] }> {
  const master = catalogMaster(config);
  const channels = catalogChannels(config, opts.channel);
  const products = await readMasterProducts(config);
  const rule = config.identity.sku;
  const plan: CatalogPlan = { master, products: products.length, channels: [] };
  for (const channel of channels) {
    const rows = new Map<string, CatalogRow>();
    for await (const batch of readCatalog(resolveSide(channel, config), config, { signal: opts.signal })) {
      for (const row of batch) if (row.sku && !rows.has(row.sku)) rows.set(row.sku, row);
    }
    const cp: ChannelPlan = { channel, create: [], incomplete: [], update: [], archive: [], unsupported: [] };
    const platform = parseSourceKey(channel).platform;
    for (const p of products) {
      if (!listed(config, channel, p)) continue;
      const skus = p.listing.variants.map((v) => ({ v, n: normaliseSku(v.sku, rule)! }));
      const present = skus.filter((s) => rows.has(s.n));
      if (present.length === 0) {
        if (p.archived) continue; // nothing to create for an archived product
        cp.create.push({ key: p.listing.key, title: p.listing.title, skus: skus.map((s) => s.v.sku) });
        if (!CREATES.has(platform)) cp.unsupported.push(p.listing.key);
        continue;
      }
      if (present.length < skus.length) cp.incomplete.push({ key: p.listing.key, missing: skus.filter((s) => !rows.has(s.n)).map((s) => s.v.sku) });
      for (const { v, n } of present) {
        const row = rows.get(n)!;
        if (p.archived) {
          if (row.meta.status !== 'archived') cp.archive.push({ key: p.listing.key, sku: v.sku, status: row.meta.status ?? null, refs: row.meta.refs });
          continue;
        }
        if (row.price !== null && Number(row.price) !== Number(v.price)) cp.update.push({ key: p.listing.key, sku: v.sku, field: 'price', from: row.price, to: v.price });
        if (row.title !== null && row.title !== p.listing.title) cp.update.push({ key: p.listing.key, sku: v.sku, field: 'title', from: row.title, to: p.listing.title });
      }
    }
    plan.channels.push(cp);
  }
  return { plan, products };
}

/** The planned writes of a plan: one `create_product` per product and channel, archivals where the platform writes status. */
export function catalogWrites(config: SyncConfig, plan: CatalogPlan, products: MasterProduct[]): PlannedWrite[] {
  const byKey = new Map(products.map((p) => [p.listing.key, p]));
  const now = new Date().toISOString();
  const out: PlannedWrite[] = [];
  for (const cp of plan.channels) {
    for (const c of cp.create) {
      if (cp.unsupported.includes(c.key)) continue;
      const p = byKey.get(c.key)!;
      const product: ListingProduct = { ...p.listing, status: config.catalog.newListingStatus };
      out.push({
        target: cp.channel, sku: normaliseSku(p.listing.variants[0]!.sku, config.identity.sku)!, kind: 'create_product', payload: { product },
        // One creation per product, target and content: applying the same plan twice plans nothing new.
        idempotencyKey: `create_product:${cp.channel}:${p.listing.key}:${contentKey(product)}`,
        sourceKey: plan.master, sourceEventAt: now,
      });
    }
    if (!ARCHIVES.has(parseSourceKey(cp.channel).platform)) continue;
    for (const a of cp.archive) {
      out.push({ target: cp.channel, sku: normaliseSku(a.sku, config.identity.sku)!, kind: 'fields', payload: { fields: { status: 'archived' }, refs: a.refs }, sourceKey: plan.master, sourceEventAt: now });
    }
  }
  return out;
}

const contentKey = (p: ListingProduct): string => {
  let h = 0;
  for (const ch of JSON.stringify(p)) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return (h >>> 0).toString(16);
};

/** What `apply` did. */
export interface ApplyResult {
  plan: CatalogPlan;
  /** Planned writes inserted now (0 when the same plan was applied before). */
  planned: number;
  /** Outcome of the plan's creations (`create_product` writes; archivals are not followed). */
  writes: { done: number; failed: number; pending: number };
  failures: Array<{ target: string; sku: string; kind: string; error: string }>;
}

/** Inserts the plan's writes, wakes the writers, and (unless `wait` is 0) follows them until they are all done or failed. */
export async function applyCatalog(
  config: SyncConfig,
  pool: pg.Pool,
  opts: { channel?: string; waitSeconds: number; signal?: AbortSignal; onProgress?: (w: ApplyResult['writes']) => void },
): Promise<ApplyResult> {
  const { plan, products } = await planCatalog(config, opts);
  // A product whose creation on a target is still pending or in flight is not planned again (its
  // data may have changed since, which makes another key): one creation per product and target at a time.
  const inFlight = new Set(
    (await pool.query<{ k: string }>(`select target_key || '|' || (payload->'product'->>'key') as k from planned_writes where kind = 'create_product' and status in ('PENDING', 'INFLIGHT')`)).rows.map((r) => r.k),
  );
  const writes = catalogWrites(config, plan, products).filter((w) => w.kind !== 'create_product' || !inFlight.has(`${w.target}|${(w.payload.product as ListingProduct).key}`));
  const keys = writes.filter((w) => w.idempotencyKey).map((w) => w.idempotencyKey!);
  const before = keys.length ? (await pool.query<{ n: string }>('select count(*) as n from planned_writes where idempotency_key = any($1)', [keys])).rows[0]!.n : '0';
  await withTransaction(pool, async (client) => {
    await persistEffects(client, { writes, cancels: [], conflicts: [], resolved: [], ledger: [], entityMap: [] });
    await client.query(`select pg_notify('${WRITES_CHANNEL}', '')`);
  });
  const status = async () => {
    const r = await pool.query<{ status: string; target_key: string; sku: string; kind: string; last_error: string | null }>(
      `select status, target_key, sku, kind, last_error from planned_writes where idempotency_key = any($1)`, [keys]);
    const w = { done: 0, failed: 0, pending: 0 };
    for (const x of r.rows) {
      if (x.status === 'DONE') w.done++;
      else if (x.status === 'FAILED') w.failed++;
      else if (x.status !== 'SUPERSEDED') w.pending++;
    }
    return { w, failures: r.rows.filter((x) => x.status === 'FAILED').map((x) => ({ target: x.target_key, sku: x.sku, kind: x.kind, error: x.last_error ?? '' })) };
  };
  const deadline = Date.now() + opts.waitSeconds * 1000;
  let s = await status();
  while (s.w.pending > 0 && Date.now() < deadline && !opts.signal?.aborted) {
    opts.onProgress?.(s.w);
    await new Promise((r) => setTimeout(r, 500));
    s = await status();
  }
  return { plan, planned: keys.length - Number(before), writes: s.w, failures: s.failures };
}
