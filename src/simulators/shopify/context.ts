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
}

/** Page arguments as a connection should apply them (bulk mode drops the page window). */
export function pageArgs<T extends ConnectionArgs>(ctx: SimContext, args: T): T {
  if (!ctx.bulkMode) return args;
  return { ...args, first: undefined, last: undefined, after: undefined, before: undefined };
}
