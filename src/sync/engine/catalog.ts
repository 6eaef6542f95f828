import type { CatalogFields, ConflictResolved, ProductChanged, ProductDeleted, SourceKey } from '../../core/model.js';
import { channel, type FieldValue, type SkuBundle } from '../state.js';
import { compareVersions } from '../../core/versions.js';
import { noEffects, type DecideContext, type Effects, type FieldPolicy } from './types.js';
import { planStock } from './inventory.js';

const FIELDS: Array<keyof CatalogFields> = ['title', 'price', 'status'];

/** Catalog fields of a SKU changed (or were observed) on a source. */
export function onProductChanged(b: SkuBundle, ev: ProductChanged, ctx: DecideContext): Effects {
  const fx = noEffects('applied');
  const ch = channel(b, ev.source);
  const newest = Object.values(ch.fields).reduce<string | null>((m, f) => (compareVersions(f.version, m) > 0 ? f.version : m), null);
  if (newest && compareVersions(ev.sourceVersion, newest) < 0) return noEffects('stale');

  // Identity: the SKU on this source, and the ids it has there.
  const id = ev.refs.id;
  const firstSighting = !ch.refs;
  ch.ids ??= [];
  const newId = !!id && !ch.ids.includes(id);
  if (id && newId) ch.ids.push(id);
  const refsBefore = JSON.stringify(ch.refs);
  if (!ch.refs || ch.refs.id === id) {
    ch.refs = { ...ch.refs, ...ev.refs };
    // A product change carries the SKU's whole refs: a pool it no longer names is gone.
    if (!ev.refs.stockPool) delete ch.refs.stockPool;
  }
  ch.deleted = false;
  b.dirty.add(ev.source);
  // The entity map learns an id, or new refs of one; an unchanged sighting writes nothing.
  if (id && (newId || JSON.stringify(ch.refs) !== refsBefore)) fx.entityMap.push({ sku: b.sku, sourceKey: ev.source, platformId: id, refs: ev.refs });
  if (ch.ids.length > 1) {
    const key = `duplicate:${ev.source}`;
    if (!b.entity.identityConflicts[key]) {
      const conflictId = ctx.newId();
      b.entity.identityConflicts[key] = conflictId;
      fx.conflicts.push({ conflictId, sku: b.sku, source: ev.source, type: 'DUPLICATE_SKU', resolution: null, status: 'OPEN', details: { source: ev.source, ids: ch.ids } });
      b.dirty.add('*');
    }
    fx.outcome = 'conflict';
    return fx; // never sync a duplicated SKU blindly
  }
  checkMatched(b, ctx, fx, ev.source);
  const poolEnded = checkSharedStock(b, ctx, fx, ev);
  if ((firstSighting && ch.expected === undefined) || poolEnded) {
    // A newly mapped channel learns the stock it should show.
    planStock(b, ctx, fx, [ev.source], { source: ev.source, at: ev.occurredAt }, true);
  }

  for (const f of FIELDS) {
    const value = ev.fields[f];
    if (value === undefined) continue;
    const seen: FieldValue = { value: value ?? null, version: ev.sourceVersion, at: ev.occurredAt, source: ev.source };
    ch.fields[f] = seen;
    if (ch.written?.fields && f in ch.written.fields && ch.written.fields[f] === seen.value) {
      if (fx.outcome === 'applied' && fx.writes.length === 0) fx.outcome = 'echo';
      continue;
    }
    decideField(b, ctx, fx, f, seen);
  }
  return fx;
}

function decideField(b: SkuBundle, ctx: DecideContext, fx: Effects, f: string, seen: FieldValue): void {
  const e = b.entity;
  const agreed = e.fields[f];
  if (!agreed) {
    e.fields[f] = seen;
    b.dirty.add('*');
    return;
  }
  if (agreed.value === seen.value) return;
  const policy: FieldPolicy = ctx.rules.fieldPolicies[f] ?? 'last-writer-wins';
  if (policy === 'ignore') return;
  const concurrent = agreed.source !== seen.source && Math.abs(Date.parse(seen.at) - Date.parse(agreed.at)) <= ctx.rules.conflictWindowMs;
  if (e.held[f]) {
    fx.outcome = 'conflict';
    return; // held until `syncctl conflicts resolve`
  }
  if (policy === 'manual') {
    if (agreed.source === seen.source && !concurrent) return adopt(b, ctx, fx, f, seen);
    const conflictId = ctx.newId();
    e.held[f] = conflictId;
    b.dirty.add('*');
    fx.conflicts.push(conflict(b, conflictId, f, agreed, seen, policy, null));
    fx.outcome = 'conflict';
    return;
  }
  if (policy.startsWith('priority:')) {
    // The value of the best-ranked source that has one wins, whoever changed last.
    const order = policy.slice('priority:'.length).split(',');
    const rank = (src: SourceKey) => {
      const i = order.findIndex((p) => p === src || (p.endsWith(':*') && src.startsWith(p.slice(0, -1))));
      return i < 0 ? order.length : i;
    };
    let best: FieldValue = seen;
    for (const [src, ch] of Object.entries(b.channels)) {
      const v = ch.fields[f];
      if (v && src !== seen.source && rank(src) < rank(best.source)) best = v;
    }
    if (best === seen) {
      if (concurrent) fx.conflicts.push(conflict(b, ctx.newId(), f, agreed, seen, policy, `APPLIED_POLICY:${seen.source}`));
      return adopt(b, ctx, fx, f, seen);
    }
    if (best.value !== seen.value && Math.abs(Date.parse(seen.at) - Date.parse(best.at)) <= ctx.rules.conflictWindowMs) {
      fx.conflicts.push(conflict(b, ctx.newId(), f, best, seen, policy, `APPLIED_POLICY:${best.source}`));
    }
    if (agreed.value !== best.value) adopt(b, ctx, fx, f, best);
    else revert(b, ctx, fx, f, seen.source, best);
    return;
  }
  const winner = Date.parse(seen.at) >= Date.parse(agreed.at) ? 'new' : 'agreed';
  if (concurrent) {
    fx.conflicts.push(conflict(b, ctx.newId(), f, agreed, seen, policy, winner === 'new' ? `APPLIED_POLICY:${seen.source}` : `APPLIED_POLICY:${agreed.source}`));
  }
  if (winner === 'new') adopt(b, ctx, fx, f, seen);
  else revert(b, ctx, fx, f, seen.source, agreed);
}

function conflict(b: SkuBundle, conflictId: string, f: string, agreed: FieldValue, seen: FieldValue, policy: string, resolution: string | null) {
  return {
    conflictId,
    sku: b.sku,
    source: seen.source,
    type: 'FIELD_CONFLICT' as const,
    resolution,
    status: resolution ? ('RESOLVED' as const) : ('OPEN' as const),
    details: {
      field: f,
      policy,
      values: [
        { source: agreed.source, value: agreed.value, at: agreed.at, version: agreed.version },
        { source: seen.source, value: seen.value, at: seen.at, version: seen.version },
      ],
    },
  };
}

/** Makes `seen` the agreed value and writes it to every other mapped channel. */
export function adopt(b: SkuBundle, ctx: DecideContext, fx: Effects, f: string, seen: FieldValue): void {
  b.entity.fields[f] = seen;
  b.dirty.add('*');
  for (const t of ctx.rules.channels) if (t !== seen.source) writeField(b, ctx, fx, t, f, seen.value, seen);
}

/** Puts the agreed value back on a channel that changed it and lost. */
function revert(b: SkuBundle, ctx: DecideContext, fx: Effects, f: string, target: SourceKey, agreed: FieldValue): void {
  if (ctx.rules.channels.includes(target)) writeField(b, ctx, fx, target, f, agreed.value, agreed);
}

function writeField(b: SkuBundle, ctx: DecideContext, fx: Effects, t: SourceKey, f: string, value: string | null, cause: FieldValue): void {
  const ch = b.channels[t];
  if (!ch?.refs || ch.deleted || (ch.ids?.length ?? 0) > 1) return;
  if (ch.fields[f]?.value === value) return;
  const existing = fx.writes.find((w) => w.target === t && w.kind === 'fields');
  if (existing) (existing.payload.fields as Record<string, unknown>)[f] = value;
  else fx.writes.push({ target: t, sku: b.sku, kind: 'fields', payload: { fields: { [f]: value }, refs: ch.refs }, sourceKey: cause.source, sourceEventAt: cause.at });
  ch.written = { ...ch.written, fields: { ...ch.written?.fields, [f]: value }, at: new Date(ctx.now()).toISOString() };
  b.dirty.add(t);
}

/** Records (or resolves) UNMATCHED_SKU: the SKU is mapped on some configured sources and missing on others. */
function checkMatched(b: SkuBundle, ctx: DecideContext, fx: Effects, source: SourceKey): void {
  const sources = [...ctx.rules.channels, ...(ctx.rules.authority === 'erp' ? ['erp'] : [])];
  const present = sources.filter((s) => b.channels[s]?.refs && !b.channels[s]?.deleted);
  const missing = sources.filter((s) => !present.includes(s));
  const open = b.entity.identityConflicts.unmatched;
  if (missing.length > 0 && !open && present.length > 0) {
    const conflictId = ctx.newId();
    b.entity.identityConflicts.unmatched = conflictId;
    fx.conflicts.push({ conflictId, sku: b.sku, source, type: 'UNMATCHED_SKU', resolution: null, status: 'OPEN', details: { presentOn: present, missingOn: missing } });
    b.dirty.add('*');
  } else if (missing.length === 0 && open) {
    delete b.entity.identityConflicts.unmatched;
    fx.resolved.push({ conflictId: open, resolution: 'MATCHED' });
    b.dirty.add('*');
  }
}

/**
 * SHARED_STOCK: the SKU's stock on this source is one pool shared with other SKUs (a WooCommerce
 * variation whose parent product manages stock). One SKU's quantity cannot be written to a pool
 * without splitting it or overwriting its siblings' sales, so stock is never written there
 * ({@link planStock} skips the channel) and the conflict names the pool until the SKU has its own
 * stock again (then it is resolved and the channel written as any newly mapped one). Returns true
 * when a pool ended for this SKU.
 */
function checkSharedStock(b: SkuBundle, ctx: DecideContext, fx: Effects, ev: ProductChanged): boolean {
  const key = `shared:${ev.source}`;
  const open = b.entity.identityConflicts[key];
  const pool = b.channels[ev.source]?.refs?.stockPool;
  if (pool && !open) {
    const conflictId = ctx.newId();
    b.entity.identityConflicts[key] = conflictId;
    fx.conflicts.push({
      conflictId, sku: b.sku, source: ev.source, type: 'SHARED_STOCK', resolution: null, status: 'OPEN',
      details: { source: ev.source, pool: { productId: pool }, variantId: ev.refs.id, reason: 'stock is managed by the parent product and shared by its variations: not written' },
    });
    b.dirty.add('*');
    return false;
  }
  if (!pool && open) {
    delete b.entity.identityConflicts[key];
    fx.resolved.push({ conflictId: open, resolution: 'STOCK_NOT_SHARED' });
    b.dirty.add('*');
    return true;
  }
  return false;
}

/** An operator's decision: the value is agreed, the hold lifted, and every mapped channel written. */
export function onConflictResolved(b: SkuBundle, ev: ConflictResolved, ctx: DecideContext): Effects {
  const fx = noEffects('applied');
  if (b.entity.held[ev.field] === ev.conflictId) delete b.entity.held[ev.field];
  const decided: FieldValue = { value: ev.value, version: ev.sourceVersion, at: ev.occurredAt, source: ev.source };
  b.entity.fields[ev.field] = decided;
  b.dirty.add('*');
  for (const t of ctx.rules.channels) writeField(b, ctx, fx, t, ev.field, ev.value, decided);
  return fx;
}

/** A product was deleted on a source: stop writing there; never delete elsewhere. */
export function onProductDeleted(b: SkuBundle, ev: ProductDeleted): Effects {
  const ch = channel(b, ev.source);
  ch.deleted = true;
  b.dirty.add(ev.source);
  return noEffects('applied');
}
