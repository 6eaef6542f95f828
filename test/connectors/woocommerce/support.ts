/**
 * Support for the WooCommerce connector specs: a simulator with the connector pointed at it,
 * a webhook listener that hands deliveries over as the intake would receive them, and
 * control-API shortcuts. The connector and the simulator meet only over HTTP.
 */
import type { WooInstanceConfig } from '../../../src/config/schema.js';
import type { WebhookRequest } from '../../../src/connectors/types.js';
import { createWooCommerceConnector, type WooCommerceConnector, type WooConnectorOptions } from '../../../src/connectors/woocommerce/index.js';
import { SyncEventBus } from '../../../src/core/events.js';
import type { WooCommerceSimulator, WooCommerceSimulatorOptions } from '../../../src/simulators/woocommerce/index.js';
import { startListener, startSim, type HookListener } from '../../simulators/woocommerce/helpers.js';

export const WEBHOOK_SECRET = 'whsec-test-1234';

/** A simulator, a connector on it and a webhook listener. */
export interface WooRig {
  sim: WooCommerceSimulator;
  conn: WooCommerceConnector;
  listener: HookListener;
  bus: SyncEventBus;
  cfg: WooInstanceConfig;
  /** Deliveries (not pings) received since the last call, as intake requests. */
  take(): WebhookRequest[];
  /** Waits for the simulator's webhook queue to drain. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a rig; `webhooks: true` subscribes the connector's topics to the listener. */
export async function startRig(simOpts: WooCommerceSimulatorOptions = {}, connOpts: WooConnectorOptions & { webhooks?: boolean; concurrency?: number } = {}): Promise<WooRig> {
  const sim = await startSim(simOpts);
  const listener = await startListener();
  const bus = new SyncEventBus();
  const cfg: WooInstanceConfig = {
    url: sim.baseUrl,
    consumerKey: sim.info.consumerKey,
    consumerSecret: sim.info.consumerSecret,
    webhookSecret: WEBHOOK_SECRET,
    concurrency: connOpts.concurrency ?? 2,
    buffer: 0,
    pollIntervalSeconds: 60,
    deletionCheckSeconds: 600,
    stockPools: {},
    repairWebhooks: true,
  };
  const conn = createWooCommerceConnector('test', cfg, { deliveryUrl: listener.url, retry: { initialDelayMs: 20, maxDelayMs: 200 }, bus, ...connOpts });
  if (connOpts.webhooks) await conn.health.ensureWebhooks(listener.url);
  let seen = 0;
  return {
    sim,
    conn,
    listener,
    bus,
    cfg,
    take() {
      const all = listener.received.slice(seen);
      seen = listener.received.length;
      return all.filter((r) => r.headers['x-wc-webhook-topic'] !== undefined).map(toRequest);
    },
    flush: () => sim.flushWebhooks(),
    async close() {
      await sim.close();
      await listener.close();
    },
  };
}

/** A received HTTP request as the intake hands it to `verifyAndParse`. */
export function toRequest(r: { headers: Record<string, string | string[] | undefined>; raw: Buffer }): WebhookRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return { headers, rawBody: r.raw };
}

/** POSTs JSON to the simulator's control API. */
export async function control(sim: WooCommerceSimulator, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${sim.controlUrl}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The product or variation with a SKU, as the control API shows it. */
export async function productBySku(sim: WooCommerceSimulator, sku: string): Promise<any> {
  const [p] = await control(sim, 'GET', `/products?sku=${encodeURIComponent(sku)}`);
  if (!p) throw new Error(`no product with SKU ${sku}`);
  return p;
}

/** Polls `fn` until truthy or `ms` pass (bounded wait, no timing assertion). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
