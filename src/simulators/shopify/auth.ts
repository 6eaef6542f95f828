/**
 * The app's credentials on the simulated shop: the client credentials grant
 * (`POST /admin/oauth/access_token`, form-encoded or JSON), the tokens it issues (each with a
 * lifetime, 24 h by default, as on Shopify), and the static token of an admin-created custom app.
 *
 * Error answers follow Shopify's OAuth endpoint: `{"error": ..., "error_description": ...}`
 * (`invalid_client` with HTTP 401 for a wrong client id or secret, `app_not_installed` with 400
 * when the app was uninstalled, `unsupported_grant_type` / `invalid_request` with 400).
 */
import { randomBytes } from 'node:crypto';
import type { SimClock } from './clock.js';

/** What the token endpoint answers. */
export interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Scopes the simulated app was granted (what the Dev Dashboard app version asks for). */
export const SIM_APP_SCOPES = 'read_products,write_products,read_inventory,write_inventory,read_orders,read_locations';

const INVALID_CLIENT = {
  error: 'invalid_client',
  error_description: 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
};

/** Settings of {@link SimAuth}. */
export interface SimAuthOptions {
  clientId: string;
  clientSecret: string;
  /** Static Admin API token (admin-created custom app); null: only issued tokens are accepted. */
  staticToken: string | null;
  /** Lifetime of an issued token, seconds. */
  tokenLifetimeSeconds: number;
  clock: SimClock;
}

/** Credentials, issued tokens and the install state of the app on the simulated shop. */
export class SimAuth {
  clientId: string;
  clientSecret: string;
  staticToken: string | null;
  tokenLifetimeSeconds: number;
  /** False after `POST /_sim/auth/uninstall`: grants answer `app_not_installed`, every token is refused. */
  installed = true;
  /** Issued token → expiry (ms since the epoch). */
  private readonly issued = new Map<string, number>();
  /** Grants answered successfully (tests count refreshes). */
  grants = 0;

  constructor(private readonly o: SimAuthOptions) {
    this.clientId = o.clientId;
    this.clientSecret = o.clientSecret;
    this.staticToken = o.staticToken;
    this.tokenLifetimeSeconds = o.tokenLifetimeSeconds;
  }

  /** Answers a request to `/admin/oauth/access_token` given its content type and raw body. */
  grant(contentType: string, raw: string): TokenAnswer {
    let params: Record<string, unknown>;
    if (contentType.startsWith('application/json')) {
      try {
        const parsed = JSON.parse(raw) as unknown;
        params = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
      } catch {
        return { status: 400, body: { error: 'invalid_request', error_description: 'The request body is not valid JSON.' } };
      }
    } else if (contentType.startsWith('application/x-www-form-urlencoded') || contentType === '') {
      params = Object.fromEntries(new URLSearchParams(raw));
    } else {
      return { status: 400, body: { error: 'invalid_request', error_description: `Unsupported content type ${contentType}.` } };
    }
    const grantType = params.grant_type;
    if (typeof grantType !== 'string' || grantType === '') {
      return { status: 400, body: { error: 'invalid_request', error_description: 'The request is missing a required parameter: grant_type.' } };
    }
    if (grantType !== 'client_credentials') {
      // The simulator models the client credentials grant only; the other grants need a browser or a session token.
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'The authorization grant type is not supported by the authorization server.' } };
    }
    if (params.client_id !== this.clientId || params.client_secret !== this.clientSecret) return { status: 401, body: INVALID_CLIENT };
    if (!this.installed) return { status: 400, body: { error: 'app_not_installed', error_description: 'The application is not installed on this shop.' } };
    const token = `shpat_${randomBytes(16).toString('hex')}`;
    this.issued.set(token, this.o.clock.now() + this.tokenLifetimeSeconds * 1000);
    this.grants++;
    this.prune();
    return { status: 200, body: { access_token: token, scope: SIM_APP_SCOPES, expires_in: this.tokenLifetimeSeconds } };
  }

  /** Whether `X-Shopify-Access-Token` opens the Admin API: the static token, or an issued one not expired. */
  accepts(token: string | undefined): boolean {
    if (!token || !this.installed) return false;
    if (this.staticToken !== null && token === this.staticToken) return true;
    const until = this.issued.get(token);
    return until !== undefined && until > this.o.clock.now();
  }

  /** Replaces the client secret (the old one stops working at once); optionally revokes every issued token. */
  rotate(secret: string | undefined, revokeTokens: boolean): string {
    this.clientSecret = secret ?? `shpss_${randomBytes(16).toString('hex')}`;
    if (revokeTokens) this.issued.clear();
    return this.clientSecret;
  }

  /** Revokes every issued token (the static token stays). */
  revokeTokens(): number {
    const n = this.issued.size;
    this.issued.clear();
    return n;
  }

  /** Tokens issued and not yet expired. */
  liveTokens(): number {
    this.prune();
    return this.issued.size;
  }

  private prune(): void {
    const now = this.o.clock.now();
    for (const [t, until] of this.issued) if (until <= now) this.issued.delete(t);
  }
}
