/**
 * Webhook bodies shaped like Shopify's REST-style payloads: numeric ids, snake_case keys,
 * `admin_graphql_api_id`, prices as strings, timestamps with the shop's UTC offset.
 */
import { isoWithOffset } from './clock.js';
import { gid, inventoryLevelGid } from './gid.js';
import { availableTotal, type InventoryItemRec, type InventoryLevelRec, type OrderRec, type ProductRec, type VariantRec } from './model.js';

/** Topic names as they travel in `X-Shopify-Topic`, by GraphQL enum value. */
export const TOPICS: Record<string, string> = {
  PRODUCTS_CREATE: 'products/create',
  PRODUCTS_UPDATE: 'products/update',
  PRODUCTS_DELETE: 'products/delete',
  INVENTORY_LEVELS_UPDATE: 'inventory_levels/update',
  INVENTORY_LEVELS_CONNECT: 'inventory_levels/connect',
  INVENTORY_ITEMS_UPDATE: 'inventory_items/update',
  ORDERS_CREATE: 'orders/create',
  ORDERS_UPDATED: 'orders/updated',
  ORDERS_CANCELLED: 'orders/cancelled',
  ORDERS_PAID: 'orders/paid',
  BULK_OPERATIONS_FINISH: 'bulk_operations/finish',
};

type Ts = (ms: number) => string;

/** Builds payloads with the shop's UTC offset. */
export function payloadBuilders(offsetMinutes: number) {
  const ts: Ts = (ms) => isoWithOffset(ms, offsetMinutes);
  const variant = (v: VariantRec) => ({
    id: v.id, product_id: v.product.id, title: v.title, price: v.price, sku: v.sku ?? '', position: v.position,
    inventory_policy: v.inventoryPolicy.toLowerCase(), compare_at_price: v.compareAtPrice, option1: v.title,
    option2: null, option3: null, created_at: ts(v.createdAt), updated_at: ts(v.updatedAt), taxable: v.taxable,
    barcode: v.barcode, fulfillment_service: 'manual', grams: 0, inventory_management: v.inventoryItem.tracked ? 'shopify' : null,
    requires_shipping: v.inventoryItem.requiresShipping, ...weightFields(v.inventoryItem.weight), inventory_item_id: v.inventoryItem.id,
    inventory_quantity: availableTotal(v.inventoryItem), old_inventory_quantity: availableTotal(v.inventoryItem),
    image_id: null, admin_graphql_api_id: gid('ProductVariant', v.id),
  });
  return {
    product: (p: ProductRec) => ({
      id: p.id, title: p.title, body_html: '', vendor: p.vendor, product_type: p.productType, created_at: ts(p.createdAt),
      handle: p.handle, updated_at: ts(p.updatedAt), published_at: ts(p.createdAt), template_suffix: null,
      published_scope: 'global', tags: p.tags.join(', '), status: p.status.toLowerCase(), admin_graphql_api_id: gid('Product', p.id),
      variants: p.variants.map(variant),
      options: [{ id: p.id, product_id: p.id, name: 'Title', position: 1, values: p.variants.map((v) => v.title) }],
      images: [], image: null,
      variant_gids: p.variants.map((v) => ({ admin_graphql_api_id: gid('ProductVariant', v.id), updated_at: new Date(Math.floor(v.updatedAt / 1000) * 1000).toISOString() })),
    }),
    inventoryLevel: (l: InventoryLevelRec) => ({
      inventory_item_id: l.item.id, location_id: l.location.id, available: l.quantities.available, updated_at: ts(l.updatedAt),
      admin_graphql_api_id: inventoryLevelGid(l.location.id, l.item.id),
    }),
    inventoryItem: (i: InventoryItemRec) => ({
      id: i.id, sku: i.variant.sku ?? '', created_at: ts(i.createdAt), updated_at: ts(i.updatedAt), requires_shipping: i.requiresShipping,
      cost: null, country_code_of_origin: null, province_code_of_origin: null, harmonized_system_code: null, tracked: i.tracked,
      country_harmonized_system_codes: [], admin_graphql_api_id: gid('InventoryItem', i.id),
    }),
    order: (o: OrderRec) => {
      const subtotal = o.lineItems.reduce((s, li) => s + Number(li.price) * li.quantity, 0).toFixed(2);
      return {
        id: o.id, admin_graphql_api_id: gid('Order', o.id), name: o.name, order_number: o.number, number: o.number - 1000,
        email: o.email, created_at: ts(o.createdAt), updated_at: ts(o.updatedAt), processed_at: ts(o.processedAt),
        cancelled_at: o.cancelledAt === null ? null : ts(o.cancelledAt), cancel_reason: o.cancelReason?.toLowerCase() ?? null,
        closed_at: null, confirmed: true, currency: 'USD', presentment_currency: 'USD', financial_status: o.financialStatus.toLowerCase(),
        fulfillment_status: null, test: false, subtotal_price: subtotal, total_price: subtotal, total_tax: '0.00', total_discounts: '0.00',
        source_name: 'web', tags: '',
        line_items: o.lineItems.map((li) => ({
          id: li.id, admin_graphql_api_id: gid('LineItem', li.id), variant_id: li.variant?.id ?? null,
          product_id: li.variant?.product.id ?? null, sku: li.sku ?? '', title: li.title, variant_title: li.variantTitle,
          name: li.variantTitle ? `${li.title} - ${li.variantTitle}` : li.title, vendor: li.vendor, quantity: li.quantity,
          current_quantity: li.currentQuantity, fulfillable_quantity: li.currentQuantity, price: li.price,
          requires_shipping: true, taxable: true, gift_card: false, fulfillment_status: null, fulfillment_service: 'manual',
          total_discount: '0.00', tax_lines: [], discount_allocations: [],
        })),
        refunds: [],
      };
    },
  };
}

const GRAMS_PER = { KILOGRAMS: 1000, GRAMS: 1, POUNDS: 453.59237, OUNCES: 28.349523125 } as const;
const REST_UNIT = { KILOGRAMS: 'kg', GRAMS: 'g', POUNDS: 'lb', OUNCES: 'oz' } as const;

/** A variant's `weight`, `weight_unit` and `grams` as the REST webhook payload shows them. */
function weightFields(w: { value: number; unit: keyof typeof GRAMS_PER } | undefined): Record<string, unknown> {
  if (!w) return { weight: 0, weight_unit: 'kg' };
  return { weight: w.value, weight_unit: REST_UNIT[w.unit], grams: Math.round(w.value * GRAMS_PER[w.unit]) };
}
