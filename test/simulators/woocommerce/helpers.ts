/**
 * Test helpers for the WooCommerce simulator specs: a simulator per test, Basic and OAuth 1.0a
 * request signing written independently of the simulator (RFC 5849, as OAuth client libraries do),
 * and a webhook listener that keeps raw bodies.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startWooCommerceSimulator, type WooCommerceSimulator, type WooCommerceSimulatorOptions } from '../../../src/simulators/woocommerce/index.js';

/** Starts a small, fast simulator (short webhook window) for one test. */
export function startSim(opts: WooCommerceSimulatorOptions = {}): Promise<WooCommerceSimulator> {
  return startWooCommerceSimulator({ products: 5, coalesceWindowMs: 30, pingTimeoutMs: 1000, deliveryTimeoutMs: 2000, ...opts });
}

/** The Authorization header for HTTP Basic with the simulator's key. */
export function basic(sim: WooCommerceSimulator, secret = sim.info.consumerSecret): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${sim.info.consumerKey}:${secret}`).toString('base64')}` };
}

/** A fetch with Basic auth and a JSON body; returns status, headers and parsed JSON. */
export async function api(sim: WooCommerceSimulator, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(`${sim.apiUrl}${path}`, {
    method,
    headers: { ...basic(sim), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Options of one OAuth-signed URL. */
export interface OAuthSignOptions {
  method?: string;
  algorithm?: 'HMAC-SHA1' | 'HMAC-SHA256';
  timestamp?: number;
  nonce?: string;
  secret?: string;
}

/** A URL signed with one-legged OAuth 1.0a in the query string (RFC 5849 base string, key `secret&`). */
export function oauthUrl(sim: WooCommerceSimulator, path: string, query: Record<string, string> = {}, o: OAuthSignOptions = {}): string {
  const method = (o.method ?? 'GET').toUpperCase();
  const base = `${sim.apiUrl}${path}`;
  const params: Record<string, string> = {
    ...query,
    oauth_consumer_key: sim.info.consumerKey,
    oauth_nonce: o.nonce ?? randomBytes(16).toString('hex'),
    oauth_signature_method: o.algorithm ?? 'HMAC-SHA1',
    oauth_timestamp: String(o.timestamp ?? Math.floor(Date.now() / 1000)),
  };
  const pairs = Object.entries(params).map(([k, v]) => [enc(k), enc(v)] as const).sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1));
  const baseString = [method, enc(base), enc(pairs.map(([k, v]) => `${k}=${v}`).join('&'))].join('&');
  const algo = params.oauth_signature_method === 'HMAC-SHA256' ? 'sha256' : 'sha1';
  const signature = createHmac(algo, `${enc(o.secret ?? sim.info.consumerSecret)}&`).update(baseString).digest('base64');
  const qs = [...pairs.map(([k, v]) => `${k}=${v}`), `oauth_signature=${enc(signature)}`].join('&');
  return `${base}?${qs}`;
}

/** One request a webhook listener received. */
export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** An HTTP listener standing in for the connector's webhook endpoint. */
export interface HookListener {
  url: string;
  received: ReceivedHook[];
  /** Status to answer with (default 200). */
  status: number;
  /** Received requests that are not pings. */
  deliveries(): ReceivedHook[];
  close(): Promise<void>;
}

/** Starts a webhook listener on an ephemeral port. */
export async function startListener(): Promise<HookListener> {
  const received: ReceivedHook[] = [];
  const listener = { received, status: 200 } as HookListener;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      res.statusCode = listener.status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  listener.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  listener.deliveries = () => received.filter((r) => r.headers['x-wc-webhook-topic'] !== undefined);
  listener.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return listener;
}

/** Creates a webhook through the API and waits until the creation ping has been answered. */
export async function createWebhook(sim: WooCommerceSimulator, topic: string, url: string, secret = 'test-secret'): Promise<number> {
  const res = await api(sim, 'POST', '/webhooks', { name: topic, topic, delivery_url: url, secret });
  if (res.status !== 201) throw new Error(`webhook create failed: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.id as number;
}

/** The parsed JSON body of a response (typed loosely for assertions). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const body = async (res: Response): Promise<any> => res.json();
