import { PermanentError, RetriableError, SyncError, describeError } from '../../core/errors.js';
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import { getLogger, type Logger } from '../../core/logger.js';
import { retry, type RetryOptions } from '../../core/retry.js';
import { oauthQuery, queryString, type QueryPairs } from './oauth.js';

/** Settings of one WooCommerce REST client. */
export interface WooClientOptions {
  /** Instance name (logs and instrumentation). */
  instance: string;
  /** Site URL (home_url), e.g. `https://outlet.example.com`; the API is `<url>/wp-json/wc/v3`. */
  url: string;
  consumerKey: string;
  consumerSecret: string;
  /** Requests in flight at once. */
  concurrency: number;
  /** Timeout of one HTTP attempt, in ms. */
  timeoutMs?: number;
  /** Retry policy of one request (429/503/5xx/timeouts); attempts include the first. */
  retry?: Partial<RetryOptions>;
  bus?: SyncEventBus;
  /** The fetch to use (tests inject one to observe requests over https). */
  fetch?: typeof fetch;
}

/** A query parameter value; undefined ones are left out. */
export type QueryValue = string | number | boolean | undefined;

/** One request. */
export interface WooRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path under `/wp-json/wc/v3`, e.g. `/products`. */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  signal?: AbortSignal;
  /** Attempts in total (default from the client's retry policy). */
  attempts?: number;
}

/** A successful response. */
export interface WooResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** One page of a list endpoint, with WordPress's pagination headers. */
export interface WooListPage<T = unknown> {
  items: T[];
  /** `X-WP-Total` (null when the header is absent). */
  total: number | null;
  /** `X-WP-TotalPages` (null when the header is absent). */
  totalPages: number | null;
}

/** A tiny counting semaphore bounding the requests in flight. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  /** Runs `fn` once a slot is free. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    }
  }
}

const HINTS: Record<string, string> = {
  auth: 'Check consumerKey/consumerSecret of this instance (WooCommerce > Settings > Advanced > REST API) and that the key has read_write permissions.',
  no_route: 'Check the instance url: it must be the WordPress site URL (without /wp-json), with WooCommerce installed and active and pretty permalinks enabled.',
  throttled: 'The host is throttling requests; lower `concurrency` for this instance if it persists.',
};

/**
 * A thin WooCommerce REST (wc/v3) client over fetch: Basic auth over https, one-legged OAuth
 * 1.0a (query string, HMAC-SHA256) over http, as WooCommerce requires; a semaphore bounding
 * requests in flight; timeouts; 429/503/5xx retried with backoff (honouring Retry-After) through
 * the shared `retry()`; failures classified as RetriableError / PermanentError with Woo's code.
 */
export class WooClient {
  /** `<site>/wp-json/wc/v3`. */
  readonly apiUrl: string;
  /** Which authentication the client uses (decided by the URL's scheme). */
  readonly auth: 'basic' | 'oauth';
  readonly instance: string;
  private readonly sem: Semaphore;
  private readonly timeoutMs: number;
  private readonly retryOpts: Partial<RetryOptions>;
  private readonly bus: SyncEventBus;
  private readonly fetchFn: typeof fetch;
  private readonly log: Logger;

  constructor(private readonly opts: WooClientOptions) {
    this.apiUrl = `${opts.url.replace(/\/+$/, '')}/wp-json/wc/v3`;
    this.auth = new URL(opts.url).protocol === 'https:' ? 'basic' : 'oauth';
    this.instance = opts.instance;
    this.sem = new Semaphore(Math.max(1, opts.concurrency));
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retryOpts = { retries: 5, initialDelayMs: 250, maxDelayMs: 10_000, ...opts.retry };
    this.bus = opts.bus ?? defaultBus;
    this.fetchFn = opts.fetch ?? fetch;
    this.log = getLogger('woocommerce.client').child({ instance: opts.instance });
  }

  /** Sends one request (retrying transient failures) and returns the parsed JSON body. */
  async request<T = unknown>(req: WooRequest): Promise<WooResponse<T>> {
    const method = req.method ?? 'GET';
    try {
      return await retry(() => this.sem.run(() => this.attempt<T>(method, req)), {
        ...this.retryOpts,
        ...(req.attempts ? { retries: req.attempts } : {}),
        signal: req.signal,
        onRetry: (err, attempt, delayMs) => {
          const code = err instanceof SyncError ? err.code : describeError(err).code ?? 'UNKNOWN';
          this.bus.emit('retry', { component: 'woocommerce.client', code, attempt, delayMs });
          this.log.debug({ method, path: req.path, code, attempt, delayMs }, 'retrying WooCommerce request');
        },
      });
    } catch (err) {
      const e = err instanceof SyncError ? err : this.classifyThrown(err, method, req.path);
      this.bus.emit('error', { component: 'woocommerce.client', errorClass: e.retriable ? 'retriable' : 'permanent', code: e.code });
      throw e;
    }
  }

  /** GET one page of a list endpoint. */
  async list<T = unknown>(path: string, query: Record<string, QueryValue>, signal?: AbortSignal): Promise<WooListPage<T>> {
    const res = await this.request<unknown>({ path, query, signal });
    if (!Array.isArray(res.body)) {
      throw new RetriableError('WOO_MALFORMED_RESPONSE', `GET ${path} did not answer a JSON array`, { details: { path } });
    }
    const num = (h: string) => {
      const v = res.headers.get(h);
      return v === null || v === '' || !Number.isFinite(Number(v)) ? null : Number(v);
    };
    return { items: res.body as T[], total: num('x-wp-total'), totalPages: num('x-wp-totalpages') };
  }

  /** Every page of a list endpoint (`per_page=100`), one page at a time. */
  async *pages<T = unknown>(path: string, query: Record<string, QueryValue>, signal?: AbortSignal): AsyncGenerator<T[]> {
    const perPage = Number(query.per_page ?? 100);
    for (let page = 1; ; page++) {
      const p = await this.list<T>(path, { per_page: perPage, ...query, page }, signal);
      if (p.items.length) yield p.items;
      const last = p.totalPages !== null ? page >= p.totalPages : p.items.length < perPage;
      if (last || p.items.length === 0) return;
    }
  }

  /** Every item of a list endpoint. */
  async all<T = unknown>(path: string, query: Record<string, QueryValue>, signal?: AbortSignal): Promise<T[]> {
    const out: T[] = [];
    for await (const items of this.pages<T>(path, query, signal)) out.push(...items);
    return out;
  }

  /** The URL (with auth parameters when OAuth is used) and headers of one attempt. */
  buildRequest(method: string, path: string, query: Record<string, QueryValue> = {}): { url: string; headers: Record<string, string> } {
    const base = `${this.apiUrl}${path}`;
    const pairs: QueryPairs = Object.entries(query)
      .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
      .map(([k, v]) => [k, String(v)]);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.auth === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${this.opts.consumerKey}:${this.opts.consumerSecret}`).toString('base64')}`;
      return { url: pairs.length ? `${base}?${queryString(pairs)}` : base, headers };
    }
    const signed = oauthQuery({ method, baseUrl: base, query: pairs, consumerKey: this.opts.consumerKey, consumerSecret: this.opts.consumerSecret });
    return { url: `${base}?${queryString(signed)}`, headers };
  }

  private async attempt<T>(method: string, req: WooRequest): Promise<WooResponse<T>> {
    const { url, headers } = this.buildRequest(method, req.path, req.query);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(url, {
        method,
        headers: req.body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal,
      });
      text = await res.text();
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason ?? err;
      throw this.classifyThrown(err, method, req.path, timeout.aborted);
    }
    let body: unknown;
    let parsed = true;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (res.status >= 200 && res.status < 300) {
      if (!parsed) throw new RetriableError('WOO_MALFORMED_RESPONSE', `${method} ${req.path} answered ${res.status} with a body that is not JSON`, { details: { status: res.status, snippet: text.slice(0, 200) } });
      return { status: res.status, headers: res.headers, body: body as T };
    }
    throw classifyHttpError(method, req.path, res.status, parsed ? body : undefined, res.headers.get('retry-after'));
  }

  private classifyThrown(err: unknown, method: string, path: string, timedOut = false): SyncError {
    if (err instanceof SyncError) return err;
    if (timedOut || (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))) {
      return new RetriableError('WOO_TIMEOUT', `${method} ${path} timed out after ${this.timeoutMs} ms`, { cause: err });
    }
    const d = describeError(err instanceof Error && err.cause ? err.cause : err);
    return new RetriableError('WOO_NETWORK', `${method} ${path} failed: ${d.message}`, { cause: err, details: { code: d.code } });
  }
}

/** Parses a Retry-After header (seconds or an HTTP date) into ms. */
export function parseRetryAfter(v: string | null): number | undefined {
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

/**
 * Classifies a non-2xx WooCommerce answer: 429, 408, 409 and 5xx are retriable (with Retry-After);
 * 401/403 are credential problems, 404 `rest_no_route` a wrong URL, other 4xx the request's fault.
 * The error's code is WooCommerce's own `code` when the body carries one.
 */
export function classifyHttpError(method: string, path: string, status: number, body: unknown, retryAfter: string | null): SyncError {
  const b = body && typeof body === 'object' ? (body as { code?: unknown; message?: unknown }) : {};
  const wooCode = typeof b.code === 'string' ? b.code : undefined;
  const wooMessage = typeof b.message === 'string' ? b.message : undefined;
  const details = { status, method, path, wooCode };
  const what = `${method} ${path} answered ${status}${wooCode ? ` ${wooCode}` : ''}${wooMessage ? `: ${wooMessage}` : ''}`;
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (status === 429) return new RetriableError(wooCode ?? 'WOO_THROTTLED', what, { retryAfterMs, details, hint: HINTS.throttled });
  if (status >= 500 || status === 408 || status === 409) return new RetriableError(wooCode ?? `WOO_HTTP_${status}`, what, { retryAfterMs, details });
  if (status === 401 || status === 403) return new PermanentError(wooCode ?? 'WOO_UNAUTHORIZED', what, { details, hint: HINTS.auth });
  if (status === 404 && (wooCode === 'rest_no_route' || wooCode === undefined)) return new PermanentError(wooCode ?? 'rest_no_route', what, { details, hint: HINTS.no_route });
  return new PermanentError(wooCode ?? `WOO_HTTP_${status}`, what, { details });
}
