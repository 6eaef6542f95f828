import { randomBytes } from 'node:crypto';
import { isForce, routeId, type ApiRequest, type RegisterRoute, type SimContext } from './api.js';
import { WooApiError, invalidParam, toSecond, type WebhookRecord, type WebhookStatus } from './model.js';
import { paginate, parseListParams, sortBy } from './query.js';
import { webhookJson } from './serialize.js';

const RESOURCES = ['coupon', 'customer', 'order', 'product'];
const EVENTS = ['created', 'updated', 'deleted', 'restored'];
const STATUSES: WebhookStatus[] = ['active', 'paused', 'disabled'];

/** wc_is_webhook_valid_topic: `<resource>.<event>` of the core resources, or `action.<hook>`. */
export function isValidTopic(topic: string): boolean {
  const [resource = '', event = '', ...rest] = topic.split('.');
  if (rest.length) return false;
  if (resource === 'action') return event.length > 0;
  return RESOURCES.includes(resource) && EVENTS.includes(event);
}

const invalidId = () => new WooApiError('woocommerce_rest_shop_webhook_invalid_id', 'Invalid ID.', 404);

/** `/webhooks` and `/webhooks/{id}`; creating an active webhook sends the ping before answering. */
export function registerWebhookRoutes(route: RegisterRoute, ctx: SimContext): void {
  const { store, site, queue } = ctx;
  const json = (w: WebhookRecord) => webhookJson(w, site);

  const read = (req: ApiRequest, creating: boolean) => {
    const b = req.body;
    const topic = typeof b.topic === 'string' ? b.topic.toLowerCase().trim() : undefined;
    if ((creating || topic !== undefined) && (!topic || !isValidTopic(topic))) {
      throw new WooApiError('woocommerce_rest_shop_webhook_invalid_topic', 'Webhook topic is required and must be valid.', 400);
    }
    const url = typeof b.delivery_url === 'string' ? b.delivery_url : undefined;
    if ((creating || url !== undefined) && (!url || !/^https?:\/\/[^\s/]+/i.test(url))) {
      throw new WooApiError('woocommerce_rest_shop_webhook_invalid_delivery_url', 'Webhook delivery URL must be a valid URL starting with http:// or https://.', 400);
    }
    if (b.status !== undefined && !STATUSES.includes(b.status as WebhookStatus)) {
      throw invalidParam('status', `status is not one of ${STATUSES.join(', ')}.`, 'rest_not_in_enum');
    }
    return {
      topic,
      url,
      status: b.status as WebhookStatus | undefined,
      name: typeof b.name === 'string' ? b.name : undefined,
      secret: typeof b.secret === 'string' && b.secret !== '' ? b.secret : undefined,
    };
  };

  route(['GET'], '/webhooks', 'list', (req) => {
    const p = parseListParams(req.query, ['date', 'id', 'title'], site.tzOffset);
    const status = req.query.get('status') ?? 'all';
    if (status !== 'all' && !STATUSES.includes(status as WebhookStatus)) {
      throw invalidParam('status', `status is not one of all, ${STATUSES.join(', ')}.`, 'rest_not_in_enum');
    }
    const items = [...store.webhooks.values()].filter((w) => status === 'all' || w.status === status);
    const key = p.orderby === 'title' ? (w: WebhookRecord) => w.name : p.orderby === 'id' ? (w: WebhookRecord) => w.id : (w: WebhookRecord) => w.createdMs;
    const { page, headers } = paginate(sortBy(items, key, p.order), p, `${site.apiUrl}/webhooks`);
    return { body: page.map(json), headers };
  });
  route(['POST'], '/webhooks', 'create', async (req) => {
    const input = read(req, true);
    const t = toSecond(store.now());
    const wh: WebhookRecord = {
      id: store.allocateWebhookId(),
      name: input.name ?? `Webhook created on ${new Date(t).toUTCString()}`,
      status: input.status ?? 'active',
      topic: input.topic!,
      deliveryUrl: input.url!,
      secret: input.secret ?? randomBytes(38).toString('base64').slice(0, 50),
      failureCount: 0,
      createdMs: t,
      modifiedMs: t,
    };
    store.webhooks.set(wh.id, wh);
    store.logWrite({ action: 'webhook.create', method: req.method, route: req.path, id: wh.id, fields: { ...req.body, secret: '[redacted]' } });
    await queue.ping(wh);
    return { status: 201, body: json(wh), headers: { Location: `${site.apiUrl}/webhooks/${wh.id}` } };
  });
  route(['GET'], '/webhooks/:id', 'view', (req) => {
    const wh = store.webhooks.get(routeId(req));
    if (!wh) throw invalidId();
    return { body: json(wh) };
  });
  route(['POST', 'PUT', 'PATCH'], '/webhooks/:id', 'edit', (req) => {
    const wh = store.webhooks.get(routeId(req));
    if (!wh) throw invalidId();
    const input = read(req, false);
    if (input.topic) wh.topic = input.topic;
    if (input.url) wh.deliveryUrl = input.url;
    if (input.status) wh.status = input.status; // failure_count is NOT reset by re-activation, as in WooCommerce
    if (input.name !== undefined) wh.name = input.name;
    if (input.secret) wh.secret = input.secret;
    wh.modifiedMs = toSecond(store.now());
    store.logWrite({ action: 'webhook.update', method: req.method, route: req.path, id: wh.id, fields: { ...req.body, ...(req.body.secret ? { secret: '[redacted]' } : {}) } });
    return { body: json(wh) };
  });
  route(['DELETE'], '/webhooks/:id', 'delete', (req) => {
    const wh = store.webhooks.get(routeId(req));
    if (!wh) throw invalidId();
    if (!isForce(req)) throw new WooApiError('woocommerce_rest_trash_not_supported', 'Webhooks do not support trashing.', 501);
    const body = json(wh);
    store.webhooks.delete(wh.id);
    store.logWrite({ action: 'webhook.delete', method: req.method, route: req.path, id: wh.id, fields: {} });
    return { body };
  });
}
