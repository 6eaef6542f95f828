import { createHmac, randomBytes } from 'node:crypto';

/** PHP's rawurlencode (RFC 3986): everything but A-Z a-z 0-9 - _ . ~ is percent-encoded. */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Query parameters as ordered key/value pairs. */
export type QueryPairs = Array<[string, string]>;

/** Builds a query string with RFC 3986 encoding (what WordPress decodes back exactly). */
export function queryString(pairs: QueryPairs): string {
  return pairs.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
}

/** What one OAuth 1.0a signature needs. */
export interface OAuthSignInput {
  method: string;
  /** The URL without query string, as WooCommerce rebuilds it from home_url + path. */
  baseUrl: string;
  /** The request's own query parameters (they are part of the signature). */
  query: QueryPairs;
  consumerKey: string;
  consumerSecret: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  nonce?: string;
}

/**
 * One-legged OAuth 1.0a as WooCommerce verifies it over plain http
 * (`WC_REST_Authentication::check_oauth_signature`): HMAC-SHA256 keyed with `consumer_secret&`
 * over `METHOD&enc(url)&enc(sorted k=v pairs)`, parameters in the query string. Returns the
 * full query (request parameters + oauth_* + oauth_signature) to append to the URL.
 */
export function oauthQuery(input: OAuthSignInput): QueryPairs {
  const params: QueryPairs = [
    ...input.query,
    ['oauth_consumer_key', input.consumerKey],
    ['oauth_nonce', input.nonce ?? randomBytes(16).toString('hex')],
    ['oauth_signature_method', 'HMAC-SHA256'],
    ['oauth_timestamp', String(input.timestamp ?? Math.floor(Date.now() / 1000))],
  ];
  const encoded = params.map(([k, v]) => [rfc3986(k), rfc3986(v)] as const);
  encoded.sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1));
  const base = [input.method.toUpperCase(), rfc3986(input.baseUrl), rfc3986(encoded.map(([k, v]) => `${k}=${v}`).join('&'))].join('&');
  const signature = createHmac('sha256', `${input.consumerSecret}&`).update(base).digest('base64');
  return [...params, ['oauth_signature', signature]];
}
