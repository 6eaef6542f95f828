import type { GraphQLResolveInfo } from 'graphql';
import { isoSeconds } from './clock.js';
import type { SimContext } from './context.js';
import { gid, parseGid } from './gid.js';
import { checkIdempotency, idempotencyKey, isUri, MISMATCH_ERROR, rememberIdempotent, requireChangeFrom } from './guards.js';
import {
  ADJUSTABLE_NAMES, ON_HAND_PARTS, SETTABLE_NAMES, type AdjustmentGroupRec, type ChangeRec, type InventoryLevelRec, type QuantityName,
} from './model.js';
import type { ResolverMap } from './resolvers-query.js';

/** Reasons Shopify accepts for inventory changes. */
export const INVENTORY_REASONS = new Set([
  'correction', 'cycle_count_available', 'damaged', 'movement_created', 'movement_updated', 'movement_received',
  'movement_canceled', 'other', 'promotion', 'quality_control', 'received', 'reservation_created', 'reservation_deleted',
  'reservation_updated', 'restock', 'safety_stock', 'shrinkage',
]);
const MAX_QUANTITY = 1_000_000_000;

interface UserError { field: string[] | null; code: string; message: string }
interface Payload { inventoryAdjustmentGroup: AdjustmentGroupRec | null; userErrors: UserError[] }
interface SetInput { name: string; reason: string; referenceDocumentUri?: string | null; quantities: { inventoryItemId: string; locationId: string; quantity: number; changeFromQuantity?: number | null }[] }
interface AdjustInput { name: string; reason: string; referenceDocumentUri?: string | null; changes: { inventoryItemId: string; locationId: string; delta: number; changeFromQuantity?: number | null; ledgerDocumentUri?: string | null }[] }

function commonChecks(input: { name: string; reason: string; referenceDocumentUri?: string | null }, names: readonly QuantityName[], nameCode: string): UserError[] {
  const errors: UserError[] = [];
  if (!(names as readonly string[]).includes(input.name)) {
    errors.push({ field: ['input', 'name'], code: nameCode, message: `The quantity name must be one of: ${names.join(', ')}.` });
  }
  if (!INVENTORY_REASONS.has(input.reason)) errors.push({ field: ['input', 'reason'], code: 'INVALID_REASON', message: 'The specified reason is invalid.' });
  if (input.referenceDocumentUri != null && !isUri(input.referenceDocumentUri)) {
    errors.push({ field: ['input', 'referenceDocumentUri'], code: 'INVALID_REFERENCE_DOCUMENT', message: 'The specified reference document URI is invalid.' });
  }
  return errors;
}

function findLevel(ctx: SimContext, itemId: string, locationId: string, field: (k: string) => string[], errors: UserError[]): InventoryLevelRec | null {
  const s = ctx.sim.store;
  const item = s.itemById.get(parseGid(itemId, 'InventoryItem') ?? -1);
  if (!item) { errors.push({ field: field('inventoryItemId'), code: 'INVALID_INVENTORY_ITEM', message: 'The specified inventory item could not be found.' }); return null; }
  const loc = s.locationById.get(parseGid(locationId, 'Location') ?? -1);
  if (!loc) { errors.push({ field: field('locationId'), code: 'INVALID_LOCATION', message: 'The specified location could not be found.' }); return null; }
  const level = item.levels.get(loc.id);
  // From 2026-10 inventory can be adjusted at any location: the level is created (the error code is gone).
  if (!level && ctx.apiVersion >= '2026-10') return s.levelAt(item, loc);
  if (!level) { errors.push({ field: field('locationId'), code: 'ITEM_NOT_STOCKED_AT_LOCATION', message: 'The specified inventory item is not stocked at the location.' }); return null; }
  return level;
}

/** The change entries of a group: the named quantity, plus `on_hand` (or `available`) when it moved with it. */
function changeRecords(applied: { level: InventoryLevelRec; name: QuantityName; delta: number; ledger?: string | null }[]): ChangeRec[] {
  const out: ChangeRec[] = [];
  for (const a of applied) {
    const base = { item: a.level.item, location: a.level.location };
    out.push({ ...base, name: a.name, delta: a.delta, quantityAfterChange: a.level.quantities[a.name], ledgerDocumentUri: a.ledger ?? null });
    const derived: QuantityName | null = a.name === 'on_hand' ? 'available' : ON_HAND_PARTS.includes(a.name) ? 'on_hand' : null;
    if (derived && a.delta !== 0) out.push({ ...base, name: derived, delta: a.delta, quantityAfterChange: a.level.quantities[derived], ledgerDocumentUri: null });
  }
  return out;
}

function runIdempotent(ctx: SimContext, info: GraphQLResolveInfo, field: string, args: { input: unknown }, run: () => { payload: Payload; applied: boolean }): Payload {
  const key = idempotencyKey(info);
  const rows = field === 'inventorySetQuantities' ? (args.input as SetInput).quantities : (args.input as AdjustInput).changes;
  requireChangeFrom(rows as unknown as Record<string, unknown>[], field === 'inventorySetQuantities' ? 'InventoryQuantityInput' : 'InventoryChangeInput');
  const check = checkIdempotency(ctx, key, field, args);
  if (check.kind === 'replay') return check.payload as Payload;
  if (check.kind === 'mismatch') return { inventoryAdjustmentGroup: null, userErrors: [{ ...MISMATCH_ERROR }] };
  const { payload, applied } = run();
  rememberIdempotent(ctx, key, field, args, payload);
  if (applied) {
    ctx.sim.recordWrite({
      mutation: field, idempotencyKey: key, apiVersion: ctx.apiVersion, input: args.input,
      changes: payload.inventoryAdjustmentGroup?.changes.map((c) => ({ inventoryItemId: gid('InventoryItem', c.item.id), locationId: gid('Location', c.location.id), sku: c.item.variant.sku, name: c.name, delta: c.delta, quantityAfterChange: c.quantityAfterChange })),
    });
  }
  return payload;
}

function setQuantities(ctx: SimContext, input: SetInput): { payload: Payload; applied: boolean } {
  const errors = commonChecks(input, SETTABLE_NAMES, 'INVALID_NAME');
  const name = input.name as QuantityName;
  const nameOk = (SETTABLE_NAMES as readonly string[]).includes(name);
  const seen = new Set<InventoryLevelRec>();
  const plan: { level: InventoryLevelRec; quantity: number }[] = [];
  input.quantities.forEach((q, i) => {
    const field = (k: string) => ['input', 'quantities', String(i), k];
    const level = findLevel(ctx, q.inventoryItemId, q.locationId, field, errors);
    if (!level) return;
    if (seen.has(level)) { errors.push({ field: field('inventoryItemId'), code: 'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR', message: 'The combination of inventoryItemId and locationId must be unique.' }); return; }
    seen.add(level);
    if (q.quantity < 0) { errors.push({ field: field('quantity'), code: 'INVALID_QUANTITY_NEGATIVE', message: 'The quantity can\'t be negative.' }); return; }
    if (q.quantity > MAX_QUANTITY) { errors.push({ field: field('quantity'), code: 'INVALID_QUANTITY_TOO_HIGH', message: `The quantity can't be higher than ${MAX_QUANTITY}.` }); return; }
    if (nameOk && q.changeFromQuantity != null && level.quantities[name] !== q.changeFromQuantity) {
      errors.push({ field: field('changeFromQuantity'), code: 'CHANGE_FROM_QUANTITY_STALE', message: 'The changeFromQuantity does not match the current quantity. Fetch the current quantity and try again.' });
      return;
    }
    plan.push({ level, quantity: q.quantity });
  });
  if (errors.length > 0) return { payload: { inventoryAdjustmentGroup: null, userErrors: errors }, applied: false };
  const applied = plan.map((p) => ({ level: p.level, name, delta: p.quantity - p.level.quantities[name] }));
  ctx.sim.store.applyQuantityDeltas(applied.filter((a) => a.delta !== 0));
  return { payload: { inventoryAdjustmentGroup: group(ctx, input, changeRecords(applied)), userErrors: [] }, applied: true };
}

function adjustQuantities(ctx: SimContext, input: AdjustInput): { payload: Payload; applied: boolean } {
  const errors = commonChecks(input, ADJUSTABLE_NAMES, 'INVALID_QUANTITY_NAME');
  const name = input.name as QuantityName;
  const nameOk = (ADJUSTABLE_NAMES as readonly string[]).includes(name);
  const totals = new Map<InventoryLevelRec, number>();
  const plan: { level: InventoryLevelRec; name: QuantityName; delta: number; ledger: string | null }[] = [];
  input.changes.forEach((c, i) => {
    const field = (k: string) => ['input', 'changes', String(i), k];
    if (nameOk && name !== 'available' && !c.ledgerDocumentUri) errors.push({ field: field('ledgerDocumentUri'), code: 'INVALID_LEDGER_DOCUMENT', message: 'A ledger document URI is required for quantity names other than available.' });
    if (name === 'available' && c.ledgerDocumentUri) errors.push({ field: field('ledgerDocumentUri'), code: 'INVALID_AVAILABLE_DOCUMENT', message: 'The available quantity can\'t have a ledger document.' });
    if (c.ledgerDocumentUri && !isUri(c.ledgerDocumentUri)) errors.push({ field: field('ledgerDocumentUri'), code: 'INVALID_LEDGER_DOCUMENT', message: 'The specified ledger document URI is invalid.' });
    const level = findLevel(ctx, c.inventoryItemId, c.locationId, field, errors);
    if (!level || !nameOk) return;
    if (c.changeFromQuantity != null && level.quantities[name] !== c.changeFromQuantity) {
      errors.push({ field: field('changeFromQuantity'), code: 'CHANGE_FROM_QUANTITY_STALE', message: 'The changeFromQuantity does not match the current quantity. Fetch the current quantity and try again.' });
      return;
    }
    const after = level.quantities[name] + (totals.get(level) ?? 0) + c.delta;
    totals.set(level, (totals.get(level) ?? 0) + c.delta);
    if (after > MAX_QUANTITY) errors.push({ field: field('delta'), code: 'INVALID_QUANTITY_TOO_HIGH', message: `The quantity can't be higher than ${MAX_QUANTITY}.` });
    if (after < -MAX_QUANTITY) errors.push({ field: field('delta'), code: 'INVALID_QUANTITY_TOO_LOW', message: `The quantity can't be lower than -${MAX_QUANTITY}.` });
    plan.push({ level, name, delta: c.delta, ledger: c.ledgerDocumentUri ?? null });
  });
  if (errors.length > 0) return { payload: { inventoryAdjustmentGroup: null, userErrors: errors }, applied: false };
  // Apply one by one so each change record shows the quantity right after it.
  const records: ChangeRec[] = [];
  for (const p of plan) {
    ctx.sim.store.applyQuantityDeltas(p.delta === 0 ? [] : [p]);
    records.push(...changeRecords([p]));
  }
  return { payload: { inventoryAdjustmentGroup: group(ctx, input, records), userErrors: [] }, applied: true };
}

function group(ctx: SimContext, input: { reason: string; referenceDocumentUri?: string | null }, changes: ChangeRec[]): AdjustmentGroupRec {
  return { id: ctx.sim.store.nextGroupId(), createdAt: ctx.sim.store.stamp(), reason: input.reason, referenceDocumentUri: input.referenceDocumentUri ?? null, changes };
}

/** Resolvers of the inventory mutations and of their payload types. */
export function inventoryResolvers(): ResolverMap {
  return {
    Mutation: {
      inventorySetQuantities: (_: unknown, args: { input: SetInput }, ctx: SimContext, info: GraphQLResolveInfo) =>
        runIdempotent(ctx, info, 'inventorySetQuantities', args, () => setQuantities(ctx, args.input)),
      inventoryAdjustQuantities: (_: unknown, args: { input: AdjustInput }, ctx: SimContext, info: GraphQLResolveInfo) =>
        runIdempotent(ctx, info, 'inventoryAdjustQuantities', args, () => adjustQuantities(ctx, args.input)),
    },
    InventoryAdjustmentGroup: {
      id: (g: AdjustmentGroupRec) => gid('InventoryAdjustmentGroup', g.id),
      createdAt: (g: AdjustmentGroupRec) => isoSeconds(g.createdAt),
      changes: (g: AdjustmentGroupRec, a: { inventoryItemIds?: string[] | null; locationIds?: string[] | null; quantityNames?: string[] | null }) =>
        g.changes.filter((c) => (!a.inventoryItemIds || a.inventoryItemIds.includes(gid('InventoryItem', c.item.id)))
          && (!a.locationIds || a.locationIds.includes(gid('Location', c.location.id)))
          && (!a.quantityNames || a.quantityNames.includes(c.name))),
    },
  };
}
