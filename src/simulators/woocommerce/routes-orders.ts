import { isForce, routeId, runBatch, type ApiRequest, type RegisterRoute, type SimContext } from './api.js';
import { ORDER_STATUSES, WooApiError, invalidParam, toSecond, type OrderRecord } from './model.js';
import { createOrder, updateOrder } from './orders.js';
import { paginate, parseListParams, refuseUnmodelled, sortBy, withinDates } from './query.js';
import { orderJson } from './serialize.js';

const ORDER_ORDERBY = ['date', 'modified', 'id', 'include', 'title', 'slug'] as const;
/** Collection parameters of /orders the simulator does not model (400 when given). */
const UNMODELLED_ORDER_PARAMS = ['parent', 'parent_exclude', 'customer', 'product', 'dp', 'created_via', 'include_meta', 'exclude_meta', 'search'] as const;
const invalidId = (status: number) => new WooApiError('woocommerce_rest_shop_order_invalid_id', 'Invalid ID.', status);

/** `/orders`, `/orders/{id}` and `/orders/batch`. */
export function registerOrderRoutes(route: RegisterRoute, ctx: SimContext): void {
  const { store, site } = ctx;
  const json = (o: OrderRecord) => orderJson(o, site);
  const log = (req: ApiRequest, action: string, o: OrderRecord, fields: Record<string, unknown>) =>
    store.logWrite({ action, method: req.method, route: req.path, id: o.id, fields });

  const create = (req: ApiRequest, body: Record<string, unknown>) => {
    const o = createOrder(store, body);
    log(req, 'order.create', o, body);
    return o;
  };
  const update = (req: ApiRequest, id: number, body: Record<string, unknown>) => {
    const o = store.orders.get(id);
    if (!o) throw invalidId(400);
    updateOrder(store, o, body);
    log(req, 'order.update', o, body);
    return o;
  };
  const remove = (req: ApiRequest, id: number, force: boolean) => {
    const o = store.orders.get(id);
    if (!o) throw invalidId(404);
    if (!force && o.status === 'trash') throw new WooApiError('woocommerce_rest_already_trashed', 'The order has already been deleted.', 410);
    const before = json(o);
    // order.deleted is hooked to wp_trash_post / woocommerce_trash_order: a permanent delete announces nothing.
    if (force) store.orders.delete(id);
    else {
      o.status = 'trash';
      o.modifiedMs = toSecond(store.now());
      store.emit('order', 'deleted', id);
    }
    log(req, 'order.delete', o, { force });
    return force ? before : json(o);
  };

  route(['GET'], '/orders', 'list', (req) => {
    refuseUnmodelled(req.query, UNMODELLED_ORDER_PARAMS);
    const p = parseListParams(req.query, ORDER_ORDERBY, site.tzOffset);
    const statuses = (req.query.get('status') ?? 'any').split(',');
    for (const s of statuses) {
      if (s !== 'any' && s !== 'trash' && !(ORDER_STATUSES as readonly string[]).includes(s)) {
        throw invalidParam('status', `status[0] is not one of any, trash, ${ORDER_STATUSES.join(', ')}.`, 'rest_not_in_enum');
      }
    }
    const include = p.include ? new Set(p.include) : undefined;
    const exclude = new Set(p.exclude ?? []);
    let items = [...store.orders.values()].filter((o) => {
      if (statuses.includes('any') ? o.status === 'trash' : !statuses.includes(o.status)) return false;
      return (!include || include.has(o.id)) && !exclude.has(o.id);
    });
    items = withinDates(items, p, (o) => o.modifiedMs, (o) => o.createdMs, site.tzOffset);
    const key = p.orderby === 'modified' ? (o: OrderRecord) => o.modifiedMs : p.orderby === 'id' ? (o: OrderRecord) => o.id : (o: OrderRecord) => o.createdMs;
    const { page, headers } = paginate(sortBy(items, key, p.order), p, `${site.apiUrl}/orders`);
    return { body: page.map(json), headers };
  });
  route(['POST'], '/orders', 'create', (req) => {
    const o = create(req, req.body);
    return { status: 201, body: json(o), headers: { Location: `${site.apiUrl}/orders/${o.id}` } };
  });
  route(['POST', 'PUT', 'PATCH'], '/orders/batch', 'batch', (req) => ({
    body: runBatch(req.body, {
      create: (item) => json(create(req, item)),
      update: (item) => json(update(req, Number(item.id ?? 0), item)),
      delete: (id) => remove(req, id, true),
    }),
  }));
  route(['GET'], '/orders/:id', 'view', (req) => {
    const o = store.orders.get(routeId(req));
    if (!o) throw invalidId(404);
    return { body: json(o) };
  });
  route(['POST', 'PUT', 'PATCH'], '/orders/:id', 'edit', (req) => ({ body: json(update(req, routeId(req), req.body)) }));
  route(['DELETE'], '/orders/:id', 'delete', (req) => ({ body: remove(req, routeId(req), isForce(req)) }));
}
