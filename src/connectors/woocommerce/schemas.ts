import { z } from 'zod';

/**
 * The parts of WooCommerce REST (wc/v3) resources the connector reads, validated at the edge.
 * Objects are loose: WooCommerce and its plugins add fields freely.
 */

const str = z.string().nullable().optional();
/** Prices are strings in the REST API, but batch items and plugins sometimes give numbers. */
const price = z.union([z.string(), z.number()]).nullable().optional();

/** `attributes[]` of a variation (`{name, option}`) or of a product (`{name, options}`). */
const attribute = z.looseObject({ name: z.string().optional(), option: z.string().optional() });

/** A product, or a variation as `/products/{id}` and webhooks show it (`type: variation`). */
export const wooProductSchema = z.looseObject({
  id: z.number().int().positive(),
  /** Custom meta; syncctl reads its own marker of applied adjustments (`_syncctl_adjustments`). */
  meta_data: z.array(z.looseObject({ id: z.number().optional(), key: z.string(), value: z.unknown() })).optional(),
  name: z.string().optional(),
  type: z.string().optional(),
  status: z.string().optional(),
  sku: str,
  regular_price: price,
  price: price,
  manage_stock: z.union([z.boolean(), z.literal('parent')]).nullable().optional(),
  stock_quantity: z.number().nullable().optional(),
  date_modified: str,
  date_modified_gmt: str,
  parent_id: z.number().int().optional(),
  variations: z.array(z.number()).optional(),
  attributes: z.array(attribute).optional(),
});
export type WooProduct = z.infer<typeof wooProductSchema>;

/** A variation as `/products/{parent}/variations` shows it (no name, no type, no parent_id). */
export const wooVariationSchema = wooProductSchema;
export type WooVariation = WooProduct;

const lineItem = z.looseObject({
  id: z.number().int(),
  product_id: z.number().int().nullable().optional(),
  variation_id: z.number().int().nullable().optional(),
  quantity: z.number(),
  sku: str,
  price: price,
});

/** An order. */
export const wooOrderSchema = z.looseObject({
  id: z.number().int().positive(),
  number: z.union([z.string(), z.number()]).optional(),
  status: z.string(),
  currency: z.string().optional(),
  date_created_gmt: str,
  date_created: str,
  date_modified_gmt: str,
  date_modified: str,
  line_items: z.array(lineItem).default([]),
});
export type WooOrder = z.infer<typeof wooOrderSchema>;

/** A webhook subscription (`GET /webhooks`). */
export const wooWebhookSchema = z.looseObject({
  id: z.number().int(),
  name: z.string().optional(),
  status: z.string(),
  topic: z.string(),
  delivery_url: z.string().optional(),
});
export type WooWebhook = z.infer<typeof wooWebhookSchema>;

/** One item of a batch response: the resource, or `{id, error}`. */
export const wooBatchItemSchema = z.looseObject({
  id: z.number().int().optional(),
  error: z.looseObject({ code: z.string().optional(), message: z.string().optional(), data: z.unknown().optional() }).optional(),
});

/** A batch response. */
export const wooBatchResponseSchema = z.looseObject({
  create: z.array(wooBatchItemSchema).optional(),
  update: z.array(wooBatchItemSchema).optional(),
  delete: z.array(wooBatchItemSchema).optional(),
});

/** A WooCommerce error body `{code, message, data: {status}}`. */
export const wooErrorSchema = z.looseObject({ code: z.string(), message: z.string().optional() });
