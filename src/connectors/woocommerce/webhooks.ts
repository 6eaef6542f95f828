import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { NewRawEvent, RawProductDeleted, WebhookOutcome, WebhookRequest } from '../types.js';
import { requireResource, type ResourceShape, WebhookRejectedError } from '../webhook-errors.js';
import { isoSeconds, isVariation, modifiedIso, orderPayload, orderRef, productPayload, rawEvent, type SkuMemory, type StockPoolSkus, variationPayload } from './normalise.js';
import { wooOrderSchema, wooProductSchema } from './schemas.js';

/** The topics the connector subscribes to and understands. */
export const WOO_WEBHOOK_TOPICS = ['product.created', 'product.updated', 'product.deleted', 'product.restored', 'order.created', 'order.updated', 'order.deleted'] as const;
export type WooWebhookTopic = (typeof WOO_WEBHOOK_TOPICS)[number];

/**
 * What makes a body each topic's resource. A product (any API version, simple, variable or a
 * variation) always has its `type`; an order always has `line_items` (possibly empty) and never a
 * `type`; a deletion is built by WooCommerce as `{id}` only (`WC_Webhook::build_payload`).
 */
const PRODUCT: ResourceShape = { name: 'a product', fields: ['type'], absent: ['line_items'] };
const ORDER: ResourceShape = { name: 'an order', lists: ['line_items'], absent: ['type', 'variations'] };
const DELETION: ResourceShape = { name: 'a deletion ({id})', fields: ['id'], absent: ['type', 'variations', 'line_items'] };
const SHAPES: Record<WooWebhookTopic, ResourceShape> = {
  'product.created': PRODUCT,
  'product.updated': PRODUCT,
  'product.restored': PRODUCT,
  'product.deleted': DELETION,
  'order.created': ORDER,
  'order.updated': ORDER,
  'order.deleted': DELETION,
};

/** What a WooCommerce body seems to be, for the refusal's message. */
function looksLike(b: Record<string, unknown>): string | undefined {
  if (Array.isArray(b.line_items)) return 'an order';
  if (typeof b.type === 'string') return 'a product';
  if (Object.keys(b).length === 1 && 'id' in b) return 'a deletion';
  return undefined;
}

/** The creation ping: form-encoded `webhook_id=N`, unsigned. */
const PING = /^webhook_id=\d+$/;

/** base64(HMAC-SHA256(secret, raw body)), as WooCommerce signs deliveries. */
export function wooSignature(secret: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

/** Constant-time comparison of a given signature with the expected one. */
function signatureMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given.trim(), 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // Lengths of base64 SHA-256 digests are public (44); only the content needs constant time.
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Verifies and normalises WooCommerce webhook deliveries for one instance.
 *
 * - The creation ping (unsigned `webhook_id=N`) is acknowledged and ignored.
 * - Anything else must carry `X-WC-Webhook-Signature` matching the raw bytes (checked in
 *   constant time before the body is parsed): missing → `missing_signature`, wrong →
 *   `bad_signature`, signed but not JSON → `malformed`, signed JSON that is not the resource its
 *   topic names (an order under product.updated, a product under order.created) → `wrong_resource`.
 * - product.created/updated/restored → a `product` payload; a variation (`type: variation`) →
 *   the parent's product payload with that variation as the only variant, entity = the variation
 *   id (WooCommerce then sends product.updated of the parent too, which carries title/status).
 * - product.deleted → `product_deleted` with the SKUs remembered for that id (or `[]`).
 * - order.created/updated → an `order` payload; order.deleted → ignored (trashing an order
 *   does not move stock in WooCommerce).
 * - A delivery whose body is an error (the resource was gone when WooCommerce built it) and
 *   topics we do not use are ignored.
 *
 * `dedupeKey` = `<delivery id>:<resource id>:<date_modified_gmt>`: WooCommerce's delivery id is
 * only unique per webhook and second, so the resource and its version complete it.
 */
export class WooWebhookReceiver {
  constructor(
    private readonly instance: string,
    private readonly secret: string,
    private readonly skus: SkuMemory,
    private readonly log: Logger,
    private readonly pools?: StockPoolSkus,
  ) {}

  /** Verifies the signature on the raw body, then parses and normalises the delivery. */
  async verifyAndParse(req: WebhookRequest): Promise<WebhookOutcome> {
    const signature = req.headers['x-wc-webhook-signature'];
    if (!signature) {
      if (PING.test(req.rawBody.toString('latin1').trim())) return { kind: 'ignored', reason: 'ping' };
      throw new WebhookRejectedError('missing_signature', 'WooCommerce delivery without X-WC-Webhook-Signature');
    }
    if (!signatureMatches(signature, wooSignature(this.secret, req.rawBody))) {
      throw new WebhookRejectedError('bad_signature', 'X-WC-Webhook-Signature does not match the body (check webhookSecret)');
    }
    const topic = (req.headers['x-wc-webhook-topic'] ?? '').trim().toLowerCase();
    let body: unknown;
    try {
      body = JSON.parse(req.rawBody.toString('utf8'));
    } catch {
      throw new WebhookRejectedError('malformed', `signed ${topic || 'delivery'} body is not JSON`);
    }
    if (!topic) throw new WebhookRejectedError('malformed', 'signed delivery without X-WC-Webhook-Topic');
    if (!(WOO_WEBHOOK_TOPICS as readonly string[]).includes(topic)) return { kind: 'ignored', reason: `topic ${topic} not used` };
    if (body && typeof body === 'object' && !Array.isArray(body) && typeof (body as { code?: unknown }).code === 'string' && !('id' in body)) {
      return { kind: 'ignored', reason: `resource gone at delivery time (${(body as { code: string }).code})` };
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new WebhookRejectedError('malformed', `signed ${topic} body is not a JSON object`);
    requireResource(topic, body as Record<string, unknown>, SHAPES[topic as WooWebhookTopic], looksLike);
    const deliveryId = req.headers['x-wc-webhook-delivery-id'] ?? '';
    const events = this.normalise(topic as WooWebhookTopic, body, deliveryId);
    return events.length ? { kind: 'events', events } : { kind: 'ignored', reason: `${topic} carries nothing to sync` };
  }

  private normalise(topic: WooWebhookTopic, body: unknown, deliveryId: string): NewRawEvent[] {
    const [resource, event] = topic.split('.') as ['product' | 'order', string];
    if (event === 'deleted') {
      const id = (body as { id?: unknown } | null)?.id;
      if (typeof id !== 'number' && typeof id !== 'string') throw new WebhookRejectedError('malformed', `${topic} body has no id`);
      if (resource === 'order') return [];
      const productId = String(id);
      const now = isoSeconds(Date.now());
      const payload: RawProductDeleted = { kind: 'product_deleted', productId, updatedAt: now, skus: this.skus.skusOf(productId) };
      this.skus.forget(productId);
      return [rawEvent(this.instance, { eventType: topic, entityRef: productId, origin: 'webhook', dedupeKey: `${deliveryId}:${productId}:deleted`, occurredAt: now, payload })];
    }
    if (resource === 'order') {
      const parsed = wooOrderSchema.safeParse(body);
      if (!parsed.success) throw new WebhookRejectedError('malformed', `${topic} body is not an order: ${parsed.error.issues[0]?.message ?? ''}`);
      const payload = orderPayload(parsed.data, this.pools);
      return [rawEvent(this.instance, { eventType: topic, entityRef: orderRef(parsed.data.id), origin: 'webhook', dedupeKey: `${deliveryId}:${parsed.data.id}:${payload.updatedAt}`, occurredAt: payload.updatedAt, payload })];
    }
    const parsed = wooProductSchema.safeParse(body);
    if (!parsed.success) throw new WebhookRejectedError('malformed', `${topic} body is not a product: ${parsed.error.issues[0]?.message ?? ''}`);
    const p = parsed.data;
    const payload = isVariation(p) ? variationPayload(p, p.parent_id ?? 0) : productPayload(p, this.pools);
    this.skus.learn(payload);
    const updatedAt = modifiedIso(p);
    this.log.debug({ topic, id: p.id, deliveryId }, 'WooCommerce webhook accepted');
    return [rawEvent(this.instance, { eventType: topic, entityRef: String(p.id), origin: 'webhook', dedupeKey: `${deliveryId}:${p.id}:${updatedAt}`, occurredAt: updatedAt, payload })];
  }
}
