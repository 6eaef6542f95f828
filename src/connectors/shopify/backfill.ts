/**
 * Backfill of a whole store through a bulk operation: run `bulkOperationRunQuery` (products,
 * variants and their stock at the managed location), wait for it, then stream the JSONL result
 * line by line. Variants arrive as lines of their own with `__parentId` right after their product
 * (`groupObjects: true`), so only one product is held at a time. Batches of raw events come with a
 * cursor (operation id + lines consumed) from which a later run resumes without redoing the work.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { SkuNormalisation } from '../../core/ids.js';
import { PermanentError, RetriableError } from '../../core/errors.js';
import { getLogger } from '../../core/logger.js';
import { retry, sleep } from '../../core/retry.js';
import type { NewRawEvent } from '../types.js';
import type { ShopifyClient } from './client.js';
import { inlineVariables, loadDocument } from './documents.js';
import type { ManagedLocation } from './locations.js';
import { productEvents, productState, type GqlVariant, type ProductState } from './poller.js';

/** Where a backfill resumes: the bulk operation and how many JSONL lines are done. */
export interface BackfillCursor {
  operationId: string;
  /** Lines of the JSONL fully turned into emitted events. */
  line: number;
}

/** One batch of a backfill. */
export interface BackfillBatch {
  events: NewRawEvent[];
  /** Store it once the events are durable; pass it back to resume. */
  cursor: BackfillCursor;
  /** Products emitted so far in this run. */
  products: number;
}

/** Options of {@link ShopifyBackfill}. */
export interface BackfillOptions {
  instance: string;
  client: ShopifyClient;
  location: ManagedLocation;
  skuRule: SkuNormalisation;
  /** Status polling interval while the operation runs, ms. */
  pollIntervalMs?: number;
  /** Give up waiting for an operation after this long, ms (default 6 h). */
  maxWaitMs?: number;
}

interface BulkOp { id: string; status: string; errorCode: string | null; objectCount: string; rootObjectCount: string; url: string | null }
interface UserError { field: string[] | null; message: string; code: string | null }
interface ProductLine { id: string; title: string; status: string; updatedAt: string }
/** A product of the bulk result with its variants, and the last JSONL line it spans. */
interface ProductGroup { product: ProductLine; variants: GqlVariant[]; line: number }
interface BulkResult { operationId: string; locationId: string; products: () => AsyncGenerator<ProductGroup>; lines: () => number }

/** Bulk backfill of one store. */
export class ShopifyBackfill {
  private readonly log = getLogger('shopify.backfill');

  constructor(private readonly o: BackfillOptions) {}

  /** Streams the store as batches of about `batchSize` events, from `cursor` when given. */
  async *run(cursor: BackfillCursor | null = null, opts: { batchSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<BackfillBatch> {
    const batchSize = opts.batchSize ?? 500;
    const result = await this.open(cursor, opts.signal);
    const operationId = result.operationId;
    let batch: NewRawEvent[] = [];
    let products = 0;
    for await (const g of result.products()) {
      batch.push(...productEvents('backfill', this.o.instance, this.o.skuRule, result.locationId, g.product, g.variants));
      products++;
      if (batch.length >= batchSize) {
        yield { events: batch, cursor: { operationId, line: g.line }, products };
        batch = [];
      }
    }
    yield { events: batch, cursor: { operationId, line: result.lines() }, products };
  }

  /**
   * The whole store as product states (with their variants' stock), `batchSize` products at a
   * time: what a backfill reads, without building events (a comparison needs only the states).
   */
  async *productStates(opts: { batchSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<ProductState[]> {
    const batchSize = opts.batchSize ?? 500;
    const result = await this.open(null, opts.signal);
    let batch: ProductState[] = [];
    for await (const g of result.products()) {
      batch.push(productState(result.locationId, g.product, g.variants));
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }

  /**
   * Runs (or resumes) the bulk operation and opens its result: `products()` streams each product
   * with its variants and the last JSONL line it spans; `lines()` is how many lines were read.
   */
  private async open(cursor: BackfillCursor | null, signal?: AbortSignal): Promise<BulkResult> {
    const locationId = await this.o.location.get(signal);
    let op = cursor ? await this.status(cursor.operationId, signal) : null;
    if (!op || op.status === 'EXPIRED' || op.status === 'FAILED' || op.status === 'CANCELED') {
      if (cursor) this.log.info({ instance: this.o.instance, operation: cursor.operationId, status: op?.status ?? 'unknown' }, 'cannot resume the bulk operation; starting a new one');
      op = await this.start(locationId, signal);
      cursor = null;
    }
    const done = await this.waitDone(op.id, signal);
    const skip = cursor?.line ?? 0;
    let n = 0;
    const products = async function* (): AsyncGenerator<ProductGroup> {
      if (!done.url) return;
      const res = await retry(async () => {
        const r = await fetch(done.url!, { signal });
        if (r.status >= 500) throw new RetriableError('SHOPIFY_BULK_DOWNLOAD', `bulk result download answered ${r.status}`);
        if (!r.ok || !r.body) throw new PermanentError('SHOPIFY_BULK_DOWNLOAD', `bulk result download answered ${r.status}`, { hint: 'Results expire after 7 days: run the backfill again from scratch.' });
        return r;
      }, { retries: 5, signal });
      const lines = createInterface({ input: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), crlfDelay: Infinity });
      let product: ProductLine | null = null;
      let variants: GqlVariant[] = [];
      try {
        for await (const text of lines) {
          n++;
          if (n <= skip || text.trim() === '') continue;
          let row: Record<string, unknown>;
          try {
            row = JSON.parse(text) as Record<string, unknown>;
          } catch (err) {
            throw new RetriableError('SHOPIFY_BULK_MALFORMED', `line ${n} of the bulk result is not JSON`, { cause: err, details: { operation: done.id, line: n } });
          }
          if (typeof row.__parentId === 'string') {
            if (!product || row.__parentId !== product.id) {
              throw new PermanentError('SHOPIFY_BULK_ORDER', `line ${n}: variant of ${row.__parentId} does not follow its product`, { details: { operation: done.id, line: n } });
            }
            variants.push(row as unknown as GqlVariant);
            continue;
          }
          // A new product: the previous one is complete (it ends on the line before).
          if (product) yield { product, variants, line: n - 1 };
          product = row as unknown as ProductLine;
          variants = [];
        }
        if (product) yield { product, variants, line: n };
      } finally {
        lines.close();
      }
    };
    return { operationId: done.id, locationId, products, lines: () => (done.url ? n : 0) };
  }

  private async status(id: string, signal?: AbortSignal): Promise<BulkOp | null> {
    const d = await this.o.client.request<{ bulkOperation: BulkOp | null }>(loadDocument('BulkOperationStatus'), { id }, { signal });
    return d.bulkOperation;
  }

  /**
   * Starts the bulk query. From 2026-01 an app runs up to five bulk queries per shop at once; a
   * sixth is answered LIMIT_REACHED (OPERATION_IN_PROGRESS before 2026-01): wait and try again.
   */
  private async start(locationId: string, signal?: AbortSignal): Promise<BulkOp> {
    const query = inlineVariables(loadDocument('BulkProducts'), { locationId }).text;
    const deadline = Date.now() + (this.o.maxWaitMs ?? 6 * 3600_000);
    let waits = 0;
    for (;;) {
      const d = await this.o.client.request<{ bulkOperationRunQuery: { bulkOperation: { id: string; status: string } | null; userErrors: UserError[] } }>(
        loadDocument('BulkOperationRunQuery'), { query }, { signal });
      const p = d.bulkOperationRunQuery;
      if (p.bulkOperation) {
        this.log.info({ instance: this.o.instance, operation: p.bulkOperation.id }, 'bulk operation started');
        return { ...p.bulkOperation, errorCode: null, objectCount: '0', rootObjectCount: '0', url: null };
      }
      const e = p.userErrors[0];
      if (e?.code !== 'LIMIT_REACHED' && e?.code !== 'OPERATION_IN_PROGRESS') {
        throw new PermanentError(`SHOPIFY_BULK_${e?.code ?? 'REFUSED'}`, `Shopify refused the bulk query: ${e?.message ?? 'no reason given'}`, { details: { userErrors: p.userErrors } });
      }
      if (Date.now() > deadline) throw new RetriableError('SHOPIFY_BULK_BUSY', 'other bulk queries of this app kept running', { hint: 'Wait for them (or cancel them) and run the backfill again.' });
      if (waits++ === 0) this.log.info({ instance: this.o.instance, code: e.code }, 'the app runs as many bulk queries as Shopify allows on this shop; waiting for one to finish');
      // Jittered, so several waiting backfills do not all ask again at the same moment.
      await sleep(Math.round((this.o.pollIntervalMs ?? 1000) * (0.5 + Math.random())), signal);
    }
  }

  private async waitDone(id: string, signal?: AbortSignal): Promise<BulkOp> {
    const deadline = Date.now() + (this.o.maxWaitMs ?? 6 * 3600_000);
    let interval = Math.min(this.o.pollIntervalMs ?? 1000, 100);
    for (;;) {
      const op = await this.status(id, signal);
      if (!op) throw new PermanentError('SHOPIFY_BULK_UNKNOWN', `bulk operation ${id} does not exist`);
      if (op.status === 'COMPLETED') return op;
      if (op.status === 'FAILED' || op.status === 'CANCELED' || op.status === 'EXPIRED') {
        throw new RetriableError(`SHOPIFY_BULK_${op.status}`, `bulk operation ${id} ended ${op.status}${op.errorCode ? ` (${op.errorCode})` : ''}`, { hint: 'Run the backfill again; it starts a new operation.' });
      }
      if (Date.now() > deadline) throw new RetriableError('SHOPIFY_BULK_TIMEOUT', `bulk operation ${id} is still ${op.status}`);
      await sleep(interval, signal);
      interval = Math.min(interval * 2, this.o.pollIntervalMs ?? 1000);
    }
  }
}
