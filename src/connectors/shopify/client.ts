/**
 * The Shopify Admin GraphQL client: one POST per request to `/admin/api/{version}/graphql.json`,
 * paced by the local cost bucket, with every failure classified (retriable or permanent, with a
 * code and a hint) and retried through the one `retry()` loop.
 */
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import { PermanentError, RetriableError, SyncError } from '../../core/errors.js';
import { getLogger, type Logger } from '../../core/logger.js';
import { retry, type RetryOptions } from '../../core/retry.js';
import { ShopifyTokenProvider } from './auth.js';
import { ShopifyCostBucket, type BucketPriority, type QueryCost } from './cost-bucket.js';
import { estimateCost, type ShopifyDocument } from './documents.js';

/** Options of {@link ShopifyClient}. */
export interface ShopifyClientOptions {
  instance: string;
  /** `acme.myshopify.com` (or a handle). */
  shop: string;
  /** Base URL overriding `https://<shop>` (a simulator). */
  url?: string;
  apiVersion: string;
  /** The store's token provider (shared by every client of the store); or `accessToken` for a static token. */
  auth?: ShopifyTokenProvider;
  accessToken?: string;
  bucket: ShopifyCostBucket;
  /** Timeout of one HTTP request, ms (default 30 s). */
  timeoutMs?: number;
  /** Retry settings of one request (defaults: 6 attempts, 250 ms doubling up to 20 s). */
  retry?: Partial<RetryOptions>;
  events?: SyncEventBus;
  logger?: Logger;
}

/** Per-call options. */
export interface RequestOptions {
  signal?: AbortSignal;
  /** `urgent` for the writer's requests (a change waits for them): granted before polls and lookups. */
  priority?: BucketPriority;
  /** Overrides the retry settings of this call (e.g. `{retries: 1}` to fail fast). */
  retry?: Partial<RetryOptions>;
}

/** A GraphQL error as Shopify returns it. */
interface GqlError {
  message?: string;
  extensions?: { code?: string; [k: string]: unknown };
  path?: unknown[];
}

/** The domain Shopify expects: a bare handle gets `.myshopify.com`. */
export function shopDomain(shop: string): string {
  const s = shop.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return s.includes('.') ? s : `${s}.myshopify.com`;
}

const TRANSIENT_GRAPHQL_CODES = new Set(['INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE', 'TIMEOUT', 'IDEMPOTENCY_CONCURRENT_REQUEST']);

/** The Admin GraphQL client of one store. */
export class ShopifyClient {
  /** `https://acme.myshopify.com/admin/api/2026-04/graphql.json`. */
  readonly graphqlUrl: string;
  readonly bucket: ShopifyCostBucket;
  readonly instance: string;
  /** Where the Admin API token comes from. */
  readonly auth: ShopifyTokenProvider;
  private readonly learned = new Map<string, number>();
  private readonly bus: SyncEventBus;
  private readonly log: Logger;

  constructor(private readonly o: ShopifyClientOptions) {
    const base = (o.url ?? `https://${shopDomain(o.shop)}`).replace(/\/+$/, '');
    this.graphqlUrl = `${base}/admin/api/${o.apiVersion}/graphql.json`;
    this.bucket = o.bucket;
    this.instance = o.instance;
    this.auth = o.auth ?? new ShopifyTokenProvider({ instance: o.instance, shop: shopDomain(o.shop), baseUrl: base, accessToken: o.accessToken, clientSecret: '', events: o.events });
    this.bus = o.events ?? defaultBus;
    this.log = o.logger ?? getLogger('shopify');
  }

  /** The points a request is expected to reserve: what Shopify last asked for the same shape, else the estimate. */
  expectedCost(doc: ShopifyDocument, variables: Record<string, unknown>): { key: string; cost: number } {
    const estimate = estimateCost(doc.ast, variables);
    const key = `${doc.name}|${estimate}`;
    return { key, cost: this.learned.get(key) ?? estimate };
  }

  /**
   * Sends a document and returns its `data`. Waits for the points first; retries THROTTLED, 429,
   * 5xx, timeouts and network errors with backoff; throws the classified error otherwise.
   */
  async request<T>(doc: ShopifyDocument, variables: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<T> {
    const settings: Partial<RetryOptions> = { retries: 6, initialDelayMs: 250, maxDelayMs: 20_000, factor: 2, ...this.o.retry, ...opts.retry, signal: opts.signal };
    try {
      return await retry((attempt) => this.once<T>(doc, variables, attempt, opts.signal, opts.priority), {
        ...settings,
        shouldRetry: (err) => err instanceof SyncError && err.retriable && !opts.signal?.aborted,
        onRetry: (err, attempt, delayMs) => {
          const code = err instanceof SyncError ? err.code : 'UNKNOWN';
          this.bus.emit('retry', { component: 'shopify.client', code, attempt, delayMs });
          this.log.debug({ instance: this.instance, op: doc.name, code, attempt, delayMs }, 'retrying Shopify request');
        },
      });
    } catch (err) {
      if (err instanceof SyncError) this.bus.emit('error', { component: 'shopify.client', errorClass: err.retriable ? 'retriable' : 'permanent', code: err.code });
      throw err;
    }
  }

  /**
   * One attempt: with the current token, and once more with a renewed one when Shopify answers 401
   * (an expired or revoked token). A refused renewal throws the provider's ConfigError.
   */
  private async once<T>(doc: ShopifyDocument, variables: Record<string, unknown>, attempt: number, signal?: AbortSignal, priority?: BucketPriority): Promise<T> {
    const token = await this.auth.token(signal);
    try {
      return await this.send<T>(doc, variables, attempt, token, signal, priority);
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      this.log.debug({ instance: this.instance, op: doc.name }, 'Shopify refused the access token (401); renewing it');
      const renewed = await this.auth.renew(token, signal);
      try {
        return await this.send<T>(doc, variables, attempt, renewed, signal, priority);
      } catch (again) {
        if (!(again instanceof TokenRejected)) throw again;
        throw await this.auth.renew(renewed, signal).then(
          () => new RetriableError('SHOPIFY_UNAUTHORIZED', `Shopify refused two fresh access tokens of ${this.instance} in a row (HTTP 401)`, { details: { op: doc.name, attempt } }),
          (refusal: unknown) => refusal,
        );
      }
    }
  }

  private async send<T>(doc: ShopifyDocument, variables: Record<string, unknown>, attempt: number, token: string, signal?: AbortSignal, priority?: BucketPriority): Promise<T> {
    const { key, cost } = this.expectedCost(doc, variables);
    const reservation = await this.bucket.acquire(cost, signal, priority);
    let res: Response;
    let text: string;
    const timeout = AbortSignal.timeout(this.o.timeoutMs ?? 30_000);
    try {
      res = await fetch(this.graphqlUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Shopify-Access-Token': token },
        body: JSON.stringify({ query: doc.text, variables }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await res.text();
    } catch (err) {
      this.bucket.settle(reservation, null);
      if (signal?.aborted) throw signal.reason ?? err;
      if (timeout.aborted) {
        throw new RetriableError('SHOPIFY_TIMEOUT', `Shopify did not answer ${doc.name} within ${this.o.timeoutMs ?? 30_000} ms`, {
          cause: err, details: { op: doc.name, attempt }, hint: 'Writes carry an idempotency key, so the retry cannot apply twice.',
        });
      }
      throw new RetriableError('SHOPIFY_NETWORK', `cannot reach ${this.graphqlUrl}: ${(err as Error).message}`, {
        cause: err, details: { op: doc.name, attempt }, hint: 'Check the network and the `url`/`shop` of this Shopify instance.',
      });
    }
    type Body = { data?: unknown; errors?: unknown; extensions?: { cost?: QueryCost } };
    let body: Body | null = null;
    try {
      body = text ? (JSON.parse(text) as Body) : null;
    } catch {
      body = null;
    }
    const costExt = body?.extensions?.cost ?? null;
    if (typeof costExt?.requestedQueryCost === 'number' && costExt.requestedQueryCost > 0) this.learned.set(key, costExt.requestedQueryCost);
    const errors = Array.isArray(body?.errors) ? (body!.errors as GqlError[]) : [];
    const throttled = res.status === 200 && errors.some((e) => e.extensions?.code === 'THROTTLED');
    this.bucket.settle(reservation, costExt, throttled);
    const details = { op: doc.name, status: res.status, attempt };
    if (res.status === 401) throw new TokenRejected();
    if (res.status === 403) {
      throw new PermanentError('SHOPIFY_FORBIDDEN', `Shopify refused the request ${doc.name} of ${this.instance} (HTTP 403)`, {
        details, hint: 'Check the app\'s access scopes: read/write_products, read/write_inventory, read_orders, read_locations.',
      });
    }
    if (res.status === 404) {
      throw new PermanentError('SHOPIFY_NOT_FOUND', `${this.graphqlUrl} does not exist (HTTP 404)`, {
        details, hint: 'Check `shop`/`url` and `apiVersion` (quarterly versions are supported for 12 months).',
      });
    }
    if (res.status === 429) {
      const after = Number(res.headers.get('retry-after'));
      throw new RetriableError('SHOPIFY_RATE_LIMITED', `Shopify answered 429 to ${doc.name}`, { details, retryAfterMs: Number.isFinite(after) && after > 0 ? after * 1000 : 1000 });
    }
    if (res.status >= 500) {
      throw new RetriableError('SHOPIFY_SERVER_ERROR', `Shopify answered HTTP ${res.status} to ${doc.name}`, { details });
    }
    if (res.status !== 200) {
      throw new PermanentError('SHOPIFY_BAD_REQUEST', `Shopify answered HTTP ${res.status} to ${doc.name}: ${text.slice(0, 300)}`, { details });
    }
    // Answered 200: the token was accepted (a static token refused earlier works again).
    this.auth.accepted();
    if (!body || typeof body !== 'object') {
      throw new RetriableError('SHOPIFY_MALFORMED_RESPONSE', `Shopify answered ${doc.name} with a body that is not JSON`, { details: { ...details, body: text.slice(0, 200) } });
    }
    if (throttled) {
      throw new RetriableError('SHOPIFY_THROTTLED', `Shopify throttled ${doc.name} (cost ${cost})`, { details, retryAfterMs: this.bucket.retryAfterMs(cost) });
    }
    if (errors.length > 0) throw classifyGraphQLErrors(errors, details);
    if (body.data === null || body.data === undefined || typeof body.data !== 'object') {
      throw new RetriableError('SHOPIFY_MALFORMED_RESPONSE', `Shopify answered ${doc.name} without data`, { details });
    }
    return body.data as T;
  }
}

/** Shopify answered 401 to a token (expired, revoked, or never valid). */
class TokenRejected extends Error {}

/** Turns top-level GraphQL errors into one classified error. */
function classifyGraphQLErrors(errors: GqlError[], details: Record<string, unknown>): SyncError {
  const codes = errors.map((e) => e.extensions?.code ?? 'GRAPHQL_ERROR');
  const message = errors.map((e) => e.message ?? 'error').join('; ').slice(0, 500);
  const all = { ...details, codes, errors: errors.slice(0, 5) };
  if (codes.every((c) => TRANSIENT_GRAPHQL_CODES.has(c))) return new RetriableError(`SHOPIFY_${codes[0]}`, message, { details: all });
  if (codes.includes('MAX_COST_EXCEEDED')) {
    return new PermanentError('SHOPIFY_MAX_COST_EXCEEDED', message, { details: all, hint: 'A query of syncctl is too expensive for Shopify: a bug, report it.' });
  }
  if (codes.includes('ACCESS_DENIED')) {
    return new PermanentError('SHOPIFY_ACCESS_DENIED', message, { details: all, hint: 'Grant the app the scopes read/write_products, read/write_inventory, read_orders, read_locations.' });
  }
  if (codes.includes('MAX_INPUT_SIZE_EXCEEDED')) return new PermanentError('SHOPIFY_MAX_INPUT_SIZE_EXCEEDED', message, { details: all });
  return new PermanentError('SHOPIFY_GRAPHQL_ERROR', message, { details: all, hint: 'The document or its variables were refused; the details carry Shopify\'s errors.' });
}
