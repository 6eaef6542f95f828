import type { SourceKey, PlatformRefs } from '../../core/model.js';

/** A catalog field policy: source priority, last writer wins (by source time), or manual. */
export type FieldPolicy = 'last-writer-wins' | 'manual' | 'ignore' | `priority:${string}`;

/** The rules the engine decides by (from config). */
export interface EngineRules {
  /** `erp`, a channel key, or `peer`. */
  authority: string;
  /** Every configured channel (Shopify and WooCommerce instances): the targets of stock and field writes. */
  channels: SourceKey[];
  /** Units each channel keeps back. */
  buffers: Record<SourceKey, number>;
  fieldPolicies: Record<string, FieldPolicy>;
  /** Different edits of one field closer than this are a conflict (ms). */
  conflictWindowMs: number;
  /** Wait this long before correcting an unexplained difference on a channel (an order may be on its way), ms. */
  settleMs: number;
}

/** Kinds of planned writes. `inventory` and `fields` are absolute and coalesce per target and SKU. */
/** `recheck`: read the target's stock (no write) and report it like a confirmation. */
/** `create_product`: a catalog listing created on a channel (keyed per product, target and content; planned by `syncctl catalog apply`). */
export type WriteKind = 'inventory' | 'fields' | 'adjust' | 'order_line' | 'recheck' | 'create_product';

/** A write the engine decided. */
export interface PlannedWrite {
  target: SourceKey;
  sku: string;
  kind: WriteKind;
  payload: Record<string, unknown> & { refs?: PlatformRefs };
  /** Set for kinds that never coalesce (relative/order writes): unique per effect. Absolute kinds get the write id. */
  idempotencyKey?: string;
  /** Do not send before (ISO); settle window for unexplained differences. */
  notBefore?: string;
  sourceKey: SourceKey;
  sourceEventAt: string;
  /** A difference nobody announced, corrected after the settle window (default: a change). */
  cause?: WriteCause;
}

/** Why a write exists: an announced change, or the correction of an unannounced difference (the latency metric's `path`). */
export type WriteCause = 'change' | 'correction';

/** A conflict the engine records in `conflict_log`. */
export interface NewConflict {
  conflictId: string;
  sku: string;
  source: SourceKey;
  type: 'FIELD_CONFLICT' | 'UNMATCHED_SKU' | 'DUPLICATE_SKU' | 'SHARED_STOCK';
  /** Null while open. */
  resolution: string | null;
  status: 'OPEN' | 'RESOLVED';
  details: Record<string, unknown>;
}

/** A line of the inventory ledger after this event. */
export interface LedgerLine {
  sourceKey: SourceKey;
  orderId: string;
  lineId: string;
  sku: string;
  quantity: number;
  status: 'COMMITTED' | 'CANCELLED';
  sourceVersion: string;
}

/** An entity map row (identity). */
export interface EntityMapRow {
  sku: string;
  sourceKey: SourceKey;
  platformId: string;
  refs: PlatformRefs;
}

/** What processing one canonical event decided. */
export interface Effects {
  outcome: 'applied' | 'stale' | 'echo' | 'duplicate' | 'conflict' | 'ignored';
  writes: PlannedWrite[];
  conflicts: NewConflict[];
  /** Conflict ids resolved automatically (e.g. an unmatched SKU now matched). */
  resolved: Array<{ conflictId: string; resolution: string }>;
  ledger: LedgerLine[];
  entityMap: EntityMapRow[];
  /** Pending absolute writes no longer needed (the target already shows the right value). */
  cancel: Array<{ target: SourceKey; kind: WriteKind }>;
}

/** What `decide` may ask of the world (preloaded per batch, so it stays pure and fast). */
export interface DecideContext {
  rules: EngineRules;
  /** The ledger line as of the batch start (or as updated earlier in the batch). */
  ledgerLine(sourceKey: SourceKey, orderId: string, lineId: string): LedgerLine | undefined;
  newId(): string;
  now(): number;
}

/** Empty effects with an outcome. */
export const noEffects = (outcome: Effects['outcome']): Effects => ({ outcome, writes: [], conflicts: [], resolved: [], ledger: [], entityMap: [], cancel: [] });
