/** Records of the simulated WooCommerce store and the error type its API answers with. */

/** Product types WooCommerce's REST API accepts on create; `variation` is what a variation reports. */
export type ProductType = 'simple' | 'grouped' | 'external' | 'variable' | 'variation';
/** Post statuses of products and variations. */
export type PostStatus = 'publish' | 'draft' | 'pending' | 'private' | 'future' | 'trash';
/** `stock_status` values. */
export type StockStatus = 'instock' | 'outofstock' | 'onbackorder';
/** `backorders` values. */
export type Backorders = 'no' | 'notify' | 'yes';

/** A product or a variation (they share one ID space, as WordPress posts do). */
export interface ProductRecord {
  id: number;
  /** 0 for products; the variable product's id for a variation. */
  parentId: number;
  type: ProductType;
  name: string;
  slug: string;
  status: PostStatus;
  description: string;
  shortDescription: string;
  sku: string;
  regularPrice: string;
  salePrice: string;
  manageStock: boolean;
  stockQuantity: number | null;
  stockStatus: StockStatus;
  backorders: Backorders;
  /** GMT epoch ms, whole seconds (WordPress stores DATETIME). */
  createdMs: number;
  modifiedMs: number;
  /** Variation ids of a variable product, in menu order. */
  children: number[];
  /** Product: attribute name and all options; variation: the chosen option. */
  attributes: Array<{ name: string; options: string[] }>;
  menuOrder: number;
  totalSales: number;
  /** Custom meta (`meta_data`): what `update_meta_data` keeps; internal keys (`_stock`...) are not here. */
  meta: Array<{ id: number; key: string; value: unknown }>;
  /** GTIN, UPC, EAN or ISBN (`global_unique_id`, WooCommerce 9.2+): unique across products and variations; absent = ''. */
  globalUniqueId?: string;
}

/** Order statuses (without the `wc-` prefix). */
export const ORDER_STATUSES = ['pending', 'processing', 'on-hold', 'completed', 'cancelled', 'refunded', 'failed', 'checkout-draft'] as const;
/** An order status, trash included. */
export type OrderStatus = (typeof ORDER_STATUSES)[number] | 'trash';

/** One line item of an order. */
export interface OrderLineRecord {
  id: number;
  name: string;
  productId: number;
  variationId: number;
  quantity: number;
  sku: string;
  /** Unit price (a number in the API, unlike product prices). */
  price: number;
  /** Quantity taken from stock for this line (`_reduced_stock` item meta), null when none. */
  reducedStock: number | null;
}

/** An order. */
export interface OrderRecord {
  id: number;
  status: OrderStatus;
  currency: string;
  createdMs: number;
  modifiedMs: number;
  paidMs: number | null;
  completedMs: number | null;
  lines: OrderLineRecord[];
  /** `_order_stock_reduced`: stock was taken for this order and not given back yet. */
  stockReduced: boolean;
  orderKey: string;
  customerNote: string;
  billing: Record<string, string>;
}

/** Webhook statuses. */
export type WebhookStatus = 'active' | 'paused' | 'disabled';

/** A webhook subscription. */
export interface WebhookRecord {
  id: number;
  name: string;
  status: WebhookStatus;
  topic: string;
  deliveryUrl: string;
  secret: string;
  failureCount: number;
  /** `pending_delivery`: set on creation, cleared only by a ping answered with exactly HTTP 200; while set, every save pings. */
  pendingDelivery: boolean;
  createdMs: number;
  modifiedMs: number;
}

/** One write an API client applied, as kept in the simulator's write log. */
export interface WriteLogEntry {
  seq: number;
  /** ISO time. */
  at: string;
  /** e.g. `product.update`, `variation.update`, `product.create`, `order.update`, `webhook.create`. */
  action: string;
  /** HTTP method and path of the request that carried it (batch items carry the batch route). */
  method: string;
  route: string;
  id: number;
  sku?: string;
  /** The body fields of the item as sent. */
  fields: Record<string, unknown>;
}

/** A WooCommerce/WordPress REST error: answered as `{code, message, data: {status, ...}}`. */
export class WooApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'WooApiError';
  }

  /** The JSON body WordPress sends. */
  toBody(): { code: string; message: string; data: Record<string, unknown> } {
    return { code: this.code, message: this.message, data: { status: this.status, ...this.extra } };
  }
}

/** WordPress's `rest_invalid_param` for one parameter (message shape of WP_REST_Request::has_valid_params). */
export function invalidParam(param: string, message: string, detailCode = 'rest_invalid_type'): WooApiError {
  return new WooApiError('rest_invalid_param', `Invalid parameter(s): ${param}`, 400, {
    params: { [param]: message },
    details: { [param]: { code: detailCode, message, data: null } },
  });
}

/** `rest_missing_callback_param` for required parameters. */
export function missingParam(param: string): WooApiError {
  return new WooApiError('rest_missing_callback_param', `Missing parameter(s): ${param}`, 400, { params: [param] });
}

/** Whole seconds, as MySQL DATETIME keeps them. */
export const toSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

/** `2025-01-01T10:00:00` (no zone), as wc_rest_prepare_date_response renders dates. */
export function wpDate(ms: number | null, offsetMinutes = 0): string | null {
  if (ms === null) return null;
  return new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19);
}
