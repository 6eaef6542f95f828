import { isForce, routeId, runBatch, type ApiRequest, type RegisterRoute, type SimContext } from './api.js';
import { WooApiError, type ProductRecord } from './model.js';
import { parseProductInput } from './product-input.js';
import { VARIATION_ORDERBY, queryProducts } from './product-list.js';
import { paginate, parseListParams } from './query.js';
import { variationJson } from './serialize.js';

const invalidVariation = (status: number) => new WooApiError('woocommerce_rest_product_variation_invalid_id', 'Invalid ID.', status);

/** `/products/{product_id}/variations`, `/{id}` and `/batch`. */
export function registerVariationRoutes(route: RegisterRoute, ctx: SimContext): void {
  const { store, site } = ctx;
  const json = (r: ProductRecord) => variationJson(store, r, site);

  const parentOf = (req: ApiRequest): ProductRecord => {
    const parent = store.get(routeId(req, 'product_id'));
    if (!parent || parent.parentId !== 0) throw new WooApiError('woocommerce_rest_product_invalid_id', 'Invalid ID.', 404);
    return parent;
  };
  const variationOf = (parent: ProductRecord, id: number, status: number): ProductRecord => {
    const rec = store.get(id);
    if (!rec || rec.parentId !== parent.id) throw invalidVariation(status);
    return rec;
  };
  const log = (req: ApiRequest, action: string, rec: ProductRecord, fields: Record<string, unknown>) =>
    store.logWrite({ action, method: req.method, route: req.path, id: rec.id, sku: rec.sku || undefined, fields });

  const create = (req: ApiRequest, parent: ProductRecord, body: Record<string, unknown>, strict: boolean) => {
    const rec = store.createProduct(parseProductInput(body, { strict, variation: true }), parent);
    log(req, 'variation.create', rec, body);
    return rec;
  };
  const update = (req: ApiRequest, parent: ProductRecord, id: number, body: Record<string, unknown>, strict: boolean) => {
    const rec = variationOf(parent, id, 400);
    store.updateProduct(rec, parseProductInput(body, { strict, variation: true }));
    log(req, 'variation.update', rec, body);
    return rec;
  };
  const remove = (req: ApiRequest, parent: ProductRecord, id: number, force: boolean) => {
    const rec = variationOf(parent, id, 404);
    // Variations cannot be trashed: only force=true deletes them.
    if (!force) throw new WooApiError('woocommerce_rest_trash_not_supported', 'The product_variation does not support trashing.', 501);
    const before = json(rec);
    store.deleteProduct(rec, true);
    log(req, 'variation.delete', rec, { force });
    return before;
  };

  route(['GET'], '/products/:product_id/variations', 'list', (req) => {
    const parent = parentOf(req);
    const p = parseListParams(req.query, VARIATION_ORDERBY, site.tzOffset);
    const items = queryProducts(store, p, { parentId: parent.id }, site.tzOffset);
    const { page, headers } = paginate(items, p, `${site.apiUrl}/products/${parent.id}/variations`);
    return { body: page.map(json), headers };
  });
  route(['POST'], '/products/:product_id/variations', 'create', (req) => {
    const parent = parentOf(req);
    const rec = create(req, parent, req.body, true);
    return { status: 201, body: json(rec), headers: { Location: `${site.apiUrl}/products/${parent.id}/variations/${rec.id}` } };
  });
  route(['POST', 'PUT', 'PATCH'], '/products/:product_id/variations/batch', 'batch', (req) => {
    const parent = parentOf(req);
    return {
      body: runBatch(req.body, {
        create: (item) => json(create(req, parent, item, false)),
        update: (item) => json(update(req, parent, Number(item.id ?? 0), item, false)),
        delete: (id) => remove(req, parent, id, true),
      }),
    };
  });
  route(['GET'], '/products/:product_id/variations/:id', 'view', (req) => ({ body: json(variationOf(parentOf(req), routeId(req), 404)) }));
  route(['POST', 'PUT', 'PATCH'], '/products/:product_id/variations/:id', 'edit', (req) => ({
    body: json(update(req, parentOf(req), routeId(req), req.body, true)),
  }));
  route(['DELETE'], '/products/:product_id/variations/:id', 'delete', (req) => ({ body: remove(req, parentOf(req), routeId(req), isForce(req)) }));
}
