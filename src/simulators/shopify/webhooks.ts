import { createHmac } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { SimClock } from './clock.js';
import type { Listable } from './model.js';
import { WEBHOOK_RETRY_DELAYS_S, type WebhookFaults } from './options.js';
import type { SeededRandom } from '../random.js';
import { TOPICS } from './webhook-payloads.js';
import { WebhookPoster } from '../http-post.js';

/** A webhook subscription created through `webhookSubscriptionCreate`. */
export interface WebhookSubscriptionRec extends Listable {
  topic: string;
  uri: string;
  format: 'JSON';
  filter: string | null;
  includeFields: string[];
  apiVersion: string;
}

/** One attempt to deliver a webhook. */
export interface DeliveryAttempt {
  at: string;
  status: number | null;
  error: string | null;
}

/** One delivery of one event to one subscription (a duplicate is a second record with the same ids). */
export interface DeliveryRecord {
  id: number;
  webhookId: string;
  eventId: string;
  topic: string;
  subscriptionId: string;
  uri: string;
  triggeredAt: string;
  state: 'pending' | 'delivered' | 'failed' | 'dropped';
  attempts: DeliveryAttempt[];
  duplicate: boolean;
  badSignature: boolean;
  body: string;
}

/** Settings of the dispatcher. */
export interface DispatcherOptions {
  shopDomain: string;
  apiVersion: string;
  /** The app's current client secret (it signs every attempt; a rotation applies to retries too). */
  clientSecret: () => string;
  retryScale: number;
  timeoutMs: number;
  /** Concurrent deliveries per receiver at most (more wait for a connection). */
  connections: number;
  faults: () => WebhookFaults;
  rng: SeededRandom;
  clock: SimClock;
  log: Logger;
}

/** Signs a raw body as Shopify does: base64(HMAC-SHA256(client secret, body bytes)). */
export const signWebhook = (secret: string, body: string | Buffer): string => createHmac('sha256', secret).update(body).digest('base64');

/**
 * Delivers store events to subscribed callback URLs, at least once: retries on non-2xx and
 * timeouts on Shopify's schedule (scaled), with seeded faults (drop, duplicate, delay, bad signature).
 */
export class WebhookDispatcher {
  readonly subscriptions = new Map<number, WebhookSubscriptionRec>();
  readonly deliveries: DeliveryRecord[] = [];
  /** Subscriptions deleted because a delivery failed all 8 retries, as Shopify does for subscriptions made through the Admin API. */
  readonly removed: Array<{ id: string; topic: string; uri: string; at: string; webhookId: string }> = [];
  private timers = new Set<NodeJS.Timeout>();
  private inflight = new Set<Promise<void>>();
  private nextDelivery = 0;
  private nextSubscription = 1_400_000_000;
  private closed = false;
  private readonly poster: WebhookPoster;

  constructor(private readonly o: DispatcherOptions) {
    this.poster = new WebhookPoster(o.connections);
  }

  /** A fresh subscription id. */
  nextSubscriptionId(): number {
    return ++this.nextSubscription;
  }

  /** Whether any subscription listens to `topic` (lets callers skip building payloads). */
  wants(topic: string): boolean {
    for (const s of this.subscriptions.values()) if (s.topic === topic) return true;
    return false;
  }

  /** Publishes one event of `topic` (GraphQL enum name) to every subscription of that topic. */
  publish(topic: string, payload: () => Record<string, unknown>, triggeredAtMs = this.o.clock.now()): void {
    if (this.closed || !this.wants(topic)) return;
    const full = payload();
    const eventId = this.o.rng.uuid();
    const triggeredAt = new Date(triggeredAtMs).toISOString();
    for (const sub of this.subscriptions.values()) {
      if (sub.topic !== topic) continue;
      const body = JSON.stringify(sub.includeFields.length > 0 ? Object.fromEntries(sub.includeFields.filter((k) => k in full).map((k) => [k, full[k]])) : full);
      const f = this.o.faults();
      const base = {
        webhookId: this.o.rng.uuid(), eventId, topic: TOPICS[topic] ?? topic.toLowerCase(), subscriptionId: `gid://shopify/WebhookSubscription/${sub.id}`,
        uri: sub.uri, triggeredAt, attempts: [], body,
      };
      const dropped = this.o.rng.chance(f.dropRate);
      const duplicate = this.o.rng.chance(f.duplicateRate);
      const badSignature = this.o.rng.chance(f.badSignatureRate);
      const delay = f.delayMs[1] > 0 ? this.o.rng.int(f.delayMs[0], Math.max(f.delayMs[0], f.delayMs[1])) : 0;
      const rec: DeliveryRecord = { ...base, id: ++this.nextDelivery, state: dropped ? 'dropped' : 'pending', duplicate: false, badSignature };
      this.deliveries.push(rec);
      if (dropped) continue;
      this.schedule(rec, delay, 0);
      if (duplicate) {
        const dup: DeliveryRecord = { ...base, attempts: [], id: ++this.nextDelivery, state: 'pending', duplicate: true, badSignature };
        this.deliveries.push(dup);
        this.schedule(dup, delay + (f.delayMs[1] > 0 ? this.o.rng.int(0, f.delayMs[1]) : 1), 0);
      }
    }
  }

  private schedule(rec: DeliveryRecord, delayMs: number, retry: number): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      const p = this.attempt(rec, retry).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }, delayMs);
    this.timers.add(t);
  }

  private async attempt(rec: DeliveryRecord, retry: number): Promise<void> {
    const signature = signWebhook(rec.badSignature ? `${this.o.clientSecret()}-not-the-secret` : this.o.clientSecret(), rec.body);
    const attempt: DeliveryAttempt = { at: new Date(this.o.clock.now()).toISOString(), status: null, error: null };
    rec.attempts.push(attempt);
    try {
      const status = await this.poster.post(rec.uri, rec.body, {
        'Content-Type': 'application/json',
        'User-Agent': 'Shopify-Captain-Hook',
        'X-Shopify-Topic': rec.topic,
        'X-Shopify-Hmac-Sha256': signature,
        'X-Shopify-Shop-Domain': this.o.shopDomain,
        'X-Shopify-API-Version': this.o.apiVersion,
        'X-Shopify-Webhook-Id': rec.webhookId,
        'X-Shopify-Event-Id': rec.eventId,
        'X-Shopify-Triggered-At': rec.triggeredAt,
      }, { timeoutMs: this.o.timeoutMs });
      attempt.status = status;
      if (status >= 200 && status < 300) {
        rec.state = 'delivered';
        return;
      }
    } catch (err) {
      attempt.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    if (this.closed) return;
    const wait = WEBHOOK_RETRY_DELAYS_S[retry];
    if (wait === undefined) {
      rec.state = 'failed';
      this.o.log.warn({ topic: rec.topic, uri: rec.uri, webhookId: rec.webhookId }, 'webhook delivery failed after all retries');
      // Shopify deletes a subscription created through the Admin API once a delivery failed 8
      // consecutive retries (about 4 hours), and tells the app nothing.
      const id = Number(rec.subscriptionId.split('/').at(-1));
      const sub = this.subscriptions.get(id);
      if (sub) {
        this.subscriptions.delete(id);
        this.removed.push({ id: rec.subscriptionId, topic: sub.topic, uri: sub.uri, at: new Date(this.o.clock.now()).toISOString(), webhookId: rec.webhookId });
        this.o.log.warn({ subscription: rec.subscriptionId, topic: sub.topic, uri: sub.uri }, 'webhook subscription deleted after 8 failed retries of a delivery');
      }
      return;
    }
    this.schedule(rec, Math.round(wait * 1000 * this.o.retryScale), retry + 1);
  }

  /** Resolves once no delivery is scheduled or in flight (tests use it to wait for retries). */
  async idle(): Promise<void> {
    while (this.timers.size > 0 || this.inflight.size > 0) {
      await Promise.race([...this.inflight, new Promise((r) => setTimeout(r, 5))]);
    }
  }

  /** Forgets deliveries and subscriptions (reset). */
  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.deliveries.length = 0;
    this.removed.length = 0;
    this.subscriptions.clear();
  }

  /** Stops every timer and aborts deliveries in flight. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.poster.close();
    await Promise.allSettled([...this.inflight]);
  }
}
