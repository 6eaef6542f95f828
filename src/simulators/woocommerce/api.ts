import type { Logger } from '../../core/logger.js';
import type { WooAuthenticator } from './auth.js';
import { WooApiError } from './model.js';
import type { ResolvedWooOptions, WooFaults } from './options.js';
import type { SiteContext } from './serialize.js';
import type { WooStore } from './store.js';
import type { WebhookQueue } from './webhooks.js';

/** Everything route modules share. */
export interface SimContext {
  store: WooStore;
  auth: WooAuthenticator;
  queue: WebhookQueue;
  site: SiteContext;
  options: ResolvedWooOptions;
  /** Current faults (the control API replaces fields). */
  faults: WooFaults;
  logger: Logger;
}

/** What a request needs to be authorised for; decides the 401 code WooCommerce answers without credentials. */
export type Permission = 'list' | 'view' | 'create' | 'edit' | 'delete' | 'batch';

/** A parsed API request. */
export interface ApiRequest {
  method: string;
  params: Record<string, string>;
  query: Map<string, string>;
  body: Record<string, unknown>;
  /** Path without query, e.g. `/wp-json/wc/v3/products/12`. */
  path: string;
}

/** What a handler answers. */
export interface ApiReply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Registers one REST route (path relative to `/wp-json/wc/v3`). */
export type RegisterRoute = (methods: string[], path: string, permission: Permission, handler: (req: ApiRequest) => ApiReply | Promise<ApiReply>) => void;

/** The 401 WooCommerce's permission callbacks give a request without valid credentials. */
export function unauthorised(permission: Permission): WooApiError {
  switch (permission) {
    case 'list':
      return new WooApiError('woocommerce_rest_cannot_view', 'Sorry, you cannot list resources.', 401);
    case 'view':
      return new WooApiError('woocommerce_rest_cannot_view', 'Sorry, you cannot view this resource.', 401);
    case 'create':
      return new WooApiError('woocommerce_rest_cannot_create', 'Sorry, you are not allowed to create resources.', 401);
    case 'edit':
      return new WooApiError('woocommerce_rest_cannot_edit', 'Sorry, you are not allowed to edit this resource.', 401);
    case 'delete':
      return new WooApiError('woocommerce_rest_cannot_delete', 'Sorry, you are not allowed to delete this resource.', 401);
    case 'batch':
      return new WooApiError('woocommerce_rest_cannot_batch', 'Sorry, you are not allowed to batch manipulate this resource.', 401);
  }
}

/** Reads `force` as WordPress reads a boolean query/body parameter. */
export function isForce(req: ApiRequest): boolean {
  const v = req.query.get('force') ?? req.body.force;
  return v === true || v === 'true' || v === '1' || v === 1;
}

/** Parses a numeric route id (routes only match digits). */
export const routeId = (req: ApiRequest, name = 'id'): number => Number(req.params[name]);

/** The batch item limit (filter `woocommerce_rest_batch_items_limit`). */
export const BATCH_LIMIT = 100;

/** Item handlers of one batch endpoint. */
export interface BatchHandlers {
  create: (item: Record<string, unknown>) => unknown;
  update: (item: Record<string, unknown>) => unknown;
  delete: (id: number) => unknown;
}

/**
 * WC_REST_Controller::batch_items: at most 100 objects in total (413 otherwise); creates, then
 * updates, then deletes, each on its own (no transaction); a failed item becomes
 * `{id, error: {code, message, data}}` and the others still apply.
 */
export function runBatch(body: Record<string, unknown>, h: BatchHandlers): Record<string, unknown[]> {
  const list = (k: string): unknown[] => (Array.isArray(body[k]) ? (body[k] as unknown[]) : []);
  const [creates, updates, deletes] = [list('create'), list('update'), list('delete')];
  const total = creates.length + updates.length + deletes.length;
  if (total > BATCH_LIMIT) {
    throw new WooApiError('woocommerce_rest_request_entity_too_large', `Unable to accept more than ${BATCH_LIMIT} items for this request.`, 413);
  }
  const out: Record<string, unknown[]> = {};
  const attempt = (key: string, id: unknown, fn: () => unknown) => {
    try {
      (out[key] ??= []).push(fn());
    } catch (err) {
      if (!(err instanceof WooApiError)) throw err;
      const { code, message, data } = err.toBody();
      (out[key] ??= []).push({ id, error: { code, message, data } });
    }
  };
  for (const item of creates) attempt('create', 0, () => h.create(asRecord(item)));
  for (const item of updates) attempt('update', asRecord(item).id ?? 0, () => h.update(asRecord(item)));
  for (const raw of deletes) {
    const id = Number(typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : raw);
    attempt('delete', id, () => h.delete(id));
  }
  return out;
}

/** A JSON object, or {} for anything else. */
export function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
