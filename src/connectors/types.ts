import type { Platform, PlatformRefs, RawEvent, SourceKey } from '../core/model.js';

/**
 * The normalised payloads connectors put in `RawEvent.payload`. Webhooks, poll pages,
 * backfill rows and Debezium envelopes of the same state normalise to the same payload,
 * so their checksums match and a poll that finds what a webhook delivered is recognised.
 */
export type RawPayload = RawProduct | RawInventory | RawOrder | RawProductDeleted;

/** A product (with its variants / SKUs) as the source has it now. */
export interface RawProduct {
  kind: 'product';
  productId: string;
  title?: string;
  status?: 'active' | 'draft' | 'archived';
  updatedAt: string;
  variants: Array<{ id: string; sku: string | null; price?: string; inventoryItemId?: string; parentId?: string; available?: number | null; title?: string; stockPool?: string }>;
  /** Woo: a variable product managing stock holds one pool for its variations with `manage_stock: "parent"`. */
  pool?: { available: number | null };
}

/** The available quantity of one SKU at the source (the managed location for Shopify). */
export interface RawInventory {
  kind: 'inventory';
  sku: string | null;
  available: number;
  updatedAt: string;
  refs: PlatformRefs;
}

/** An order with its lines (placed, updated or cancelled). */
export interface RawOrder {
  kind: 'order';
  orderId: string;
  name?: string;
  /** Whether the order's stock is committed (Shopify: always after creation; Woo: processing/on-hold/completed). */
  committed: boolean;
  cancelled: boolean;
  currency?: string;
  createdAt: string;
  updatedAt: string;
  lines: Array<{ lineId: string; sku: string | null; quantity: number; price?: string; variantId?: string }>;
}

/** A product was deleted at the source. */
export interface RawProductDeleted {
  kind: 'product_deleted';
  productId: string;
  updatedAt: string;
  /** The SKUs the product had, from the entity map (intake fills it: deletions carry only ids). */
  skus: string[];
}

/** A request to the webhook intake, before any parsing. */
export interface WebhookRequest {
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The raw body bytes, exactly as received (signatures are computed over them). */
  rawBody: Buffer;
}

/** What a source connector made of a webhook delivery. */
export type WebhookOutcome =
  | { kind: 'events'; events: NewRawEvent[] }
  /** A delivery to acknowledge and ignore (WooCommerce ping, a topic we do not use). */
  | { kind: 'ignored'; reason: string };

/** A raw event before intake has stored it (intake adds id, receivedAt, checksum). */
export type NewRawEvent = Omit<RawEvent, 'eventId' | 'receivedAt' | 'checksum'> & { payload: RawPayload };

/** One page of an incremental poll. */
export interface PollPage {
  events: NewRawEvent[];
  /** The checkpoint to store once these events are durable. */
  checkpoint: PollCheckpoint;
  /** More pages are waiting. */
  more: boolean;
}

/** Where a poller resumes: the high-water mark of `updated_at` and an opaque cursor. */
export interface PollCheckpoint {
  /** ISO time: everything modified before this minus the overlap window was seen. */
  since: string;
  cursor?: string | null;
  /** Per-resource state (products, orders). */
  resource?: string;
}

/** A source: turns what a platform sends into raw events. */
export interface SourceConnector {
  readonly platform: Platform;
  readonly instance: string;
  readonly key: SourceKey;
  /** Verifies the signature on the raw body (constant time) before parsing; throws WebhookRejected. */
  verifyAndParse(req: WebhookRequest): Promise<WebhookOutcome>;
  /** The resources it polls (`products`, `orders`). */
  readonly pollResources: string[];
  /** One page of an incremental poll of `resource` from `checkpoint`. */
  poll(resource: string, checkpoint: PollCheckpoint | null, signal?: AbortSignal): Promise<PollPage>;
}

/**
 * One planned write for a sink, with the key that makes it idempotent. The payload by kind:
 * - `inventory` (absolute): `{ available: number }`; `expected` = the quantity we believe the
 *   target has now (compare-and-swap where the platform supports it; null = no check).
 * - `adjust` (relative, e.g. a sale applied to a channel that is the stock authority): `{ delta: number }`.
 * - `fields`: `{ price?: string, title?: string, status?: 'active' | 'draft' | 'archived' }`.
 * - `order_line` (the ERP): `{ channel, orderId, lineId, quantity, status, price, order }`.
 * - `create_product` (catalog sync): `{ product: ListingProduct }`; `sku` is the product's first
 *   variant's. The sink creates the product with all its variants, or adopts the one already there
 *   (looked up by SKU before creating: a retry after a crash creates no duplicate), or creates
 *   nothing (bad data: `permanent` with the platform's message, never a half-created product).
 *   `applied`: `{ productId, adopted, variants: [{ sku, id }] }`.
 */
export interface SinkWrite {
  /** planned_writes.write_id */
  writeId: string;
  sku: string;
  kind: 'inventory' | 'adjust' | 'fields' | 'order_line' | 'create_product';
  /** Unique per planned write: retries reuse it, so a write is never applied twice. */
  idempotencyKey: string;
  refs: PlatformRefs;
  payload: Record<string, unknown>;
  /** inventory: the quantity we believe the target has now (compare-and-swap where supported). */
  expected?: number | null;
}

/**
 * A product of the catalog master as a channel should list it (the `create_product` payload): one
 * product with its variants, grouped the way the master groups them (the ERP's `product_code`).
 */
export interface ListingProduct {
  /** The master's product key (ERP product code): unique per catalog. */
  key: string;
  /** URL handle (Shopify handle, WooCommerce slug): the key, lower-cased and slugified. */
  handle: string;
  title: string;
  description?: string | null;
  vendor?: string | null;
  productType?: string | null;
  /** Status of the new listing on the channel (`catalog.newListingStatus`). */
  status: 'active' | 'draft';
  /** Option names (e.g. `["Size"]`); empty for a product with one variant and no options. */
  options: string[];
  variants: Array<{
    sku: string;
    /** One value per option name, in the same order. */
    optionValues: string[];
    /** Decimal string. */
    price: string;
    compareAtPrice?: string | null;
    barcode?: string | null;
    weightGrams?: number | null;
  }>;
}

/** The outcome of one write. */
export type SinkResult =
  | { writeId: string; status: 'ok'; applied: Record<string, unknown> }
  | { writeId: string; status: 'retriable'; code: string; message: string; retryAfterMs?: number; observed?: number | null }
  | { writeId: string; status: 'permanent'; code: string; message: string };

/** What a sink read back for diff and re-checks. */
export interface SinkReading {
  sku: string;
  available: number | null;
  price?: string;
  title?: string;
  refs: PlatformRefs;
  /** The source version of the stock read (the platform's updated_at), when the platform has one. */
  version?: string;
}

/** A target: writes batches within the platform's limits and reads current values back. */
export interface SinkConnector {
  readonly key: SourceKey;
  /** Largest batch one call may carry (Shopify 250, Woo 100). */
  readonly maxBatch: number;
  write(batch: SinkWrite[], signal?: AbortSignal): Promise<SinkResult[]>;
  read(skus: string[], signal?: AbortSignal): Promise<SinkReading[]>;
  /**
   * Why the target's writes must wait (its credentials are refused), or null. While held, the
   * writers claim nothing for it, and writes that failed in a round during which it became held
   * go back to pending without spending an attempt: they are neither failed nor dead-lettered.
   */
  held?(signal?: AbortSignal): Promise<string | null>;
}
