import pg from 'pg';
import type { SyncConfig } from '../../config/schema.js';
import { normaliseSku } from '../../core/ids.js';
import { sourceKey } from '../../core/model.js';
import type { SinkConnector } from '../../connectors/types.js';
import { createShopifyConnector } from '../../connectors/shopify/index.js';
import { createWooCommerceConnector } from '../../connectors/woocommerce/index.js';

/** One channel compared with the stock authority. */
export interface ChannelConvergence {
  channel: string;
  compared: number;
  mismatched: number;
  /** SKUs of the authority the channel does not have (never created blindly; reported). */
  missing: number;
  examples: Array<{ sku: string; expected: number; actual: number | null }>;
}

/** The final check of the demo: does every channel show the authority's quantity minus its buffer? */
export interface ConvergenceReport {
  converged: boolean;
  authority: string;
  skus: number;
  channels: ChannelConvergence[];
}

/**
 * Reads the authority's available quantity of every SKU (the ERP's on_hand − reserved summed over
 * warehouses, or the authority channel) and every channel's, from the platforms themselves, and
 * compares them by SKU. SKUs a channel lacks are reported, not counted as drift.
 */
export async function checkConvergence(config: SyncConfig): Promise<ConvergenceReport> {
  const rule = config.identity.sku;
  const sinks = new Map<string, SinkConnector>();
  for (const [i, c] of Object.entries(config.sources.shopify)) sinks.set(sourceKey('shopify', i), createShopifyConnector(i, c, { skuRule: rule }).sink);
  for (const [i, c] of Object.entries(config.sources.woocommerce)) sinks.set(sourceKey('woocommerce', i), createWooCommerceConnector(i, c).sink);
  const authority = config.sync.authority;
  const truth = new Map<string, number>();
  if (authority === 'erp' && config.sources.erp) {
    const erp = new pg.Client({ connectionString: config.sources.erp.databaseUrl });
    await erp.connect();
    try {
      const t = config.sources.erp.tables.stock;
      const r = await erp.query<{ sku: string; available: number }>(`select sku, sum(on_hand - reserved)::int as available from ${t} group by sku`);
      for (const row of r.rows) {
        const sku = normaliseSku(row.sku, rule);
        if (sku) truth.set(sku, row.available);
      }
    } finally {
      await erp.end();
    }
  }
  const skus = authority === 'erp' ? [...truth.keys()] : await allSkus(config);
  if (authority !== 'erp') {
    for (const r of await readAll(sinks.get(authority)!, skus)) if (r.available !== null) truth.set(normaliseSku(r.sku, rule)!, r.available);
  }
  const channels: ChannelConvergence[] = [];
  for (const [key, sink] of sinks) {
    if (key === authority) continue;
    const buffer = key.startsWith('shopify:') ? config.sources.shopify[key.slice(8)]!.buffer : config.sources.woocommerce[key.slice(12)]!.buffer;
    const read = new Map<string, number | null>();
    for (const r of await readAll(sink, [...truth.keys()])) {
      const sku = normaliseSku(r.sku, rule);
      if (sku) read.set(sku, r.available);
    }
    const c: ChannelConvergence = { channel: key, compared: 0, mismatched: 0, missing: 0, examples: [] };
    for (const [sku, a] of truth) {
      if (!read.has(sku)) {
        c.missing++;
        continue;
      }
      c.compared++;
      const expected = Math.max(0, a - buffer);
      const actual = read.get(sku) ?? null;
      if (actual !== expected) {
        c.mismatched++;
        if (c.examples.length < 10) c.examples.push({ sku, expected, actual });
      }
    }
    channels.push(c);
  }
  return { converged: channels.every((c) => c.mismatched === 0), authority, skus: truth.size, channels };
}

async function readAll(sink: SinkConnector, skus: string[]) {
  const out = [];
  const chunk = Math.min(100, sink.maxBatch);
  for (let i = 0; i < skus.length; i += chunk) out.push(...(await sink.read(skus.slice(i, i + chunk))));
  return out;
}

async function allSkus(config: SyncConfig): Promise<string[]> {
  const c = new pg.Client({ connectionString: config.database.url });
  await c.connect();
  try {
    const r = await c.query<{ sku: string }>(`select distinct sku from "${config.database.schema}".entity_map`);
    return r.rows.map((x) => x.sku);
  } finally {
    await c.end();
  }
}
