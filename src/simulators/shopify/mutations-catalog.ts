import { idempotencyKey } from './guards.js';
import type { GraphQLResolveInfo } from 'graphql';
import type { SimContext } from './context.js';
import { gid, parseGid } from './gid.js';
import type { VariantRec } from './model.js';
import { TOPICS } from './webhook-payloads.js';
import type { ResolverMap } from './resolvers-query.js';
import type { WebhookSubscriptionRec } from './webhooks.js';

interface UserError { field: string[] | null; code?: string; message: string }
interface VariantInput {
  id?: string | null; price?: unknown; compareAtPrice?: unknown; barcode?: string | null; taxable?: boolean | null;
  inventoryPolicy?: 'DENY' | 'CONTINUE' | null; inventoryItem?: { sku?: string | null; tracked?: boolean | null; requiresShipping?: boolean | null } | null;
  inventoryQuantities?: unknown[] | null;
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
      webhookSubscriptionCreate: guard(createSubscription),
      webhookSubscriptionDelete: guard(deleteSubscription),
      bulkOperationRunQuery: guard((ctx: SimContext, args: { query: string; groupObjects: boolean }) => ctx.bulk.run(args.query, args.groupObjects)),
    },
  };
}
