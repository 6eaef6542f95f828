import type { z } from 'zod';
import { PermanentError } from '../../core/errors.js';
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import { getLogger, type Logger } from '../../core/logger.js';
import type { NewRawEvent, PollCheckpoint, PollPage, RawProduct } from '../types.js';
import type { WooClient } from './client.js';
import { isoSeconds, orderPayload, orderRef, productPayload, type SkuMemory, type StockPoolSkus, stateEvent, variationPayload, wooDateParam } from './normalise.js';
import { wooOrderSchema, wooProductSchema, type WooProduct } from './schemas.js';

/** The resources the WooCommerce poller reads. */
export const WOO_POLL_RESOURCES = ['products', 'orders'] as const;
export type WooPollResource = (typeof WOO_POLL_RESOURCES)[number];

/** Settings of the poller. */
export interface WooPollerOptions {
  /** Seconds re-read before the high-water mark on each query (late commits, whole-second dates). */
  overlapSeconds?: number;
  /** Page size (WooCommerce allows at most 100). */
  perPage?: number;
  bus?: SyncEventBus;
  /** Configured stock pools (product id → SKU). */
  pools?: StockPoolSkus;
}

const EPOCH = '1970-01-01T00:00:00Z';

/**
 * Incremental poll of products (with their variations) and orders, the safety net behind
 * webhooks (which WooCommerce never retries).
 *
 * Each page is `modified_after=<since − overlap>&dates_are_gmt=true&orderby=modified&order=asc
 * &per_page=100&page=N`. Page numbers shift when rows change during paging, so the poller
 * advances by keyset whenever it can: after a full page whose newest row is newer than `since`,
 * the next page restarts at page 1 from that row's date (the overlap re-reads a few rows, which
 * intake recognises by checksum). Only when a whole page shares `since`'s second does it step
 * to page N+1. The checkpoint is `{since: newest date_modified_gmt seen, cursor: next page}`.
 * A variable product on a page brings its variations (`/products/{id}/variations`), one event each.
 */
export class WooPoller {
  private readonly overlapMs: number;
  private readonly perPage: number;
  private readonly bus: SyncEventBus;
  private readonly log: Logger;
  private readonly pools: StockPoolSkus | undefined;

  constructor(
    private readonly client: WooClient,
    private readonly instance: string,
    private readonly skus: SkuMemory,
    opts: WooPollerOptions = {},
  ) {
    this.overlapMs = (opts.overlapSeconds ?? 5) * 1000;
    this.perPage = opts.perPage ?? 100;
    this.bus = opts.bus ?? defaultBus;
    this.pools = opts.pools;
    this.log = getLogger('woocommerce.poller').child({ instance });
  }

  /** One page of `resource` from `checkpoint` (null: from the beginning). */
  async poll(resource: string, checkpoint: PollCheckpoint | null, signal?: AbortSignal): Promise<PollPage> {
    if (!(WOO_POLL_RESOURCES as readonly string[]).includes(resource)) {
      throw new PermanentError('WOO_UNKNOWN_RESOURCE', `WooCommerce has no pollable resource "${resource}" (use ${WOO_POLL_RESOURCES.join(', ')})`);
    }
    const since = checkpoint?.since ?? EPOCH;
    const sinceMs = Date.parse(since);
    const page = Math.max(1, Number(checkpoint?.cursor ?? 1) || 1);
    const after = Math.max(0, sinceMs - this.overlapMs);
    const { items } = await this.client.list<unknown>(
      `/${resource}`,
      { modified_after: wooDateParam(after), dates_are_gmt: true, orderby: 'modified', order: 'asc', per_page: this.perPage, page },
      signal,
    );
    const { events, newest } = resource === 'products' ? await this.productEvents(items, 'poll', signal) : this.orderEvents(items, 'poll');
    const full = items.length >= this.perPage;
    let next: PollCheckpoint;
    if (!full) next = { since: isoSeconds(Math.max(sinceMs, newest)), cursor: null, resource };
    else if (newest > sinceMs) next = { since: isoSeconds(newest), cursor: null, resource };
    else next = { since, cursor: String(page + 1), resource };
    return { events, checkpoint: next, more: full };
  }

  /** Product rows (and the variations of variable ones) as events; `newest` = newest row date (ms). */
  async productEvents(items: unknown[], origin: 'poll' | 'backfill', signal?: AbortSignal): Promise<{ events: NewRawEvent[]; newest: number }> {
    const { states, newest } = await this.productStates(items, signal);
    const events = states.map(({ entityRef, payload }) => {
      this.skus.learn(payload);
      return stateEvent(this.instance, origin, 'product.updated', entityRef, payload);
    });
    return { events, newest };
  }

  /**
   * Product rows and the variations of variable ones (fetched) as payloads, each product followed
   * by its variations, without building events (a comparison needs only the states).
   * `entityRef` is the product id, or the variation id; `newest` = newest product row date (ms).
   */
  async productStates(items: unknown[], signal?: AbortSignal): Promise<{ states: Array<{ entityRef: string; payload: RawProduct }>; newest: number }> {
    const products = this.rows(wooProductSchema, items, 'product');
    let newest = 0;
    const perProduct = await Promise.all(
      products.map(async (p) => {
        const own = productPayload(p, this.pools);
        newest = Math.max(newest, Date.parse(own.updatedAt));
        const out = [{ entityRef: String(p.id), payload: own }];
        if (p.type === 'variable') out.push(...(await this.variationStates(p, signal)));
        return out;
      }),
    );
    return { states: perProduct.flat(), newest };
  }

  /** Order rows as events. */
  orderEvents(items: unknown[], origin: 'poll' | 'backfill'): { events: NewRawEvent[]; newest: number } {
    let newest = 0;
    const events = this.rows(wooOrderSchema, items, 'order').map((o) => {
      const payload = orderPayload(o, this.pools);
      newest = Math.max(newest, Date.parse(payload.updatedAt));
      return stateEvent(this.instance, origin, 'order.updated', orderRef(o.id), payload);
    });
    return { events, newest };
  }

  private async variationStates(parent: WooProduct, signal?: AbortSignal): Promise<Array<{ entityRef: string; payload: RawProduct }>> {
    const rows = await this.client.all<unknown>(`/products/${parent.id}/variations`, { per_page: 100, orderby: 'id', order: 'asc' }, signal);
    return this.rows(wooProductSchema, rows, 'variation').map((v) => {
      const payload = variationPayload(v, parent.id);
      return { entityRef: payload.variants[0]!.id, payload };
    });
  }

  /** Parses list rows; a row that does not parse is reported (log + error event) and skipped, so one bad row never blocks polling. */
  private rows<T>(schema: z.ZodType<T>, items: unknown[], what: string): T[] {
    return items.flatMap((x) => {
      const r = schema.safeParse(x);
      if (r.success) return [r.data];
      const issue = r.error.issues[0];
      this.bus.emit('error', { component: 'woocommerce.poller', errorClass: 'permanent', code: 'WOO_MALFORMED_ROW' });
      this.log.error({ what, id: (x as { id?: unknown } | null)?.id, issue: `${issue?.path.map(String).join('.')} ${issue?.message ?? ''}` }, `skipping a WooCommerce ${what} that does not parse`);
      return [];
    });
  }
}
