import type { BulkOperations } from './bulk.js';
import type { ConnectionArgs } from './listing.js';
import type { SearchWarning } from './search-query.js';
import type { ShopifySimState } from './state.js';

/** `extensions.search` entry, as Shopify reports ignored search terms. */
export interface SearchExtension {
  path: (string | number)[];
  query: string;
  warnings: SearchWarning[];
}

/** The GraphQL context of one request. */
export interface SimContext {
  sim: ShopifySimState;
  bulk: BulkOperations;
  /** The API version the request is served as. */
  apiVersion: string;
  /** True while a bulk query runs: connections return every node, no page limits. */
  bulkMode: boolean;
  /** Search warnings collected while resolving. */
  search: SearchExtension[];
  /** Set while a bulk query runs in chunks: the slice of the root connection to resolve. */
  bulkWindow?: BulkWindow;
}

/**
 * One chunk of a bulk query's root connection. The root connection is listed once (first chunk)
 * and sliced for each chunk, so every chunk sees the same snapshot of the list.
 */
export interface BulkWindow {
  offset: number;
  limit: number;
  /** Length of the whole root connection, set while resolving. */
  total: number;
  /** The whole root connection by response key, kept from the first chunk. */
  roots: Map<string, unknown>;
}

/** A root connection as one bulk chunk sees it: the whole list once, then the chunk's slice of it. */
export function bulkWindowed(ctx: SimContext, key: string, resolve: () => unknown): unknown {
  const w = ctx.bulkMode ? ctx.bulkWindow : undefined;
  if (!w) return resolve();
  if (!w.roots.has(key)) w.roots.set(key, resolve());
  const whole = w.roots.get(key) as { edges?: unknown; nodes?: unknown } | null | undefined;
  if (!whole || typeof whole !== 'object') return whole;
  const slice = (list: unknown) => (Array.isArray(list) ? list.slice(w.offset, w.offset + w.limit) : list);
  w.total = Math.max(w.total, Array.isArray(whole.nodes) ? whole.nodes.length : Array.isArray(whole.edges) ? whole.edges.length : 0);
  return { ...whole, edges: slice(whole.edges), nodes: slice(whole.nodes) };
}

/** Page arguments as a connection should apply them (bulk mode drops the page window). */
export function pageArgs<T extends ConnectionArgs>(ctx: SimContext, args: T): T {
  if (!ctx.bulkMode) return args;
  if (args.first == null && args.last == null && args.after == null && args.before == null) return args;
  return { ...args, first: undefined, last: undefined, after: undefined, before: undefined };
}
