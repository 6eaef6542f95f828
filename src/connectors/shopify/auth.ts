/**
 * The Admin API token of one store, for every command that talks to Shopify (start, backfill,
 * diff, status).
 *
 * - `accessToken` (a custom app created in the Shopify admin): a static token.
 * - `clientId` + `clientSecret` (an app from the Dev Dashboard): tokens from the client credentials
 *   grant (`POST https://{shop}/admin/oauth/access_token`, form-encoded as Shopify documents), held
 *   in memory only, renewed ahead of their expiry (about 24 h) and once after a 401. Renewals are
 *   single flight: concurrent requests wait for the one grant in progress.
 *
 * A refusal (wrong client id or secret, app not installed, static token revoked) is a
 * `ConfigError` naming the store. It is remembered: until the next attempt (backoff from 5 s to
 * 5 min) `token()` fails fast and `held()` reports it, so the writers keep the store's writes
 * pending instead of spending their attempts. A token never appears in a log line, an error or a
 * metric.
 */
import { events as defaultBus, type SyncEventBus } from '../../core/events.js';
import { ConfigError, RetriableError } from '../../core/errors.js';
import { getLogger, type Logger } from '../../core/logger.js';

/** How the store authenticates. */
export type ShopifyAuthMode = 'access-token' | 'client-credentials';

/** What `status`, `/readyz` and the metrics show about a store's credentials (never the token). */
export interface ShopifyAuthStatus {
  mode: ShopifyAuthMode;
  /** `ok`: the last grant or request was accepted; `refused`: see `error`; `unknown`: not tried yet. */
  state: 'ok' | 'refused' | 'unknown';
  error?: { code: string; message: string };
  /** When the current refusal began (ISO). */
  since?: string;
  /** Client credentials: when the token in memory expires (ISO). */
  expiresAt?: string;
}

/** Settings of {@link ShopifyTokenProvider}. */
export interface TokenProviderOptions {
  instance: string;
  /** `acme.myshopify.com`. */
  shop: string;
  /** Base URL overriding `https://<shop>` (a simulator). */
  baseUrl: string;
  accessToken?: string;
  clientId?: string;
  clientSecret: string;
  /** Timeout of one grant request, ms (default 30 s). */
  timeoutMs?: number;
  /** First wait before trying a refused grant again, ms (default 5 s, doubling up to 5 min). */
  refusedRetryMs?: number;
  events?: SyncEventBus;
  logger?: Logger;
  /** Clock (tests). */
  now?: () => number;
}

interface Held { token: string; expiresAt: number; refreshAt: number }

const REFUSED_RETRY_MAX_MS = 300_000;

/** Obtains, caches and renews the Admin API token of one store. */
export class ShopifyTokenProvider {
  readonly mode: ShopifyAuthMode;
  private current: Held | null = null;
  private inflight: Promise<string> | null = null;
  private refusal: { error: ConfigError; since: number; nextAttemptAt: number; wait: number } | null = null;
  private everOk = false;
  private readonly bus: SyncEventBus;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly where: string;

  constructor(private readonly o: TokenProviderOptions) {
    this.mode = o.clientId !== undefined ? 'client-credentials' : 'access-token';
    if (this.mode === 'access-token' && !o.accessToken) throw new ConfigError('SHOPIFY_NO_CREDENTIALS', `Shopify store ${o.instance} has neither \`accessToken\` nor \`clientId\``);
    this.bus = o.events ?? defaultBus;
    this.log = o.logger ?? getLogger('shopify.auth');
    this.now = o.now ?? Date.now;
    this.where = `Shopify store ${o.instance} (${o.shop})`;
  }

  /** URL of the client credentials grant. */
  get tokenUrl(): string {
    return `${this.o.baseUrl.replace(/\/+$/, '')}/admin/oauth/access_token`;
  }

  /** A token to send now. Throws the remembered ConfigError while a refusal waits for its next attempt. */
  async token(signal?: AbortSignal): Promise<string> {
    if (this.mode === 'access-token') {
      // A static token cannot be renewed: after a refusal it is tried again once the wait is over.
      if (this.refusal && this.now() < this.refusal.nextAttemptAt) throw this.refusal.error;
      return this.o.accessToken!;
    }
    const c = this.current;
    if (c && this.now() < c.refreshAt) return c.token;
    if (this.refusal && this.now() < this.refusal.nextAttemptAt && !this.inflight) throw this.refusal.error;
    // Ahead of expiry the held token is still good: use it if the renewal fails for a passing reason.
    return this.grant(signal).catch((err) => {
      if (c && this.now() < c.expiresAt && !(err instanceof ConfigError)) return c.token;
      throw err;
    });
  }

  /**
   * Shopify answered 401 to `rejected`: returns a new token (one grant for all callers holding the
   * same rejected token), or throws the ConfigError of a refused grant or of a revoked static token.
   */
  async renew(rejected: string, signal?: AbortSignal): Promise<string> {
    if (this.mode === 'access-token') {
      throw this.refuse(new ConfigError('SHOPIFY_TOKEN_REFUSED', `${this.where} refused its access token (HTTP 401): it was revoked, or the app was uninstalled`, {
        hint: 'Check `accessToken` (SYNCCTL_SOURCES__SHOPIFY__<NAME>__ACCESS_TOKEN) in the app\'s API credentials in the Shopify admin. The store\'s writes are held until it is accepted again.',
      }));
    }
    if (this.current?.token === rejected) this.current = null;
    if (this.current) return this.current.token;
    return this.grant(signal);
  }

  /** A request was accepted: a static token that was refused works again. */
  accepted(): void {
    if (this.mode === 'access-token' && (this.refusal || !this.everOk)) this.markOk();
  }

  /**
   * Why the store's work must wait (a refusal not yet due for another attempt), or null. When the
   * wait is over, it tries a grant first (client credentials), so a fixed secret is noticed.
   */
  async held(signal?: AbortSignal): Promise<string | null> {
    if (!this.refusal) return null;
    if (this.now() < this.refusal.nextAttemptAt) return this.refusal.error.message;
    if (this.mode === 'access-token') return null;
    try {
      await this.grant(signal);
      return null;
    } catch (err) {
      return err instanceof ConfigError ? err.message : null;
    }
  }

  /** The store's credentials as `status` and `/readyz` show them. */
  status(): ShopifyAuthStatus {
    const s: ShopifyAuthStatus = { mode: this.mode, state: this.refusal ? 'refused' : this.everOk ? 'ok' : 'unknown' };
    if (this.refusal) {
      s.error = { code: this.refusal.error.code, message: this.refusal.error.message };
      s.since = new Date(this.refusal.since).toISOString();
    }
    if (this.current) s.expiresAt = new Date(this.current.expiresAt).toISOString();
    return s;
  }

  /** Obtains a token through the client credentials grant: single flight. */
  private grant(signal?: AbortSignal): Promise<string> {
    this.inflight ??= this.requestToken(signal).finally(() => { this.inflight = null; });
    return this.inflight;
  }

  private async requestToken(signal?: AbortSignal): Promise<string> {
    const timeoutMs = this.o.timeoutMs ?? 30_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: this.o.clientId!, client_secret: this.o.clientSecret }).toString(),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await res.text();
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      this.outcome('unreachable');
      throw new RetriableError('SHOPIFY_TOKEN_UNREACHABLE', `cannot obtain an access token for ${this.where} from ${this.tokenUrl}: ${timeout.aborted ? `no answer within ${timeoutMs} ms` : (err as Error).message}`, {
        hint: 'Check the network and the `shop`/`url` of this store.',
      });
    }
    let body: Record<string, unknown> | null = null;
    try {
      const parsed = JSON.parse(text) as unknown;
      body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
    } catch {
      body = null;
    }
    if (res.status === 200 && body && typeof body.access_token === 'string' && body.access_token !== '') {
      const lifetimeMs = (typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 86_399) * 1000;
      const at = this.now();
      // Renew ahead of expiry: 10 % of the lifetime before it, at most 5 min (a 24-hour token: 5 min before).
      const margin = Math.min(300_000, lifetimeMs / 10);
      this.current = { token: body.access_token, expiresAt: at + lifetimeMs, refreshAt: at + lifetimeMs - margin };
      this.outcome('granted');
      this.markOk();
      this.log.debug({ instance: this.o.instance, expiresInSeconds: Math.round(lifetimeMs / 1000), scope: body.scope }, 'obtained a Shopify access token');
      return body.access_token;
    }
    const code = typeof body?.error === 'string' ? body.error : null;
    const description = typeof body?.error_description === 'string' ? body.error_description : null;
    if (res.status === 429 || res.status >= 500) {
      this.outcome('unreachable');
      throw new RetriableError('SHOPIFY_TOKEN_UNAVAILABLE', `Shopify answered HTTP ${res.status} to the access token request of ${this.where}`, {
        retryAfterMs: Number(res.headers.get('retry-after')) * 1000 || undefined,
      });
    }
    if (res.status === 200 || res.status < 400) {
      this.outcome('unreachable');
      throw new RetriableError('SHOPIFY_TOKEN_MALFORMED', `Shopify answered the access token request of ${this.where} without an access token (HTTP ${res.status})`);
    }
    this.outcome('refused');
    const why = code ? `${code}${description ? `: ${description}` : ''}` : `HTTP ${res.status}`;
    throw this.refuse(new ConfigError('SHOPIFY_AUTH_REFUSED', `${this.where} refused the client credentials grant (${why})`, {
      hint: code === 'app_not_installed'
        ? 'Install the app on the store (Dev Dashboard → the app → Install app). The store\'s writes are held until a token is granted.'
        : code === 'shop_not_permitted'
          ? 'The client credentials grant only works for an app of the store\'s own organization: create the app in that organization\'s Dev Dashboard.'
          : 'Check `clientId` and `clientSecret` (Dev Dashboard → the app → Settings; a rotated secret must be updated here). The store\'s writes are held until a token is granted.',
      details: { store: this.o.instance, shop: this.o.shop, status: res.status, error: code },
    }));
  }

  /** Remembers a refusal (logged once per refusal, not once per request) and returns it. */
  private refuse(error: ConfigError): ConfigError {
    const now = this.now();
    const first = !this.refusal;
    const wait = first ? (this.o.refusedRetryMs ?? 5000) : Math.min(REFUSED_RETRY_MAX_MS, this.refusal!.wait * 2);
    this.refusal = { error, since: this.refusal?.since ?? now, nextAttemptAt: now + wait, wait };
    this.current = null;
    if (first) {
      this.log.error({ instance: this.o.instance, code: error.code, hint: error.hint }, error.message);
      this.bus.emit('shopify.auth', { instance: this.o.instance, state: 'refused', code: error.code });
    }
    return error;
  }

  private markOk(): void {
    const was = this.refusal;
    this.refusal = null;
    this.everOk = true;
    if (was) this.log.info({ instance: this.o.instance, refusedSince: new Date(was.since).toISOString() }, `${this.where}: credentials accepted again`);
    this.bus.emit('shopify.auth', { instance: this.o.instance, state: 'ok' });
  }

  private outcome(outcome: 'granted' | 'refused' | 'unreachable'): void {
    this.bus.emit('shopify.token', { instance: this.o.instance, outcome });
  }
}

/** Whether an error is a refusal of the store's credentials (the store's work is held, not failed). */
export const isCredentialsRefusal = (err: unknown): boolean => err instanceof ConfigError && (err.code === 'SHOPIFY_AUTH_REFUSED' || err.code === 'SHOPIFY_TOKEN_REFUSED');
