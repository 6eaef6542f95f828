import { randomBytes } from 'node:crypto';
import { BATCH_LIMIT, asRecord, isForce, routeId, type ApiRequest, type RegisterRoute, type SimContext } from './api.js';
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
/** prepare_item_for_response / update_item on an id that is not (or no longer) a webhook: 400 "ID is invalid." (woocommerce#35290). */
const idIsInvalid = () => new WooApiError('woocommerce_rest_shop_webhook_invalid_id', 'ID is invalid.', 400);

/** `/webhooks`, `/webhooks/{id}` and `/webhooks/batch`; creating a webhook pings before answering, as does a save while its ping is pending. */
export function registerWebhookRoutes(route: RegisterRoute, ctx: SimContext): void {
  const { store, site, queue } = ctx;
  const json = (w: WebhookRecord) => webhookJson(w, site);

  const read = (body: Record<string, unknown>, creating: boolean) => {
    const b = body;
    const topic = typeof b.topic === 'string' && b.topic !== '' ? b.topic.toLowerCase().trim() : undefined;
    if (creating && (!topic || !isValidTopic(topic))) {
      throw new WooApiError('woocommerce_rest_shop_webhook_invalid_topic', 'Webhook topic is required and must be valid.', 400);
    }
    if (!creating && topic !== undefined && !isValidTopic(topic)) throw new WooApiError('woocommerce_rest_shop_webhook_invalid_topic', 'Webhook topic must be valid.', 400);
    const url = typeof b.delivery_url === 'string' && b.delivery_url !== '' ? b.delivery_url : undefined;
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
      name: typeof b.name === 'string' && b.name !== '' ? b.name : undefined,
      secret: typeof b.secret === 'string' && b.secret !== '' ? b.secret : undefined,
    };
  };

  const create = async (req: ApiRequest, body: Record<string, unknown>) => {
    if (body.id) throw new WooApiError('woocommerce_rest_shop_webhook_exists', 'Cannot create existing shop_webhook.', 400);
    const input = read(body, true);
    const t = toSecond(store.now());
    const wh: WebhookRecord = {
      id: store.allocateWebhookId(),
      name: input.name ?? `Webhook created on ${new Date(t).toUTCString()}`,
      status: input.status ?? 'active',
      topic: input.topic!,
      deliveryUrl: input.url!,
      secret: input.secret ?? randomBytes(38).toString('base64').slice(0, 50),
      failureCount: 0,
      pendingDelivery: true,
      createdMs: t,
      modifiedMs: t,
    };
    store.webhooks.set(wh.id, wh);
    store.logWrite({ action: 'webhook.create', method: req.method, route: req.path, id: wh.id, fields: { ...body, secret: '[redacted]' } });
    // create_item sends the ping itself, whatever the status (deliver_ping does not look at it).
    await queue.ping(wh);
    return wh;
  };
  const update = async (req: ApiRequest, id: number, body: Record<string, unknown>) => {
    const wh = store.webhooks.get(id);
    if (!wh) throw idIsInvalid();
    const input = read(body, false);
    const urlChanged = input.url !== undefined && input.url !== wh.deliveryUrl;
    if (input.topic) wh.topic = input.topic;
    if (input.url) wh.deliveryUrl = input.url;
    if (input.status) wh.status = input.status; // failure_count is NOT reset by re-activation, as in WooCommerce
    if (input.name !== undefined) wh.name = input.name;
    if (input.secret) wh.secret = input.secret;
    store.logWrite({ action: 'webhook.update', method: req.method, route: req.path, id: wh.id, fields: { ...body, ...(body.secret ? { secret: '[redacted]' } : {}) } });
    await queue.saved(wh, urlChanged);
    return wh;
  };
  const remove = (req: ApiRequest, id: number) => {
    const wh = store.webhooks.get(id);
    if (!wh) throw invalidId();
    const out = json(wh);
    store.webhooks.delete(wh.id);
    store.logWrite({ action: 'webhook.delete', method: req.method, route: req.path, id: wh.id, fields: {} });
    return out;
  };

  route(['GET'], '/webhooks', 'list', (req) => {
    for (const p of ['after', 'before']) {
      // search_webhooks compares date_created_gmt BETWEEN after AND before (inclusive, GMT): not modelled.
      if (req.query.has(p)) throw invalidParam(p, `${p} is not supported by the simulator on /webhooks.`, 'syncctl_sim_unmodelled_param');
    }
    const p = parseListParams(req.query, ['date', 'id', 'title'], site.tzOffset);
    const status = req.query.get('status') ?? 'all';
    if (status !== 'all' && !STATUSES.includes(status as WebhookStatus)) {
      throw invalidParam('status', `status is not one of all, ${STATUSES.join(', ')}.`, 'rest_not_in_enum');
    }
    const include = p.include ? new Set(p.include) : undefined;
    const exclude = idList(req.query.get('exclude'));
    const search = p.search?.toLowerCase();
    const items = [...store.webhooks.values()].filter((w) => (status === 'all' || w.status === status) && (!include || include.has(w.id)) && !exclude.has(w.id) && (!search || w.name.toLowerCase().includes(search)));
    const key = p.orderby === 'title' ? (w: WebhookRecord) => w.name : p.orderby === 'id' ? (w: WebhookRecord) => w.id : (w: WebhookRecord) => w.createdMs;
    const { page, headers } = paginate(sortBy(items, key, p.order), p, `${site.apiUrl}/webhooks`);
    return { body: page.map(json), headers };
  });
  route(['POST'], '/webhooks', 'create', async (req) => {
    const wh = await create(req, req.body);
    return { status: 201, body: json(wh), headers: { Location: `${site.apiUrl}/webhooks/${wh.id}` } };
  });
  route(['POST', 'PUT', 'PATCH'], '/webhooks/batch', 'batch', async (req) => {
    // WC_REST_Controller::batch_items: creates, updates, deletes (always force=true), each on its own.
    const list = (k: string): unknown[] => (Array.isArray(req.body[k]) ? (req.body[k] as unknown[]) : []);
    const [creates, updates, deletes] = [list('create'), list('update'), list('delete')];
    if (creates.length + updates.length + deletes.length > BATCH_LIMIT) {
      throw new WooApiError('woocommerce_rest_request_entity_too_large', `Unable to accept more than ${BATCH_LIMIT} items for this request.`, 413);
    }
    const out: Record<string, unknown[]> = {};
    const attempt = async (key: string, id: unknown, fn: () => Promise<unknown> | unknown) => {
      try {
        (out[key] ??= []).push(await fn());
      } catch (err) {
        if (!(err instanceof WooApiError)) throw err;
        const { code, message, data } = err.toBody();
        (out[key] ??= []).push({ id, error: { code, message, data } });
      }
    };
    for (const item of creates) await attempt('create', 0, async () => json(await create(req, asRecord(item))));
    for (const item of updates) await attempt('update', asRecord(item).id ?? 0, async () => json(await update(req, Number(asRecord(item).id ?? 0), asRecord(item))));
    for (const raw of deletes) {
      const id = Number(typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : raw);
      await attempt('delete', id, () => remove(req, id));
    }
    return { body: out };
  });
  route(['GET'], '/webhooks/:id', 'view', (req) => {
    const wh = store.webhooks.get(routeId(req));
    if (!wh) throw routeId(req) === 0 ? invalidId() : idIsInvalid();
    return { body: json(wh) };
  });
  route(['POST', 'PUT', 'PATCH'], '/webhooks/:id', 'edit', async (req) => ({ body: json(await update(req, routeId(req), req.body)) }));
  route(['DELETE'], '/webhooks/:id', 'delete', (req) => {
    if (!isForce(req)) throw new WooApiError('woocommerce_rest_trash_not_supported', 'Webhooks do not support trashing.', 501);
    return { body: remove(req, routeId(req)) };
  });
}

function idList(v: string | undefined): Set<number> {
  return new Set((v ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0));
}
