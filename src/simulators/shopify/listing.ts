import { GraphQLError } from 'graphql';
import { lowerBound } from './indexes.js';
import type { Listable } from './model.js';
import { compare, parseSearchDate, parseSearchQuery, type SearchTerm, type SearchWarning } from './search-query.js';

/** Pagination arguments of a connection field. */
export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
  reverse?: boolean | null;
}

/** A Relay connection as the resolvers return it. */
export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

type SortValue = number | string;
/** The sort key of a record: primary value, then id as the tie-breaker. */
export type SortKeyFn<T> = (t: T) => [SortValue, number];

const cmp = (a: [SortValue, number], b: [SortValue, number]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1];

/** Opaque cursor, shaped like Shopify's (base64 of `{"last_id":..,"last_value":..}`). */
export const encodeCursor = (k: [SortValue, number]): string =>
  Buffer.from(JSON.stringify({ last_id: k[1], last_value: k[0] })).toString('base64');

function decodeCursor(c: string): [SortValue, number] {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64').toString('utf8')) as { last_id?: unknown; last_value?: unknown };
    if (typeof v.last_id === 'number' && (typeof v.last_value === 'number' || typeof v.last_value === 'string')) return [v.last_value, v.last_id];
  } catch { /* fall through */ }
  throw new GraphQLError('Invalid cursor for current pagination sort.', { extensions: { code: 'BAD_REQUEST' } });
}

/** Index of the first element whose key is greater than `k` (or >= when `inclusive`). */
function bound<T>(asc: readonly T[], key: SortKeyFn<T>, k: [SortValue, number], inclusive: boolean): number {
  let lo = 0;
  let hi = asc.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = cmp(key(asc[mid]!), k);
    if (inclusive ? c < 0 : c <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One page of `asc` (sorted ascending by `key`), honouring first/after/last/before and
 * reverse, in O(log n + page size). Limits (250, first-or-last) are checked before execution.
 */
export function paginate<T>(asc: readonly T[], key: SortKeyFn<T>, args: ConnectionArgs): Connection<T> {
  const n = asc.length;
  const rev = args.reverse === true;
  const at = (i: number): T => asc[rev ? n - 1 - i : i]!;
  // Work in "view" positions [start, end) of the list as the client sees it.
  let start = 0;
  let end = n;
  if (args.after) {
    const k = decodeCursor(args.after);
    start = rev ? n - bound(asc, key, k, true) : bound(asc, key, k, false);
  }
  if (args.before) {
    const k = decodeCursor(args.before);
    end = rev ? n - bound(asc, key, k, false) : bound(asc, key, k, true);
  }
  end = Math.max(start, end);
  let from = start;
  let to = end;
  if (args.first != null) to = Math.min(to, from + args.first);
  if (args.last != null) from = Math.max(from, to - args.last);
  const nodes: T[] = [];
  for (let i = from; i < to; i++) nodes.push(at(i));
  const edges = nodes.map((node) => new Edge(node, key));
  return { edges, nodes, pageInfo: new PageInfo(edges, to < n, from > 0) };
}

/** `pageInfo`, its cursors encoded only when read. */
class PageInfo<T> {
  constructor(
    private readonly edges: Edge<T>[],
    readonly hasNextPage: boolean,
    readonly hasPreviousPage: boolean,
  ) {}

  get startCursor(): string | null {
    return this.edges[0]?.cursor ?? null;
  }

  get endCursor(): string | null {
    return this.edges[this.edges.length - 1]?.cursor ?? null;
  }
}

/** An edge whose cursor is encoded only when read: a bulk query lists every node and rarely asks for cursors. */
class Edge<T> {
  constructor(readonly node: T, private readonly key: SortKeyFn<T>) {}

  get cursor(): string {
    return encodeCursor(this.key(this.node));
  }
}

/** How one search field filters (and, optionally, looks up candidates through an index). */
export interface SearchField<T> {
  /** Whether a record matches `term`; throws nothing, returns false on a bad value. */
  match: (t: T, term: SearchTerm) => boolean;
  /** Candidates straight from an index, or null when the index cannot serve this term. */
  lookup?: (term: SearchTerm) => { items: readonly T[]; order: 'id' | 'seq' | 'none' } | null;
}

/** Everything needed to list one collection. */
export interface ListSpec<T extends Listable> {
  /** All records in id order. */
  all: readonly T[];
  /** All records in last-change order. */
  recency: () => readonly T[];
  /** Known search fields. */
  fields: Record<string, SearchField<T>>;
  /** Free text match, if the collection supports it. */
  text?: (t: T, word: string) => boolean;
  /** Sort keys; `order` tells which stored order already satisfies it. */
  sorts: Record<string, { key: SortKeyFn<T>; order: 'id' | 'seq' | 'none' }>;
}

/** The result of a listing plus the search warnings for `extensions.search`. */
export interface Listing<T> {
  connection: Connection<T>;
  warnings: SearchWarning[];
}

/** Filters, sorts and paginates a collection per Shopify's `query`/`sortKey`/cursor arguments. */
export function list<T extends Listable>(spec: ListSpec<T>, args: ConnectionArgs & { query?: string | null; sortKey?: string | null }, defaultSort: string): Listing<T> {
  const sortName = args.sortKey ?? defaultSort;
  const sort = spec.sorts[sortName] ?? spec.sorts[defaultSort]!;
  const { terms, warnings } = parseSearchQuery(args.query ?? '');
  const usable: SearchTerm[] = [];
  for (const t of terms) {
    if (t.field === null ? spec.text : spec.fields[t.field]) usable.push(t);
    else warnings.push({ field: t.field ?? '', message: 'Invalid search field for this query.', code: 'invalid_field' });
  }
  let items: readonly T[] = sort.order === 'seq' ? spec.recency() : spec.all;
  let order: 'id' | 'seq' | 'none' = sort.order === 'seq' ? 'seq' : 'id';
  for (const t of usable) {
    const hit = t.field && !t.negated ? spec.fields[t.field]!.lookup?.(t) : null;
    if (hit && hit.items.length < items.length) {
      items = hit.items;
      order = hit.order;
    }
  }
  if (usable.length > 0) {
    items = items.filter((rec) => usable.every((t) => {
      const ok = t.field === null ? spec.text!(rec, t.value) : spec.fields[t.field]!.match(rec, t);
      return t.negated ? !ok : ok;
    }));
  }
  if (order !== sort.order || sort.order === 'none') items = [...items].sort((a, b) => cmp(sort.key(a), sort.key(b)));
  return { connection: paginate(items, sort.key, args), warnings };
}

/** A date search field over a record timestamp, with an index lookup for `>`/`>=` on the recency order. */
export function dateField<T extends Listable>(get: (t: T) => number, recency?: () => readonly T[]): SearchField<T> {
  const sec = (ms: number) => Math.floor(ms / 1000) * 1000;
  return {
    match: (t, term) => {
      const b = parseSearchDate(term.value);
      return !Number.isNaN(b) && compare(sec(get(t)), term.op, b);
    },
    lookup: recency ? (term) => {
      const b = parseSearchDate(term.value);
      if (Number.isNaN(b) || (term.op !== '>' && term.op !== '>=')) return null;
      const live = recency();
      return { items: live.slice(lowerBound(live, (t) => sec(get(t)), b, term.op === '>=')), order: 'seq' };
    } : undefined,
  };
}

/** A numeric id search field (`id:123`, `id:>123`) with a binary search on the id order. */
export function idField<T extends Listable>(all: () => readonly T[]): SearchField<T> {
  return {
    match: (t, term) => compare(t.id, term.op, Number(term.value)),
    lookup: (term) => {
      const v = Number(term.value);
      if (!Number.isFinite(v) || term.op === '<' || term.op === '<=') return null;
      const arr = all();
      const i = lowerBound(arr, (t) => t.id, v, term.op !== '>');
      return { items: term.op === ':' ? arr.slice(i, arr[i]?.id === v ? i + 1 : i) : arr.slice(i), order: 'id' };
    },
  };
}

/** A case-insensitive string field; a trailing `*` is a prefix match. */
export function textMatch(actual: string | null | undefined, term: SearchTerm): boolean {
  if (actual == null) return false;
  const a = actual.toLowerCase();
  const v = term.value.toLowerCase();
  return v.endsWith('*') ? a.startsWith(v.slice(0, -1)) : a === v;
}
