/**
 * The Shopify writer. Stock: `inventorySetQuantities` (absolute, compare-and-swap through
 * `changeFromQuantity`) in batches of up to 250, and `inventoryAdjustQuantities` (relative) one
 * write per call; both under an `@idempotent` key, so a retry after a timeout never applies twice.
 * Prices: `productVariantsBulkUpdate`, one call per product; title and status: `productUpdate`,
 * one call per product; new listings: `productSet` (`./sink-create.ts`). Every write gets its own result.
 *
 * The set mutation is atomic: one bad row fails them all. So rows refused for good are reported
 * `permanent` and the rest sent again; rows whose stock moved under us
 * (CHANGE_FROM_QUANTITY_STALE) are re-read and sent again with the current quantity. Each new
 * composition of a batch gets a new key, derived from the writes' keys and the rows sent.
 *
 * Every request of the writer is `urgent` for the cost bucket: granted before polls and lookups
 * waiting for their points (a change waits for it; a poll page may wait for 1,000 points).
 */
import { createHash } from 'node:crypto';
import { SyncError } from '../../core/errors.js';
import { canonicalJson, normaliseSku, type SkuNormalisation } from '../../core/ids.js';
import { getLogger } from '../../core/logger.js';
import { sourceKey, type PlatformRefs } from '../../core/model.js';
import type { SinkConnector, SinkReading, SinkResult, SinkWrite } from '../types.js';
import type { ShopifyClient } from './client.js';
import { aliasedDocument, loadDocument } from './documents.js';
import type { ManagedLocation } from './locations.js';
import { ShopifyListingCreator } from './sink-create.js';
import { decimal, utcSeconds } from './normalise.js';

/** Rounds of re-read and resend for rows that keep going stale, before the write is reported retriable. */
const STALE_ROUNDS = 4;
/** SKUs looked up per request (each costs about 17 points). */
const SKUS_PER_READ = 50;
/** Retries of one call inside a write; beyond them the writers framework reschedules the write. */
const WRITE_RETRY = { retries: 3 };

interface UserError { field: string[] | null; message: string; code: string | null }
interface Change { name: string; delta: number; quantityAfterChange: number | null; item: { id: string } }
interface AdjustmentPayload { inventoryAdjustmentGroup: { id: string; createdAt: string; changes: Change[] } | null; userErrors: UserError[] }
interface BySkuNode { id: string; sku: string | null; price: string; product: { id: string; title: string; handle: string }; inventoryItem: { id: string; inventoryLevel: { updatedAt: string; quantities: Array<{ name: string; quantity: number }> } | null } }

/** One stock row of a set batch. */
interface Row { w: SinkWrite; inventoryItemId: string; locationId: string; quantity: number; changeFrom: number | null; observed?: number | null }

/** What a SKU looks like on the store right now. */
export interface VariantState { variantId: string; productId: string; handle: string; inventoryItemId: string; sku: string | null; price: string; title: string; available: number | null; version: string | null }

const shortKey = (prefix: string, value: unknown): string => `syncctl-${prefix}-${createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 40)}`;
const indexOf = (e: UserError, list: string): number | null => (e.field && e.field[0] === 'input' && e.field[1] === list && e.field[2] !== undefined ? Number(e.field[2]) : e.field && e.field[0] === list && e.field[1] !== undefined ? Number(e.field[1]) : null);

/** Options of {@link ShopifySink}. */
export interface ShopifySinkOptions {
  instance: string;
  client: ShopifyClient;
  location: ManagedLocation;
  skuRule: SkuNormalisation;
}

/** The Shopify sink of one store. */
export class ShopifySink implements SinkConnector {
  readonly key: string;
  readonly maxBatch = 250;
  private readonly log = getLogger('shopify.sink');

  private readonly creator: ShopifyListingCreator;

  constructor(private readonly o: ShopifySinkOptions) {
    this.key = sourceKey('shopify', o.instance);
    this.creator = new ShopifyListingCreator(o.client, o.skuRule, (skus, signal) => this.lookup(skus, signal));
  }

  /** Why writes to this store must wait: Shopify refuses its credentials (see `ShopifyTokenProvider.held`). */
  held(signal?: AbortSignal): Promise<string | null> {
    return this.o.client.auth.held(signal);
  }

  /** Writes a batch; one result per write, in the batch's order. */
  async write(all: SinkWrite[], signal?: AbortSignal): Promise<SinkResult[]> {
    const results = new Map<string, SinkResult>();
    const done = (r: SinkResult) => results.set(r.writeId, r);
    const creates = all.filter((w) => w.kind === 'create_product');
    const batch = creates.length ? all.filter((w) => w.kind !== 'create_product') : all;
    if (creates.length) for (const r of await this.creator.create(creates, signal)) done(r);
    if (batch.length === 0) return all.map((w) => results.get(w.writeId)!);
    const location = await this.o.location.get(signal);
    await this.completeRefs(batch, signal);
    const rows: Row[] = [];
    const adjusts: SinkWrite[] = [];
    const fields: SinkWrite[] = [];
    for (const w of batch) {
      const kind: string = w.kind;
      if ((kind === 'inventory' || kind === 'adjust') && !w.refs.inventoryItemId) {
        done({ writeId: w.writeId, status: 'permanent', code: 'SHOPIFY_UNKNOWN_SKU', message: `SKU ${w.sku} has no inventory item on Shopify ${this.o.instance}` });
      } else if (kind === 'inventory') {
        const q = w.payload.available;
        if (typeof q !== 'number' || !Number.isInteger(q)) done({ writeId: w.writeId, status: 'permanent', code: 'SHOPIFY_INVALID_WRITE', message: 'inventory write without an integer `available`' });
        else {
          const expected = w.expected !== undefined ? w.expected : typeof w.payload.expected === 'number' ? w.payload.expected : null;
          // Shopify refuses negative absolute quantities; a channel cannot show less than nothing.
          rows.push({ w, inventoryItemId: w.refs.inventoryItemId!, locationId: w.refs.locationId ?? location, quantity: Math.max(0, q), changeFrom: expected ?? null });
        }
      } else if (kind === 'adjust') adjusts.push(w);
      else if (kind === 'fields') fields.push(w);
      else done({ writeId: w.writeId, status: 'permanent', code: 'SHOPIFY_WRITE_KIND_UNSUPPORTED', message: `Shopify ${this.o.instance} does not take ${kind} writes` });
    }
    for (const chunk of uniqueChunks(rows, (r) => `${r.inventoryItemId}|${r.locationId}`, this.maxBatch)) {
      for (const r of await this.setRows(chunk, location, signal)) done(r);
    }
    for (const w of adjusts) done(await this.adjust(w, location, signal));
    for (const r of await this.updateFields(fields, signal)) done(r);
    return all.map((w) => results.get(w.writeId) ?? { writeId: w.writeId, status: 'retriable', code: 'SHOPIFY_NOT_SENT', message: 'write was not sent' });
  }

  /** Current available (managed location), price and title of each SKU found on the store. */
  async read(skus: string[], signal?: AbortSignal): Promise<SinkReading[]> {
    const found = await this.lookup(skus, signal);
    const out: SinkReading[] = [];
    for (const sku of skus) {
      const v = found.get(sku);
      if (!v) continue;
      out.push({ sku, available: v.available, price: v.price, title: v.title, refs: { id: v.variantId, productId: v.productId, inventoryItemId: v.inventoryItemId, locationId: await this.o.location.get(signal) }, ...(v.version ? { version: v.version } : {}) });
    }
    return out;
  }

  /** Looks SKUs up (by normalised SKU; on duplicates the lowest variant id wins). */
  async lookup(skus: string[], signal?: AbortSignal): Promise<Map<string, VariantState>> {
    const locationId = await this.o.location.get(signal);
    const out = new Map<string, VariantState>();
    const unique = [...new Set(skus)];
    for (let i = 0; i < unique.length; i += SKUS_PER_READ) {
      const part = unique.slice(i, i + SKUS_PER_READ);
      const doc = aliasedDocument(loadDocument('VariantsBySku'), part.length, ['query']);
      const vars: Record<string, unknown> = { locationId };
      part.forEach((s, j) => { vars[`query_${j}`] = `sku:"${s.replace(/["\\]/g, '')}"`; });
      const d = await this.o.client.request<Record<string, { nodes: BySkuNode[] }>>(doc, vars, { signal, priority: 'urgent' });
      part.forEach((s, j) => {
        const want = normaliseSku(s, this.o.skuRule);
        const hit = (d[`f${j}`]?.nodes ?? []).filter((n) => normaliseSku(n.sku, this.o.skuRule) === want).sort((a, b) => a.id.length - b.id.length || a.id.localeCompare(b.id))[0];
        if (!hit) return;
        const level = hit.inventoryItem.inventoryLevel;
        out.set(s, {
          variantId: hit.id, productId: hit.product.id, handle: hit.product.handle, inventoryItemId: hit.inventoryItem.id, sku: hit.sku, price: decimal(hit.price) ?? hit.price, title: hit.product.title,
          available: level?.quantities.find((q) => q.name === 'available')?.quantity ?? null, version: level ? utcSeconds(level.updatedAt) : null,
        });
      });
    }
    return out;
  }

  /** Fills in the ids a write lacks (refs from another source may carry only a SKU) by looking the SKU up. */
  private async completeRefs(batch: SinkWrite[], signal?: AbortSignal): Promise<void> {
    const lacking = batch.filter((w) => (w.kind === 'fields' ? !w.refs.id || !w.refs.productId : !w.refs.inventoryItemId));
    if (lacking.length === 0) return;
    let found: Map<string, VariantState>;
    try {
      found = await this.lookup(lacking.map((w) => w.sku), signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      return; // the writes go on without the ids and are reported as unknown SKUs, then retried later
    }
    for (const w of lacking) {
      const v = found.get(w.sku);
      if (v) w.refs = { ...w.refs, id: v.variantId, productId: v.productId, inventoryItemId: v.inventoryItemId } satisfies PlatformRefs;
    }
  }

  private failed(w: SinkWrite, err: unknown, signal?: AbortSignal): SinkResult {
    if (signal?.aborted) throw err;
    if (err instanceof SyncError && !err.retriable) return { writeId: w.writeId, status: 'permanent', code: err.code, message: err.message };
    const code = err instanceof SyncError ? err.code : 'SHOPIFY_UNEXPECTED';
    const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs ?? this.o.client.bucket.retryAfterMs(10);
    return { writeId: w.writeId, status: 'retriable', code, message: err instanceof Error ? err.message : String(err), retryAfterMs };
  }

  private async setRows(initial: Row[], locationId: string, signal?: AbortSignal): Promise<SinkResult[]> {
    const out: SinkResult[] = [];
    let pending = initial;
    for (let round = 0; pending.length > 0; round++) {
      if (round > STALE_ROUNDS) {
        for (const r of pending) out.push({ writeId: r.w.writeId, status: 'retriable', code: 'SHOPIFY_STALE', message: 'stock kept changing while syncctl wrote it', observed: r.observed ?? null, retryAfterMs: 1000 });
        break;
      }
      const quantities = pending.map((r) => ({ inventoryItemId: r.inventoryItemId, locationId: r.locationId, quantity: r.quantity, changeFromQuantity: r.changeFrom }));
      const key = shortKey('set', pending.map((r, i) => [r.w.idempotencyKey, quantities[i]]));
      let p: AdjustmentPayload;
      try {
        const d = await this.o.client.request<{ inventorySetQuantities: AdjustmentPayload }>(loadDocument('InventorySetQuantities'), {
          key, input: { name: 'available', reason: 'correction', referenceDocumentUri: `syncctl://writes/${key}`, quantities },
        }, { signal, retry: WRITE_RETRY, priority: 'urgent' });
        p = d.inventorySetQuantities;
      } catch (err) {
        for (const r of pending) out.push(this.failed(r.w, err, signal));
        break;
      }
      if (p.userErrors.length === 0) {
        const changes = new Map((p.inventoryAdjustmentGroup?.changes ?? []).filter((c) => c.name === 'available').map((c) => [c.item.id, c]));
        for (const r of pending) {
          const c = changes.get(r.inventoryItemId);
          const version = p.inventoryAdjustmentGroup?.createdAt ?? null;
          out.push({ writeId: r.w.writeId, status: 'ok', applied: { available: c?.quantityAfterChange ?? r.quantity, version: version ? utcSeconds(version) : null, ...(r.observed !== undefined ? { observedBefore: r.observed } : {}) } });
        }
        break;
      }
      const byRow = new Map<number, UserError>();
      const general: UserError[] = [];
      for (const e of p.userErrors) {
        const i = indexOf(e, 'quantities');
        if (i !== null && pending[i]) byRow.set(i, byRow.get(i)?.code === 'CHANGE_FROM_QUANTITY_STALE' ? e : byRow.get(i) ?? e);
        else general.push(e);
      }
      if (general.length > 0) {
        const e = general[0]!;
        for (const r of pending) {
          if (e.code === 'IDEMPOTENCY_CONCURRENT_REQUEST') out.push({ writeId: r.w.writeId, status: 'retriable', code: `SHOPIFY_${e.code}`, message: e.message, retryAfterMs: 1000 });
          else out.push({ writeId: r.w.writeId, status: 'permanent', code: `SHOPIFY_${e.code ?? 'USER_ERROR'}`, message: e.message });
        }
        break;
      }
      const stale: Row[] = [];
      const next: Row[] = [];
      pending.forEach((r, i) => {
        const e = byRow.get(i);
        if (!e) next.push(r);
        else if (e.code === 'CHANGE_FROM_QUANTITY_STALE') stale.push(r);
        else out.push({ writeId: r.w.writeId, status: 'permanent', code: `SHOPIFY_${e.code ?? 'USER_ERROR'}`, message: `${e.message} (${(e.field ?? []).join('.')})` });
      });
      if (stale.length > 0) {
        let current: Map<string, number | null>;
        try {
          current = await this.availableOf(stale.map((r) => r.inventoryItemId), locationId, signal);
        } catch (err) {
          for (const r of [...stale, ...next]) out.push(this.failed(r.w, err, signal));
          break;
        }
        for (const r of stale) {
          const now = current.get(r.inventoryItemId) ?? null;
          this.log.debug({ instance: this.o.instance, sku: r.w.sku, expected: r.changeFrom, observed: now }, 'stale compare: re-read and resend');
          next.push({ ...r, changeFrom: now, observed: now });
        }
      }
      pending = next;
    }
    return out;
  }

  /** Re-reads `available` of inventory items at the managed location. */
  private async availableOf(itemIds: string[], locationId: string, signal?: AbortSignal): Promise<Map<string, number | null>> {
    const doc = aliasedDocument(loadDocument('AvailableByItem'), itemIds.length, ['id']);
    const vars: Record<string, unknown> = { locationId };
    itemIds.forEach((id, j) => { vars[`id_${j}`] = id; });
    type Item = { id: string; inventoryLevel: { quantities: Array<{ name: string; quantity: number }> } | null } | null;
    const d = await this.o.client.request<Record<string, Item>>(doc, vars, { signal, retry: WRITE_RETRY, priority: 'urgent' });
    const out = new Map<string, number | null>();
    itemIds.forEach((id, j) => out.set(id, d[`f${j}`]?.inventoryLevel?.quantities.find((q) => q.name === 'available')?.quantity ?? null));
    return out;
  }

  private async adjust(w: SinkWrite, locationId: string, signal?: AbortSignal): Promise<SinkResult> {
    const delta = w.payload.delta;
    if (typeof delta !== 'number' || !Number.isInteger(delta)) return { writeId: w.writeId, status: 'permanent', code: 'SHOPIFY_INVALID_WRITE', message: 'adjust write without an integer `delta`' };
    const key = w.idempotencyKey.length <= 64 ? w.idempotencyKey : shortKey('adjust', w.idempotencyKey);
    try {
      const d = await this.o.client.request<{ inventoryAdjustQuantities: AdjustmentPayload }>(loadDocument('InventoryAdjustQuantities'), {
        key,
        input: { name: 'available', reason: 'correction', referenceDocumentUri: `syncctl://writes/${encodeURIComponent(w.writeId)}`, changes: [{ delta, inventoryItemId: w.refs.inventoryItemId, locationId: w.refs.locationId ?? locationId, changeFromQuantity: null }] },
      }, { signal, retry: WRITE_RETRY, priority: 'urgent' });
      const p = d.inventoryAdjustQuantities;
      const e = p.userErrors[0];
      if (e) return { writeId: w.writeId, status: 'permanent', code: `SHOPIFY_${e.code ?? 'USER_ERROR'}`, message: e.message };
      const c = p.inventoryAdjustmentGroup?.changes.find((x) => x.name === 'available');
      const version = p.inventoryAdjustmentGroup?.createdAt ?? null;
      return { writeId: w.writeId, status: 'ok', applied: { available: c?.quantityAfterChange ?? null, delta, version: version ? utcSeconds(version) : null } };
    } catch (err) {
      return this.failed(w, err, signal);
    }
  }

  /**
   * Field writes: price per variant (`productVariantsBulkUpdate`, one call per product), title and
   * status per product (`productUpdate`, one call per product however many of its SKUs ask; the
   * last write of the round wins). A write is done when every part of it is.
   */
  private async updateFields(writes: SinkWrite[], signal?: AbortSignal): Promise<SinkResult[]> {
    const out: SinkResult[] = [];
    const byProduct = new Map<string, Array<{ w: SinkWrite; price: string; ignored: string[] }>>();
    const productParts = new Map<string, { patch: { title?: string; status?: string }; writes: SinkWrite[] }>();
    const parts = new Map<string, number>();
    const partial = new Map<string, SinkResult>();
    const settle = (r: SinkResult) => {
      const left = (parts.get(r.writeId) ?? 1) - 1;
      parts.set(r.writeId, left);
      const prev = partial.get(r.writeId);
      const merged: SinkResult = prev && prev.status !== 'ok' ? prev : r.status !== 'ok' ? r : { ...r, applied: { ...(prev?.status === 'ok' ? prev.applied : {}), ...r.applied } };
      partial.set(r.writeId, merged);
      if (left === 0) out.push(merged);
    };
    for (const w of writes) {
      const f = (w.payload.fields ?? w.payload) as Record<string, unknown>;
      const ignored = Object.keys(f).filter((k) => !['price', 'title', 'status', 'refs'].includes(k) && f[k] !== undefined);
      const price = decimal(f.price);
      const title = typeof f.title === 'string' && f.title.trim() !== '' ? f.title : undefined;
      const status = f.status === 'active' || f.status === 'draft' || f.status === 'archived' ? f.status.toUpperCase() : undefined;
      if (!w.refs.id || !w.refs.productId) {
        out.push({ writeId: w.writeId, status: 'permanent', code: 'SHOPIFY_UNKNOWN_SKU', message: `SKU ${w.sku} has no variant on Shopify ${this.o.instance}` });
        continue;
      }
      if (price === undefined && title === undefined && status === undefined) {
        out.push(ignored.length > 0
          ? { writeId: w.writeId, status: 'permanent', code: 'SHOPIFY_FIELD_UNSUPPORTED', message: `Shopify writer does not write ${ignored.join(', ')} (only price, title, status)` }
          : { writeId: w.writeId, status: 'ok', applied: {} });
        continue;
      }
      if (ignored.length > 0) this.log.warn({ instance: this.o.instance, sku: w.sku, ignored }, 'fields other than price, title and status are not written to Shopify');
      parts.set(w.writeId, (price !== undefined ? 1 : 0) + (title !== undefined || status !== undefined ? 1 : 0));
      if (price !== undefined) {
        const list = byProduct.get(w.refs.productId) ?? [];
        list.push({ w, price, ignored });
        byProduct.set(w.refs.productId, list);
      }
      if (title !== undefined || status !== undefined) {
        const e = productParts.get(w.refs.productId) ?? { patch: {}, writes: [] };
        if (title !== undefined) e.patch.title = title;
        if (status !== undefined) e.patch.status = status;
        e.writes.push(w);
        productParts.set(w.refs.productId, e);
      }
    }
    for (const [productId, items] of byProduct) {
      for (const chunk of uniqueChunks(items, (x) => x.w.refs.id, this.maxBatch)) {
        try {
          const d = await this.o.client.request<{ productVariantsBulkUpdate: { productVariants: Array<{ id: string; price: string; updatedAt: string }> | null; userErrors: UserError[] } }>(
            loadDocument('ProductVariantsBulkUpdate'), { productId, variants: chunk.map((x) => ({ id: x.w.refs.id, price: x.price })) }, { signal, retry: WRITE_RETRY, priority: 'urgent' });
          const p = d.productVariantsBulkUpdate;
          const updated = new Map((p.productVariants ?? []).map((v) => [v.id, v]));
          const errs = new Map<number, UserError>();
          const general = p.userErrors.filter((e) => { const i = indexOf(e, 'variants'); if (i === null) return true; errs.set(i, e); return false; });
          chunk.forEach((x, i) => {
            const e = errs.get(i) ?? general[0];
            const v = updated.get(x.w.refs.id);
            if (v && !errs.has(i)) settle({ writeId: x.w.writeId, status: 'ok', applied: { price: decimal(v.price) ?? v.price, version: utcSeconds(v.updatedAt), ...(x.ignored.length ? { unsupported: x.ignored } : {}) } });
            else settle({ writeId: x.w.writeId, status: 'permanent', code: `SHOPIFY_${e?.code ?? 'VARIANT_NOT_UPDATED'}`, message: e?.message ?? 'variant not updated' });
          });
        } catch (err) {
          for (const x of chunk) settle(this.failed(x.w, err, signal));
        }
      }
    }
    for (const [productId, e] of productParts) {
      try {
        const d = await this.o.client.request<{ productUpdate: { product: { id: string; title: string; status: string; updatedAt: string } | null; userErrors: Array<{ field: string[] | null; message: string }> } }>(
          loadDocument('ProductUpdate'), { product: { id: productId, ...e.patch } }, { signal, retry: WRITE_RETRY });
        const r = d.productUpdate;
        for (const w of e.writes) {
          if (r.product && r.userErrors.length === 0) settle({ writeId: w.writeId, status: 'ok', applied: { title: r.product.title, status: r.product.status.toLowerCase(), version: utcSeconds(r.product.updatedAt) } });
          else settle({ writeId: w.writeId, status: 'permanent', code: 'SHOPIFY_PRODUCT_NOT_UPDATED', message: r.userErrors.map((x) => x.message).join('; ') || 'product not updated' });
        }
      } catch (err) {
        for (const w of e.writes) settle(this.failed(w, err, signal));
      }
    }
    return out;
  }
}

/** Splits items into chunks of at most `size` in which no key appears twice (later duplicates go to later chunks). */
function uniqueChunks<T>(items: T[], keyOf: (t: T) => string, size: number): T[][] {
  const chunks: Array<{ keys: Set<string>; items: T[] }> = [];
  for (const item of items) {
    const k = keyOf(item);
    // Keep the order of writes to one item: a duplicate goes after the last chunk holding its key.
    const after = chunks.findLastIndex((x) => x.keys.has(k));
    let c = chunks.slice(after + 1).find((x) => x.items.length < size);
    if (!c) { c = { keys: new Set(), items: [] }; chunks.push(c); }
    c.keys.add(k);
    c.items.push(item);
  }
  return chunks.map((c) => c.items);
}
