import { createHmac } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { WooFaults } from './options.js';
import type { SeededRandom } from '../random.js';
import type { StoreChange, WooStore } from './store.js';
import type { WebhookRecord } from './model.js';
import { phpJson } from './php-json.js';

/** WooCommerce disables a webhook when a delivery fails while failure_count is already above this. */
export const MAX_DELIVERY_FAILURES = 5;
const USER_AGENT = 'WooCommerce/9.8.0 Hookshot (WordPress/6.8.1)';

/** One attempt to reach a delivery URL, as the simulator records it (control API `/_sim/deliveries`). */
export interface DeliveryRecord {
  seq: number;
  kind: 'delivery' | 'ping';
  webhookId: number;
  topic: string;
  resourceId: number | null;
  deliveryId: string | null;
  url: string;
  outcome: 'ok' | 'failed' | 'dropped' | 'skipped';
  httpStatus: number | null;
  error?: string;
  duplicate: boolean;
  badSignature: boolean;
  at: string;
  body: string;
}

/** What the queue needs from the simulator. */
export interface WebhookQueueDeps {
  store: WooStore;
  /** home_url, known once the server listens. */
  siteUrl: () => string;
  coalesceWindowMs: number;
  deliveryTimeoutMs: number;
  pingTimeoutMs: number;
  faults: () => WooFaults;
  delayRandom: SeededRandom;
  faultRandom: SeededRandom;
  /** The REST representation of a resource at delivery time (an error body if it is gone). */
  payload: (resource: string, id: number) => unknown;
  /** Secret salt of wp_hash (delivery ids). */
  salt: string;
  logger: Logger;
}

interface Pending {
  key: string;
  webhookId: number;
  topic: string;
  resourceId: number;
  dueAt: number;
  /** Extra deliveries of the same resource still to queue after this one (repeatProductUpdated). */
  repeats?: number;
}

/**
 * Action Scheduler as WooCommerce uses it for webhooks: a save queues one delivery per
 * (webhook, resource) unless one is already pending, so several saves inside the window become
 * ONE delivery whose payload is built when it runs (latest state). Deliveries run one at a time,
 * are never retried, and count consecutive failures until the webhook is disabled.
 */
export class WebhookQueue {
  /** Every delivery and ping attempted, oldest first. */
  readonly deliveries: DeliveryRecord[] = [];
  private pending: Pending[] = [];
  private readonly pendingKeys = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;
  private seq = 0;
  private readonly inflight = new Set<AbortController>();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: WebhookQueueDeps) {
    deps.store.onChange((c) => this.onChange(c));
  }

  /** Forgets queued deliveries and the delivery log (simulator reset). */
  reset(): void {
    this.pending = [];
    this.pendingKeys.clear();
    this.deliveries.length = 0;
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (!this.running && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops the runner and aborts deliveries in flight. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const c of this.inflight) c.abort();
    this.pending = [];
    this.pendingKeys.clear();
    this.notifyIdle();
  }

  /**
   * WC_Webhook::deliver_ping: form-encoded `webhook_id=N`, unsigned, no X-WC-Webhook headers. Only
   * an answer of exactly HTTP 200 clears `pending_delivery` (2xx/301/302 count as delivered, not as
   * a good ping); the API call that sent it succeeds either way.
   */
  async ping(wh: WebhookRecord): Promise<void> {
    const body = `webhook_id=${wh.id}`;
    const rec = this.record({ kind: 'ping', webhookId: wh.id, topic: wh.topic, resourceId: null, deliveryId: null, url: wh.deliveryUrl, body });
    const res = await this.post(wh.deliveryUrl, body, { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': USER_AGENT }, this.deps.pingTimeoutMs);
    Object.assign(rec, res);
    if (res.httpStatus === 200) wh.pendingDelivery = false;
  }

  /**
   * WC_Webhook_Data_Store::update: a save of an active webhook pings when its delivery URL changed
   * or its ping is still pending (so a webhook whose ping never got a 200 pings again on every
   * save, including the save after each delivery).
   */
  async saved(wh: WebhookRecord, urlChanged: boolean): Promise<void> {
    wh.modifiedMs = Math.floor(this.deps.store.now() / 1000) * 1000;
    if (wh.status === 'active' && (urlChanged || wh.pendingDelivery) && this.deps.store.webhooks.get(wh.id) === wh) await this.ping(wh);
  }

  private onChange(c: StoreChange): void {
    if (this.closed) return;
    const topic = `${c.resource}.${c.event}`;
    for (const wh of this.deps.store.webhooks.values()) {
      if (wh.status !== 'active' || wh.topic !== topic) continue;
      const key = `${wh.id}:${c.id}`;
      if (this.pendingKeys.has(key)) continue; // Action Scheduler already has this action pending
      const f = this.deps.faults();
      if (c.resource === 'order' && f.skipOrderWebhooksPercent > 0 && this.deps.faultRandom.next() * 100 < f.skipOrderWebhooksPercent) {
        this.record({ kind: 'delivery', webhookId: wh.id, topic, resourceId: c.id, deliveryId: null, url: wh.deliveryUrl, body: '', outcome: 'skipped' });
        continue;
      }
      const max = f.delayWebhooksMs;
      const extra = max > 0 ? this.deps.delayRandom.int(0, max) : 0;
      this.pendingKeys.add(key);
      const repeats = topic === 'product.updated' ? f.repeatProductUpdated : 0;
      this.pending.push({ key, webhookId: wh.id, topic, resourceId: c.id, dueAt: Date.now() + this.deps.coalesceWindowMs + extra, ...(repeats ? { repeats } : {}) });
    }
    this.arm();
  }

  private arm(): void {
    if (this.running || this.closed || this.pending.length === 0) return;
    clearTimeout(this.timer);
    const next = Math.min(...this.pending.map((p) => p.dueAt));
    this.timer = setTimeout(() => void this.run(), Math.max(0, next - Date.now()));
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        if (this.closed) break;
        const now = Date.now();
        let idx = -1;
        for (let i = 0; i < this.pending.length; i++) {
          const p = this.pending[i]!;
          if (p.dueAt <= now && (idx < 0 || p.dueAt < this.pending[idx]!.dueAt)) idx = i;
        }
        if (idx < 0) break;
        const [item] = this.pending.splice(idx, 1);
        this.pendingKeys.delete(item!.key);
        await this.deliver(item!).catch((err: unknown) => this.deps.logger.error({ err }, 'webhook delivery crashed'));
        if (item!.repeats && !this.pendingKeys.has(item!.key)) {
          // The next save of the same request queues its own delivery once this one has run.
          this.pendingKeys.add(item!.key);
          this.pending.push({ ...item!, dueAt: Date.now() + this.deps.coalesceWindowMs, repeats: item!.repeats - 1 });
        }
      }
    } finally {
      this.running = false;
    }
    if (this.pending.length) this.arm();
    else this.notifyIdle();
  }

  private async deliver(item: Pending): Promise<void> {
    const wh = this.deps.store.webhooks.get(item.webhookId);
    if (!wh) return;
    const [resource = '', event = ''] = wh.topic.split('.');
    const payload = event === 'deleted' ? { id: item.resourceId } : this.deps.payload(resource, item.resourceId);
    const body = phpJson(payload);
    const f = this.deps.faults();
    const r = this.deps.faultRandom;
    const [drop, dup, bad] = [r.next() * 100, r.next() * 100, r.next() * 100];
    const badSignature = bad < f.badSignatureWebhooksPercent;
    // wp_hash( id . strtotime('now') ): two deliveries of one webhook in the same second share an id.
    const deliveryId = createHmac('md5', this.deps.salt).update(`${wh.id}${Math.floor(Date.now() / 1000)}`).digest('hex');
    const base = { kind: 'delivery' as const, webhookId: wh.id, topic: wh.topic, resourceId: item.resourceId, deliveryId, url: wh.deliveryUrl, body, badSignature };
    if (drop < f.dropWebhooksPercent) {
      this.record({ ...base, outcome: 'dropped' });
      return;
    }
    const secret = badSignature ? `${wh.secret}-not-the-secret` : wh.secret;
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      'X-WC-Webhook-Source': `${this.deps.siteUrl().replace(/\/+$/, '')}/`,
      'X-WC-Webhook-Topic': wh.topic,
      'X-WC-Webhook-Resource': resource,
      'X-WC-Webhook-Event': event,
      'X-WC-Webhook-Signature': createHmac('sha256', secret).update(body).digest('base64'),
      'X-WC-Webhook-ID': String(wh.id),
      'X-WC-Webhook-Delivery-ID': deliveryId,
    };
    const rec = this.record(base);
    const res = await this.post(wh.deliveryUrl, body, headers, this.deps.deliveryTimeoutMs);
    Object.assign(rec, res);
    if (res.outcome === 'ok') wh.failureCount = 0;
    else if (wh.failureCount > MAX_DELIVERY_FAILURES) wh.status = 'disabled';
    else wh.failureCount++;
    // log_delivery / failed_delivery save the webhook: a pending ping is sent again.
    if (!this.closed) await this.saved(wh, false);
    if (dup < f.duplicateWebhooksPercent && !this.closed) {
      const again = this.record({ ...base, duplicate: true });
      Object.assign(again, await this.post(wh.deliveryUrl, body, headers, this.deps.deliveryTimeoutMs));
    }
  }

  private record(r: Partial<DeliveryRecord> & Pick<DeliveryRecord, 'kind' | 'webhookId' | 'topic' | 'resourceId' | 'deliveryId' | 'url' | 'body'>): DeliveryRecord {
    const rec: DeliveryRecord = { seq: ++this.seq, outcome: 'failed', httpStatus: null, duplicate: false, badSignature: false, at: new Date().toISOString(), ...r };
    this.deliveries.push(rec);
    return rec;
  }

  private async post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<Pick<DeliveryRecord, 'outcome' | 'httpStatus' | 'error'>> {
    const ac = new AbortController();
    this.inflight.add(ac);
    const t = setTimeout(() => ac.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    try {
      const res = await fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: ac.signal });
      await res.arrayBuffer().catch(() => undefined);
      // WooCommerce counts 2xx, 301 and 302 as success.
      return { outcome: res.status >= 200 && res.status < 303 ? 'ok' : 'failed', httpStatus: res.status };
    } catch (err) {
      return { outcome: 'failed', httpStatus: null, error: err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err) };
    } finally {
      clearTimeout(t);
      this.inflight.delete(ac);
    }
  }

  private notifyIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const fn of w) fn();
  }
}
