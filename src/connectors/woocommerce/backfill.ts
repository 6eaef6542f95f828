import type { NewRawEvent, RawProduct } from '../types.js';
import type { QueryValue, WooClient, WooListPage } from './client.js';
import { PRODUCT_STATE_FIELDS } from './normalise.js';
import type { WooPoller } from './poller.js';

/** The resources a backfill reads, in order. */
export type WooBackfillResource = 'products' | 'orders';

/** Where a backfill resumes: the next page of a resource (pages by ascending id). */
export interface WooBackfillCursor {
  resource: WooBackfillResource;
  /** The next page to read (1-based). */
  page: number;
}

/** One page worth of events and the cursor to store once they are durable. */
export interface WooBackfillBatch {
  resource: WooBackfillResource;
  events: NewRawEvent[];
  /** Resume here after this batch; null when everything was read. */
  cursor: WooBackfillCursor | null;
}

/** Options of one backfill run. */
export interface WooBackfillRunOptions {
  /** Resources to read (default products then orders). */
  resources?: WooBackfillResource[];
  /** Resume from a stored cursor. */
  from?: WooBackfillCursor | null;
  signal?: AbortSignal;
}

/**
 * Reads every product (with its variations) and every order by pages of 100 (`orderby=id`,
 * ascending, so rows created meanwhile land on later pages), up to `concurrency` pages in flight,
 * and yields them in page order as `NewRawEvent` batches (origin `backfill`) with a resumable
 * cursor. Memory stays bounded to the pages in flight.
 */
export class WooBackfill {
  constructor(
    private readonly client: WooClient,
    private readonly poller: WooPoller,
    private readonly concurrency: number,
    private readonly perPage = 100,
  ) {}

  /** Runs the backfill as an async iterator of batches. */
  async *run(opts: WooBackfillRunOptions = {}): AsyncGenerator<WooBackfillBatch> {
    const resources = opts.resources ?? ['products', 'orders'];
    let start = opts.from ? resources.indexOf(opts.from.resource) : 0;
    if (start < 0) start = 0;
    for (let r = start; r < resources.length; r++) {
      const resource = resources[r]!;
      const firstPage = opts.from && opts.from.resource === resource ? Math.max(1, opts.from.page) : 1;
      const nextResource = resources[r + 1];
      const after: WooBackfillCursor | null = nextResource ? { resource: nextResource, page: 1 } : null;
      yield* this.resource(resource, firstPage, after, opts.signal);
    }
  }

  /**
   * Every product (each variable one followed by its variations) as states, page by page: what
   * a backfill reads, without building events (a comparison needs only the states). Pages carry
   * only the fields a state is made of (`_fields`).
   */
  async *productStates(opts: { signal?: AbortSignal } = {}): AsyncGenerator<RawProduct[]> {
    for await (const p of this.pages('products', 1, opts.signal, { _fields: PRODUCT_STATE_FIELDS.join(',') })) {
      const { states } = await this.poller.productStates(p.items, opts.signal);
      yield states.map((s) => s.payload);
    }
  }

  private async *resource(resource: WooBackfillResource, firstPage: number, after: WooBackfillCursor | null, signal?: AbortSignal): AsyncGenerator<WooBackfillBatch> {
    for await (const p of this.pages(resource, firstPage, signal)) {
      const { events } = resource === 'products' ? await this.poller.productEvents(p.items, 'backfill', signal) : this.poller.orderEvents(p.items, 'backfill');
      yield { resource, events, cursor: p.done ? after : { resource, page: p.page + 1 } };
    }
  }

  /** The pages of `resource` from `firstPage`, in page order, up to `concurrency` requests in flight. */
  private async *pages(resource: WooBackfillResource, firstPage: number, signal?: AbortSignal, extra: Record<string, QueryValue> = {}): AsyncGenerator<{ page: number; items: unknown[]; done: boolean }> {
    const fetchPage = (page: number) => this.client.list<unknown>(`/${resource}`, { ...extra, orderby: 'id', order: 'asc', per_page: this.perPage, page }, signal);
    const window: Array<{ page: number; res: Promise<WooListPage<unknown>> }> = [];
    let nextPage = firstPage;
    let lastPage = Number.POSITIVE_INFINITY;
    const fill = () => {
      while (window.length < Math.max(1, this.concurrency) && nextPage <= lastPage) {
        const page = nextPage++;
        const res = fetchPage(page);
        res.catch(() => undefined); // observed when its turn comes
        window.push({ page, res });
      }
    };
    fill();
    while (window.length) {
      const { page, res } = window.shift()!;
      const p = await res;
      if (p.totalPages !== null) lastPage = Math.min(lastPage, Math.max(p.totalPages, page));
      const done = p.items.length < this.perPage || page >= lastPage;
      if (done) {
        lastPage = page;
        // Pages past the end were requested speculatively; they are empty (or rows created meanwhile, seen by the poller).
        window.length = 0;
      }
      fill();
      yield { page, items: p.items, done };
    }
  }
}
