/**
 * `diff --fix`: repairs drift through the engine, never by writing a platform. For every SKU
 * whose quantity, price or title differs (and that exists once on each side), the state just read
 * from BOTH sides is stored as raw events (origin `diff`) in `source_events`; the outbox relay
 * publishes them and the sync workers re-evaluate those SKUs with their rules (authority and
 * buffers, the ledger, conflict detection, echo suppression). Missing and duplicate SKUs are not
 * submitted: the engine never creates a product or picks one of two variants on its own.
 */
import type pg from 'pg';
import { normaliseSku, payloadChecksum, type SkuNormalisation } from '../../core/ids.js';
import type { PlatformRefs } from '../../core/model.js';
import type { NewRawEvent, RawInventory, RawProduct } from '../../connectors/types.js';
import { inventoryLevelGid } from '../../connectors/shopify/normalise.js';
import { EventStore } from '../../pipeline/intake/event-store.js';
import type { RowMeta } from './catalog.js';
import type { DiffSide } from './sides.js';
import type { ClassifiedRow, DiffField, DiffStaging, QuantityRule } from './staging.js';

/** What `--fix` submitted. */
export interface FixResult {
  /** SKUs whose current state was submitted to the pipeline. */
  submittedSkus: number;
  /** Raw events built (both sides). */
  events: number;
  /** Events stored now (new states). */
  stored: number;
  /** Events equal to a state already stored (the pipeline has seen them). */
  alreadyKnown: number;
  /** Differing SKUs not submitted: missing on a side or duplicated (need a person). */
  notFixable: number;
}

/** One side's state of a SKU as read. */
interface SideState { side: DiffSide; rawSku: string; quantity: number | null; price: string | null; title: string | null; meta: RowMeta }

const BATCH = 500;

/** Submits the differing SKUs' current states as raw events (origin `diff`). */
export async function submitFix(
  pool: pg.Pool, staging: DiffStaging, sides: [DiffSide, DiffSide], fields: readonly DiffField[], rule: QuantityRule, skuRule: SkuNormalisation, notFixable: number,
): Promise<FixResult> {
  const store = new EventStore(pool);
  const result: FixResult = { submittedSkus: 0, events: 0, stored: 0, alreadyKnown: 0, notFixable };
  let batch: NewRawEvent[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const r = await store.store(batch);
    result.stored += r.stored.length;
    result.alreadyKnown += r.unchanged + r.duplicates;
    batch = [];
  };
  for await (const rows of staging.differing(fields, rule, { withMeta: true, only: [...fields] })) {
    for (const row of rows) {
      if (row.na !== 1 || row.nb !== 1 || !row.ma || !row.mb) continue;
      result.submittedSkus++;
      for (const s of statesOf(row, sides)) batch.push(...eventsFor(s, row, skuRule));
      if (batch.length >= BATCH) {
        result.events += batch.length;
        await flush();
      }
    }
  }
  result.events += batch.length;
  await flush();
  return result;
}

function statesOf(row: ClassifiedRow, [a, b]: [DiffSide, DiffSide]): SideState[] {
  return [
    { side: a, rawSku: row.ra ?? row.sku, quantity: row.qa, price: row.pa, title: row.ta, meta: row.ma as unknown as RowMeta },
    { side: b, rawSku: row.rb ?? row.sku, quantity: row.qb, price: row.pb, title: row.tb, meta: row.mb as unknown as RowMeta },
  ];
}

/** The raw events that describe one side's state of a SKU, shaped as that platform's connector shapes them. */
function eventsFor(s: SideState, row: ClassifiedRow, skuRule: SkuNormalisation): NewRawEvent[] {
  const { side, meta } = s;
  const out: NewRawEvent[] = [];
  const sku = normaliseSku(s.rawSku, skuRule);
  const erp = side.platform === 'erp';
  const at = (version: string) => (erp ? new Date().toISOString() : version);
  const event = (eventType: string, entityRef: string, payload: RawInventory | RawProduct, occurredAt: string): NewRawEvent => ({
    platform: side.platform, instance: side.instance, eventType, entityRef, origin: 'diff', dedupeKey: `diff:${entityRef}:${payloadChecksum(payload).slice(0, 24)}`, occurredAt, payload, sku,
  });
  if (row.quantity && s.quantity !== null) {
    const version = meta.stockVersion ?? meta.productVersion;
    const refs: PlatformRefs = meta.refs;
    const payload: RawInventory = { kind: 'inventory', sku: s.rawSku, available: s.quantity, updatedAt: version, refs };
    const entityRef = side.platform === 'shopify' && refs.locationId && refs.inventoryItemId ? inventoryLevelGid(refs.locationId, refs.inventoryItemId) : refs.id;
    out.push(event(side.platform === 'shopify' ? 'inventory_levels/update' : erp ? 'erp.stock_levels' : 'product.updated', entityRef, payload, at(version)));
  }
  if (row.price || row.title) {
    const variant: RawProduct['variants'][number] = { id: meta.refs.id, sku: s.rawSku };
    if (s.price !== null) variant.price = s.price;
    if (meta.refs.inventoryItemId) variant.inventoryItemId = meta.refs.inventoryItemId;
    if (meta.refs.parentId) variant.parentId = meta.refs.parentId;
    if (side.platform === 'woocommerce') variant.available = s.quantity;
    if (meta.variantTitle !== undefined) variant.title = meta.variantTitle;
    const payload: RawProduct = { kind: 'product', productId: meta.productId, ...(s.title !== null ? { title: s.title } : {}), ...(meta.status ? { status: meta.status } : {}), updatedAt: meta.productVersion, variants: [variant] };
    out.push(event(side.platform === 'shopify' ? 'products/update' : erp ? 'erp.items' : 'product.updated', side.platform === 'shopify' ? meta.productId : meta.refs.id, payload, at(meta.productVersion)));
  }
  return out;
}
