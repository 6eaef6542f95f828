import { idempotencyKey } from './guards.js';
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { SimContext } from './context.js';
import { gid, parseGid } from './gid.js';
import type { VariantRec } from './model.js';
import { TOPICS } from './webhook-payloads.js';
import type { ResolverMap } from './resolvers-query.js';
import type { WebhookSubscriptionRec } from './webhooks.js';

interface UserError { field: string[] | null; code?: string; message: string }
interface VariantInput {
  id?: string | null; price?: unknown; compareAtPrice?: unknown; barcode?: string | null; taxable?: boolean | null;
  inventoryPolicy?: 'DENY' | 'CONTINUE' | null; inventoryItem?: ItemInput | null;
  inventoryQuantities?: unknown[] | null;
}
type ItemInput = { sku?: string | null; tracked?: boolean | null; requiresShipping?: boolean | null; measurement?: { weight?: { unit: 'KILOGRAMS' | 'GRAMS' | 'POUNDS' | 'OUNCES'; value: number } | null } | null };

/** `inventoryItem.measurement.weight`: a weight, or a userError message (negative weights are refused). */
function weightOf(item: ItemInput | null | undefined): { weight?: { unit: 'KILOGRAMS' | 'GRAMS' | 'POUNDS' | 'OUNCES'; value: number }; error?: string } {
  const w = item?.measurement?.weight;
  if (!w) return {};
  if (!(w.value >= 0)) return { error: 'Weight must be greater than or equal to 0' };
  return { weight: { unit: w.unit, value: w.value } };
}

const MONEY = /^-?\d{1,13}(\.\d{1,4})?$/;
const money = (v: unknown): string | null => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(2) : typeof v === 'string' && MONEY.test(v.trim()) ? Number(v).toFixed(2) : null);

function bulkUpdate(ctx: SimContext, args: { productId: string; variants: VariantInput[]; allowPartialUpdates?: boolean | null }) {
  const s = ctx.sim.store;
  const product = s.productById.get(parseGid(args.productId, 'Product') ?? -1);
  if (!product) return { product: null, productVariants: null, userErrors: [{ field: ['productId'], code: 'PRODUCT_DOES_NOT_EXIST', message: 'Product does not exist' }] };
  const errors: UserError[] = [];
  const plan: { variant: VariantRec; patch: Parameters<typeof s.updateVariant>[1] }[] = [];
  args.variants.forEach((input, i) => {
    const f = (k: string) => ['variants', String(i), k];
    const before = errors.length;
    if (!input.id) { errors.push({ field: f('id'), code: 'PRODUCT_VARIANT_ID_MISSING', message: 'Product variant is missing ID attribute' }); return; }
    const variant = s.variantById.get(parseGid(input.id, 'ProductVariant') ?? -1);
    if (!variant || variant.product !== product) { errors.push({ field: f('id'), code: 'PRODUCT_VARIANT_DOES_NOT_EXIST', message: 'Product variant does not exist' }); return; }
    if (input.inventoryQuantities != null) errors.push({ field: f('inventoryQuantities'), code: 'NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE', message: 'Inventory quantities can only be provided during create. To update inventory for existing variants, use inventoryAdjustQuantities.' });
    const patch: Parameters<typeof s.updateVariant>[1] = {};
    if (input.price !== undefined) {
      const p = money(input.price);
      if (p === null) errors.push({ field: f('price'), code: 'INVALID_INPUT', message: 'Price is invalid' });
      else if (Number(p) < 0) errors.push({ field: f('price'), code: 'GREATER_THAN_OR_EQUAL_TO', message: 'Price must be greater than or equal to 0' });
      else patch.price = p;
    }
    if (input.compareAtPrice !== undefined) {
      const p = input.compareAtPrice === null ? null : money(input.compareAtPrice);
      if (input.compareAtPrice !== null && p === null) errors.push({ field: f('compareAtPrice'), code: 'INVALID_INPUT', message: 'Compare at price is invalid' });
      else patch.compareAtPrice = p;
    }
    if (input.barcode !== undefined) patch.barcode = input.barcode;
    if (input.taxable != null) patch.taxable = input.taxable;
    if (input.inventoryPolicy != null) patch.inventoryPolicy = input.inventoryPolicy;
    const item = input.inventoryItem;
    if (item) {
      if (item.sku !== undefined) {
        if (item.sku !== null && item.sku.length > 255) errors.push({ field: [...f('inventoryItem'), 'sku'], code: 'TOO_LONG', message: 'SKU is too long (maximum is 255 characters)' });
        else patch.sku = item.sku === null || item.sku === '' ? null : item.sku;
      }
      if (item.tracked != null) patch.tracked = item.tracked;
      if (item.requiresShipping != null) patch.requiresShipping = item.requiresShipping;
      const w = weightOf(item);
      if (w.error) errors.push({ field: [...f('inventoryItem'), 'measurement', 'weight', 'value'], code: 'INVALID_INPUT', message: w.error });
      else if (w.weight) patch.weight = w.weight;
    }
    if (errors.length === before) plan.push({ variant, patch });
  });
  if (errors.length > 0 && !args.allowPartialUpdates) return { product, productVariants: null, userErrors: errors };
  for (const p of plan) s.updateVariant(p.variant, p.patch);
  s.announceProducts(plan.map((p) => p.variant.product));
  if (plan.length > 0) {
    ctx.sim.recordWrite({
      mutation: 'productVariantsBulkUpdate', idempotencyKey: null, apiVersion: ctx.apiVersion, input: args,
      changes: plan.map((p) => ({ variantId: gid('ProductVariant', p.variant.id), sku: p.variant.sku, ...p.patch })),
    });
  }
  return { product, productVariants: plan.map((p) => p.variant), userErrors: errors };
}

interface ProductSetArgs {
  identifier?: { handle?: string | null; id?: string | null } | null;
  synchronous?: boolean | null;
  input: {
    title?: string | null; descriptionHtml?: string | null; handle?: string | null; vendor?: string | null; productType?: string | null;
    status?: 'ACTIVE' | 'ARCHIVED' | 'DRAFT' | 'UNLISTED' | null;
    productOptions?: Array<{ name?: string | null; values?: Array<{ name?: string | null }> | null }> | null;
    variants?: Array<{
      optionValues: Array<{ name?: string | null; optionName?: string | null }>;
      price?: unknown; compareAtPrice?: unknown; barcode?: string | null; taxable?: boolean | null; inventoryPolicy?: 'DENY' | 'CONTINUE' | null;
      inventoryItem?: ItemInput | null;
      inventoryQuantities?: Array<{ locationId: string; name: string; quantity: number }> | null;
    }> | null;
  };
}

/** Shopify's limits on a product (https://shopify.dev/docs/api/admin-graphql/latest/mutations/productSet: 2048 variants by default; 3 options). */
export const PRODUCT_LIMITS = { options: 3, variants: 2048 };

const slug = (s: string): string => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');

/**
 * `productSet` creating a product (synchronously) with its options and variants, as Shopify
 * validates it: the whole input is checked first and nothing is created when any part is refused
 * (userErrors with Shopify's codes). A `handle` identifier upserts: it creates when no product
 * has the handle. Updating an existing product through `productSet` (list fields replaced) and
 * `synchronous: false` are not modelled: refused with a GraphQL error.
 */
function productSet(ctx: SimContext, args: ProductSetArgs) {
  const s = ctx.sim.store;
  const input = args.input;
  if (args.synchronous === false) throw new GraphQLError('productSet with synchronous: false is not modelled by the simulator.', { extensions: { code: 'BAD_REQUEST' } });
  const fail = (field: string[], code: string, message: string) => ({ product: null, userErrors: [{ field, code, message }] });
  if (args.identifier?.id) {
    const found = s.productById.get(parseGid(args.identifier.id, 'Product') ?? -1);
    if (!found) return fail(['identifier', 'id'], 'NOT_FOUND', 'Resource matching the identifier was not found.');
    throw new GraphQLError('productSet updating an existing product is not modelled by the simulator.', { extensions: { code: 'BAD_REQUEST' } });
  }
  if (args.identifier?.handle != null) {
    if (input.handle != null && input.handle !== args.identifier.handle) return fail(['input', 'handle'], 'INPUT_MISMATCH', 'The identifier value does not match the value of the corresponding field in the input.');
    if (s.productByHandle.has(args.identifier.handle)) throw new GraphQLError('productSet updating an existing product is not modelled by the simulator.', { extensions: { code: 'BAD_REQUEST' } });
  }
  const errors: UserError[] = [];
  const title = (input.title ?? '').trim();
  if (!title) errors.push({ field: ['input', 'title'], code: 'INVALID_PRODUCT', message: "Title can't be blank" });
  const handle = args.identifier?.handle ?? input.handle ?? slug(title);
  if (handle && s.productByHandle.has(handle)) errors.push({ field: ['input', 'handle'], code: 'HANDLE_NOT_UNIQUE', message: `Handle '${handle}' already in use. Please provide a new handle.` });
  const options = (input.productOptions ?? []).map((o) => ({ name: (o.name ?? '').trim(), values: (o.values ?? []).map((v) => (v.name ?? '').trim()) }));
  if (options.length > PRODUCT_LIMITS.options) errors.push({ field: ['input', 'productOptions'], code: 'OPTIONS_OVER_LIMIT', message: `Can only specify a maximum of ${PRODUCT_LIMITS.options} options` });
  options.forEach((o, i) => {
    if (!o.name) errors.push({ field: ['input', 'productOptions', String(i), 'name'], code: 'INVALID_INPUT', message: "Option name can't be blank" });
    if (o.values.length === 0) errors.push({ field: ['input', 'productOptions', String(i), 'values'], code: 'OPTION_VALUES_MISSING', message: 'Option values must be specified' });
    if (new Set(o.values).size !== o.values.length) errors.push({ field: ['input', 'productOptions', String(i), 'values'], code: 'DUPLICATED_OPTION_VALUE', message: 'Duplicated option value.' });
    if (options.findIndex((x) => x.name === o.name) !== i) errors.push({ field: ['input', 'productOptions', String(i), 'name'], code: 'DUPLICATED_OPTION_NAME', message: 'Duplicated option name.' });
  });
  const variants = input.variants ?? [];
  if (variants.length === 0 && options.length > 0) errors.push({ field: ['input', 'variants'], code: 'VARIANTS_INPUT_MISSING', message: 'Variants input must be specified when options are specified.' });
  if (variants.length > 0 && options.length === 0) errors.push({ field: ['input', 'productOptions'], code: 'PRODUCT_OPTIONS_INPUT_MISSING', message: 'Options input must be specified when variants are specified.' });
  if (variants.length > PRODUCT_LIMITS.variants) errors.push({ field: ['input', 'variants'], code: 'VARIANTS_OVER_LIMIT', message: `Can only specify a maximum of ${PRODUCT_LIMITS.variants} variants` });
  const combos = new Set<string>();
  const built: Parameters<typeof s.createProduct>[0]['variants'] = [];
  variants.forEach((v, i) => {
    const f = (...k: string[]) => ['input', 'variants', String(i), ...k];
    const values = options.map((o) => v.optionValues.find((x) => (x.optionName ?? '').trim() === o.name)?.name?.trim());
    if (v.optionValues.length !== options.length || values.some((x, j) => x === undefined || !options[j]!.values.includes(x))) {
      errors.push({ field: f('optionValues'), code: 'INVALID_VARIANT', message: 'Option values of the variant must name each product option once, with one of its values.' });
      return;
    }
    const key = values.join(' / ');
    if (combos.has(key)) errors.push({ field: f('optionValues'), code: 'INVALID_VARIANT', message: `The variant '${key}' already exists.` });
    combos.add(key);
    const price = v.price === undefined || v.price === null ? '0.00' : money(v.price);
    if (price === null || Number(price) < 0) errors.push({ field: f('price'), code: 'INVALID_VARIANT', message: 'Price must be greater than or equal to 0' });
    const compare = v.compareAtPrice === undefined || v.compareAtPrice === null ? null : money(v.compareAtPrice);
    if (v.compareAtPrice != null && compare === null) errors.push({ field: f('compareAtPrice'), code: 'INVALID_VARIANT', message: 'Compare at price is invalid' });
    const sku = v.inventoryItem?.sku ?? null;
    if (sku !== null && sku.length > 255) errors.push({ field: f('inventoryItem', 'sku'), code: 'INVALID_VARIANT', message: 'SKU is too long (maximum is 255 characters)' });
    const w = weightOf(v.inventoryItem);
    if (w.error) errors.push({ field: f('inventoryItem', 'measurement', 'weight', 'value'), code: 'INVALID_VARIANT', message: w.error });
    const quantities = new Map<number, number>();
    (v.inventoryQuantities ?? []).forEach((q, j) => {
      const location = s.locationById.get(parseGid(q.locationId, 'Location') ?? -1);
      if (!location) errors.push({ field: f('inventoryQuantities', String(j), 'locationId'), code: 'INVALID_VARIANT', message: 'Location does not exist' });
      else if (q.name !== 'available' && q.name !== 'on_hand') errors.push({ field: f('inventoryQuantities', String(j), 'name'), code: 'INVALID_VARIANT', message: `Quantity name ${q.name} is not valid` });
      else quantities.set(location.id, q.quantity);
    });
    built.push({
      title: values.length ? key : 'Default Title', sku: sku === '' ? null : sku, price: price ?? '0.00', compareAtPrice: compare, barcode: v.barcode ?? null,
      taxable: v.taxable ?? true, inventoryPolicy: v.inventoryPolicy ?? 'DENY', tracked: v.inventoryItem?.tracked ?? true, requiresShipping: v.inventoryItem?.requiresShipping ?? true, ...(w.weight ? { weight: w.weight } : {}), quantities,
    });
  });
  if (errors.length > 0) return { product: null, userErrors: errors };
  if (built.length === 0) {
    built.push({ title: 'Default Title', sku: null, price: '0.00', compareAtPrice: null, barcode: null, taxable: true, inventoryPolicy: 'DENY', tracked: false, requiresShipping: true, quantities: new Map() });
  }
  if (input.status === 'UNLISTED') throw new GraphQLError('productSet with status UNLISTED is not modelled by the simulator.', { extensions: { code: 'BAD_REQUEST' } });
  const status = input.status ?? 'ACTIVE';
  const product = s.createProduct({
    title, handle, vendor: input.vendor ?? '', productType: input.productType ?? '', status, descriptionHtml: input.descriptionHtml ?? null,
    options: options.length ? options : [{ name: 'Title', values: ['Default Title'] }], variants: built,
  });
  ctx.sim.recordWrite({ mutation: 'productSet', idempotencyKey: null, apiVersion: ctx.apiVersion, input: args, changes: { productId: gid('Product', product.id), variants: product.variants.map((v) => ({ id: gid('ProductVariant', v.id), sku: v.sku })) } });
  return { product, userErrors: [] };
}

/** `productUpdate` of title and status (the fields the subset keeps); a product is named by `product.id`. */
function productUpdate(ctx: SimContext, args: { product?: { id?: string | null; title?: string | null; status?: 'ACTIVE' | 'ARCHIVED' | 'DRAFT' | 'UNLISTED' | null } | null }) {
  const s = ctx.sim.store;
  const input = args.product ?? {};
  if (!input.id) return { product: null, userErrors: [{ field: ['id'], message: 'Product does not exist' }] };
  const product = s.productById.get(parseGid(input.id, 'Product') ?? -1);
  if (!product) return { product: null, userErrors: [{ field: ['id'], message: 'Product does not exist' }] };
  if (input.status === 'UNLISTED') throw new GraphQLError('productUpdate with status UNLISTED is not modelled by the simulator.', { extensions: { code: 'BAD_REQUEST' } });
  if (input.title !== undefined && input.title !== null && input.title.trim() === '') return { product: null, userErrors: [{ field: ['title'], message: "Title can't be blank" }] };
  const patch: { title?: string; status?: 'ACTIVE' | 'ARCHIVED' | 'DRAFT' } = {};
  if (input.title != null) patch.title = input.title;
  if (input.status != null) patch.status = input.status;
  s.updateProduct(product, patch);
  ctx.sim.recordWrite({ mutation: 'productUpdate', idempotencyKey: null, apiVersion: ctx.apiVersion, input: args, changes: { productId: gid('Product', product.id), ...patch } });
  return { product, userErrors: [] };
}

function createSubscription(ctx: SimContext, args: { topic: string; webhookSubscription: { uri?: string | null; format?: string | null; filter?: string | null; includeFields?: string[] | null } }) {
  const d = ctx.sim.dispatcher;
  const input = args.webhookSubscription;
  const fail = (message: string) => ({ webhookSubscription: null, userErrors: [{ field: ['webhookSubscription', 'uri'], message }] });
  if (!input.uri) return fail('Address can\'t be blank');
  let url: URL;
  try { url = new URL(input.uri); } catch { return fail('Address is invalid'); }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return fail(`Address protocol ${url.protocol}// is not supported`);
  if (!(args.topic in TOPICS)) return { webhookSubscription: null, userErrors: [{ field: ['topic'], message: 'Topic is not supported by the simulator' }] };
  for (const sub of d.subscriptions.values()) if (sub.topic === args.topic && sub.uri === input.uri) return fail('Address for this topic has already been taken');
  const at = ctx.sim.store.stamp();
  const sub: WebhookSubscriptionRec = {
    id: d.nextSubscriptionId(),
    topic: args.topic, uri: input.uri, format: 'JSON', filter: input.filter ?? null, includeFields: input.includeFields ?? [],
    apiVersion: ctx.apiVersion, createdAt: at, updatedAt: at, seq: 0,
  };
  d.subscriptions.set(sub.id, sub);
  ctx.sim.recordWrite({ mutation: 'webhookSubscriptionCreate', idempotencyKey: null, apiVersion: ctx.apiVersion, input: args, changes: { id: gid('WebhookSubscription', sub.id) } });
  return { webhookSubscription: sub, userErrors: [] };
}

function deleteSubscription(ctx: SimContext, args: { id: string }) {
  const id = parseGid(args.id, 'WebhookSubscription') ?? -1;
  if (!ctx.sim.dispatcher.subscriptions.delete(id)) {
    return { deletedWebhookSubscriptionId: null, userErrors: [{ field: ['id'], message: 'Webhook subscription does not exist' }] };
  }
  ctx.sim.recordWrite({ mutation: 'webhookSubscriptionDelete', idempotencyKey: null, apiVersion: ctx.apiVersion, input: args, changes: null });
  return { deletedWebhookSubscriptionId: args.id, userErrors: [] };
}

/** Resolvers of the catalog, webhook and bulk mutations. */
export function catalogResolvers(): ResolverMap {
  const guard = <A, R>(fn: (ctx: SimContext, args: A) => R) => (_: unknown, args: A, ctx: SimContext, info: GraphQLResolveInfo): R => {
    idempotencyKey(info); // refuses @idempotent where Shopify does not support it
    return fn(ctx, args);
  };
  return {
    Mutation: {
      productVariantsBulkUpdate: guard(bulkUpdate),
      productSet: guard(productSet),
      productUpdate: guard(productUpdate),
      webhookSubscriptionCreate: guard(createSubscription),
      webhookSubscriptionDelete: guard(deleteSubscription),
      bulkOperationRunQuery: guard((ctx: SimContext, args: { query: string; groupObjects: boolean }) => ctx.bulk.run(args.query, args.groupObjects)),
    },
  };
}
