import { isForce, routeId, runBatch, type ApiRequest, type RegisterRoute, type SimContext } from './api.js';
import { WooApiError, type ProductRecord } from './model.js';
import { parseProductInput } from './product-input.js';
import { PRODUCT_ORDERBY, queryProducts } from './product-list.js';
import { paginate, parseListParams } from './query.js';
import { productJson } from './serialize.js';

const invalidId = (status: number) => new WooApiError('woocommerce_rest_product_invalid_id', 'Invalid ID.', status);

/** `/products`, `/products/{id}` and `/products/batch`. */
export function registerProductRoutes(route: RegisterRoute, ctx: SimContext): void {
  const { store, site } = ctx;
  const json = (r: ProductRecord) => productJson(store, r, site);
  const log = (req: ApiRequest, action: string, rec: ProductRecord, fields: Record<string, unknown>) =>
    store.logWrite({ action, method: req.method, route: req.path, id: rec.id, sku: rec.sku || undefined, fields });

  const create = (req: ApiRequest, body: Record<string, unknown>, strict: boolean) => {
    const rec = store.createProduct(parseProductInput(body, { strict, variation: false, tzOffset: site.tzOffset }));
    log(req, 'product.create', rec, body);
    return rec;
  };
  const update = (req: ApiRequest, id: number, body: Record<string, unknown>, strict: boolean) => {
    const rec = store.get(id);
    if (!rec || id === 0) throw invalidId(400);
    const patch = parseProductInput(body, { strict, variation: rec.parentId !== 0, tzOffset: site.tzOffset });
    store.updateProduct(rec, patch);
    log(req, rec.parentId ? 'variation.update' : 'product.update', rec, body);
    return rec;
  };
  const remove = (req: ApiRequest, id: number, force: boolean) => {
    const rec = store.get(id);
    if (!rec) throw invalidId(404);
    const before = json(rec);
    if (!force && rec.status === 'trash') throw new WooApiError('woocommerce_rest_already_trashed', 'The product has already been deleted.', 410);
    store.deleteProduct(rec, force);
    log(req, 'product.delete', rec, { force });
    return force ? before : json(rec);
  };

  route(['GET'], '/products', 'list', (req) => {
    const p = parseListParams(req.query, PRODUCT_ORDERBY, site.tzOffset);
    const items = queryProducts(store, p, {}, site.tzOffset);
    const { page, headers } = paginate(items, p, `${site.apiUrl}/products`);
    return { body: page.map(json), headers };
  });
  route(['POST'], '/products', 'create', (req) => {
    const rec = create(req, req.body, true);
    return { status: 201, body: json(rec), headers: { Location: `${site.apiUrl}/products/${rec.id}` } };
  });
  route(['POST', 'PUT', 'PATCH'], '/products/batch', 'batch', (req) => ({
    body: runBatch(req.body, {
      create: (item) => json(create(req, item, false)),
      update: (item) => json(update(req, Number(item.id ?? 0), item, false)),
      delete: (id) => remove(req, id, true),
    }),
  }));
  route(['GET'], '/products/:id', 'view', (req) => {
    const rec = store.get(routeId(req));
    if (!rec) throw invalidId(404);
    return { body: json(rec) };
  });
  route(['POST', 'PUT', 'PATCH'], '/products/:id', 'edit', (req) => ({ body: json(update(req, routeId(req), req.body, true)) }));
  route(['DELETE'], '/products/:id', 'delete', (req) => ({ body: remove(req, routeId(req), isForce(req)) }));
}
