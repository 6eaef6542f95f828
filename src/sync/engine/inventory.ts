import type { InventoryObserved, PlatformRefs, SaleCancelled, SaleRecorded, SourceKey, WriteConfirmed, WriteFailed } from '../../core/model.js';
import { channel, effectiveAvailable, type SkuBundle } from '../state.js';
import { compareVersions } from '../../core/versions.js';
import { noEffects, type DecideContext, type Effects } from './types.js';

/** The key the authority has in sync_state (`erp` or a channel key); null in peer mode. */
export function authorityKey(ctx: DecideContext): SourceKey | null {
  return ctx.rules.authority === 'peer' ? null : ctx.rules.authority;
}

/**
 * Plans an absolute stock write to each mapped target whose belief differs from what it
 * should show: the authority's available (with unconfirmed adjustments) minus its buffer.
 * Unmapped targets get nothing: a SKU is never created blindly.
 */
export function planStock(b: SkuBundle, ctx: DecideContext, fx: Effects, targets: SourceKey[], cause: { source: SourceKey; at: string }, settle = false, force: SourceKey[] = []): void {
  const a = effectiveAvailable(b.entity);
  if (a === null) return;
  const auth = authorityKey(ctx);
  for (const t of targets) {
    if (t === auth) continue;
    const ch = b.channels[t];
    // A shared stock pool (SHARED_STOCK) is never written: one SKU's quantity would split it.
    if (!ch?.refs || ch.deleted || (ch.ids?.length ?? 0) > 1 || ch.refs.stockPool) continue;
    const desired = Math.max(0, a - (ctx.rules.buffers[t] ?? 0));
    if (ch.expected === desired && !force.includes(t)) continue;
    fx.writes.push({
      target: t,
      sku: b.sku,
      kind: 'inventory',
      payload: { available: desired, expected: ch.observed?.available ?? null, refs: ch.refs },
      notBefore: settle ? new Date(ctx.now() + ctx.rules.settleMs).toISOString() : undefined,
      sourceKey: cause.source,
      sourceEventAt: cause.at,
      cause: settle ? 'correction' : 'change',
    });
    ch.expected = desired;
    ch.pendingWrite = desired;
    ch.written = { ...ch.written, available: desired, at: new Date(ctx.now()).toISOString() };
    b.dirty.add(t);
  }
}

/** Plans one read of the authority (its answer comes back as a `recheck` confirmation, taken as the truth); keyed by the event that raised the doubt. */
function planRecheck(b: SkuBundle, fx: Effects, authority: SourceKey, refs: PlatformRefs | undefined, ev: { eventId: string; source: SourceKey; occurredAt: string }): void {
  fx.writes.push({ target: authority, sku: b.sku, kind: 'recheck', payload: { refs }, idempotencyKey: `recheck:${ev.eventId}`, sourceKey: ev.source, sourceEventAt: ev.occurredAt });
}

/** A source reported its available quantity. */
export function onInventoryObserved(b: SkuBundle, ev: InventoryObserved, ctx: DecideContext): Effects {
  const ch = channel(b, ev.source);
  if (ch.observed && compareVersions(ev.sourceVersion, ch.observed.version) < 0) return noEffects('stale');
  const fx = noEffects('applied');
  const sameAsBefore = ch.observed?.available === ev.available && compareVersions(ev.sourceVersion, ch.observed.version) === 0;
  ch.observed = { available: ev.available, version: ev.sourceVersion, at: ev.occurredAt };
  ch.refs = { ...ch.refs, ...ev.refs };
  b.dirty.add(ev.source);
  if (sameAsBefore) return noEffects('duplicate');
  const cause = { source: ev.source, at: ev.occurredAt };
  if (ev.source === authorityKey(ctx)) {
    const e = b.entity;
    const cmp = e.authority.version ? compareVersions(ev.sourceVersion, e.authority.version) : 1;
    // Platform timestamps have second precision: two changes within one second share a version,
    // so only an older version, or the same version with the same quantity, is an echo.
    if (cmp < 0 || (cmp === 0 && ev.available === e.authority.available)) {
      // An echo of a write we already confirmed (or older): it carries nothing new.
      ch.expected = e.authority.available;
      return noEffects(ev.available === e.authority.available ? 'echo' : 'stale');
    }
    if (cmp === 0) {
      // The same version with another quantity: an earlier change of the same second delivered
      // late, or a later one. The timestamps cannot tell; the authority itself can: read it,
      // and take the reading (reported like a write confirmation) as the truth.
      ch.expected = e.authority.available;
      planRecheck(b, fx, ev.source, ch.refs ?? ev.refs, ev);
      fx.outcome = 'stale';
      return fx;
    }
    const unchanged = e.authority.available === ev.available;
    e.authority = { available: ev.available, version: ev.sourceVersion, source: ev.source, at: ev.occurredAt };
    ch.expected = ev.available;
    b.dirty.add('*');
    planStock(b, ctx, fx, ctx.rules.channels, cause);
    if (unchanged && fx.writes.length === 0) fx.outcome = 'echo';
    return fx;
  }
  if (authorityKey(ctx) === null) return onPeerObservation(b, ev, ctx, fx);
  // A channel that is not the authority: it should show authority − buffer. A difference we
  // did not cause is corrected after the settle window (its order may still be on the way).
  const wasEcho = ch.written?.available === ev.available;
  ch.expected = ev.available;
  const a = effectiveAvailable(b.entity);
  if (a === null) {
    fx.outcome = 'ignored';
    return fx;
  }
  const desired = Math.max(0, a - (ctx.rules.buffers[ev.source] ?? 0));
  if (ev.available === desired) {
    fx.outcome = wasEcho ? 'echo' : 'applied';
    fx.cancel.push({ target: ev.source, kind: 'inventory' });
    delete ch.pendingWrite;
    return fx;
  }
  planStock(b, ctx, fx, [ev.source], cause, true);
  return fx;
}

/**
 * Peer mode (no authority): the SKU's shared stock is the pool. A channel's unexplained change
 * is adopted as a delta of the pool; sales come from orders.
 */
function onPeerObservation(b: SkuBundle, ev: InventoryObserved, ctx: DecideContext, fx: Effects): Effects {
  const ch = channel(b, ev.source);
  const e = b.entity;
  const before = ch.expected;
  ch.expected = ev.available;
  if (e.authority.available === null) {
    e.authority = { available: ev.available + (ctx.rules.buffers[ev.source] ?? 0), version: ev.sourceVersion, source: null, at: ev.occurredAt };
    b.dirty.add('*');
  } else if (before !== null && before !== undefined && ev.available !== before && ch.written?.available !== ev.available) {
    e.authority = { ...e.authority, available: e.authority.available + (ev.available - before), at: ev.occurredAt };
    b.dirty.add('*');
  } else if (ch.written?.available === ev.available) {
    fx.outcome = 'echo';
    return fx;
  }
  planStock(b, ctx, fx, ctx.rules.channels.filter((c) => c !== ev.source), { source: ev.source, at: ev.occurredAt });
  return fx;
}

/** An order line committed stock on a channel (or changed its quantity). */
export function onSale(b: SkuBundle, ev: SaleRecorded | SaleCancelled, ctx: DecideContext): Effects {
  const prev = ctx.ledgerLine(ev.source, ev.orderId, ev.lineId);
  if (prev && compareVersions(ev.sourceVersion, prev.sourceVersion) < 0) return noEffects('stale');
  const committedNow = ev.type === 'SaleRecorded' ? ev.quantity : 0;
  const committedBefore = prev?.status === 'COMMITTED' ? prev.quantity : 0;
  const sold = committedNow - committedBefore;
  const fx = noEffects('applied');
  fx.ledger.push({
    sourceKey: ev.source,
    orderId: ev.orderId,
    lineId: ev.lineId,
    sku: b.sku,
    quantity: committedNow,
    status: ev.type === 'SaleRecorded' ? 'COMMITTED' : 'CANCELLED',
    sourceVersion: ev.sourceVersion,
  });
  if (sold === 0) {
    fx.outcome = 'duplicate';
    return fx;
  }
  const auth = authorityKey(ctx);
  const ch = b.channels[ev.source];
  // The channel itself moved its stock when the order was placed or cancelled, unless an
  // absolute write of ours landed after the sale and overwrote it (WooCommerce has no
  // compare-and-set; a Shopify compare-and-set retried after a re-read does the same). We cannot
  // tell the two apart, so the channel is always written the new value: a no-op when it already
  // shows it, the repair when the sale was overwritten.
  const replan: SourceKey[] = [];
  if (ch?.refs && ev.source !== auth) {
    if (ch.expected !== null && ch.expected !== undefined) ch.expected -= sold;
    replan.push(ev.source);
    b.dirty.add(ev.source);
  }
  const cause = { source: ev.source, at: ev.occurredAt };
  if (auth === null) {
    if (b.entity.authority.available !== null) b.entity.authority.available -= sold;
  } else if (ev.source !== auth) {
    // Apply the sale to the authority (exactly once: idempotent by line and transition).
    const transition = `${ev.source}|${ev.orderId}|${ev.lineId}|${committedBefore}->${committedNow}`;
    b.entity.pending -= sold;
    if (auth === 'erp') {
      fx.writes.push({
        target: 'erp',
        sku: b.sku,
        kind: 'order_line',
        idempotencyKey: `erp|${transition}`,
        payload: {
          channel: ev.source,
          orderId: ev.orderId,
          lineId: ev.lineId,
          quantity: committedNow,
          status: ev.type === 'SaleRecorded' ? 'COMMITTED' : 'CANCELLED',
          // The order's version: the ERP applies a line's state only if newer than what it holds,
          // so writes for one line landing out of order cannot undo a cancellation.
          version: ev.sourceVersion,
          pendingDelta: -sold,
          price: ev.type === 'SaleRecorded' ? ev.price ?? null : null,
          order: ev.type === 'SaleRecorded' ? ev.order : { orderId: ev.orderId },
        },
        sourceKey: ev.source,
        sourceEventAt: ev.occurredAt,
      });
    } else if (!b.channels[auth]?.refs) {
      // The authority does not have this SKU (UNMATCHED_SKU): nothing to adjust there.
      b.entity.pending += sold;
    } else {
      const authCh = b.channels[auth];
      fx.writes.push({
        target: auth,
        sku: b.sku,
        kind: 'adjust',
        idempotencyKey: `${auth}|${transition}`,
        payload: { delta: -sold, pendingDelta: -sold, refs: authCh?.refs, reason: ev.type === 'SaleRecorded' ? 'order' : 'cancellation', ref: transition },
        sourceKey: ev.source,
        sourceEventAt: ev.occurredAt,
      });
    }
  }
  b.dirty.add('*');
  planStock(b, ctx, fx, ctx.rules.channels, cause, false, replan);
  return fx;
}

/** A writer confirmed a write: what the target holds now, and the authority adjustment it settled. */
export function onWriteConfirmed(b: SkuBundle, ev: WriteConfirmed, ctx: DecideContext): Effects {
  const confirmed = (b.entity.confirmed ??= []);
  if (confirmed.includes(ev.writeId)) return noEffects('duplicate');
  confirmed.push(ev.writeId);
  if (confirmed.length > 64) confirmed.splice(0, confirmed.length - 64);
  b.dirty.add('*');
  const fx = noEffects('applied');
  const ch = channel(b, ev.target);
  b.dirty.add(ev.target);
  if (typeof ev.pendingDelta === 'number' && ev.pendingDelta !== 0) {
    b.entity.pending -= ev.pendingDelta;
    b.dirty.add('*');
  }
  const auth = authorityKey(ctx);
  if (typeof ev.available === 'number' && ev.target === auth && ev.kind !== 'recheck' && b.entity.authority.version &&
      compareVersions(ev.sourceVersion, b.entity.authority.version) === 0 && ev.available !== b.entity.authority.available) {
    // The authority's version (second precision) with another quantity: this write's result may
    // be older than what we hold (a change later in the same second, or a result replayed under
    // its idempotency key after a crash) or newer. Read the authority, as for an observation, and
    // re-plan the channels from the reading (until then they keep what they show).
    planRecheck(b, fx, ev.target, ch.refs, ev);
    return fx;
  }
  if (typeof ev.available === 'number') {
    const newer = !ch.observed || compareVersions(ev.sourceVersion, ch.observed.version) >= 0;
    if (newer) {
      ch.observed = { available: ev.available, version: ev.sourceVersion, at: ev.occurredAt };
      ch.expected = ev.available;
    }
    if (ev.kind === 'inventory' && ch.pendingWrite === ev.available) delete ch.pendingWrite;
    // Same version (second precision) counts as newer, as for the channel's observation above:
    // otherwise the authority's echo of this write is taken for a duplicate and never adopted.
    if (ev.target === auth && (!b.entity.authority.version || compareVersions(ev.sourceVersion, b.entity.authority.version) >= 0)) {
      b.entity.authority = { available: ev.available, version: ev.sourceVersion, source: ev.target, at: ev.occurredAt };
      b.dirty.add('*');
    }
  }
  if (ev.target === auth) planStock(b, ctx, fx, ctx.rules.channels, { source: ev.source, at: ev.occurredAt });
  // A write decided earlier may land after newer decisions (it was in flight): check the value
  // it left against what the channel should show now.
  else if (ev.kind === 'inventory' && ch.pendingWrite === undefined) planStock(b, ctx, fx, [ev.target], { source: ev.source, at: ev.occurredAt });
  return fx;
}

/** A writer gave up: our belief about the target is unknown until it is observed again. */
export function onWriteFailed(b: SkuBundle, ev: WriteFailed): Effects {
  const ch = channel(b, ev.target);
  if (ev.kind === 'inventory') {
    ch.expected = ch.observed?.available ?? null;
    delete ch.pendingWrite;
    b.dirty.add(ev.target);
  }
  return noEffects('applied');
}
