import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { asRecord, type SimContext } from './api.js';
import { WooApiError, type ProductRecord } from './model.js';
import { wooFaultsSchema, type WooFaults } from './options.js';
import { createOrder, updateOrder } from './orders.js';
import { parseProductInput } from './product-input.js';
import { orderJson, productJson } from './serialize.js';

/** What the control API can ask of the simulator beyond the store. */
export interface ControlHooks {
  info: () => Record<string, unknown>;
  setFaults: (f: Partial<WooFaults>) => WooFaults;
  reset: (keepWebhooks: boolean) => void;
  setTraffic: (ordersPerSecond: number) => void;
}

/**
 * The simulator's own control API under `/_sim` (JSON, no WooCommerce auth; optional token in
 * `x-sim-token`): store activity (orders, product edits, stock), the write log, the webhook
 * delivery log, faults and reset. Its changes fire webhooks but are not written to the write log,
 * which holds only what API clients did.
 */
export function registerControlRoutes(app: FastifyInstance, ctx: SimContext, hooks: ControlHooks): void {
  const { store, site, queue } = ctx;
  const token = ctx.options.controlToken;
  const guard = (req: FastifyRequest) => {
    if (token && req.headers['x-sim-token'] !== token) throw new WooApiError('sim_forbidden', 'Missing or wrong x-sim-token.', 403);
  };
  const find = (b: Record<string, unknown>): ProductRecord => {
    const rec = typeof b.sku === 'string' ? store.findBySku(b.sku)[0] : store.get(Number(b.id));
    if (!rec) throw new WooApiError('sim_not_found', `No product with ${typeof b.sku === 'string' ? `SKU ${b.sku}` : `id ${String(b.id)}`}.`, 404);
    return rec;
  };
  const on = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, fn: (req: FastifyRequest, body: Record<string, unknown>) => unknown) =>
    app.route({
      method,
      url: `/_sim${url}`,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        guard(req);
        const result = await fn(req, asRecord(req.body));
        return reply.type('application/json').send(JSON.stringify(result));
      },
    });

  on('GET', '/info', () => hooks.info());
  on('PUT', '/traffic', (_req, b) => {
    const rate = Number(b.ordersPerSecond ?? 0);
    if (!(rate >= 0)) throw new WooApiError('sim_bad_request', 'ordersPerSecond must be a number >= 0.', 400);
    hooks.setTraffic(rate);
    return { ordersPerSecond: rate };
  });
  on('GET', '/products', (req) => {
    const sku = asRecord(req.query).sku;
    if (typeof sku !== 'string') throw new WooApiError('sim_bad_request', 'Query parameter sku is required.', 400);
    return store.findBySku(sku).map((p) => productJson(store, p, site));
  });
  on('PUT', '/products', (_req, b) => {
    const rec = find(b);
    const { id: _id, sku: _sku, ...fields } = b;
    store.updateProduct(rec, parseProductInput(fields, { strict: false, variation: rec.parentId !== 0 }));
    return productJson(store, rec, site);
  });
  on('POST', '/stock', (_req, b) => {
    const found = find(b);
    // A variation left to its parent moves the parent's pool; unmanaged stock becomes managed.
    const rec = store.stockHolder(found) ?? found;
    if (!rec.manageStock) rec.manageStock = true;
    const current = rec.stockQuantity ?? 0;
    const qty = typeof b.quantity === 'number' ? b.quantity : current + (typeof b.delta === 'number' ? b.delta : 0);
    store.setStock(rec, Math.trunc(qty));
    return { id: rec.id, sku: rec.sku, stock_quantity: rec.stockQuantity, stock_status: rec.stockStatus };
  });
  on('POST', '/orders', (_req, b) => {
    const lines = Array.isArray(b.lines) ? b.lines.map(asRecord).map((l) => ({ sku: l.sku, product_id: l.product_id, variation_id: l.variation_id, quantity: l.quantity ?? 1 })) : [];
    return orderJson(createOrder(store, { status: b.status ?? 'processing', line_items: lines }), site);
  });
  on('POST', '/orders/:id/status', (req, b) => {
    const order = store.orders.get(Number((req.params as { id: string }).id));
    if (!order) throw new WooApiError('sim_not_found', 'No such order.', 404);
    return orderJson(updateOrder(store, order, { status: b.status }), site);
  });
  on('GET', '/writes', (req) => {
    const since = Number(asRecord(req.query).since ?? 0);
    return { writes: store.writes.filter((w) => w.seq > since) };
  });
  on('DELETE', '/writes', () => {
    store.writes.length = 0;
    return { ok: true };
  });
  on('GET', '/deliveries', (req) => {
    const wid = asRecord(req.query).webhook_id;
    return { deliveries: queue.deliveries.filter((d) => wid === undefined || d.webhookId === Number(wid)) };
  });
  on('POST', '/deliveries/flush', async () => {
    await queue.idle();
    return { ok: true };
  });
  on('GET', '/webhooks', () => ({
    webhooks: [...store.webhooks.values()].map((w) => ({ id: w.id, topic: w.topic, status: w.status, delivery_url: w.deliveryUrl, failure_count: w.failureCount })),
  }));
  on('GET', '/faults', () => ctx.faults);
  on('PUT', '/faults', (_req, b) => {
    // Only the fields named change (zod 4's .partial() would still fill in every other field's
    // default): the body is laid over the current faults and the whole is validated.
    const parsed = wooFaultsSchema.strict().safeParse({ ...ctx.faults, ...b });
    if (!parsed.success) throw new WooApiError('sim_bad_request', parsed.error.message, 400);
    return hooks.setFaults(parsed.data);
  });
  on('POST', '/reset', (_req, b) => {
    hooks.reset(b.keepWebhooks === true);
    return { ok: true };
  });
}
