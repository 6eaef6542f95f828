import { describeError, RetriableError, SyncError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SinkConnector, SinkReading, SinkResult, SinkWrite } from '../types.js';
import type { WooClient } from './client.js';
import { decimalString, isVariation, modifiedIso } from './normalise.js';
import { WooListingCreator } from './sink-create.js';
import { wooBatchResponseSchema, wooProductSchema, type WooProduct } from './schemas.js';

/** Settings of the sink. */
export interface WooSinkOptions {
  /** Re-read written stock and report what is there (default true). */
  readBack?: boolean;
  log: Logger;
}

/** One write resolved to a WooCommerce object and the update to send. */
interface Planned {
  w: SinkWrite;
  id: number;
  parentId: number;
  update: Record<string, unknown>;
  /** inventory: the absolute quantity written. */
  target?: number;
  /** inventory `{delta}`: the relative change asked for (read-modify-write). */
  delta?: number;
  /** inventory `{delta}`: the quantity the product has after every relative write of the batch to it. */
  finalTarget?: number;
  /** The object as the batch response returned it. */
  written?: WooProduct;
}

/**
 * The product meta in which the sink marks the adjustments it applied (idempotency keys, space
 * separated, the newest last). WooCommerce has no relative stock write, so an adjustment is a
 * read-modify-write: the marker goes in the same save as the new quantity, and the read before
 * every adjustment finds it, so an adjustment resent after a crash (applied by WooCommerce,
 * outcome never recorded) is recognised as applied instead of applied twice.
 */
export const ADJUSTMENT_MARKER = '_syncctl_adjustments';
/** Adjustments kept in the marker per product (a resend comes within the write lease). */
const MARKER_KEEP = 50;

/** The idempotency keys of the adjustments marked applied on a product. */
function markedAdjustments(p: WooProduct): string[] {
  const m = p.meta_data?.find((x) => x.key === ADJUSTMENT_MARKER);
  return typeof m?.value === 'string' ? m.value.split(' ').filter(Boolean) : [];
}

/** Per-item error codes that repeating cannot fix. */
const PERMANENT_ITEM_CODES = new Set([
  'woocommerce_rest_product_invalid_id',
  'woocommerce_rest_product_variation_invalid_id',
  'woocommerce_rest_invalid_product_id',
  'product_invalid_sku',
  'rest_invalid_param',
  'woocommerce_rest_cannot_edit',
  'woocommerce_rest_cannot_batch',
]);

const BATCH_LIMIT = 100;
const SKU_CHUNK = 50;
const intId = (v: unknown): number => {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : 0;
};
const permanent = (w: SinkWrite, code: string, message: string): SinkResult => ({ writeId: w.writeId, status: 'permanent', code, message });
const fromError = (w: SinkWrite, err: unknown): SinkResult => {
  const e = err instanceof SyncError ? err : undefined;
  const d = describeError(err);
  if (e && !e.retriable) return permanent(w, e.code, e.message);
  return { writeId: w.writeId, status: 'retriable', code: d.code ?? 'WOO_ERROR', message: d.message, ...(err instanceof RetriableError && err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
};

/**
 * Writes stock and catalog fields to a WooCommerce site through the batch endpoints
 * (`/products/batch`, `/products/{parent}/variations/batch`, ≤ 100 items per call, calls bounded
 * by the client's concurrency).
 *
 * - inventory `{available}`: `{id, stock_quantity, manage_stock: true}`, an absolute write:
 *   WooCommerce has no compare-and-set, so after writing the sink re-reads the items and reports
 *   what is there (`applied.available`), so a sale landing around our write is seen.
 * - inventory `{delta}`: read-modify-write (WooCommerce has no relative write). NOT atomic: a sale
 *   between the read and the write is overwritten; the re-check after the write reports the
 *   value actually there and logs the race. The save also marks the adjustment's idempotency key
 *   on the product (`_syncctl_adjustments` meta), and the read finds it: an adjustment resent
 *   after a crash is reported applied, not applied twice. Several adjustments of one product in
 *   a batch build on each other.
 * - fields `{price?, title?, status?}`: `regular_price` (decimal string), `name` (a variation's
 *   title is its parent's name: the parent is renamed), `status`.
 * - Per-item results: an item error with a 4xx/validation code is `permanent`, others
 *   `retriable`; a whole call that fails transiently (429, 5xx, timeout) makes each of its items
 *   `retriable`; a 413 (a site with a lower batch limit) is split in halves and resent.
 */
export class WooCommerceSink implements SinkConnector {
  readonly maxBatch = BATCH_LIMIT;
  private readonly readBack: boolean;
  private readonly creator: WooListingCreator;

  constructor(
    readonly key: string,
    private readonly client: WooClient,
    private readonly opts: WooSinkOptions,
  ) {
    this.readBack = opts.readBack ?? true;
    this.creator = new WooListingCreator(client, opts.log, async (skus, signal) => {
      const out: WooProduct[] = [];
      for (let i = 0; i < skus.length; i += SKU_CHUNK) out.push(...(await this.productsBySku(skus.slice(i, i + SKU_CHUNK), signal)));
      return out;
    });
  }

  /** Writes a batch; one result per write, in the batch's order. */
  async write(all: SinkWrite[], signal?: AbortSignal): Promise<SinkResult[]> {
    const creates = all.filter((w) => w.kind === 'create_product');
    const batch = creates.length ? all.filter((w) => w.kind !== 'create_product') : all;
    const results = new Map<string, SinkResult>();
    if (creates.length) for (const r of await this.creator.create(creates, signal)) results.set(r.writeId, r);
    const planned: Planned[] = [];
    const unresolved: SinkWrite[] = [];
    for (const w of batch) {
      const problem = this.validate(w);
      if (problem) results.set(w.writeId, problem);
      else if (intId(w.refs.id)) planned.push(this.plan(w, intId(w.refs.id), intId(w.refs.parentId)));
      else unresolved.push(w);
    }
    if (unresolved.length) await this.resolveBySku(unresolved, planned, results, signal);

    // Stock of a variation is read before it is written: one that leaves stock to its parent
    // (manage_stock "parent") shares a pool, and `manage_stock: true` would split it.
    const stock = planned.filter((p) => (p.w.kind === 'inventory' || p.w.kind === 'adjust') && (p.delta !== undefined || p.parentId || p.w.refs.stockPool));
    if (stock.length) await this.prepareStock(stock, results, signal);

    const sendable = planned.filter((p) => !results.has(p.w.writeId));
    const groups = new Map<string, Planned[]>();
    for (const p of sendable) {
      const path = p.parentId ? `/products/${p.parentId}/variations/batch` : '/products/batch';
      groups.set(path, [...(groups.get(path) ?? []), p]);
    }
    const calls: Array<Promise<void>> = [];
    for (const [path, items] of groups) {
      for (let i = 0; i < items.length; i += BATCH_LIMIT) calls.push(this.sendChunk(path, items.slice(i, i + BATCH_LIMIT), results, signal));
    }
    await Promise.all(calls);
    await this.renameParents(sendable.filter((p) => p.written && !results.has(p.w.writeId)), results, signal);

    const ok = sendable.filter((p) => p.written && !results.has(p.w.writeId));
    const current = this.readBack ? await this.currentOf(ok.filter((p) => p.target !== undefined), signal).catch((err: unknown) => {
      this.opts.log.warn({ err: describeError(err) }, 'WooCommerce read-back failed; reporting the values the write returned');
      return new Map<number, WooProduct>();
    }) : new Map<number, WooProduct>();
    for (const p of ok) results.set(p.w.writeId, { writeId: p.w.writeId, status: 'ok', applied: this.applied(p, current.get(p.id)) });
    return all.map((w) => results.get(w.writeId) ?? { writeId: w.writeId, status: 'retriable', code: 'WOO_NOT_SENT', message: 'write was not sent' });
  }

  /**
   * A variation's title is its parent product's name: field writes with a title on variations
   * rename their parents (`/products/batch`, one item per parent, the last title of the round).
   * A parent WooCommerce refuses fails the writes that asked for it.
   */
  private async renameParents(items: Planned[], results: Map<string, SinkResult>, signal?: AbortSignal): Promise<void> {
    const parents = new Map<number, { name: string; items: Planned[] }>();
    for (const p of items) {
      const title = p.w.kind === 'fields' ? (p.w.payload as { title?: unknown }).title : undefined;
      if (!p.parentId || typeof title !== 'string' || title.trim() === '') continue;
      const e = parents.get(p.parentId) ?? { name: title, items: [] };
      e.name = title;
      e.items.push(p);
      parents.set(p.parentId, e);
    }
    const list = [...parents];
    for (let i = 0; i < list.length; i += BATCH_LIMIT) {
      const chunk = list.slice(i, i + BATCH_LIMIT);
      let updates: Array<{ error?: { code?: string; message?: string } } | undefined> = [];
      try {
        const body = (await this.client.request<unknown>({ method: 'POST', path: '/products/batch', body: { update: chunk.map(([id, e]) => ({ id, name: e.name })) }, signal })).body;
        updates = (wooBatchResponseSchema.safeParse(body).data?.update ?? []) as typeof updates;
      } catch (err) {
        for (const [, e] of chunk) for (const p of e.items) results.set(p.w.writeId, fromError(p.w, err));
        continue;
      }
      chunk.forEach(([, e], j) => {
        const u = updates[j];
        if (u && !u.error) return;
        for (const p of e.items) results.set(p.w.writeId, { writeId: p.w.writeId, status: 'retriable', code: u?.error?.code ?? 'WOO_MALFORMED_RESPONSE', message: u?.error?.message ?? 'the parent product was not renamed' });
      });
    }
  }

  /** Current stock, price and title of SKUs (`GET /products?sku=A,B,…`, which matches variations too). */
  async read(skus: string[], signal?: AbortSignal): Promise<SinkReading[]> {
    const out: SinkReading[] = [];
    for (let i = 0; i < skus.length; i += SKU_CHUNK) {
      const chunk = skus.slice(i, i + SKU_CHUNK);
      const wanted = new Map(chunk.map((s) => [s.trim().toLowerCase(), s]));
      for (const p of await this.productsBySku(chunk, signal)) {
        const sku = wanted.get((p.sku ?? '').trim().toLowerCase());
        if (!sku || p.type === 'variable') continue;
        const parentId = isVariation(p) ? String(p.parent_id) : undefined;
        // A variation with manage_stock "parent" shows its parent's pool, not stock of its own.
        const pooled = p.manage_stock === 'parent' && parentId !== undefined;
        const reading: SinkReading = {
          sku,
          available: p.manage_stock === true ? p.stock_quantity ?? null : null,
          refs: { id: String(p.id), productId: parentId ?? String(p.id), ...(parentId ? { parentId } : {}), ...(pooled ? { stockPool: parentId } : {}) },
          version: modifiedIso(p),
        };
        const price = decimalString(p.regular_price);
        if (price !== undefined) reading.price = price;
        if (p.name !== undefined) reading.title = p.name;
        out.push(reading);
      }
    }
    return out;
  }

  private validate(w: SinkWrite): SinkResult | undefined {
    if (w.kind === 'order_line') return permanent(w, 'WOO_UNSUPPORTED_WRITE', 'WooCommerce is not an order target in syncctl');
    if (w.kind === 'inventory' || w.kind === 'adjust') {
      const { available, delta } = w.payload as { available?: unknown; delta?: unknown };
      if (Number.isInteger(available) || Number.isInteger(delta)) return undefined;
      return permanent(w, 'WOO_INVALID_WRITE', 'inventory write needs an integer `available` (absolute) or `delta` (relative)');
    }
    const f = w.payload as { price?: unknown; title?: unknown; status?: unknown };
    if (f.price !== undefined && decimalString(f.price as string | number) === undefined) return permanent(w, 'WOO_INVALID_WRITE', `price ${String(f.price)} is not a decimal`);
    if (f.price === undefined && typeof f.title !== 'string' && typeof f.status !== 'string') return permanent(w, 'WOO_INVALID_WRITE', 'fields write names no field WooCommerce can take (price, title, status)');
    return undefined;
  }

  private plan(w: SinkWrite, id: number, parentId: number): Planned {
    if (w.kind === 'inventory' || w.kind === 'adjust') {
      const { available, delta } = w.payload as { available?: number; delta?: number };
      if (Number.isInteger(available)) return { w, id, parentId, target: available, update: { id, stock_quantity: available, manage_stock: true } };
      return { w, id, parentId, delta, update: { id } };
    }
    const f = w.payload as { price?: string | number; title?: string; status?: string };
    const update: Record<string, unknown> = { id };
    if (f.price !== undefined) update.regular_price = decimalString(f.price);
    if (typeof f.title === 'string' && !parentId) update.name = f.title; // variations have no name of their own
    if (typeof f.status === 'string') update.status = f.status === 'active' ? 'publish' : parentId || f.status !== 'draft' ? 'private' : 'draft';
    return { w, id, parentId, update };
  }

  private async resolveBySku(writes: SinkWrite[], planned: Planned[], results: Map<string, SinkResult>, signal?: AbortSignal): Promise<void> {
    let readings: SinkReading[];
    try {
      readings = await this.read(writes.map((w) => w.sku), signal);
    } catch (err) {
      for (const w of writes) results.set(w.writeId, fromError(w, err));
      return;
    }
    const bySku = new Map(readings.map((r) => [r.sku, r]));
    for (const w of writes) {
      const r = bySku.get(w.sku);
      if (!r) results.set(w.writeId, permanent(w, 'WOO_SKU_NOT_FOUND', `no product or variation with SKU ${w.sku} on this site`));
      else planned.push(this.plan(w, intId(r.refs.id), intId(r.refs.parentId)));
    }
  }

  /**
   * Reads the current stock of relative writes (turning them into absolute ones) and of absolute
   * writes to variations; a variation whose stock is its parent's pool is refused
   * (`WOO_SHARED_STOCK`, permanent): writing it would turn `manage_stock` on and split the pool.
   */
  private async prepareStock(items: Planned[], results: Map<string, SinkResult>, signal?: AbortSignal): Promise<void> {
    const running = new Map<number, { qty: number; keys: string[]; items: Planned[] }>();
    let current: Map<number, WooProduct>;
    // A listing that fails for one parent (e.g. deleted: its variations answer 404) fails only its items.
    const failed = new Map<number, unknown>();
    try {
      current = await this.currentOf(items, signal, failed);
    } catch (err) {
      for (const p of items) results.set(p.w.writeId, fromError(p.w, err));
      return;
    }
    for (const p of items) {
      if (failed.has(p.id)) {
        results.set(p.w.writeId, fromError(p.w, failed.get(p.id)));
        continue;
      }
      const now = current.get(p.id);
      if (!now) results.set(p.w.writeId, permanent(p.w, 'woocommerce_rest_product_invalid_id', `product ${p.id} not found`));
      else if (now.manage_stock === 'parent') results.set(p.w.writeId, permanent(p.w, 'WOO_SHARED_STOCK', `variation ${p.id} (SKU ${p.w.sku}) leaves stock to product ${p.parentId}, whose pool its sibling variations share: not written`));
      else if (p.delta === undefined) continue;
      else if (now.manage_stock !== true || typeof now.stock_quantity !== 'number') results.set(p.w.writeId, permanent(p.w, 'WOO_STOCK_NOT_MANAGED', `product ${p.id} does not manage stock: a relative change has no base`));
      else {
        // Several adjustments of one product in a batch build on each other (the batch applies
        // its updates in order), and each carries the marker with every key so far.
        let run = running.get(p.id);
        if (!run) running.set(p.id, (run = { qty: now.stock_quantity, keys: markedAdjustments(now), items: [] }));
        if (run.keys.includes(p.w.idempotencyKey)) {
          // Applied before (a resend after a crash): report the stock as it is, change nothing.
          results.set(p.w.writeId, { writeId: p.w.writeId, status: 'ok', applied: { available: now.stock_quantity, version: modifiedIso(now), readBack: true, alreadyApplied: true } });
          continue;
        }
        run.qty += p.delta!;
        run.keys = [...run.keys, p.w.idempotencyKey].slice(-MARKER_KEEP);
        run.items.push(p);
        p.target = run.qty;
        p.update = { id: p.id, stock_quantity: p.target, manage_stock: true, meta_data: [{ key: ADJUSTMENT_MARKER, value: run.keys.join(' ') }] };
      }
    }
    for (const run of running.values()) for (const p of run.items) p.finalTarget = run.qty;
  }

  private async sendChunk(path: string, items: Planned[], results: Map<string, SinkResult>, signal?: AbortSignal): Promise<void> {
    let body: unknown;
    try {
      body = (await this.client.request<unknown>({ method: 'POST', path, body: { update: items.map((p) => p.update) }, signal })).body;
    } catch (err) {
      if (err instanceof SyncError && err.code === 'woocommerce_rest_request_entity_too_large' && items.length > 1) {
        const half = Math.ceil(items.length / 2);
        await this.sendChunk(path, items.slice(0, half), results, signal);
        await this.sendChunk(path, items.slice(half), results, signal);
        return;
      }
      for (const p of items) results.set(p.w.writeId, fromError(p.w, err));
      return;
    }
    const parsed = wooBatchResponseSchema.safeParse(body);
    const updates = parsed.success ? parsed.data.update ?? [] : [];
    items.forEach((p, i) => {
      const entry = updates[i];
      if (!entry) {
        results.set(p.w.writeId, { writeId: p.w.writeId, status: 'retriable', code: 'WOO_MALFORMED_RESPONSE', message: `${path} answered without a result for item ${i}` });
      } else if (entry.error) {
        const status = intId((entry.error.data as { status?: unknown } | undefined)?.status);
        const code = entry.error.code ?? 'WOO_ITEM_ERROR';
        const message = entry.error.message ?? 'item failed';
        const isPermanent = PERMANENT_ITEM_CODES.has(code) || (status >= 400 && status < 500 && ![408, 409, 429].includes(status));
        results.set(p.w.writeId, isPermanent ? permanent(p.w, code, message) : { writeId: p.w.writeId, status: 'retriable', code, message });
      } else {
        const w = wooProductSchema.safeParse(entry);
        if (w.success) p.written = w.data;
        else results.set(p.w.writeId, { writeId: p.w.writeId, status: 'retriable', code: 'WOO_MALFORMED_RESPONSE', message: `${path} item ${i} is not a product` });
      }
    });
  }

  private applied(p: Planned, now: WooProduct | undefined): Record<string, unknown> {
    const src = now ?? p.written!;
    const version = modifiedIso(src);
    if (p.w.kind === 'inventory' || p.w.kind === 'adjust') {
      const available = src.manage_stock === true ? src.stock_quantity ?? null : null;
      if (p.delta !== undefined && available !== (p.finalTarget ?? p.target)) {
        this.opts.log.warn({ id: p.id, target: p.target, available }, 'WooCommerce stock changed around a relative write (no atomic adjust in WooCommerce)');
      }
      return { available, written: p.target, version, readBack: now !== undefined };
    }
    const out: Record<string, unknown> = { version };
    const price = decimalString(src.regular_price);
    if ('regular_price' in p.update && price !== undefined) out.price = price;
    if ('name' in p.update && src.name !== undefined) out.title = src.name;
    if ('status' in p.update && src.status !== undefined) out.status = src.status;
    return out;
  }

  /**
   * The objects as they are now, by id: one `GET /products?sku=…` per 50 known SKUs (it matches
   * variations too), then `include=` for what has no SKU (per parent for variations).
   */
  private async currentOf(items: Planned[], signal?: AbortSignal, failures?: Map<number, unknown>): Promise<Map<number, WooProduct>> {
    const out = new Map<number, WooProduct>();
    const wantIds = new Set(items.map((p) => p.id));
    const skus = [...new Set(items.map((p) => p.written?.sku || p.w.sku).filter((s): s is string => !!s))];
    for (let i = 0; i < skus.length; i += SKU_CHUNK) {
      for (const p of await this.productsBySku(skus.slice(i, i + SKU_CHUNK), signal)) if (wantIds.has(p.id)) out.set(p.id, p);
    }
    const missing = items.filter((p) => !out.has(p.id));
    const byPath = new Map<string, number[]>();
    for (const p of missing) {
      const path = p.parentId ? `/products/${p.parentId}/variations` : '/products';
      byPath.set(path, [...(byPath.get(path) ?? []), p.id]);
    }
    await Promise.all(
      [...byPath].map(async ([path, ids]) => {
        for (let i = 0; i < ids.length; i += BATCH_LIMIT) {
          const chunk = ids.slice(i, i + BATCH_LIMIT);
          let rows: unknown[];
          try {
            rows = await this.client.all<unknown>(path, { include: chunk.join(','), per_page: 100 }, signal);
          } catch (err) {
            if (!failures) throw err;
            for (const id of chunk) failures.set(id, err);
            continue;
          }
          for (const r of rows) {
            const p = wooProductSchema.safeParse(r);
            if (p.success) out.set(p.data.id, p.data);
          }
        }
      }),
    );
    return out;
  }

  private async productsBySku(skus: string[], signal?: AbortSignal): Promise<WooProduct[]> {
    if (skus.length === 0) return [];
    const rows = await this.client.all<unknown>('/products', { sku: skus.join(','), per_page: 100 }, signal);
    return rows.flatMap((r) => {
      const p = wooProductSchema.safeParse(r);
      if (p.success) return [p.data];
      this.opts.log.warn({ issue: p.error.issues[0]?.message }, 'skipping a WooCommerce product that does not parse');
      return [];
    });
  }
}
