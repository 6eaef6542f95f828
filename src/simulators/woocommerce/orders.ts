import { randomBytes } from 'node:crypto';
import { ORDER_STATUSES, WooApiError, invalidParam, toSecond, type OrderLineRecord, type OrderRecord, type OrderStatus, type ProductRecord } from './model.js';
import type { WooStore } from './store.js';

/** Statuses whose transition reduces stock (wc_maybe_reduce_stock_levels hooks). */
const REDUCING: readonly string[] = ['processing', 'completed', 'on-hold'];
/** Statuses whose transition gives stock back (wc_maybe_increase_stock_levels hooks). */
const RESTORING: readonly string[] = ['cancelled', 'pending'];

/** One requested line: by product/variation id or by SKU. */
export interface OrderLineInput {
  product_id?: unknown;
  variation_id?: unknown;
  sku?: unknown;
  quantity?: unknown;
}

/** Reads and checks an order status from a request body. */
export function parseOrderStatus(v: unknown): OrderStatus | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(ORDER_STATUSES as readonly string[]).includes(v)) {
    throw invalidParam('status', `status is not one of ${ORDER_STATUSES.join(', ')}.`, 'rest_not_in_enum');
  }
  return v as OrderStatus;
}

/** Creates an order (status `pending` unless given; `set_paid` completes payment), moving stock as WooCommerce does. */
export function createOrder(store: WooStore, body: Record<string, unknown>): OrderRecord {
  const status = parseOrderStatus(body.status) ?? 'pending';
  const rawLines = body.line_items ?? [];
  if (!Array.isArray(rawLines)) throw invalidParam('line_items', 'line_items is not of type array.');
  const lines = rawLines.map((l) => resolveLine(store, (l ?? {}) as OrderLineInput));
  const t = toSecond(store.now());
  const order: OrderRecord = {
    id: store.allocateId(),
    status: 'pending',
    currency: typeof body.currency === 'string' ? body.currency : 'EUR',
    createdMs: t,
    modifiedMs: t,
    paidMs: null,
    completedMs: null,
    lines,
    stockReduced: false,
    orderKey: `wc_order_${randomBytes(7).toString('base64url').slice(0, 13)}`,
    customerNote: typeof body.customer_note === 'string' ? body.customer_note : '',
    billing: isRecord(body.billing) ? stringRecord(body.billing) : {},
  };
  store.orders.set(order.id, order);
  let target: OrderStatus = status;
  if (body.set_paid === true && (target === 'pending' || target === 'on-hold')) target = 'processing';
  if (body.set_paid === true) order.paidMs = t;
  setStatus(store, order, target);
  store.emit('order', 'created', order.id);
  // The REST controller saves the new order again (totals, status, payment): woocommerce_update_order
  // fires too, so an order.updated webhook is delivered for a creation.
  store.emit('order', 'updated', order.id);
  return order;
}

/** Updates an order (status, note); a status change moves stock on the documented transitions. */
export function updateOrder(store: WooStore, order: OrderRecord, body: Record<string, unknown>): OrderRecord {
  const status = parseOrderStatus(body.status);
  if (typeof body.customer_note === 'string') order.customerNote = body.customer_note;
  if (isRecord(body.billing)) order.billing = { ...order.billing, ...stringRecord(body.billing) };
  if (body.set_paid === true && !order.paidMs) order.paidMs = toSecond(store.now());
  if (status) setStatus(store, order, status);
  order.modifiedMs = toSecond(store.now());
  store.emit('order', 'updated', order.id);
  return order;
}

/** Changes the status and runs the stock hooks of the transition (no save event of its own). */
export function setStatus(store: WooStore, order: OrderRecord, to: OrderStatus): void {
  const from = order.status;
  order.status = to;
  if (from === to) return;
  const t = toSecond(store.now());
  if (to === 'completed') order.completedMs = t;
  if ((to === 'processing' || to === 'completed') && !order.paidMs) order.paidMs = t;
  if (REDUCING.includes(to)) reduceStock(store, order);
  else if (RESTORING.includes(to)) restoreStock(store, order);
}

/** wc_reduce_stock_levels: once per order (`_order_stock_reduced`), managed-stock items only. */
function reduceStock(store: WooStore, order: OrderRecord): void {
  if (order.stockReduced) return;
  for (const line of order.lines) {
    const rec = store.get(line.variationId || line.productId);
    // wc_update_product_stock moves the stock of get_stock_managed_by_id(): the parent's pool for "parent".
    const item = rec && store.stockHolder(rec);
    if (!item || line.reducedStock !== null) continue;
    line.reducedStock = line.quantity;
    store.setStock(item, (item.stockQuantity ?? 0) - line.quantity);
  }
  order.stockReduced = true;
}

/** wc_increase_stock_levels: gives back what this order took, then clears the flag. */
function restoreStock(store: WooStore, order: OrderRecord): void {
  if (!order.stockReduced) return;
  for (const line of order.lines) {
    if (line.reducedStock === null) continue;
    const rec = store.get(line.variationId || line.productId);
    const item = rec && store.stockHolder(rec);
    if (item) store.setStock(item, (item.stockQuantity ?? 0) + line.reducedStock);
    line.reducedStock = null;
  }
  order.stockReduced = false;
}

function resolveLine(store: WooStore, l: OrderLineInput): OrderLineRecord {
  const qty = typeof l.quantity === 'number' ? l.quantity : Number(l.quantity ?? 1);
  if (!Number.isFinite(qty) || qty <= 0) {
    throw new WooApiError('woocommerce_rest_invalid_product_quantity', 'Product quantity must be a positive float.', 400);
  }
  let item: ProductRecord | undefined;
  const variationId = Number(l.variation_id ?? 0);
  const productId = Number(l.product_id ?? 0);
  if (typeof l.sku === 'string' && l.sku !== '') item = store.findBySku(l.sku)[0];
  else if (variationId) item = store.get(variationId);
  else if (productId) item = store.get(productId);
  else throw new WooApiError('woocommerce_rest_required_product_reference', 'Product ID or SKU is required.', 400);
  if (!item || item.status === 'trash' || item.type === 'variable') {
    throw new WooApiError('woocommerce_rest_invalid_product_id', 'Product ID or SKU is invalid.', 400);
  }
  const parent = item.parentId ? store.get(item.parentId) : undefined;
  const price = Number((item.salePrice || item.regularPrice) || 0);
  const option = item.attributes[0]?.options[0];
  return {
    id: store.allocateLineId(),
    name: parent ? `${parent.name}${option ? ` - ${option}` : ''}` : item.name,
    productId: parent ? parent.id : item.id,
    variationId: parent ? item.id : 0,
    quantity: qty,
    sku: item.sku,
    price,
    reducedStock: null,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringRecord(v: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Record<string, string>;
}
