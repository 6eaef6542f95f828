import { wpDate, type OrderRecord, type ProductRecord, type WebhookRecord } from './model.js';
import type { WooStore } from './store.js';
import { isOnSale, productOnSale } from './product-list.js';

/** What the serialisers need to know about the site. */
export interface SiteContext {
  siteUrl: string;
  apiUrl: string;
  tzOffset: number;
}

const dates = (ctx: SiteContext, createdMs: number, modifiedMs: number) => ({
  date_created: wpDate(createdMs, ctx.tzOffset),
  date_created_gmt: wpDate(createdMs),
  date_modified: wpDate(modifiedMs, ctx.tzOffset),
  date_modified_gmt: wpDate(modifiedMs),
});

function priceOf(p: ProductRecord): string {
  return p.salePrice !== '' ? p.salePrice : p.regularPrice;
}

/** A product as `GET /products/{id}` returns it (a variation id gives the variation as a product, type `variation`). */
export function productJson(store: WooStore, p: ProductRecord, ctx: SiteContext): Record<string, unknown> {
  const variable = p.type === 'variable';
  const parent = p.parentId ? store.get(p.parentId) : undefined;
  let price = priceOf(p);
  if (variable) {
    const prices = p.children.map((id) => store.get(id)).filter((c): c is ProductRecord => !!c && c.status !== 'trash').map(priceOf).filter((x) => x !== '').map(Number);
    price = prices.length ? String(Math.min(...prices)) : '';
  }
  const option = p.attributes[0]?.options[0];
  const stock = store.stockView(p);
  return {
    id: p.id,
    name: parent ? `${parent.name}${option ? ` - ${option}` : ''}` : p.name,
    slug: p.slug,
    permalink: `${ctx.siteUrl}/?post_type=product&p=${p.id}`,
    ...dates(ctx, p.createdMs, p.modifiedMs),
    type: p.type,
    status: p.status,
    featured: false,
    catalog_visibility: 'visible',
    description: p.description,
    short_description: p.shortDescription,
    sku: p.sku,
    global_unique_id: p.globalUniqueId ?? '',
    price,
    regular_price: variable ? '' : p.regularPrice,
    sale_price: variable ? '' : p.salePrice,
    on_sale: productOnSale(store, p),
    purchasable: price !== '',
    total_sales: p.totalSales,
    virtual: false,
    downloadable: false,
    tax_status: 'taxable',
    tax_class: '',
    manage_stock: stock.manageStock,
    stock_quantity: stock.stockQuantity,
    backorders: stock.backorders,
    backorders_allowed: stock.backorders !== 'no',
    backordered: false,
    low_stock_amount: null,
    sold_individually: false,
    weight: '',
    parent_id: p.parentId,
    categories: [],
    tags: [],
    images: [],
    attributes: parent
      ? p.attributes.map((a) => ({ id: 0, name: a.name, option: a.options[0] ?? '' }))
      : p.attributes.map((a, i) => ({ id: 0, name: a.name, position: i, visible: true, variation: variable, options: a.options })),
    default_attributes: [],
    variations: variable ? [...p.children] : [],
    menu_order: p.menuOrder,
    meta_data: metaJson(p),
    stock_status: variable && !p.manageStock ? store.parentStockStatus(p) : p.stockStatus,
    has_options: variable,
    _links: links(ctx, `products/${p.id}`, 'products'),
  };
}

/** A variation as `GET /products/{parent}/variations/{id}` returns it. */
export function variationJson(store: WooStore, p: ProductRecord, ctx: SiteContext): Record<string, unknown> {
  const price = priceOf(p);
  const stock = store.stockView(p);
  return {
    id: p.id,
    ...dates(ctx, p.createdMs, p.modifiedMs),
    description: p.description,
    permalink: `${ctx.siteUrl}/?post_type=product_variation&p=${p.id}`,
    sku: p.sku,
    price,
    regular_price: p.regularPrice,
    sale_price: p.salePrice,
    on_sale: isOnSale(p),
    status: p.status,
    purchasable: price !== '',
    virtual: false,
    downloadable: false,
    tax_status: 'taxable',
    tax_class: '',
    manage_stock: stock.manageStock,
    stock_quantity: stock.stockQuantity,
    stock_status: p.stockStatus,
    backorders: stock.backorders,
    backorders_allowed: stock.backorders !== 'no',
    backordered: false,
    low_stock_amount: null,
    weight: '',
    image: null,
    attributes: p.attributes.map((a) => ({ id: 0, name: a.name, option: a.options[0] ?? '' })),
    menu_order: p.menuOrder,
    meta_data: metaJson(p),
    _links: {
      ...links(ctx, `products/${p.parentId}/variations/${p.id}`, `products/${p.parentId}/variations`),
      up: [{ href: `${ctx.apiUrl}/products/${p.parentId}` }],
    },
  };
}

/** An order as `GET /orders/{id}` returns it. */
export function orderJson(o: OrderRecord, ctx: SiteContext): Record<string, unknown> {
  const lineItems = o.lines.map((l) => ({
    id: l.id,
    name: l.name,
    product_id: l.productId,
    variation_id: l.variationId,
    quantity: l.quantity,
    tax_class: '',
    subtotal: (l.price * l.quantity).toFixed(2),
    subtotal_tax: '0.00',
    total: (l.price * l.quantity).toFixed(2),
    total_tax: '0.00',
    taxes: [],
    meta_data: l.reducedStock !== null ? [{ id: l.id * 10, key: '_reduced_stock', value: String(l.reducedStock) }] : [],
    sku: l.sku,
    price: l.price,
  }));
  const total = o.lines.reduce((s, l) => s + l.price * l.quantity, 0);
  return {
    id: o.id,
    parent_id: 0,
    status: o.status,
    currency: o.currency,
    version: '9.8.0',
    prices_include_tax: false,
    ...dates(ctx, o.createdMs, o.modifiedMs),
    discount_total: '0.00',
    discount_tax: '0.00',
    shipping_total: '0.00',
    shipping_tax: '0.00',
    cart_tax: '0.00',
    total: total.toFixed(2),
    total_tax: '0.00',
    customer_id: 0,
    order_key: o.orderKey,
    billing: o.billing,
    shipping: {},
    payment_method: '',
    payment_method_title: '',
    customer_note: o.customerNote,
    date_paid: wpDate(o.paidMs, ctx.tzOffset),
    date_paid_gmt: wpDate(o.paidMs),
    date_completed: wpDate(o.completedMs, ctx.tzOffset),
    date_completed_gmt: wpDate(o.completedMs),
    number: String(o.id),
    meta_data: [],
    line_items: lineItems,
    tax_lines: [],
    shipping_lines: [],
    fee_lines: [],
    coupon_lines: [],
    refunds: [],
    _links: links(ctx, `orders/${o.id}`, 'orders'),
  };
}

/** WC_Webhook::get_default_topic_hooks (WooCommerce 10.x/11.x): the actions each topic listens to. */
const TOPIC_HOOKS: Record<string, string[]> = {
  'coupon.created': ['woocommerce_process_shop_coupon_meta', 'woocommerce_new_coupon'],
  'coupon.updated': ['woocommerce_process_shop_coupon_meta', 'woocommerce_update_coupon'],
  'coupon.deleted': ['wp_trash_post'],
  'coupon.restored': ['untrashed_post'],
  'customer.created': ['user_register', 'woocommerce_created_customer', 'woocommerce_new_customer'],
  'customer.updated': ['profile_update', 'woocommerce_update_customer'],
  'customer.deleted': ['delete_user'],
  'order.created': ['woocommerce_new_order'],
  'order.updated': ['woocommerce_update_order', 'woocommerce_order_refunded', 'woocommerce_delete_order_refund'],
  'order.deleted': ['wp_trash_post', 'woocommerce_trash_order'],
  'order.restored': ['untrashed_post', 'woocommerce_untrash_order'],
  'product.created': ['woocommerce_process_product_meta', 'woocommerce_new_product', 'woocommerce_new_product_variation'],
  'product.updated': ['woocommerce_process_product_meta', 'woocommerce_update_product', 'woocommerce_update_product_variation'],
  'product.deleted': ['wp_trash_post'],
  'product.restored': ['untrashed_post'],
};

/** The `hooks` of a webhook: the topic's actions; an `action.<hook>` topic listens to `<hook>`. */
export function webhookHooks(topic: string): string[] {
  const [resource = '', event = ''] = topic.split('.');
  return resource === 'action' ? [event] : [...(TOPIC_HOOKS[topic] ?? [])];
}

/** A webhook as `GET /webhooks/{id}` returns it (the secret is never shown). */
export function webhookJson(w: WebhookRecord, ctx: SiteContext): Record<string, unknown> {
  const [resource = '', event = ''] = w.topic.split('.');
  return {
    id: w.id,
    name: w.name,
    status: w.status,
    topic: w.topic,
    resource,
    event,
    hooks: webhookHooks(w.topic),
    delivery_url: w.deliveryUrl,
    ...dates(ctx, w.createdMs, w.modifiedMs),
    _links: links(ctx, `webhooks/${w.id}`, 'webhooks'),
  };
}

function links(ctx: SiteContext, self: string, collection: string) {
  return { self: [{ href: `${ctx.apiUrl}/${self}` }], collection: [{ href: `${ctx.apiUrl}/${collection}` }] };
}

/** `meta_data` of a product or variation: its custom meta, with ids. */
function metaJson(p: ProductRecord): Array<{ id: number; key: string; value: unknown }> {
  return p.meta.map((m) => ({ id: m.id, key: m.key, value: m.value }));
}

