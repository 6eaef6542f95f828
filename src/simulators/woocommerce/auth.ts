import { createHmac, timingSafeEqual } from 'node:crypto';
import { WooApiError } from './model.js';

/** PHP's rawurlencode (RFC 3986: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded). */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** PHP's urldecode (`+` is a space); malformed escapes are kept as they are. */
export function phpUrlDecode(s: string): string {
  const t = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}

/** Parses a query or form string as PHP fills `$_GET`/`$_POST` (flat keys, the last duplicate wins). */
export function parsePhpQuery(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!raw) return out;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = phpUrlDecode(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : phpUrlDecode(part.slice(eq + 1));
    if (k) out.set(k, v);
  }
  return out;
}

/** The OAuth 1.0a signature base string exactly as WooCommerce's check_oauth_signature builds it. */
export function oauthBaseString(method: string, baseUrl: string, params: Map<string, string>): string {
  const keys = [...params.keys()].filter((k) => k !== 'oauth_signature').sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const pairs = keys.map((k) => rfc3986(`${rfc3986(k)}=${rfc3986(params.get(k)!)}`));
  return `${method.toUpperCase()}&${rfc3986(baseUrl)}&${pairs.join('%26')}`;
}

/** The request facts authentication looks at. */
export interface AuthRequest {
  method: string;
  /** Path and query as sent (`/wp-json/wc/v3/products?x=1`). */
  url: string;
  authorization?: string;
  /** Form-encoded body parameters (PHP's `$_POST`), if the body was a form. */
  form?: Map<string, string>;
}

/** The outcome: authenticated, an authentication error, or simply no credentials. */
export interface AuthOutcome {
  authenticated: boolean;
  error?: WooApiError;
  /** Basic auth was tried and failed: WooCommerce then adds WWW-Authenticate. */
  basicFailed?: boolean;
}

/** Settings of the one API key the simulated site has. */
export interface AuthSettings {
  consumerKey: string;
  consumerSecret: string;
  permissions: 'read' | 'write' | 'read_write';
  /** home_url: OAuth base strings are built from it, not from the Host header. */
  siteUrl: string;
  /** When true, Basic auth is ignored as real WooCommerce ignores it on plain http. */
  requireOAuthOverHttp: boolean;
  now: () => number;
}

const authError = (message: string) => new WooApiError('woocommerce_rest_authentication_error', message, 401);
const OAUTH_PARAMS = ['oauth_consumer_key', 'oauth_timestamp', 'oauth_nonce', 'oauth_signature', 'oauth_signature_method'] as const;
const WINDOW_S = 15 * 60;

/** WooCommerce's WC_REST_Authentication for one API key: Basic (consumer key/secret) and one-legged OAuth 1.0a. */
export class WooAuthenticator {
  /** Used nonces keyed by timestamp, as WooCommerce keeps them in the key's `nonces` column. */
  private nonces = new Map<number, string>();

  constructor(private readonly settings: AuthSettings) {}

  /** Forgets used nonces (simulator reset). */
  reset(): void {
    this.nonces.clear();
  }

  /** Authenticates a request and checks the key's read/write permission for its method. */
  authenticate(req: AuthRequest): AuthOutcome {
    const qIdx = req.url.indexOf('?');
    const query = parsePhpQuery(qIdx < 0 ? '' : req.url.slice(qIdx + 1));
    let outcome: AuthOutcome = { authenticated: false };
    if (!this.settings.requireOAuthOverHttp) outcome = this.basic(query, req.authorization);
    if (!outcome.authenticated && !outcome.error) outcome = this.oauth(req, query);
    if (outcome.authenticated) {
      const denied = this.checkPermissions(req.method);
      if (denied) return { authenticated: false, error: denied };
    }
    return outcome;
  }

  private basic(query: Map<string, string>, authorization?: string): AuthOutcome {
    let key = '';
    let secret = '';
    if (query.get('consumer_key') && query.get('consumer_secret')) {
      key = query.get('consumer_key')!;
      secret = query.get('consumer_secret')!;
    } else if (authorization && /^basic /i.test(authorization)) {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) {
        key = decoded.slice(0, i);
        secret = decoded.slice(i + 1);
      }
    }
    if (!key || !secret || key !== this.settings.consumerKey) return { authenticated: false };
    if (!safeEqual(secret, this.settings.consumerSecret)) return { authenticated: false, error: authError('Consumer secret is invalid.'), basicFailed: true };
    return { authenticated: true };
  }

  private oauth(req: AuthRequest, query: Map<string, string>): AuthOutcome {
    const params = new Map<string, string>([...query, ...(req.form ?? new Map<string, string>())]);
    for (const [k, v] of parseOAuthHeader(req.authorization)) params.set(k, v);
    const missing = OAUTH_PARAMS.filter((p) => !params.get(p));
    if (missing.length === OAUTH_PARAMS.length) return { authenticated: false };
    if (missing.length) {
      const msg = `Missing OAuth parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`;
      return { authenticated: false, error: new WooApiError('woocommerce_rest_authentication_missing_parameter', msg, 401) };
    }
    if (params.get('oauth_consumer_key') !== this.settings.consumerKey) return { authenticated: false, error: authError('Consumer key is invalid.') };

    const method = params.get('oauth_signature_method')!;
    const path = (req.url.split('?')[0] ?? '/').replace(/^\/+/, '');
    const home = this.settings.siteUrl.replace(/^https:/, 'http:').replace(/\/+$/, '');
    const base = oauthBaseString(req.method, `${home}/${path}`, params);
    if (method !== 'HMAC-SHA1' && method !== 'HMAC-SHA256') return { authenticated: false, error: authError('Invalid signature - signature method is invalid.') };
    const algo = method === 'HMAC-SHA1' ? 'sha1' : 'sha256';
    const expected = createHmac(algo, `${this.settings.consumerSecret}&`).update(base).digest('base64');
    const given = rawUrlDecode(params.get('oauth_signature')!.replace(/ /g, '+'));
    if (!safeEqual(expected, given)) return { authenticated: false, error: authError('Invalid signature - provided signature does not match.') };

    const ts = Number(params.get('oauth_timestamp'));
    const nowS = Math.floor(this.settings.now() / 1000);
    if (!Number.isFinite(ts) || ts < nowS - WINDOW_S || ts > nowS + WINDOW_S) return { authenticated: false, error: authError('Invalid timestamp.') };
    const nonce = params.get('oauth_nonce')!;
    if ([...this.nonces.values()].includes(nonce)) return { authenticated: false, error: authError('Invalid nonce - nonce has already been used.') };
    this.nonces.set(ts, nonce);
    for (const t of this.nonces.keys()) if (t < nowS - WINDOW_S) this.nonces.delete(t);
    return { authenticated: true };
  }

  private checkPermissions(method: string): WooApiError | undefined {
    const p = this.settings.permissions;
    const m = method.toUpperCase();
    if ((m === 'GET' || m === 'HEAD') && p !== 'read' && p !== 'read_write') return authError('The API key provided does not have read permissions.');
    if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(m) && p !== 'write' && p !== 'read_write') return authError('The API key provided does not have write permissions.');
    return undefined;
  }
}

/** Parses `Authorization: OAuth k="v", ...` as WooCommerce's parse_header does. */
function parseOAuthHeader(header?: string): Array<[string, string]> {
  if (!header || !header.startsWith('OAuth ')) return [];
  const out: Array<[string, string]> = [];
  for (const m of header.matchAll(/(oauth_[a-z_-]*)=(?:"([^"]*)"|([^,]*))/g)) out.push([m[1]!, phpUrlDecode(m[2] ?? m[3] ?? '')]);
  return out;
}

function rawUrlDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
