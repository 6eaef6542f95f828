import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { BulkOperations } from './bulk.js';
import { gid, parseGid } from './gid.js';
import { QUANTITY_NAMES, type InventoryItemRec, type LocationRec, type OrderRec, type VariantRec } from './model.js';
import { faultsSchema } from './options.js';
import type { ShopifySimState } from './state.js';
import { StoreRejection } from './store.js';
import type { TrafficGenerator } from './traffic.js';

const idLike = z.union([z.string(), z.number()]);
const orderBody = z.object({
  lines: z.array(z.object({ sku: z.string().optional(), variantId: idLike.optional(), quantity: z.number().int().min(1), price: z.string().optional() })).min(1),
  locationId: idLike.optional(),
  email: z.string().optional(),
}).strict();
const cancelBody = z.object({ restock: z.boolean().default(true), reason: z.enum(['CUSTOMER', 'DECLINED', 'FRAUD', 'INVENTORY', 'STAFF', 'OTHER']).optional() }).strict();
const target = { sku: z.string().optional(), inventoryItemId: idLike.optional(), locationId: idLike.optional(), name: z.enum(QUANTITY_NAMES).default('available') };
const adjustBody = z.object({ ...target, delta: z.number().int() }).strict();
const setBody = z.object({ ...target, quantity: z.number().int() }).strict();
const variantBody = z.object({ price: z.string().regex(/^\d+(\.\d{1,2})?$/).optional(), title: z.string().min(1).optional(), sku: z.string().nullable().optional(), compareAtPrice: z.string().nullable().optional() }).strict();
const productBody = z.object({ title: z.string().min(1).optional(), vendor: z.string().optional(), status: z.enum(['ACTIVE', 'ARCHIVED', 'DRAFT']).optional() }).strict();

const num = (v: string | number | undefined, type: Parameters<typeof parseGid>[1]): number => (typeof v === 'number' ? v : /^\d+$/.test(v ?? '') ? Number(v) : parseGid(v, type) ?? -1);

/** Public JSON view of an order (GIDs, numbers and ISO times). */
export function orderView(o: OrderRec) {
  return {
    id: gid('Order', o.id), legacyId: o.id, name: o.name, createdAt: new Date(o.createdAt).toISOString(), updatedAt: new Date(o.updatedAt).toISOString(),
    cancelledAt: o.cancelledAt === null ? null : new Date(o.cancelledAt).toISOString(),
    lineItems: o.lineItems.map((li) => ({ id: gid('LineItem', li.id), sku: li.sku, quantity: li.quantity, variantId: li.variant ? gid('ProductVariant', li.variant.id) : null, price: li.price })),
  };
}

function levelView(item: InventoryItemRec) {
  return {
    inventoryItemId: gid('InventoryItem', item.id), variantId: gid('ProductVariant', item.variant.id), sku: item.variant.sku,
    levels: [...item.levels.values()].map((l) => ({ locationId: gid('Location', l.location.id), ...l.quantities, updatedAt: new Date(l.updatedAt).toISOString() })),
  };
}

/**
 * The simulator's own admin API under `/_sim` (JSON, unauthenticated, loopback only by
 * default): drive store activity, read the write log and deliveries, set faults, reset.
 */
export function registerControlApi(app: FastifyInstance, sim: ShopifySimState, bulk: BulkOperations, traffic: TrafficGenerator, info: () => unknown): void {
  const store = () => sim.store;
  const problem = (reply: FastifyReply, status: number, code: string, message: string) => reply.code(status).send({ error: { code, message } });
  const parse = <T>(schema: z.ZodType<T>, body: unknown, reply: FastifyReply): T | null => {
    let data: unknown = body ?? {};
    if (typeof body === 'string') {
      try { data = body.trim() === '' ? {} : JSON.parse(body); } catch { void problem(reply, 400, 'INVALID_JSON', 'the body is not valid JSON'); return null; }
    }
    const r = schema.safeParse(data);
    if (!r.success) { void problem(reply, 400, 'INVALID_BODY', z.prettifyError(r.error)); return null; }
    return r.data;
  };
  const variantFor = (sku?: string, variantId?: string | number): VariantRec | undefined =>
    sku !== undefined ? store().variantsBySku.get(sku)[0] : store().variantById.get(num(variantId, 'ProductVariant'));
  const locationFor = (id?: string | number): LocationRec | undefined => (id === undefined ? store().locations[0] : store().locationById.get(num(id, 'Location')));
  const itemFor = (b: { sku?: string; inventoryItemId?: string | number }): InventoryItemRec | undefined =>
    b.sku !== undefined ? store().variantsBySku.get(b.sku)[0]?.inventoryItem : store().itemById.get(num(b.inventoryItemId, 'InventoryItem'));

  app.get('/_sim/info', async () => info());

  app.post('/_sim/orders', async (req, reply) => {
    const b = parse(orderBody, req.body, reply);
    if (!b) return reply;
    const location = locationFor(b.locationId);
    if (!location) return problem(reply, 404, 'NOT_FOUND', 'unknown location');
    const lines = [];
    for (const l of b.lines) {
      const variant = variantFor(l.sku, l.variantId);
      if (!variant) return problem(reply, 404, 'NOT_FOUND', `unknown variant ${l.sku ?? l.variantId}`);
      lines.push({ variant, quantity: l.quantity, price: l.price });
    }
    try {
      return reply.code(201).send(orderView(store().createOrder(lines, { location, email: b.email })));
    } catch (err) {
      if (err instanceof StoreRejection) return problem(reply, 422, err.code, err.message);
      throw err;
    }
  });

  app.post<{ Params: { id: string } }>('/_sim/orders/:id/cancel', async (req, reply) => {
    const b = parse(cancelBody, req.body, reply);
    if (!b) return reply;
    const order = store().orderById.get(num(decodeURIComponent(req.params.id), 'Order'));
    if (!order) return problem(reply, 404, 'NOT_FOUND', 'unknown order');
    try {
      return orderView(store().cancelOrder(order, { restock: b.restock, reason: b.reason }));
    } catch (err) {
      if (err instanceof StoreRejection) return problem(reply, 422, err.code, err.message);
      throw err;
    }
  });

  app.get('/_sim/orders', async () => store().orders.map(orderView));

  app.patch<{ Params: { id: string } }>('/_sim/variants/:id', async (req, reply) => {
    const b = parse(variantBody, req.body, reply);
    if (!b) return reply;
    const id = decodeURIComponent(req.params.id);
    const v = /^\d+$|^gid:/.test(id) ? variantFor(undefined, id) : variantFor(id);
    if (!v) return problem(reply, 404, 'NOT_FOUND', 'unknown variant');
    store().updateVariant(v, b);
    store().announceProducts([v.product]);
    return { id: gid('ProductVariant', v.id), sku: v.sku, price: v.price, title: v.title, updatedAt: new Date(v.updatedAt).toISOString() };
  });

  app.patch<{ Params: { id: string } }>('/_sim/products/:id', async (req, reply) => {
    const b = parse(productBody, req.body, reply);
    if (!b) return reply;
    const p = store().productById.get(num(decodeURIComponent(req.params.id), 'Product'));
    if (!p) return problem(reply, 404, 'NOT_FOUND', 'unknown product');
    store().updateProduct(p, b);
    return { id: gid('Product', p.id), title: p.title, status: p.status, updatedAt: new Date(p.updatedAt).toISOString() };
  });

  const stockChange = (mode: 'adjust' | 'set') => async (req: { body: unknown }, reply: FastifyReply) => {
    const b = (mode === 'adjust' ? parse(adjustBody, req.body, reply) : parse(setBody, req.body, reply)) as (Partial<z.infer<typeof adjustBody>> & Partial<z.infer<typeof setBody>> & { name: z.infer<typeof setBody>['name'] }) | null;
    if (!b) return reply;
    const item = itemFor(b);
    const loc = locationFor(b.locationId);
    if (!item || !loc) return problem(reply, 404, 'NOT_FOUND', 'unknown inventory item or location');
    const level = store().levelAt(item, loc);
    const delta = mode === 'adjust' ? b.delta ?? 0 : (b.quantity ?? 0) - level.quantities[b.name];
    if (b.name === 'committed') return problem(reply, 422, 'INVALID', 'committed changes only through orders');
    if (delta !== 0) store().applyQuantityDeltas([{ level, name: b.name, delta }]);
    return levelView(item);
  };
  app.post('/_sim/inventory/adjust', stockChange('adjust'));
  app.post('/_sim/inventory/set', stockChange('set'));
  app.get<{ Querystring: { sku?: string; inventoryItemId?: string } }>('/_sim/inventory', async (req, reply) => {
    const items = req.query.sku !== undefined ? store().variantsBySku.get(req.query.sku).map((v) => v.inventoryItem) : [itemFor(req.query)].filter((x): x is InventoryItemRec => !!x);
    if (items.length === 0) return problem(reply, 404, 'NOT_FOUND', 'unknown SKU or inventory item');
    return items.map(levelView);
  });

  app.get<{ Querystring: { since?: string; mutation?: string } }>('/_sim/writes', async (req) => {
    const since = Number(req.query.since ?? 0);
    return sim.writes.filter((w) => w.seq > since && (!req.query.mutation || w.mutation === req.query.mutation));
  });
  app.get<{ Querystring: { topic?: string; includeBody?: string } }>('/_sim/webhooks/deliveries', async (req) =>
    sim.dispatcher.deliveries.filter((d) => !req.query.topic || d.topic === req.query.topic)
      .map((d) => (req.query.includeBody === 'true' ? d : { ...d, body: undefined })));
  app.get('/_sim/webhooks/subscriptions/removed', async () => sim.dispatcher.removed);
  app.get('/_sim/webhooks/subscriptions', async () => [...sim.dispatcher.subscriptions.values()].map((s) => ({ id: gid('WebhookSubscription', s.id), topic: s.topic, uri: s.uri })));

  // The app's credentials: rotate (or revoke) the client secret, revoke issued tokens, uninstall/reinstall, token lifetime.
  app.post('/_sim/auth/rotate', async (req, reply) => {
    const b = parse(z.object({ clientSecret: z.string().min(1).optional(), revokeTokens: z.boolean().default(true) }).strict(), req.body, reply);
    if (!b) return reply;
    return { clientId: sim.auth.clientId, clientSecret: sim.auth.rotate(b.clientSecret, b.revokeTokens) };
  });
  app.post('/_sim/auth/revoke-tokens', async () => ({ revoked: sim.auth.revokeTokens() }));
  app.put('/_sim/auth', async (req, reply) => {
    const b = parse(z.object({ installed: z.boolean().optional(), tokenLifetimeSeconds: z.number().positive().optional() }).strict(), req.body, reply);
    if (!b) return reply;
    if (b.installed !== undefined) {
      sim.auth.installed = b.installed;
      if (!b.installed) sim.auth.revokeTokens();
    }
    if (b.tokenLifetimeSeconds !== undefined) sim.auth.tokenLifetimeSeconds = b.tokenLifetimeSeconds;
    return { installed: sim.auth.installed, tokenLifetimeSeconds: sim.auth.tokenLifetimeSeconds };
  });
  app.get('/_sim/auth', async () => ({
    clientId: sim.auth.clientId, installed: sim.auth.installed, tokenLifetimeSeconds: sim.auth.tokenLifetimeSeconds, grants: sim.auth.grants,
    liveTokens: sim.auth.liveTokens(), staticToken: sim.auth.staticToken !== null,
  }));

  app.get('/_sim/faults', async () => sim.faults);
  app.put('/_sim/faults', async (req, reply) => {
    // A partial body changes only what it names: it is laid over the current faults (per group)
    // and the whole is validated; defaults never reset the fields left out.
    const raw = parse(z.record(z.string(), z.unknown()), req.body, reply);
    if (!raw) return reply;
    const group = (k: 'webhooks' | 'api') => (raw[k] && typeof raw[k] === 'object' && !Array.isArray(raw[k]) ? { ...sim.faults[k], ...(raw[k] as object) } : raw[k] ?? sim.faults[k]);
    const b = parse(faultsSchema, { ...raw, webhooks: group('webhooks'), api: group('api') }, reply);
    if (!b) return reply;
    sim.faults = b;
    return sim.faults;
  });
  app.put('/_sim/traffic', async (req, reply) => {
    const b = parse(z.object({ ordersPerSecond: z.number().min(0) }).strict(), req.body, reply);
    if (!b) return reply;
    traffic.setRate(b.ordersPerSecond);
    return { ordersPerSecond: b.ordersPerSecond };
  });
  app.post('/_sim/reset', async (req, reply) => {
    const b = parse(z.object({ keepSubscriptions: z.boolean().default(false) }).strict(), req.body, reply);
    if (!b) return reply;
    bulk.clear();
    sim.reset(b.keepSubscriptions);
    return { ok: true };
  });
}
