/**
 * Shopify webhook deliveries → raw events. The HMAC (base64 HMAC-SHA256 of the raw body with the
 * app's client secret) is checked in constant time before anything is parsed; the body is then
 * validated with zod and normalised like a poll page would be (see `normalise.ts`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { normaliseSku, type SkuNormalisation } from '../../core/ids.js';
import type { NewRawEvent, WebhookOutcome, WebhookRequest } from '../types.js';
import { requireResource, type ResourceShape, WebhookRejectedError } from '../webhook-errors.js';
import type { InventoryItemDirectory } from './inventory-items.js';
import type { ManagedLocation } from './locations.js';
import {
  inventoryLevelGid, inventoryPayload, lineFromRest, orderPayload, productPayload, toGid, utcSeconds, variantFromRest,
} from './normalise.js';

/** Topics the connector turns into events (everything else is acknowledged and ignored). */
export const SHOPIFY_WEBHOOK_TOPICS = [
  'products/create', 'products/update', 'products/delete', 'inventory_levels/update', 'orders/create', 'orders/updated', 'orders/cancelled',
] as const;

/** What webhook parsing needs from the connector. */
export interface WebhookContext {
  instance: string;
  shop: string;
  clientSecret: string;
  location: ManagedLocation;
  items: InventoryItemDirectory;
  skuRule: SkuNormalisation;
}

const id = z.union([z.number(), z.string()]);
const ts = z.string().refine((s) => Number.isFinite(Date.parse(s)), 'not a timestamp');
const productBody = z.object({
  id, admin_graphql_api_id: z.string().optional(), title: z.string().optional(), status: z.string().optional(), updated_at: ts,
  variants: z.array(z.object({ id, admin_graphql_api_id: z.string().optional(), sku: z.string().nullable().optional(), price: z.union([z.string(), z.number()]).nullable().optional(), inventory_item_id: id.nullable().optional(), title: z.string().optional() }).passthrough()),
}).passthrough();
const deleteBody = z.object({ id }).passthrough();
const levelBody = z.object({ inventory_item_id: id, location_id: id, available: z.number().int().nullable(), updated_at: ts, admin_graphql_api_id: z.string().optional() }).passthrough();
const orderBody = z.object({
  id, admin_graphql_api_id: z.string().optional(), name: z.string().optional(), currency: z.string().optional(), created_at: ts, updated_at: ts,
  cancelled_at: z.string().nullable().optional(),
  line_items: z.array(z.object({ id, admin_graphql_api_id: z.string().optional(), sku: z.string().nullable().optional(), quantity: z.number().int(), price: z.union([z.string(), z.number()]).optional(), variant_id: id.nullable().optional() }).passthrough()),
}).passthrough();

/**
 * What makes a body each topic's resource (Shopify's REST-shaped payloads): a product always has
 * `variants` (at least its default variant), an order always has `line_items` (possibly empty
 * after an edit), a level has its item and location, and products/delete carries only `{id}`.
 */
const SHAPES: Record<(typeof SHOPIFY_WEBHOOK_TOPICS)[number], ResourceShape> = {
  'products/create': { name: 'a product', lists: ['variants'] },
  'products/update': { name: 'a product', lists: ['variants'] },
  'products/delete': { name: 'a product deletion', fields: ['id'], absent: ['variants', 'line_items', 'inventory_item_id'] },
  'inventory_levels/update': { name: 'an inventory level', fields: ['inventory_item_id', 'location_id'] },
  'orders/create': { name: 'an order', lists: ['line_items'] },
  'orders/updated': { name: 'an order', lists: ['line_items'] },
  'orders/cancelled': { name: 'an order', lists: ['line_items'] },
};

/** What a Shopify body seems to be, for the refusal's message. */
function looksLike(b: Record<string, unknown>): string | undefined {
  if (Array.isArray(b.line_items)) return 'an order';
  if (Array.isArray(b.variants)) return 'a product';
  if ('inventory_item_id' in b && 'location_id' in b) return 'an inventory level';
  if (Object.keys(b).length === 1 && 'id' in b) return 'a deletion';
  return undefined;
}

/** Checks the signature of a delivery on its raw bytes, in constant time; throws WebhookRejectedError. */
export function verifySignature(req: WebhookRequest, clientSecret: string): void {
  const given = req.headers['x-shopify-hmac-sha256'];
  if (!given) throw new WebhookRejectedError('missing_signature', 'the delivery has no X-Shopify-Hmac-Sha256 header');
  const expected = createHmac('sha256', clientSecret).update(req.rawBody).digest();
  const provided = Buffer.from(given, 'base64');
  // Compare equal-length buffers only (timingSafeEqual throws otherwise); the length of an HMAC is public.
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
    throw new WebhookRejectedError('bad_signature', 'the X-Shopify-Hmac-Sha256 signature does not match the body');
  }
}

function parseBody<T>(schema: z.ZodType<T>, json: unknown, topic: string): T {
  const r = schema.safeParse(json);
  if (!r.success) throw new WebhookRejectedError('malformed', `${topic} body does not have the expected shape: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}`);
  return r.data;
}

/** Verifies, parses and normalises one delivery. */
export async function parseShopifyWebhook(ctx: WebhookContext, req: WebhookRequest, signal?: AbortSignal): Promise<WebhookOutcome> {
  verifySignature(req, ctx.clientSecret);
  let json: unknown;
  try {
    json = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    throw new WebhookRejectedError('malformed', 'the body is not valid JSON');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new WebhookRejectedError('malformed', 'the body is not a JSON object');
  const topic = req.headers['x-shopify-topic'];
  if (!topic) throw new WebhookRejectedError('malformed', 'the delivery has no X-Shopify-Topic header');
  const domain = req.headers['x-shopify-shop-domain'];
  if (domain && ctx.shop.includes('.') && domain.toLowerCase() !== ctx.shop.toLowerCase()) {
    return { kind: 'ignored', reason: `delivery for shop ${domain}, not ${ctx.shop}` };
  }
  if (!(SHOPIFY_WEBHOOK_TOPICS as readonly string[]).includes(topic)) return { kind: 'ignored', reason: `topic ${topic} is not used` };
  const eventId = req.headers['x-shopify-event-id'] ?? req.headers['x-shopify-webhook-id'];
  if (!eventId) throw new WebhookRejectedError('malformed', 'the delivery has no X-Shopify-Event-Id header');
  requireResource(topic, json as Record<string, unknown>, SHAPES[topic as keyof typeof SHAPES], looksLike);
  const base = { platform: 'shopify' as const, instance: ctx.instance, eventType: topic, origin: 'webhook' as const, dedupeKey: eventId };

  if (topic === 'products/create' || topic === 'products/update') {
    const b = parseBody(productBody, json, topic);
    const payload = productPayload({ id: b.admin_graphql_api_id ?? b.id, title: b.title, status: b.status, updatedAt: b.updated_at, variants: b.variants.map(variantFromRest) });
    for (const v of payload.variants) if (v.inventoryItemId) ctx.items.remember(v.inventoryItemId, { inventoryItemId: v.inventoryItemId, sku: v.sku, variantId: v.id, productId: payload.productId });
    const only = payload.variants.length === 1 ? normaliseSku(payload.variants[0]!.sku, ctx.skuRule) : null;
    return { kind: 'events', events: [{ ...base, entityRef: payload.productId, occurredAt: payload.updatedAt, payload, sku: only }] };
  }
  if (topic === 'products/delete') {
    const b = parseBody(deleteBody, json, topic);
    const at = utcSeconds(req.headers['x-shopify-triggered-at'] ?? Date.now());
    const productId = toGid('Product', b.id);
    return { kind: 'events', events: [{ ...base, entityRef: productId, occurredAt: at, payload: { kind: 'product_deleted', productId, updatedAt: at, skus: [] } }] };
  }
  if (topic === 'inventory_levels/update') {
    const b = parseBody(levelBody, json, topic);
    const locationId = toGid('Location', b.location_id);
    const managed = await ctx.location.get(signal);
    if (locationId !== managed) return { kind: 'ignored', reason: `level of location ${locationId}, not the managed ${managed}` };
    if (b.available === null) return { kind: 'ignored', reason: 'untracked inventory item (available is null)' };
    const inventoryItemId = toGid('InventoryItem', b.inventory_item_id);
    const owner = await ctx.items.owner(inventoryItemId, signal);
    if (!owner) return { kind: 'ignored', reason: `inventory item ${inventoryItemId} no longer exists` };
    const payload = inventoryPayload({ sku: owner.sku, available: b.available, updatedAt: b.updated_at, variantId: owner.variantId, productId: owner.productId, inventoryItemId, locationId });
    const event: NewRawEvent = { ...base, entityRef: inventoryLevelGid(locationId, inventoryItemId), occurredAt: payload.updatedAt, payload, sku: normaliseSku(owner.sku, ctx.skuRule) };
    return { kind: 'events', events: [event] };
  }
  const b = parseBody(orderBody, json, topic);
  const payload = orderPayload({
    id: b.admin_graphql_api_id ?? b.id, name: b.name, currency: b.currency, createdAt: b.created_at, updatedAt: b.updated_at,
    cancelledAt: b.cancelled_at ?? null, lines: b.line_items.map(lineFromRest),
  });
  return { kind: 'events', events: [{ ...base, entityRef: payload.orderId, occurredAt: payload.updatedAt, payload, sku: null }] };
}
