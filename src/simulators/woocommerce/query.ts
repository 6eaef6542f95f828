import { WooApiError } from './model.js';

/** Collection parameters common to WooCommerce list endpoints, validated like WordPress does. */
export interface ListParams {
  page: number;
  perPage: number;
  offset?: number;
  order: 'asc' | 'desc';
  orderby: string;
  search?: string;
  include?: number[];
  /** `exclude`: ids left out (post__not_in). */
  exclude?: number[];
  /** Bounds on the modified/created column, as wall-clock ms in the column's zone (exclusive). */
  modifiedAfter?: number;
  modifiedBefore?: number;
  after?: number;
  before?: number;
  datesAreGmt: boolean;
  /** The raw query, for resource-specific filters. */
  raw: Map<string, string>;
}

const DATE_RE = /^\d{4}-(0[1-9]|1[012])-([12]\d|0[1-9]|3[01])[Tt\s]([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(\.\d+)?(Z|z|[+-]\d{2}(:\d{2})?)?$/;

/**
 * Validates list parameters; every invalid one is reported in one `rest_invalid_param` error
 * (`Invalid parameter(s): a, b` with `params` and `details`), as WP_REST_Request does.
 */
export function parseListParams(raw: Map<string, string>, orderbyEnum: readonly string[], tzOffset: number): ListParams {
  const errors: Record<string, { message: string; code: string }> = {};
  const bad = (p: string, message: string, code: string) => (errors[p] = { message, code });
  const int = (p: string, def: number, min: number, max?: number): number => {
    const v = raw.get(p);
    if (v === undefined) return def;
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n)) {
      bad(p, `${p} is not of type integer.`, 'rest_invalid_type');
      return def;
    }
    if (max !== undefined && (n < min || n > max)) bad(p, `${p} must be between ${min} (inclusive) and ${max} (inclusive)`, 'rest_out_of_bounds');
    else if (n < min) bad(p, `${p} must be greater than or equal to ${min}`, 'rest_out_of_bounds');
    return n;
  };
  const oneOf = <T extends string>(p: string, values: readonly T[], def: T): T => {
    const v = raw.get(p);
    if (v === undefined) return def;
    if (!(values as readonly string[]).includes(v)) {
      bad(p, `${p} is not one of ${values.join(', ')}.`, 'rest_not_in_enum');
      return def;
    }
    return v as T;
  };
  const gmtRaw = raw.get('dates_are_gmt');
  let datesAreGmt = false;
  if (gmtRaw !== undefined) {
    if (['true', '1'].includes(gmtRaw)) datesAreGmt = true;
    else if (!['false', '0', ''].includes(gmtRaw)) bad('dates_are_gmt', 'dates_are_gmt is not of type boolean.', 'rest_invalid_type');
  }
  const date = (p: string): number | undefined => {
    const v = raw.get(p);
    if (v === undefined) return undefined;
    if (!DATE_RE.test(v)) {
      bad(p, 'Invalid date.', 'rest_invalid_date');
      return undefined;
    }
    return wallClock(v, tzOffset);
  };
  const params: ListParams = {
    page: int('page', 1, 1),
    perPage: int('per_page', 10, 1, 100),
    offset: raw.has('offset') ? int('offset', 0, 0) : undefined,
    order: oneOf('order', ['asc', 'desc'] as const, 'desc'),
    orderby: oneOf('orderby', orderbyEnum, 'date'),
    search: raw.get('search') || undefined,
    include: raw.get('include') ? raw.get('include')!.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0) : undefined,
    exclude: raw.get('exclude') ? raw.get('exclude')!.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0) : undefined,
    modifiedAfter: date('modified_after'),
    modifiedBefore: date('modified_before'),
    after: date('after'),
    before: date('before'),
    datesAreGmt,
    raw,
  };
  const names = Object.keys(errors);
  if (names.length) {
    throw new WooApiError('rest_invalid_param', `Invalid parameter(s): ${names.join(', ')}`, 400, {
      params: Object.fromEntries(names.map((n) => [n, errors[n]!.message])),
      details: Object.fromEntries(names.map((n) => [n, { code: errors[n]!.code, message: errors[n]!.message, data: null }])),
    });
  }
  return params;
}

/**
 * Refuses collection parameters WooCommerce defines and the simulator does not model: a
 * `400 rest_invalid_param` naming them (WooCommerce would apply them; silently ignoring them
 * would let a connector that relies on one pass against a fiction).
 */
export function refuseUnmodelled(raw: Map<string, string>, names: readonly string[]): void {
  const found = names.filter((n) => raw.has(n));
  if (found.length === 0) return;
  const message = (n: string) => `${n} is a WooCommerce parameter the simulator does not model.`;
  throw new WooApiError('rest_invalid_param', `Invalid parameter(s): ${found.join(', ')}`, 400, {
    params: Object.fromEntries(found.map((n) => [n, message(n)])),
    details: Object.fromEntries(found.map((n) => [n, { code: 'syncctl_sim_unmodelled_param', message: message(n), data: null }])),
  });
}

/**
 * A date parameter as WP_Date_Query compares it: a string without zone is taken as written (wall
 * clock of whichever column is queried); one with a zone is converted to the site's local time.
 * Whole seconds, like MySQL DATETIME.
 */
function wallClock(v: string, tzOffset: number): number {
  const hasZone = /(Z|z|[+-]\d{2}(:\d{2})?)$/.test(v);
  const ms = hasZone ? Date.parse(v.replace(' ', 'T')) + tzOffset * 60_000 : Date.parse(`${v.replace(' ', 'T')}Z`);
  return Math.floor(ms / 1000) * 1000;
}

/** Keeps items inside the date bounds; `gmtMs` gives the GMT value of the column, the zone choice follows dates_are_gmt. */
export function withinDates<T>(items: T[], p: ListParams, modified: (t: T) => number, created: (t: T) => number, tzOffset: number): T[] {
  const shift = p.datesAreGmt ? 0 : tzOffset * 60_000;
  const { modifiedAfter: ma, modifiedBefore: mb, after: a, before: b } = p;
  if (ma === undefined && mb === undefined && a === undefined && b === undefined) return items;
  return items.filter((t) => {
    const m = modified(t) + shift;
    const c = created(t) + shift;
    return (ma === undefined || m > ma) && (mb === undefined || m < mb) && (a === undefined || c > a) && (b === undefined || c < b);
  });
}

/** Sorts by a key (ties broken by id in the same direction). */
export function sortBy<T extends { id: number }>(items: T[], key: (t: T) => number | string, order: 'asc' | 'desc'): T[] {
  const dir = order === 'asc' ? 1 : -1;
  return items.sort((x, y) => {
    const a = key(x);
    const b = key(y);
    if (a < b) return -dir;
    if (a > b) return dir;
    return (x.id - y.id) * dir;
  });
}

/** One page of a filtered, sorted list with the headers WordPress sends. */
export function paginate<T>(items: readonly T[], p: ListParams, collectionUrl: string): { page: T[]; headers: Record<string, string> } {
  const total = items.length;
  const totalPages = Math.ceil(total / p.perPage);
  const start = p.offset ?? (p.page - 1) * p.perPage;
  const headers: Record<string, string> = { 'X-WP-Total': String(total), 'X-WP-TotalPages': String(totalPages) };
  const query = new URLSearchParams();
  for (const [k, v] of p.raw) if (k !== 'page' && !k.startsWith('oauth_') && k !== 'consumer_key' && k !== 'consumer_secret') query.set(k, v);
  const linkTo = (n: number) => {
    const q = new URLSearchParams(query);
    q.set('page', String(n));
    return `<${collectionUrl}?${q.toString()}>`;
  };
  const links: string[] = [];
  if (p.page > 1) links.push(`${linkTo(Math.min(p.page - 1, Math.max(totalPages, 1)))}; rel="prev"`);
  if (totalPages > p.page) links.push(`${linkTo(p.page + 1)}; rel="next"`);
  if (links.length) headers.Link = links.join(', ');
  return { page: items.slice(start, start + p.perPage), headers };
}
