import { invalidParam, type Backorders, type PostStatus, type ProductType, type StockStatus } from './model.js';

/** What a create/update request asks to change on a product or variation. */
export interface ProductPatch {
  name?: string;
  type?: ProductType;
  status?: PostStatus;
  sku?: string;
  regularPrice?: string;
  salePrice?: string;
  description?: string;
  shortDescription?: string;
  manageStock?: boolean;
  stockQuantity?: number;
  stockStatus?: StockStatus;
  backorders?: Backorders;
  menuOrder?: number;
  /** Product: `[{name, options}]`; variation: `[{name, option}]` folded to one option. */
  attributes?: Array<{ name: string; options: string[] }>;
  /** `global_unique_id` as sent (the store sanitizes and checks it). */
  globalUniqueId?: string;
  /** `date_created` (site time) or `date_created_gmt`, as GMT epoch ms (whole seconds). */
  createdMs?: number;
  /** `meta_data` items, applied in order with `update_meta_data`. */
  metaData?: Array<{ id?: number; key: string; value: unknown }>;
}

const PRODUCT_TYPES = ['simple', 'grouped', 'external', 'variable'] as const;
const STATUSES = ['draft', 'pending', 'private', 'publish', 'future'] as const;
const STOCK_STATUSES = ['instock', 'outofstock', 'onbackorder'] as const;
const BACKORDERS = ['no', 'notify', 'yes'] as const;

/**
 * Reads a product/variation body the way WordPress validates it against the endpoint schema.
 * `strict` is true for single-item routes (WP validates args there) and false for batch items,
 * which WooCommerce dispatches internally without schema validation (values are coerced).
 */
export function parseProductInput(body: Record<string, unknown>, opts: { strict: boolean; variation: boolean; tzOffset?: number }): ProductPatch {
  const { strict } = opts;
  const patch: ProductPatch = {};
  const str = (param: string): string | undefined => {
    const v = body[param];
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    if (strict || v === null || typeof v === 'object') throw invalidParam(param, `${param} is not of type string.`);
    return String(v);
  };
  const int = (param: string): number | undefined => {
    const v = body[param];
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n) || (strict && !Number.isInteger(n))) throw invalidParam(param, `${param} is not of type integer.`);
    return Math.trunc(n);
  };
  const bool = (param: string): boolean | undefined => {
    const v = body[param];
    if (v === undefined) return undefined;
    if (v === true || v === 'true' || v === '1' || v === 1) return true;
    if (v === false || v === 'false' || v === '0' || v === 0 || v === '') return false;
    throw invalidParam(param, `${param} is not of type boolean.`);
  };
  const oneOf = <T extends string>(param: string, values: readonly T[]): T | undefined => {
    const v = str(param);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) throw invalidParam(param, `${param} is not one of ${values.join(', ')}.`, 'rest_not_in_enum');
    return v as T;
  };

  if (!opts.variation) {
    patch.name = str('name');
    patch.type = oneOf('type', PRODUCT_TYPES);
    patch.shortDescription = str('short_description');
  }
  patch.status = oneOf('status', STATUSES);
  const sku = str('sku');
  if (sku !== undefined) patch.sku = sku.trim();
  const regular = str('regular_price');
  if (regular !== undefined) patch.regularPrice = formatDecimal(regular);
  const sale = str('sale_price');
  if (sale !== undefined) patch.salePrice = formatDecimal(sale);
  patch.description = str('description');
  patch.globalUniqueId = str('global_unique_id');
  patch.manageStock = bool('manage_stock');
  patch.stockQuantity = int('stock_quantity');
  patch.stockStatus = oneOf('stock_status', STOCK_STATUSES);
  patch.backorders = oneOf('backorders', BACKORDERS);
  patch.menuOrder = int('menu_order');
  if (body.attributes !== undefined) patch.attributes = parseAttributes(body.attributes, opts.variation);
  if (body.meta_data !== undefined) patch.metaData = parseMetaData(body.meta_data);
  if (!opts.variation) {
    // set_date_created: `date_created` without a zone is site time; `date_created_gmt` is GMT.
    const local = str('date_created');
    const gmt = str('date_created_gmt');
    const ms = (v: string, offsetMin: number): number => {
      const t = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(v) ? v : `${v.replace(' ', 'T')}Z`);
      if (!Number.isFinite(t)) throw invalidParam(gmt !== undefined ? 'date_created_gmt' : 'date_created', 'Invalid date.', 'rest_invalid_date');
      return Math.floor((/(Z|[+-]\d{2}:?\d{2})$/i.test(v) ? t : t - offsetMin * 60_000) / 1000) * 1000;
    };
    if (local) patch.createdMs = ms(local, opts.tzOffset ?? 0);
    if (gmt) patch.createdMs = ms(gmt, 0);
  }
  for (const k of Object.keys(patch) as Array<keyof ProductPatch>) if (patch[k] === undefined) delete patch[k];
  return patch;
}

/** wc_format_decimal: numeric strings are kept, anything else becomes '' (no price). */
function formatDecimal(v: string): string {
  const t = v.trim();
  return /^-?\d+(\.\d+)?$/.test(t) ? t : '';
}

function parseAttributes(raw: unknown, variation: boolean): Array<{ name: string; options: string[] }> {
  if (!Array.isArray(raw)) throw invalidParam('attributes', 'attributes is not of type array.');
  return raw.map((a: unknown) => {
    const o = (a ?? {}) as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name : '';
    if (variation) return { name, options: typeof o.option === 'string' ? [o.option] : [] };
    const options = Array.isArray(o.options) ? o.options.filter((x): x is string => typeof x === 'string') : [];
    return { name, options };
  });
}

/** `meta_data`: an array of `{id?, key, value}` (the schema's; WooCommerce skips items without a key). */
function parseMetaData(raw: unknown): Array<{ id?: number; key: string; value: unknown }> {
  if (!Array.isArray(raw)) throw invalidParam('meta_data', 'meta_data is not of type array.');
  return raw.flatMap((m: unknown) => {
    const o = (m ?? {}) as Record<string, unknown>;
    if (typeof o.key !== 'string' || o.key === '') return [];
    const id = typeof o.id === 'number' ? o.id : typeof o.id === 'string' && /^\d+$/.test(o.id) ? Number(o.id) : undefined;
    return [{ ...(id ? { id } : {}), key: o.key, value: o.value ?? '' }];
  });
}

