import type { PlatformRefs, SourceKey } from '../core/model.js';

/** One catalog field value with where and when it came from. */
export interface FieldValue {
  value: string | null;
  /** The source's version of the entity when this value was seen. */
  version: string;
  /** When the change happened at the source (ISO). */
  at: string;
  source: SourceKey;
}

/** What syncctl knows of one SKU on one source instance (`sync_state` row `(sku, source key)`). */
export interface ChannelState {
  refs?: PlatformRefs;
  /** Every platform id this SKU has on the instance (more than one = DUPLICATE_SKU). */
  ids?: string[];
  /** The last observation of the available quantity. */
  observed?: { available: number; version: string; at: string };
  /** What we believe the instance holds now (observations, our confirmed writes, its own sales). */
  expected?: number | null;
  /** The last value seen per field. */
  fields: Record<string, FieldValue>;
  /** The value of an absolute stock write planned and not yet confirmed (to re-plan it when a sale changes the target). */
  pendingWrite?: number;
  /** The last values we planned to write (echoes of them are not new changes). */
  written?: { available?: number; fields?: Record<string, string | null>; at: string };
  deleted?: boolean;
}

/** The SKU as a whole (`sync_state` row `(sku, '*')`). */
export interface EntityState {
  /** The stock authority's last known available quantity and its version. */
  authority: { available: number | null; version: string | null; source: SourceKey | null; at: string | null };
  /** Authority adjustments planned but not yet confirmed (units; negative = sales not yet applied). */
  pending: number;
  /** The agreed value per catalog field. */
  fields: Record<string, FieldValue>;
  /** Fields held under the manual policy: field → conflict id. */
  held: Record<string, string>;
  /** Open UNMATCHED_SKU / DUPLICATE_SKU / SHARED_STOCK conflict ids (`unmatched`, `duplicate:<source>`, `shared:<source>`). */
  identityConflicts: Record<string, string>;
  /** The last confirmed write ids (a confirmation delivered twice is applied once). */
  confirmed?: string[];
}

/** Everything the engine holds for one SKU, loaded and saved as a unit. */
export interface SkuBundle {
  sku: string;
  entity: EntityState;
  channels: Record<SourceKey, ChannelState>;
  /** Row versions as loaded (optimistic concurrency); a row missing here is new. */
  rowVersions: Record<string, number>;
  /** Rows changed by this batch. */
  dirty: Set<string>;
}

/** The `sync_state.source_type` of the entity row. */
export const ENTITY_ROW = '*';

/** A fresh bundle for a SKU never seen before. */
export function emptyBundle(sku: string): SkuBundle {
  return {
    sku,
    entity: { authority: { available: null, version: null, source: null, at: null }, pending: 0, fields: {}, held: {}, identityConflicts: {} },
    channels: {},
    rowVersions: {},
    dirty: new Set(),
  };
}

/** The channel's state, created empty when missing (marks nothing dirty). */
export function channel(b: SkuBundle, key: SourceKey): ChannelState {
  return (b.channels[key] ??= { fields: {} });
}

/** The authority's available quantity including adjustments not yet confirmed. */
export function effectiveAvailable(e: EntityState): number | null {
  return e.authority.available === null ? null : e.authority.available + e.pending;
}
